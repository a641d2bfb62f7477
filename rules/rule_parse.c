/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One rule: the header (action, protocol, addresses, ports, direction) and
 * the split of the option list into keyword/value pairs.  The keyword
 * handlers are in rule_opts.c and rule_payload.c.
 *
 * Option values follow Suricata's quoting: a value ends at the first ';'
 * outside double quotes that is not escaped by '\'; inside quotes '\;',
 * '\"', '\\' and '\:' escape, and a bare ';' is an error (Suricata would
 * end the option there).
 */
#include <errno.h>
#include <string.h>

#include "rule_priv.h"

static bool ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f';
}

static void skip_ws(const struct rp_ctx *c, size_t *pos)
{
	while (*pos < c->len && ws(c->text[*pos]))
		(*pos)++;
}

/* The next header field.  Address and port fields may hold spaces inside
 * brackets; a field ends at whitespace or, outside brackets, at '('. */
static int header_field(struct rp_ctx *c, size_t *pos, const char *what, struct rp_span *out)
{
	size_t start;
	int depth = 0;

	skip_ws(c, pos);
	start = *pos;
	while (*pos < c->len) {
		char ch = c->text[*pos];

		if (ch == '[') {
			depth++;
		} else if (ch == ']') {
			if (depth == 0)
				return rp_fail(c, *pos, RULE_SKIP_SYNTAX, NULL, "unbalanced ']' in the %s", what);
			depth--;
		} else if (depth == 0 && (ws(ch) || ch == '(')) {
			break;
		}
		(*pos)++;
	}
	if (depth)
		return rp_fail(c, start, RULE_SKIP_SYNTAX, NULL, "unbalanced '[' in the %s", what);
	if (*pos == start)
		return rp_fail(c, start, RULE_SKIP_SYNTAX, NULL, "missing %s in the rule header", what);
	out->p = c->text + start;
	out->n = *pos - start;
	out->off = start;
	return 0;
}

static int parse_action(struct rp_ctx *c, struct rp_span t)
{
	static const struct {
		const char *name;
		enum rule_action action;
		enum rule_reject reject;
	} actions[] = {
		{ "alert", RULE_ACTION_ALERT, RULE_REJECT_NONE },
		{ "drop", RULE_ACTION_DROP, RULE_REJECT_NONE },
		{ "pass", RULE_ACTION_PASS, RULE_REJECT_NONE },
		{ "reject", RULE_ACTION_REJECT, RULE_REJECT_SRC },
		{ "rejectsrc", RULE_ACTION_REJECT, RULE_REJECT_SRC },
		{ "rejectdst", RULE_ACTION_REJECT, RULE_REJECT_DST },
		{ "rejectboth", RULE_ACTION_REJECT, RULE_REJECT_BOTH },
	};

	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (rp_span_eq(t, actions[i].name)) {
			c->r->action = actions[i].action;
			c->r->reject = actions[i].reject;
			return 0;
		}
	}
	return rp_fail(c, t.off, RULE_SKIP_SYNTAX, NULL, "unknown action '%.*s'", (int)t.n, t.p);
}

static int parse_proto(struct rp_ctx *c, struct rp_span t)
{
	static const struct {
		const char *name;
		enum rule_proto proto;
	} ours[] = {
		{ "ip", RULE_PROTO_IP }, { "tcp", RULE_PROTO_TCP }, { "udp", RULE_PROTO_UDP },
		{ "icmp", RULE_PROTO_ICMP }, { "tcp-pkt", RULE_PROTO_TCP_PKT },
		{ "tcp-stream", RULE_PROTO_TCP_STREAM },
	};
	/* what Suricata also accepts: application layers and a few others */
	static const char *const theirs[] = {
		"bittorrent-dht", "dcerpc", "dhcp", "dnp3", "dns", "enip", "ftp", "ftp-data", "http",
		"http1", "http2", "icmpv4", "icmpv6", "ike", "ikev2", "imap", "ip4", "ip6", "ipv4",
		"ipv6", "krb5", "ldap", "modbus", "mqtt", "nfs", "ntp", "pgsql", "pkthdr", "pop3",
		"quic", "rdp", "rfb", "sctp", "sip", "smb", "smtp", "snmp", "ssh", "ssl", "telnet",
		"tftp", "tls", "websocket",
	};
	char name[32];

	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		if (rp_span_ieq(t, ours[i].name)) {
			c->r->proto = ours[i].proto;
			return 0;
		}
	}
	for (size_t i = 0; i < sizeof(theirs) / sizeof(theirs[0]); i++) {
		if (rp_span_ieq(t, theirs[i])) {
			snprintf(name, sizeof(name), "%s", theirs[i]);
			return rp_fail(c, t.off, RULE_SKIP_UNSUPPORTED_PROTO, name,
				       "unsupported protocol '%s'", name);
		}
	}
	return rp_fail(c, t.off, RULE_SKIP_SYNTAX, NULL, "unknown protocol '%.*s'", (int)t.n, t.p);
}

