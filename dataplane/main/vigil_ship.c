/* SPDX-License-Identifier: BSD-3-Clause */
#include "vigil_ship.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "ctr.h"
#include "ship.h"
#include "vigil_reload.h"
#include "vlog.h"

struct vigil_ship {
	struct ship *sh;
	double drain_s;
	pthread_mutex_t mu;       /* guards sum: the output thread writes, the shipper reads */
	struct ctr_block sum;
	bool have_sum;
	char sensor[65];
	char spool_dir[PATH_MAX];
	char config_hash[17];
	bool rules_wanted;           /* control.rules */
	pthread_mutex_t hook_mu;       /* guards reload against its removal at exit */
	struct vigil_reload *reload;
	void (*blocklist)(void *arg, json_t *entries);   /* under hook_mu */
	void *blocklist_arg;
	const char *token;
};

void vigil_config_hash(const struct cfg *c, char out[17])
{
	struct sha256_ctx h;
	uint8_t d[SHA256_DIGEST_SIZE];
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	sha256_init(&h);
	if (f) {
		cfg_dump(c, f);
		fclose(f);
	}
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "control.token", 13))
			continue;
		char *origin = strstr(line, "  (");   /* where it was set: not part of the value */
		size_t n = origin ? (size_t)(origin - line) : strlen(line);
		sha256_update(&h, n, (const uint8_t *)line);
		sha256_update(&h, 1, (const uint8_t *)"\n");
	}
	free(text);
	sha256_digest(&h, sizeof(d), d);
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* Shipper thread: heartbeat fields beyond the counters. */
static void hb_fill(void *arg, json_t *hb)
{
	struct vigil_ship *vs = arg;

	json_object_set_new(hb, "config_hash", json_string(vs->config_hash));
	pthread_mutex_lock(&vs->hook_mu);
	vigil_reload_fill(vs->reload, hb);
	pthread_mutex_unlock(&vs->hook_mu);
}

/* Shipper thread: {"ok": true, "ruleset": {"id", "engine_id", "url"}} */
static void hb_answer(void *arg, json_t *ans)
{
	struct vigil_ship *vs = arg;
	json_t *rs = json_object_get(ans, "ruleset"), *bl = json_object_get(ans, "blocklist");

	pthread_mutex_lock(&vs->hook_mu);
	if (json_is_object(rs) && vs->rules_wanted)
		vigil_reload_want(vs->reload, json_string_value(json_object_get(rs, "id")),
				  json_string_value(json_object_get(rs, "engine_id")),
				  json_string_value(json_object_get(rs, "url")));
	if (json_is_array(bl) && vs->blocklist)
		vs->blocklist(vs->blocklist_arg, bl);
	pthread_mutex_unlock(&vs->hook_mu);
}

/* The control plane's sensor names are 1 to 64 of A-Z a-z 0-9 . _ -; the
 * default is the host name with anything else made '-'. */
static void default_sensor(char *buf, size_t len)
{
	char host[HOST_NAME_MAX + 1] = "";

	if (gethostname(host, sizeof(host)) != 0 || !host[0])
		snprintf(host, sizeof(host), "vigil");
	host[HOST_NAME_MAX] = '\0';
	snprintf(buf, len, "%s", host);
	for (char *p = buf; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '_' || *p == '-'))
			*p = '-';
}

/* Shipper thread, before each heartbeat. */
static void put_counters(void *arg, json_t *obj)
{
	struct vigil_ship *vs = arg;

	pthread_mutex_lock(&vs->mu);
	if (vs->have_sum)
		for (int i = 0; i < CTR__COUNT; i++)
			json_object_set_new(obj, ctr_name((enum ctr_id)i), json_integer((json_int_t)vs->sum.v[i]));
	pthread_mutex_unlock(&vs->mu);
}

/* Output thread. */
static void take_counters(void *arg, const struct ctr_block *sum)
{
	struct vigil_ship *vs = arg;

	pthread_mutex_lock(&vs->mu);
	vs->sum = *sum;
	vs->have_sum = true;
	pthread_mutex_unlock(&vs->mu);
}

/* Output thread: one pass's alerts, one spool append (one fsync). */
static void take_alerts(void *arg, const char *const *lines, size_t n)
{
	struct vigil_ship *vs = arg;

	ship_enqueue(vs->sh, lines, n);
}

