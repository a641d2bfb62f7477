/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The API's request bodies: parsed with jansson and every field
 * type-checked into plain structs, without touching the database (so the
 * parsers can be fuzzed on their own: tests/fuzz/fuzz_api_json.c).
 *
 * Errors are -EINVAL with a message naming the field as the client wrote
 * it: "alerts[3].sid: expected an integer", "status: missing".  Unknown
 * fields are ignored (sensors send more EVE fields than we keep).
 */
#ifndef VIGIL_API_PARSE_H
#define VIGIL_API_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "store.h"

enum api_body_kind {
	API_BODY_NONE,          /* no body expected: ignored */
	API_BODY_INGEST,        /* {"sensor", "alerts": [ALERT...], "flows": [FLOW...]} */
	API_BODY_HEARTBEAT,     /* {"sensor", "version", "ruleset", "counters": {NAME: N}} */
	API_BODY_ACK,           /* {} or nothing */
	API_BODY_ASSIGN,        /* {"assignee"} */
	API_BODY_NOTE,          /* {"text"} */
	API_BODY_STATUS,        /* {"status", "reason"} */
	API_BODY_ESCALATION,    /* [{"severity", "ack_within_s", "tiers"}] */
	API_BODY_NOTIFY,        /* [{"name", "type", "url", "routing_key", "min_severity"}] */
	API_BODY_USER,          /* {"name", "role"} */
	API_BODY_N,
};

/* Roles, from least to most powerful for the incident workflow (see
 * api_role_may() in api_priv.h for who may do what). */
enum api_role {
	API_ROLE_SENSOR,
	API_ROLE_VIEWER,
	API_ROLE_RULE_AUTHOR,
	API_ROLE_RULE_APPROVER,
	API_ROLE_RESPONDER,
	API_ROLE_INCIDENT_MANAGER,
	API_ROLE_ADMIN,
	API_ROLE_N,
};

extern const char *const api_role_names[API_ROLE_N];

/* -EINVAL for an unknown role name. */
int api_role_parse(const char *name, enum api_role *out);

#define API_TEXT_MAX 4096       /* notes */
#define API_REASON_MAX 1024
#define API_MAX_TARGETS 64
#define API_MAX_TIERS 16

struct api_body {
	enum api_body_kind kind;
	json_t *root;           /* owns every borrowed string below */
	union {
		struct {
			const char *sensor;
			struct store_alert *alerts;    /* malloc'd */
			size_t n;
			struct store_flow *flows;      /* malloc'd; NULL when nflows is 0 */
			size_t nflows;
		} ingest;
		struct {
			const char *sensor, *version, *ruleset;
			char ruleset_buf[24];          /* a numeric ruleset id as text */
			json_t *counters;              /* borrowed object */
			char *counters_text;           /* malloc'd compact JSON */
		} heartbeat;
		struct {
			const char *assignee;
		} assign;
		struct {
			const char *text;
		} note;
		struct {
			const char *status, *reason;
		} status;
		struct {
			struct store_policy *v;         /* malloc'd; tiers malloc'd */
			size_t n;
		} escalation;
		struct {
			struct store_target *v;         /* malloc'd */
			size_t n;
		} notify;
		struct {
			const char *name, *role;
		} user;
	} u;
};

/* Parses and validates buf (len bytes, need not be NUL-terminated) as a
 * body of the given kind into b.  0, -EINVAL (message in err), -ENOMEM.
 * On success the caller owns b and calls api_body_fini(); on failure
 * nothing is left to free. */
int api_body_parse(struct api_body *b, enum api_body_kind kind, const char *buf, size_t len, char *err,
		   size_t errlen);

void api_body_fini(struct api_body *b);

/* Parse + validate + free: the fuzz entry point. */
int api_parse_body(enum api_body_kind kind, const char *buf, size_t len, char *err, size_t errlen);

/* RFC 3339 date-time ("2024-05-01T12:00:00.123456+00:00", "Z", or EVE's
 * "+0000") to whole seconds since the epoch; -EINVAL otherwise. */
int api_parse_time(const char *s, int64_t *out);

/* Names of users, sensors and targets: 1..64 of [A-Za-z0-9._-]. */
bool api_name_valid(const char *s);

#endif
