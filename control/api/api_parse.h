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
	API_BODY_RULESET,       /* {"content", "message", "parent", "cases": [CASE...]} */
	API_BODY_RULE_EDIT,     /* {"action", "sid", "rule", "message"} */
	API_BODY_APPROVE,       /* {"comment", "override", "reason"} or nothing */
	API_BODY_REJECT,        /* {"comment"} */
	API_BODY_DEPLOY,        /* {"ruleset", "sensors", "reason", "override"} */
	API_BODY_ROLLBACK,      /* {"sensors", "reason"} or nothing */
	API_BODY_BLOCK,         /* {"prefix", "duration_s", "reason"} */
	API_BODY_UNBLOCK,       /* {"prefix", "reason"} or nothing */
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
#define API_MESSAGE_MAX 4096    /* a ruleset version's message */
#define API_RULE_MAX 65536      /* one rule line */
#define API_MAX_CASES 64        /* regression cases of one submit */
#define API_MAX_CASE_SIDS 1024  /* sids in a case's must or must_not */
#define API_CASE_PCAP_MAX (16u << 20)     /* one case's capture, decoded */
#define API_CASES_PCAP_MAX (64u << 20)    /* all captures of one submit, decoded */
#define API_MAX_SENSORS 1024    /* sensors named in a deployment */
#define API_CONFIG_HASH_MAX 64

/* A regression case of a submitted version. */
struct api_case {
	const char *name;
	uint8_t *pcap;           /* malloc'd, decoded from pcap_b64 */
	size_t pcap_len;
	char *must, *must_not;   /* malloc'd compact JSON arrays of sids */
};

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
			const char *config_hash;       /* NULL: not sent */
			char *load_text;               /* malloc'd {"loaded","skipped","error"}; NULL: not sent */
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
		struct {
			const char *content;            /* 1 byte or more */
			size_t content_len;
			const char *message;
			const char *parent;             /* NULL: none; else 8 to 64 hex digits */
			struct api_case *cases;         /* malloc'd; NULL when ncases is 0 */
			size_t ncases;
			bool has_cases;                 /* "cases" given (even []): replaces the parent's */
		} ruleset;
		struct {
			const char *action;             /* enable | disable | edit | add */
			int64_t sid;
			const char *rule;               /* one line; required for edit and add */
			const char *message;
		} edit;
		struct {
			const char *comment, *reason;   /* reason: required with override */
			bool override;
		} decision;                             /* approve and reject (comment required) */
		struct {
			const char *ruleset;            /* 8 to 64 hex digits; NULL for a rollback */
			const char **sensors;           /* malloc'd; NULL: every known one */
			size_t nsensors;
			const char *reason;             /* required with override */
			bool override;
		} deploy;                               /* deploy and rollback */
		struct {
			char prefix[64];                /* canonical "ADDR/LEN"; "" when not given */
			int64_t duration_s;             /* 0: until lifted */
			const char *reason;             /* required to block */
		} block;                                /* block and unblock */
	} u;
};

/* Parses and validates buf (len bytes, need not be NUL-terminated) as a
 * body of the given kind into b.  0, -EINVAL (message in err), -EFBIG (a
 * capture over its bound: 413; message in err), -ENOMEM.
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

/* An IPv4/IPv6 prefix ("192.0.2.0/24", "2001:db8::/32"; an address alone
 * is /32 or /128) to its canonical text in OUT (>= 64 bytes); host bits
 * must be zero.  -EINVAL with a message in ERR. */
int api_prefix_canon(const char *in, char *out, size_t outlen, char *err, size_t errlen);

/* A ruleset version id or a prefix of one: 8 to 64 hex digits. */
bool api_id_prefix_valid(const char *s);

#endif
