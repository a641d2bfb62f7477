/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the control plane's request body parsers
 * (control/api/api_parse.c): every body kind, chosen by the first input
 * byte (kind = 1 + byte % (API_BODY_N - 1)), the rest is the body.  An
 * accepted body must satisfy the parser's promises (checked here: ranges,
 * lengths, counts, non-NULL required fields, for the ingest body's alerts
 * and flow records alike; the rule change management bodies: decoded
 * captures within their bounds, sids in range, ids as 8 to 64 hex
 * digits, unique sensor and case names); a refused one (400 or 413) must
 * come with a message.  The input is also tried as an RFC 3339 time.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_parse.h"

#define REQUIRE(c) do { if (!(c)) { fprintf(stderr, "broken promise: %s\n", #c); abort(); } } while (0)

static bool sids_ok(const char *text)
{
	json_t *a = json_loads(text, 0, NULL), *v;
	bool ok = json_is_array(a) && json_array_size(a) <= API_MAX_CASE_SIDS;
	size_t i;

	json_array_foreach(a, i, v)
		ok = ok && json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= UINT32_MAX;
	json_decref(a);
	return ok;
}

static void check_ruleset(const struct api_body *b)
{
	size_t total = 0;

	REQUIRE(b->u.ruleset.content && b->u.ruleset.content_len >= 1 &&
		strlen(b->u.ruleset.content) == b->u.ruleset.content_len);
	REQUIRE(b->u.ruleset.message && strlen(b->u.ruleset.message) <= API_MESSAGE_MAX);
	REQUIRE(!b->u.ruleset.parent || api_id_prefix_valid(b->u.ruleset.parent));
	REQUIRE(b->u.ruleset.ncases <= API_MAX_CASES && (b->u.ruleset.ncases == 0) == !b->u.ruleset.cases);
	REQUIRE(b->u.ruleset.has_cases || b->u.ruleset.ncases == 0);
	for (size_t i = 0; i < b->u.ruleset.ncases; i++) {
		const struct api_case *c = &b->u.ruleset.cases[i];
		REQUIRE(c->name && api_name_valid(c->name) && c->pcap && c->pcap_len >= 4);
		REQUIRE(c->pcap_len <= API_CASE_PCAP_MAX && c->must && c->must_not);
		REQUIRE(sids_ok(c->must) && sids_ok(c->must_not));
		for (size_t j = 0; j < i; j++)
			REQUIRE(strcmp(b->u.ruleset.cases[j].name, c->name) != 0);
		total += c->pcap_len;
	}
	REQUIRE(total <= API_CASES_PCAP_MAX);
}

static void check_deploy(const struct api_body *b)
{
	REQUIRE(b->kind == API_BODY_ROLLBACK ? !b->u.deploy.ruleset :
		b->u.deploy.ruleset && api_id_prefix_valid(b->u.deploy.ruleset));
	REQUIRE((b->u.deploy.sensors == NULL) == (b->u.deploy.nsensors == 0));
	REQUIRE(b->u.deploy.nsensors <= API_MAX_SENSORS);
	for (size_t i = 0; i < b->u.deploy.nsensors; i++) {
		REQUIRE(api_name_valid(b->u.deploy.sensors[i]));
		for (size_t j = 0; j < i; j++)
			REQUIRE(strcmp(b->u.deploy.sensors[i], b->u.deploy.sensors[j]) != 0);
	}
	REQUIRE(!b->u.deploy.override || (b->u.deploy.reason && *b->u.deploy.reason));
}

