/* SPDX-License-Identifier: BSD-3-Clause */
#include "vlog.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

#include <ck_pr.h>

/* Process-wide logging settings: written at start-up, read everywhere. */
static int vlog_level = VLOG_NOTICE;
static int vlog_syslog;

static const char *const vlog_names[] = { "error", "warning", "notice", "info", "debug" };
static const int vlog_prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };

void vlog_set_level(enum vlog_level lvl)
{
	ck_pr_store_int(&vlog_level, (int)lvl);
}

enum vlog_level vlog_get_level(void)
{
	return (enum vlog_level)ck_pr_load_int(&vlog_level);
}

void vlog_use_syslog(const char *ident)
{
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	ck_pr_store_int(&vlog_syslog, 1);
}

void vlog(enum vlog_level lvl, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if ((int)lvl > ck_pr_load_int(&vlog_level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ck_pr_load_int(&vlog_syslog)) {
		syslog(vlog_prio[lvl], "%s", msg);
		return;
	}
	struct timespec ts;
	struct tm tm;
	char tbuf[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld [%s] %s\n", tbuf, ts.tv_nsec / 1000000, vlog_names[lvl], msg);
}
