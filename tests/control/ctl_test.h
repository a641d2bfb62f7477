/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers of the control-plane unit tests: a scratch directory for the
 * SQLite files (removed at exit) and alert builders.
 */
#ifndef VIGIL_CTL_TEST_H
#define VIGIL_CTL_TEST_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

static char tmp_dir[256];

static void tmp_cleanup(void)
{
	DIR *d = opendir(tmp_dir);
	struct dirent *e;
	char p[512];

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmp_dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(tmp_dir);
}

/* A fresh database path in the scratch directory. */
static const char *tmp_db(const char *name)
{
	static char p[512];

	if (!tmp_dir[0]) {
		snprintf(tmp_dir, sizeof(tmp_dir), "%s/vigil-ctl-XXXXXX",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (!mkdtemp(tmp_dir)) {
			perror("mkdtemp");
			exit(1);
		}
		atexit(tmp_cleanup);
	}
	snprintf(p, sizeof(p), "%s/%s", tmp_dir, name);
	return p;
}

/* An alert with the given id, sid, addresses, time and severity; category
 * and signature set by the caller when needed.  The strings of id live in
 * a ring of buffers so a few alerts can be alive at once. */
static struct store_alert mk_alert(const char *id, int64_t sid, const char *src, const char *dst,
				   int64_t ts_epoch, int64_t severity)
{
	static char ids[8][64], tss[8][32];
	static unsigned k;
	struct store_alert a;
	time_t t = (time_t)ts_epoch;
	struct tm tm;

	k = (k + 1) % 8;
	snprintf(ids[k], sizeof(ids[k]), "%s", id);
	gmtime_r(&t, &tm);
	strftime(tss[k], sizeof(tss[k]), "%Y-%m-%dT%H:%M:%SZ", &tm);
	memset(&a, 0, sizeof(a));
	a.id = ids[k];
	a.sensor = "s1";
	a.ts = tss[k];
	a.ts_epoch = ts_epoch;
	a.sid = sid;
	a.gid = 1;
	a.rev = 1;
	a.signature = "TEST signature";
	a.category = "Misc activity";
	a.severity = severity;
	a.action = "allowed";
	a.src_ip = src;
	a.dest_ip = dst;
	a.src_port = 1234;
	a.dest_port = 80;
	a.proto = "TCP";
	a.flow_id = -1;
	return a;
}

#endif
