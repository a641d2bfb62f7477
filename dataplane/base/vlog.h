/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Logging with levels, to stderr (default) or syslog.  Never called from the
 * per-packet path.  Thread-safe: each message is written with one call.
 */
#ifndef VIGIL_VLOG_H
#define VIGIL_VLOG_H

#include <stdbool.h>

enum vlog_level { VLOG_ERROR, VLOG_WARN, VLOG_NOTICE, VLOG_INFO, VLOG_DEBUG };

void vlog_set_level(enum vlog_level lvl);
enum vlog_level vlog_get_level(void);
/* Send messages to syslog (facility daemon) instead of stderr. */
void vlog_use_syslog(const char *ident);
void vlog(enum vlog_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define vlog_err(...)    vlog(VLOG_ERROR, __VA_ARGS__)
#define vlog_warn(...)   vlog(VLOG_WARN, __VA_ARGS__)
#define vlog_notice(...) vlog(VLOG_NOTICE, __VA_ARGS__)
#define vlog_info(...)   vlog(VLOG_INFO, __VA_ARGS__)
#define vlog_debug(...)  vlog(VLOG_DEBUG, __VA_ARGS__)

#endif