int vigil_ship_open(struct vigil_ship **out, const struct cfg *c, const char *logdir,
		    const char *version, const char *ruleset, char *err, size_t errlen)
{
	const char *url = cfg_get_str(c, "control.url");
	char spool_dir[PATH_MAX];
	struct vigil_ship *vs;
	int rc;

	*out = NULL;
	if (!url[0])
		return 0;
	const char *token = cfg_get_str(c, "control.token");
	if (!token[0])
		token = getenv("VIGIL_SENSOR_TOKEN");
	if (!token || !token[0]) {
		snprintf(err, errlen, "control.url is set but no token: set control.token or VIGIL_SENSOR_TOKEN "
			 "(a token of a user with role 'sensor')");
		return -EINVAL;
	}
	vs = calloc(1, sizeof(*vs));
	if (!vs)
		return -ENOMEM;
	pthread_mutex_init(&vs->mu, NULL);
	pthread_mutex_init(&vs->hook_mu, NULL);
	vs->token = token;
	vs->drain_s = (double)cfg_get_duration_ms(c, "control.drain") / 1000.0;
	if (cfg_get_str(c, "control.sensor")[0])
		snprintf(vs->sensor, sizeof(vs->sensor), "%s", cfg_get_str(c, "control.sensor"));
	else
		default_sensor(vs->sensor, sizeof(vs->sensor));
	if (cfg_get_str(c, "control.spool-dir")[0]) {
		snprintf(spool_dir, sizeof(spool_dir), "%s", cfg_get_str(c, "control.spool-dir"));
	} else {
		snprintf(spool_dir, sizeof(spool_dir), "%s/spool", logdir);
		if (mkdir(spool_dir, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create spool directory %s: %s", spool_dir, strerror(errno));
			rc = -errno;
			goto fail;
		}
	}
	snprintf(vs->spool_dir, sizeof(vs->spool_dir), "%s", spool_dir);
	vs->rules_wanted = cfg_get_bool(c, "control.rules");
	vigil_config_hash(c, vs->config_hash);
	uint64_t hb_ms = cfg_get_duration_ms(c, "control.heartbeat");
	struct ship_cfg sc = {
		.url = url,
		.token = token,
		.sensor = vs->sensor,
		.spool_dir = spool_dir,
		.spool_max = cfg_get_size(c, "control.spool-max"),
		.batch = (uint32_t)cfg_get_u64(c, "control.batch"),
		.heartbeat_s = hb_ms ? (double)hb_ms / 1000.0 : -1,
		.version = version,
		.ruleset = ruleset ? ruleset : "",
		.retry_max_ms = (uint32_t)cfg_get_duration_ms(c, "control.retry-max"),
		.hb_fill = hb_fill,
		.hb_answer = hb_answer,
		.hb_arg = vs,
	};
	rc = ship_create(&vs->sh, &sc, put_counters, vs, err, errlen);
	if (rc)
		goto fail;
	rc = ship_start(vs->sh);
	if (rc) {
		snprintf(err, errlen, "cannot start the shipper thread: %s", strerror(-rc));
		goto fail;
	}
	vlog_info("control: shipping alerts to %s as sensor '%s' (spool %s)", url, vs->sensor, spool_dir);
	*out = vs;
	return 0;
fail:
	ship_destroy(vs->sh);
	pthread_mutex_destroy(&vs->mu);
	free(vs);
	return rc;
}

void vigil_ship_attach(struct vigil_ship *vs, struct eve_cfg *ec)
{
	if (!vs)
		return;
	ec->alert_lines = take_alerts;
	ec->alert_lines_arg = vs;
	ec->publish = take_counters;
	ec->publish_arg = vs;
}

void vigil_ship_heartbeat_soon(struct vigil_ship *vs)
{
	if (vs)
		ship_heartbeat_soon(vs->sh);
}

void vigil_ship_set_reload(struct vigil_ship *vs, struct vigil_reload *r)
{
	if (!vs)
		return;
	pthread_mutex_lock(&vs->hook_mu);
	vs->reload = r;
	pthread_mutex_unlock(&vs->hook_mu);
}

void vigil_ship_set_blocklist(struct vigil_ship *vs, void (*fn)(void *arg, json_t *entries), void *arg)
{
	if (!vs)
		return;
	pthread_mutex_lock(&vs->hook_mu);
	vs->blocklist = fn;
	vs->blocklist_arg = arg;
	pthread_mutex_unlock(&vs->hook_mu);
}

const char *vigil_ship_dir(const struct vigil_ship *vs)
{
	return vs ? vs->spool_dir : NULL;
}

const char *vigil_ship_token(const struct vigil_ship *vs)
{
	return vs ? vs->token : NULL;
}

void vigil_ship_set_ruleset(struct vigil_ship *vs, const char *ruleset)
{
	if (vs)
		ship_set_ruleset(vs->sh, ruleset);
}

bool vigil_ship_close(struct vigil_ship *vs, FILE *f)
{
	struct ship_stats st;
	bool all;

	if (!vs)
		return true;
	ship_stop(vs->sh, vs->drain_s);
	ship_get_stats(vs->sh, &st);
	all = st.spool.backlog_bytes == 0;
	if (f) {
		fprintf(f, "\ncontrol plane (sensor %s)\n", vs->sensor);
		fprintf(f, "  records spooled       %" PRIu64 " of %" PRIu64 " (alerts, and flows that alerted)\n",
			st.spooled, st.enqueued);
		fprintf(f, "  acknowledged          %" PRIu64 " (%" PRIu64 " already known)\n", st.acked,
			st.duplicates);
		fprintf(f, "  spool drops           %" PRIu64 "\n",
			st.spool.drops + st.spool.io_drops + st.enqueue_errors);
		fprintf(f, "  still spooled         %" PRIu64 " bytes%s\n", st.spool.backlog_bytes,
			all ? "" : " (sent on the next run)");
		if (st.last_error[0] && !all)
			fprintf(f, "  last error            %s\n", st.last_error);
	}
	ship_destroy(vs->sh);
	pthread_mutex_destroy(&vs->mu);
	pthread_mutex_destroy(&vs->hook_mu);
	free(vs);
	return all;
}