static void check_body(const struct api_body *b)
{
	switch (b->kind) {
	case API_BODY_INGEST:
		REQUIRE(b->u.ingest.sensor && api_name_valid(b->u.ingest.sensor));
		for (size_t i = 0; i < b->u.ingest.n; i++) {
			const struct store_alert *a = &b->u.ingest.alerts[i];
			int64_t t;
			REQUIRE(a->id && *a->id && a->ts && a->src_ip && a->dest_ip);
			REQUIRE(a->severity >= 1 && a->severity <= 255);
			REQUIRE(a->sid >= 0 && a->sid <= UINT32_MAX);
			REQUIRE(a->src_port >= -1 && a->src_port <= 65535);
			REQUIRE(a->dest_port >= -1 && a->dest_port <= 65535);
			REQUIRE(api_parse_time(a->ts, &t) == 0 && t == a->ts_epoch);
		}
		REQUIRE((b->u.ingest.nflows == 0) == (b->u.ingest.flows == NULL));
		for (size_t i = 0; i < b->u.ingest.nflows; i++) {
			const struct store_flow *f = &b->u.ingest.flows[i];
			int64_t t;
			REQUIRE(f->id && *f->id && strlen(f->id) <= 200 && f->sensor == b->u.ingest.sensor);
			REQUIRE(f->start && f->end && f->src_ip && f->dest_ip);
			REQUIRE(strlen(f->src_ip) <= 45 && strlen(f->dest_ip) <= 45);
			REQUIRE(f->flow_id >= 0);
			REQUIRE(f->src_port >= -1 && f->src_port <= 65535);
			REQUIRE(f->dest_port >= -1 && f->dest_port <= 65535);
			REQUIRE(f->pkts_toserver >= 0 && f->pkts_toclient >= 0);
			REQUIRE(f->bytes_toserver >= 0 && f->bytes_toclient >= 0);
			REQUIRE(!f->proto || strlen(f->proto) <= 32);
			REQUIRE(!f->state || strlen(f->state) <= 32);
			REQUIRE(!f->reason || strlen(f->reason) <= 32);
			REQUIRE(api_parse_time(f->start, &t) == 0 && t == f->start_epoch);
			REQUIRE(api_parse_time(f->end, &t) == 0 && t == f->end_epoch);
		}
		break;
	case API_BODY_HEARTBEAT:
		REQUIRE(b->u.heartbeat.sensor && b->u.heartbeat.counters_text);
		REQUIRE(!b->u.heartbeat.config_hash || strlen(b->u.heartbeat.config_hash) <= API_CONFIG_HASH_MAX);
		if (b->u.heartbeat.load_text) {
			json_t *l = json_loads(b->u.heartbeat.load_text, 0, NULL);
			REQUIRE(json_is_object(l) && json_integer_value(json_object_get(l, "loaded")) >= 0 &&
				json_integer_value(json_object_get(l, "skipped")) >= 0 && json_object_size(l) == 3);
			json_decref(l);
		}
		break;
	case API_BODY_RULESET:
		check_ruleset(b);
		break;
	case API_BODY_RULE_EDIT: {
		const char *a = b->u.edit.action, *r = b->u.edit.rule;
		REQUIRE(a && b->u.edit.message && strlen(b->u.edit.message) <= API_MESSAGE_MAX);
		REQUIRE(!strcmp(a, "enable") || !strcmp(a, "disable") || !strcmp(a, "edit") || !strcmp(a, "add"));
		REQUIRE(b->u.edit.sid >= 1 && b->u.edit.sid <= UINT32_MAX);
		REQUIRE(!r || (strlen(r) <= API_RULE_MAX && !strpbrk(r, "\r\n")));
		REQUIRE(r || (strcmp(a, "edit") && strcmp(a, "add")));
		break;
	}
	case API_BODY_APPROVE:
	case API_BODY_REJECT:
		REQUIRE(b->kind == API_BODY_APPROVE || b->u.decision.comment);
		REQUIRE(!b->u.decision.comment || strlen(b->u.decision.comment) <= API_REASON_MAX);
		REQUIRE(!b->u.decision.override || (b->u.decision.reason && *b->u.decision.reason));
		break;
	case API_BODY_DEPLOY:
	case API_BODY_ROLLBACK:
		check_deploy(b);
		break;
	case API_BODY_ASSIGN:
		REQUIRE(b->u.assign.assignee && api_name_valid(b->u.assign.assignee));
		break;
	case API_BODY_NOTE:
		REQUIRE(b->u.note.text && strlen(b->u.note.text) <= API_TEXT_MAX);
		break;
	case API_BODY_STATUS:
		REQUIRE(b->u.status.status);
		break;
	case API_BODY_ESCALATION:
		REQUIRE(b->u.escalation.n <= 3);
		for (size_t i = 0; i < b->u.escalation.n; i++) {
			REQUIRE(b->u.escalation.v[i].severity >= 1 && b->u.escalation.v[i].severity <= 3);
			REQUIRE(b->u.escalation.v[i].ack_within_s > 0 && b->u.escalation.v[i].tiers);
		}
		break;
	case API_BODY_NOTIFY:
		REQUIRE(b->u.notify.n <= API_MAX_TARGETS);
		for (size_t i = 0; i < b->u.notify.n; i++)
			REQUIRE(b->u.notify.v[i].name && b->u.notify.v[i].type &&
				(b->u.notify.v[i].url || b->u.notify.v[i].routing_key));
		break;
	case API_BODY_USER: {
		enum api_role r;
		REQUIRE(b->u.user.name && api_role_parse(b->u.user.role, &r) == 0);
		break;
	}
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_body b;
	char err[300], tbuf[80];
	int64_t t;
	int rc;

	if (size < 1)
		return 0;
	enum api_body_kind kind = (enum api_body_kind)(1 + data[0] % (API_BODY_N - 1));
	err[0] = '\0';
	rc = api_body_parse(&b, kind, (const char *)data + 1, size - 1, err, sizeof(err));
	if (rc == 0) {
		check_body(&b);
		api_body_fini(&b);
	} else {
		REQUIRE(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
	}
	REQUIRE(api_parse_body(kind, (const char *)data + 1, size - 1, err, sizeof(err)) == rc);

	size_t n = size - 1 < sizeof(tbuf) - 1 ? size - 1 : sizeof(tbuf) - 1;
	memcpy(tbuf, data + 1, n);
	tbuf[n] = '\0';
	api_parse_time(tbuf, &t);
	return 0;
}
