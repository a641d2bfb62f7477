/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vigil-control's settings: the --config JSON file and the command-line
 * options that override it.  Every bound of the daemon is a setting.
 */
#ifndef VIGIL_CTL_CONFIG_H
#define VIGIL_CTL_CONFIG_H

#include <jansson.h>

#include "api.h"
#include "notify.h"

/* Everything vigil-control can be told: the API's settings, the
 * notifier's and the daemon's own. */
struct ctl_settings {
	struct api_config api;
	struct notify_cfg notify;     /* retries, backoff, timeout, queue, source */
	int64_t tick_interval_s;      /* the evaluation timer (1); 0: only POST /api/v1/tick */
	/* the validation worker: vigil_path, vigil_lint_path and work_dir
	 * are NULL unless set (cmd_serve finds the defaults); store and
	 * clock are set by cmd_serve */
	struct rules_validate_cfg rules;
};

/* Defaults for everything. */
void ctl_settings_default(struct ctl_settings *s);

/* Command-line values, kept as text until applied over the config file. */
struct ctl_overrides {
	const char *listen, *tls_cert, *tls_key;
	const char *max_body, *max_ingest_body, *max_limit, *heartbeat_period, *window;
};

/* Records getopt option c (the letters of vigil_control.c's table);
 * -EINVAL if c is not one of the overrides. */
int ctl_override_opt(struct ctl_overrides *ov, int c, const char *arg);

/* Applies the overrides to cfg; -EINVAL (message on stderr) for a bad
 * value. */
int ctl_overrides_apply(const struct ctl_overrides *ov, struct ctl_settings *cfg);

/* Reads the JSON object in path into cfg.  Strings in cfg point into
 * *keep, which the caller releases (json_decref) after cfg's last use.
 * -EINVAL with "path: key: message" on stderr for an unknown key or a bad
 * value. */
int ctl_config_load(const char *path, struct ctl_settings *cfg, json_t **keep);

#endif
