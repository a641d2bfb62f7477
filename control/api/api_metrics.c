/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * /healthz and /metrics (Prometheus text format 0.0.4).  Counters come
 * from one table of name, label and help; gauges are read from the
 * database at scrape time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_priv.h"

/* Entries sharing a name are adjacent: HELP and TYPE are written once. */
const struct api_ctr_desc api_ctr_descs[API_CTR_N] = {
	[API_CTR_ALERTS] = { "vigil_control_alerts_ingested_total", NULL,
			     "Alerts stored by ingest (new ids)." },
	[API_CTR_DUPLICATES] = { "vigil_control_alerts_duplicate_total", NULL,
				 "Ingested alerts whose id was already stored (resends)." },
	[API_CTR_FLOWS] = { "vigil_control_flows_ingested_total", NULL,
			    "Flow records stored by ingest (new ids)." },
	[API_CTR_FLOW_DUPLICATES] = { "vigil_control_flows_duplicate_total", NULL,
				      "Ingested flow records whose id was already stored (resends)." },
	[API_CTR_OPENED_ALERT] = { "vigil_control_incidents_opened_total", "kind=\"alert\"",
				   "Incidents opened, by kind." },
	[API_CTR_OPENED_BLIND] = { "vigil_control_incidents_opened_total", "kind=\"blind_spot\"",
				   "Incidents opened, by kind." },
	[API_CTR_OPENED_DRIFT] = { "vigil_control_incidents_opened_total", "kind=\"drift\"",
				   "Incidents opened, by kind." },
	[API_CTR_ESCALATIONS] = { "vigil_control_escalations_total", NULL,
				  "Incidents escalated one tier for want of an acknowledgement." },
	[API_CTR_NOTIFY_SENT] = { "vigil_control_notifications_sent_total", NULL,
				  "Notifications the notifier reported delivered." },
	[API_CTR_NOTIFY_FAILED] = { "vigil_control_notifications_failed_total", NULL,
				    "Notification attempts the notifier reported failed." },
	[API_CTR_HEARTBEATS] = { "vigil_control_heartbeats_total", NULL,
				 "Sensor heartbeats received." },
	[API_CTR_TICKS] = { "vigil_control_evaluations_total", NULL,
			    "Escalation, blind-spot and drift evaluations run (timer and /api/v1/tick)." },
	[API_CTR_DEPLOYMENTS] = { "vigil_control_deployments_total", NULL,
				  "Ruleset deployments and rollbacks recorded." },
};

void api_h_healthz(struct api_server *srv, struct api_req *rq)
{
	(void)srv;
	api_reply_json(rq, 200, json_pack("{s:s, s:s}", "status", "ok", "version", VIGIL_VERSION));
}

static void open_by_sev(void *arg, int64_t severity, int64_t n)
{
	int64_t *v = arg;

	if (severity >= 1 && severity <= 255)
		v[severity] = n;
}

void api_h_metrics(struct api_server *srv, struct api_req *rq)
{
	int64_t open[256] = { 0 }, sensors = 0, size = 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int err;

	if (!f) {
		api_reply_error(rq, 500, "out of memory");
		return;
	}
	fprintf(f, "# HELP vigil_control_http_requests_total HTTP requests answered, by status code.\n"
		   "# TYPE vigil_control_http_requests_total counter\n");
	for (unsigned c = 0; c < API_MAX_CODE; c++) {
		uint64_t v = atomic_load(&srv->by_code[c]);
		if (v)
			fprintf(f, "vigil_control_http_requests_total{code=\"%u\"} %llu\n", c,
				(unsigned long long)v);
	}
	for (int i = 0; i < API_CTR_N; i++) {
		const struct api_ctr_desc *d = &api_ctr_descs[i];
		if (i == 0 || strcmp(d->name, api_ctr_descs[i - 1].name) != 0)
			fprintf(f, "# HELP %s %s\n# TYPE %s counter\n", d->name, d->help, d->name);
		fprintf(f, "%s%s%s%s %llu\n", d->name, d->label ? "{" : "", d->label ? d->label : "",
			d->label ? "}" : "", (unsigned long long)atomic_load(&srv->ctr[i]));
	}
	if (srv->cfg.validator) {
		struct rules_validator_stats vs;
		rules_validator_get_stats(srv->cfg.validator, &vs);
		fprintf(f, "# HELP vigil_control_validations_total Ruleset validations finished, by result.\n"
			   "# TYPE vigil_control_validations_total counter\n"
			   "vigil_control_validations_total{result=\"passed\"} %llu\n"
			   "vigil_control_validations_total{result=\"failed\"} %llu\n",
			(unsigned long long)vs.passed, (unsigned long long)vs.failed);
	}
	err = store_incidents_open_by_severity(srv->cfg.store, open_by_sev, open);
	if (!err)
		err = store_sensor_count(srv->cfg.store, &sensors);
	if (!err)
		err = store_db_size(srv->cfg.store, &size);
	fprintf(f, "# HELP vigil_control_incidents_open Incidents neither resolved nor closed, by severity.\n"
		   "# TYPE vigil_control_incidents_open gauge\n");
	for (int s = 1; s < 256; s++)
		if (s <= 3 || open[s])
			fprintf(f, "vigil_control_incidents_open{severity=\"%d\"} %lld\n", s, (long long)open[s]);
	fprintf(f, "# HELP vigil_control_sensors Sensors that ever sent a heartbeat.\n"
		   "# TYPE vigil_control_sensors gauge\n"
		   "vigil_control_sensors %lld\n"
		   "# HELP vigil_control_db_size_bytes Size of the SQLite database (pages in use).\n"
		   "# TYPE vigil_control_db_size_bytes gauge\n"
		   "vigil_control_db_size_bytes %lld\n", (long long)sensors, (long long)size);
	if (fclose(f) != 0 || err) {
		free(buf);
		api_reply_errno(rq, err ? err : -ENOMEM, "metrics");
		return;
	}
	api_reply_text(rq, 200, buf, len, "text/plain; version=0.0.4; charset=utf-8");
}