/* Scans the value of the option at *POS (just after ':') up to its ';'. */
static int option_value(struct rp_ctx *c, size_t *pos, struct rp_span kw, struct rp_span *val)
{
	size_t start = *pos, qopen = 0, semi_in_q = 0;
	bool inq = false, semi = false;

	while (*pos < c->len) {
		char ch = c->text[*pos];

		if (ch == '\\' && *pos + 1 < c->len) {
			*pos += 2;
			continue;
		}
		if (ch == '"') {
			inq = !inq;
			qopen = *pos;
		} else if (ch == ';') {
			if (!inq)
				break;
			if (!semi) {
				semi = true;
				semi_in_q = *pos;
			}
		}
		(*pos)++;
	}
	if (semi)
		return rp_fail(c, semi_in_q, RULE_SKIP_SYNTAX, NULL,
			       "';' inside a quoted string must be escaped as '\\;' (or a '\"' is missing)");
	if (inq)
		return rp_fail(c, qopen, RULE_SKIP_SYNTAX, NULL, "unterminated quoted string");
	if (*pos >= c->len) {
		size_t end = c->len;

		while (end > start && ws(c->text[end - 1]))
			end--;
		if (end > start && c->text[end - 1] == ')')
			return rp_fail(c, end - 1, RULE_SKIP_SYNTAX, NULL, "missing ';' after '%.*s' option",
				       (int)kw.n, kw.p);
		return rp_fail(c, end, RULE_SKIP_SYNTAX, NULL, "missing ';' and ')' at the end of the rule");
	}
	val->p = c->text + start;
	val->n = *pos - start;
	val->off = start;
	(*pos)++;   /* the ';' */
	return 0;
}

static bool kw_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '.' || ch == '-';
}

static int parse_options(struct rp_ctx *c, size_t pos)
{
	for (;;) {
		struct rp_span kw, val = { 0 };
		bool has_value = false;
		size_t start;
		int rc;

		skip_ws(c, &pos);
		if (pos >= c->len)
			return rp_fail(c, c->len, RULE_SKIP_SYNTAX, NULL, "missing ')' at the end of the rule");
		if (c->text[pos] == ')') {
			pos++;
			skip_ws(c, &pos);
			if (pos < c->len)
				return rp_fail(c, pos, RULE_SKIP_SYNTAX, NULL, "unexpected text after ')'");
			return 0;
		}
		start = pos;
		while (pos < c->len && kw_char(c->text[pos]))
			pos++;
		if (pos == start)
			return rp_fail(c, pos, RULE_SKIP_SYNTAX, NULL, "expected a keyword, not '%c'",
				       c->text[pos]);
		kw = (struct rp_span){ c->text + start, pos - start, start };
		skip_ws(c, &pos);
		if (pos >= c->len)
			return rp_fail(c, pos, RULE_SKIP_SYNTAX, NULL, "missing ';' after '%.*s'", (int)kw.n,
				       kw.p);
		if (c->text[pos] == ':') {
			pos++;
			if (option_value(c, &pos, kw, &val))
				return -EINVAL;
			has_value = true;
		} else if (c->text[pos] == ';') {
			pos++;
		} else if (c->text[pos] == ')') {
			return rp_fail(c, pos, RULE_SKIP_SYNTAX, NULL, "missing ';' after '%.*s'", (int)kw.n,
				       kw.p);
		} else {
			return rp_fail(c, pos, RULE_SKIP_SYNTAX, NULL, "expected ':' or ';' after '%.*s'",
				       (int)kw.n, kw.p);
		}
		rc = rp_option(c, kw, has_value, val);
		if (rc)
			return rc;
	}
}

int rp_rule(struct rp_ctx *c)
{
	struct rp_span t;
	size_t pos = 0;

	c->last_content = -1;
	c->fp_explicit = -1;
	skip_ws(c, &pos);
	c->start_off = pos;
	if (header_field(c, &pos, "action", &t) || parse_action(c, t))
		return -EINVAL;
	if (header_field(c, &pos, "protocol", &t) || parse_proto(c, t))
		return -EINVAL;
	if (header_field(c, &pos, "source address", &t) || rp_addrset(c, t, &c->r->src))
		return c->oom ? -ENOMEM : -EINVAL;
	if (header_field(c, &pos, "source port", &t) || rp_portset(c, t, &c->r->sport))
		return c->oom ? -ENOMEM : -EINVAL;
	if (header_field(c, &pos, "direction", &t))
		return -EINVAL;
	if (rp_span_eq(t, "->"))
		c->r->dir = RULE_DIR_TO;
	else if (rp_span_eq(t, "<>"))
		c->r->dir = RULE_DIR_BOTH;
	else
		return rp_fail(c, t.off, RULE_SKIP_SYNTAX, NULL,
			       "bad direction '%.*s' (expected '->' or '<>')", (int)t.n, t.p);
	if (header_field(c, &pos, "destination address", &t) || rp_addrset(c, t, &c->r->dst))
		return c->oom ? -ENOMEM : -EINVAL;
	if (header_field(c, &pos, "destination port", &t) || rp_portset(c, t, &c->r->dport))
		return c->oom ? -ENOMEM : -EINVAL;
	skip_ws(c, &pos);
	if (pos >= c->len || c->text[pos] != '(')
		return rp_fail(c, pos, RULE_SKIP_SYNTAX, NULL, "expected '(' after the rule header");
	if (parse_options(c, pos + 1))
		return c->oom ? -ENOMEM : -EINVAL;
	return rp_finish(c);
}
