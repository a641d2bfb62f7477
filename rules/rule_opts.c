/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rule options: the keyword table and dispatch (rp_option), the handlers
 * of the non-payload keywords (rule_payload.c has content, pcre and the
 * byte keywords), the classification of the others (app-layer, known but
 * unsupported, unknown), and the end of a rule (rp_finish: fast pattern
 * choice, priority, arrays copied to the arena).
 *
 * The checks follow Suricata's: a rule Suricata loads is never refused
 * here for its syntax; a few combinations Suricata refuses (depth with
 * distance on one content, two fast_patterns, ...) are refused too, with
 * RULE_SKIP_INVALID.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rule_priv.h"

/* once-only keywords */
enum {
	RP_SEEN_MSG = 1u << 0, RP_SEEN_SID = 1u << 1, RP_SEEN_REV = 1u << 2, RP_SEEN_GID = 1u << 3,
	RP_SEEN_CLASSTYPE = 1u << 4, RP_SEEN_PRIORITY = 1u << 5, RP_SEEN_DSIZE = 1u << 6,
	RP_SEEN_TTL = 1u << 7, RP_SEEN_ITYPE = 1u << 8, RP_SEEN_ICODE = 1u << 9,
	RP_SEEN_IPPROTO = 1u << 10, RP_SEEN_FLAGS = 1u << 11, RP_SEEN_THRESHOLD = 1u << 12,
	RP_SEEN_TARGET = 1u << 13,
};

static int once(struct rp_ctx *c, unsigned bit, struct rp_span kw)
{
	if (c->seen & bit)
		return rp_fail(c, kw.off, RULE_SKIP_INVALID, NULL, "duplicate '%.*s'", (int)kw.n, kw.p);
	c->seen |= bit;
	return 0;
}

static int plain_string(struct rp_ctx *c, struct rp_span v, const char *kw, const char **out)
{
	struct rp_span in;
	char *s;

	if (rp_quoted(c, v, false, kw, &in) || rp_unescape(c, in, true, &s, NULL))
		return -EINVAL;
	*out = s;
	return 0;
}

/* ------------------------------------------------------------- arrays */

static int kv_add(struct rp_ctx *c, struct rule_kv **arr, size_t *n, size_t *cap, struct rp_span k,
		  struct rp_span v)
{
	struct rule_kv *e = rp_grow(c, *arr, cap, *n, sizeof(**arr));

	if (!e)
		return -ENOMEM;
	*arr = e;
	e = &(*arr)[(*n)++];
	e->key = rule_arena_strndup(c->arena, k.p, k.n);
	e->value = rule_arena_strndup(c->arena, v.p, v.n);
	return e->key && e->value ? 0 : rp_oom(c);
}

/* ---------------------------------------------------- rule attributes */

static int kw_msg(struct rp_ctx *c, struct rp_span kw, struct rp_span v)
{
	if (once(c, RP_SEEN_MSG, kw))
		return -EINVAL;
	return plain_string(c, v, "msg", &c->r->msg);
}

static int u32_value(struct rp_ctx *c, struct rp_span v, int64_t min, const char *what,
		     uint32_t *out)
{
	int64_t x;

	if (rp_int(c, v, 10, min, UINT32_MAX, what, &x))
		return -EINVAL;
	*out = (uint32_t)x;
	return 0;
}

static int kw_sid(struct rp_ctx *c, struct rp_span kw, struct rp_span v)
{
	if (once(c, RP_SEEN_SID, kw))
		return -EINVAL;
	c->sid_off = rp_span_trim(v).off;
	return u32_value(c, v, 1, "sid", &c->r->sid);
}

static int kw_rev(struct rp_ctx *c, struct rp_span kw, struct rp_span v)
{
	return once(c, RP_SEEN_REV, kw) ? -EINVAL : u32_value(c, v, 0, "rev", &c->r->rev);
}

static int kw_gid(struct rp_ctx *c, struct rp_span kw, struct rp_span v)
{
	return once(c, RP_SEEN_GID, kw) ? -EINVAL : u32_value(c, v, 0, "gid", &c->r->gid);
}

static int kw_classtype(struct rp_ctx *c, struct rp_span kw, struct rp_span v)
{
	const struct rule_class *cl;
	char name[RP_MAXNAME];

	if (once(c, RP_SEEN_CLASSTYPE, kw))
		return -EINVAL;
	v = rp_span_trim(v);
	if (v.n == 0 || v.n >= RP_MAXNAME)
		return rp_fail(c, v.off, RULE_SKIP_SYNTAX, NULL, "bad classtype '%.*s'", (int)v.n, v.p);
	for (size_t i = 0; i < v.n; i++) {
		char ch = v.p[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '-' || ch == '_'))
			return rp_fail(c, v.off, RULE_SKIP_SYNTAX, NULL, "bad classtype '%.*s'",
				       (int)v.n, v.p);
	}
	rp_kwname(v, name);
	cl = rule_classes_find(c->opts->classes, name);
	c->r->classtype = rule_arena_strndup(c->arena, name, strlen(name));
	if (!c->r->classtype)
		return rp_oom(c);
	if (!cl) {
		if (c->opts->strict)
			return rp_fail(c, v.off, RULE_SKIP_INVALID, NULL, "unknown classtype '%s'", name);
		rp_warn(c, v.off, "unknown classtype '%s', priority 3", name);
		return 0;
	}
	c->r->class_desc = cl->desc;
	if (!c->prio_explicit)
		c->r->priority = cl->priority;
	return 0;
}

static int kw_priority(struct rp_ctx *c, struct rp_span kw, struct rp_span v)
{
	int64_t x;

	if (once(c, RP_SEEN_PRIORITY, kw) || rp_int(c, v, 10, 1, 255, "priority", &x))
		return -EINVAL;
	c->r->priority = (uint8_t)x;
	c->prio_explicit = true;
	return 0;
}

static int kw_metadata(struct rp_ctx *c, struct rp_span kw, struct rp_span v)
{
	struct rp_span item;

	(void)kw;
	while (rp_span_next(&v, ',', &item)) {
		struct rp_span k = item, val = { item.p + item.n, 0, item.off + item.n };

		if (item.n == 0)
			continue;
		for (size_t i = 0; i < item.n; i++) {
			if (item.p[i] == ' ' || item.p[i] == '\t') {
				k.n = i;
				val = rp_span_trim((struct rp_span){ item.p + i, item.n - i, item.off + i });
				break;
			}
		}
		if (kv_add(c, &c->meta, &c->n_meta, &c->cap_meta, k, val))
			return -EINVAL;
	}
	return 0;
}

static int kw_reference(struct rp_ctx *c, struct rp_span kw, struct rp_span v)
{
	struct rp_span type;

	(void)kw;
	v = rp_span_trim(v);
	if (!memchr(v.p, ',', v.n))
		return rp_fail(c, v.off, RULE_SKIP_SYNTAX, NULL, "reference needs 'type,value'");
	rp_span_next(&v, ',', &type);
	v = rp_span_trim(v);
	if (type.n == 0 || v.n == 0)
		return rp_fail(c, type.off, RULE_SKIP_SYNTAX, NULL, "reference needs 'type,value'");
	return kv_add(c, &c->refs, &c->n_refs, &c->cap_refs, type, v);
}

static int kw_target(struct rp_ctx *c, struct rp_span kw, struct rp_span v)
{
	if (once(c, RP_SEEN_TARGET, kw))
		return -EINVAL;
	v = rp_span_trim(v);
	if (rp_span_eq(v, "src_ip"))
		c->r->target = RULE_TARGET_SRC;
	else if (rp_span_eq(v, "dest_ip"))
		c->r->target = RULE_TARGET_DST;
	else
		return rp_fail(c, v.off, RULE_SKIP_SYNTAX, NULL,
			       "target must be src_ip or dest_ip, not '%.*s'", (int)v.n, v.p);
	return 0;
}

static int kw_noalert(struct rp_ctx *c, struct rp_span kw, struct rp_span v)
{
	(void)kw;
	(void)v;
	c->r->noalert = true;
	return 0;
}

static int kw_sameip(struct rp_ctx *c, struct rp_span kw, struct rp_span v)
{
	(void)kw;
	(void)v;
	c->r->sameip = true;
	return 0;
}

static int kw_nop(struct rp_ctx *c, struct rp_span kw, struct rp_span v)
{
	(void)c;
	(void)kw;
	(void)v;
	return 0;
}

/* ----------------------------------------------------- flow conditions */

static int kw_flow(struct rp_ctx *c, struct rp_span kw, struct rp_span v)
{
	static const struct {
		const char *name;
		uint32_t bit, clash;
	} words[] = {
		{ "established", RULE_FLOW_ESTABLISHED, RULE_FLOW_NOT_ESTABLISHED | RULE_FLOW_STATELESS },
		{ "not_established", RULE_FLOW_NOT_ESTABLISHED, RULE_FLOW_ESTABLISHED | RULE_FLOW_STATELESS },
		{ "stateless", RULE_FLOW_STATELESS, RULE_FLOW_ESTABLISHED | RULE_FLOW_NOT_ESTABLISHED },
		{ "to_server", RULE_FLOW_TO_SERVER, RULE_FLOW_TO_CLIENT },
		{ "from_client", RULE_FLOW_TO_SERVER, RULE_FLOW_TO_CLIENT },
		{ "to_client", RULE_FLOW_TO_CLIENT, RULE_FLOW_TO_SERVER },
		{ "from_server", RULE_FLOW_TO_CLIENT, RULE_FLOW_TO_SERVER },
		{ "only_stream", RULE_FLOW_ONLY_STREAM, RULE_FLOW_NO_STREAM },
		{ "no_stream", RULE_FLOW_NO_STREAM, RULE_FLOW_ONLY_STREAM },
		{ "only_frag", RULE_FLOW_ONLY_FRAG, RULE_FLOW_NO_FRAG },
		{ "no_frag", RULE_FLOW_NO_FRAG, RULE_FLOW_ONLY_FRAG },
	};
	struct rp_span w;

	(void)kw;
	while (rp_span_next(&v, ',', &w)) {
		size_t k;

		for (k = 0; k < sizeof(words) / sizeof(words[0]); k++)
			if (rp_span_ieq(w, words[k].name))
				break;
		if (k == sizeof(words) / sizeof(words[0]))
			return rp_fail(c, w.off, RULE_SKIP_SYNTAX, NULL, "unknown flow option '%.*s'",
				       (int)w.n, w.p);
		if (c->r->flow & words[k].clash)
			return rp_fail(c, w.off, RULE_SKIP_INVALID, NULL,
				       "flow option '%.*s' contradicts an earlier one", (int)w.n, w.p);
		c->r->flow |= words[k].bit;
	}
	return 0;
}

/* "N", "!N", "<N", "<=N", ">N", ">=N", "N<>M", "N-M" */
static int cmp_parse(struct rp_ctx *c, struct rp_span v, uint32_t max, const char *what,
		     struct rule_cmp *out)
{
	struct rp_span t = rp_span_trim(v);
	enum rule_cmp_op op = RULE_CMP_EQ;
	int64_t a, b;
	size_t skip = 0;

	if (t.n >= 2 && (t.p[0] == '<' || t.p[0] == '>' || t.p[0] == '!') && t.p[1] == '=') {
		op = t.p[0] == '<' ? RULE_CMP_LE : t.p[0] == '>' ? RULE_CMP_GE : RULE_CMP_NE;
		skip = 2;
	} else if (t.n && (t.p[0] == '<' || t.p[0] == '>' || t.p[0] == '!' || t.p[0] == '=')) {
		op = t.p[0] == '<' ? RULE_CMP_LT : t.p[0] == '>' ? RULE_CMP_GT :
		     t.p[0] == '!' ? RULE_CMP_NE : RULE_CMP_EQ;
		skip = 1;
	}
	t.p += skip;
	t.n -= skip;
	t.off += skip;
	if (skip == 0) {
		for (size_t i = 0; i < t.n; i++) {
			size_t sep = 0;

			if (t.p[i] == '<' && i + 1 < t.n && t.p[i + 1] == '>')
				sep = 2;
			else if (t.p[i] == '-' && i > 0)
				sep = 1;
			if (sep) {
				struct rp_span l = { t.p, i, t.off };
				struct rp_span r = { t.p + i + sep, t.n - i - sep, t.off + i + sep };

				if (rp_int(c, l, 10, 0, max, what, &a) || rp_int(c, r, 10, 0, max, what, &b))
					return -EINVAL;
				if (a >= b)
					return rp_fail(c, t.off, RULE_SKIP_INVALID, NULL,
						       "%s range %lld<>%lld is empty", what, (long long)a,
						       (long long)b);
				out->op = RULE_CMP_RANGE;
				out->lo = (uint32_t)a;
				out->hi = (uint32_t)b;
				return 0;
			}
		}
	}
	if (rp_int(c, t, 10, 0, max, what, &a))
		return -EINVAL;
	out->op = op;
	out->lo = (uint32_t)a;
	out->hi = 0;
	return 0;
}

static int kw_cmp(struct rp_ctx *c, struct rp_span kw, struct rp_span v)
{
	char name[RP_MAXNAME];

	rp_kwname(kw, name);
	if (strcmp(name, "dsize") == 0)
		return once(c, RP_SEEN_DSIZE, kw) ? -EINVAL : cmp_parse(c, v, 65535, name, &c->r->dsize);
	if (strcmp(name, "ttl") == 0)
		return once(c, RP_SEEN_TTL, kw) ? -EINVAL : cmp_parse(c, v, 255, name, &c->r->ttl);
	if (strcmp(name, "itype") == 0)
		return once(c, RP_SEEN_ITYPE, kw) ? -EINVAL : cmp_parse(c, v, 255, name, &c->r->itype);
	return once(c, RP_SEEN_ICODE, kw) ? -EINVAL : cmp_parse(c, v, 255, name, &c->r->icode);
}

static int kw_ip_proto(struct rp_ctx *c, struct rp_span kw, struct rp_span v)
{
	static const struct {
		const char *name;
		uint8_t num;
	} names[] = {
		{ "ip", 0 }, { "hopopt", 0 }, { "icmp", 1 }, { "igmp", 2 }, { "ggp", 3 },
		{ "ipencap", 4 }, { "st", 5 }, { "tcp", 6 }, { "egp", 8 }, { "igp", 9 }, { "pup", 12 },
		{ "udp", 17 }, { "hmp", 20 }, { "xns-idp", 22 }, { "rdp", 27 }, { "iso-tp4", 29 },
		{ "dccp", 33 }, { "xtp", 36 }, { "ddp", 37 }, { "idpr-cmtp", 38 }, { "ipv6", 41 },
		{ "ipv6-route", 43 }, { "ipv6-frag", 44 }, { "idrp", 45 }, { "rsvp", 46 }, { "gre", 47 },
		{ "esp", 50 }, { "ah", 51 }, { "skip", 57 }, { "ipv6-icmp", 58 }, { "icmpv6", 58 },
		{ "ipv6-nonxt", 59 }, { "ipv6-opts", 60 }, { "rspf", 73 }, { "vmtp", 81 },
		{ "eigrp", 88 }, { "ospf", 89 }, { "ax.25", 93 }, { "ipip", 94 }, { "etherip", 97 },
		{ "encap", 98 }, { "pim", 103 }, { "ipcomp", 108 }, { "vrrp", 112 }, { "l2tp", 115 },
		{ "isis", 124 }, { "sctp", 132 }, { "fc", 133 }, { "mobility-header", 135 },
		{ "udplite", 136 }, { "mpls-in-ip", 137 }, { "manet", 138 }, { "hip", 139 },
		{ "shim6", 140 }, { "wesp", 141 }, { "rohc", 142 },
	};
	struct rp_span t = rp_span_trim(v);
	enum rule_cmp_op op = RULE_CMP_EQ;
	int64_t x;

	if (c->seen & RP_SEEN_IPPROTO)
		return rp_fail(c, kw.off, RULE_SKIP_UNSUPPORTED, "ip_proto",
			       "more than one ip_proto per rule is not supported");
	c->seen |= RP_SEEN_IPPROTO;
	if (t.n && (t.p[0] == '!' || t.p[0] == '<' || t.p[0] == '>')) {
		op = t.p[0] == '!' ? RULE_CMP_NE : t.p[0] == '<' ? RULE_CMP_LT : RULE_CMP_GT;
		t.p++;
		t.n--;
		t.off++;
		t = rp_span_trim(t);
	}
	if (t.n && t.p[0] >= '0' && t.p[0] <= '9') {
		if (rp_int(c, t, 10, 0, 255, "ip_proto", &x))
			return -EINVAL;
	} else {
		size_t k;

		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (rp_span_ieq(t, names[k].name))
				break;
		if (k == sizeof(names) / sizeof(names[0]))
			return rp_fail(c, t.off, RULE_SKIP_SYNTAX, NULL, "unknown ip_proto '%.*s'",
				       (int)t.n, t.p);
		x = names[k].num;
	}
	c->r->ip_proto.op = op;
	c->r->ip_proto.lo = (uint32_t)x;
	return 0;
}

static int flag_bit(char ch)
{
	switch (ch) {
	case 'F': return RULE_TCP_FIN;
	case 'S': return RULE_TCP_SYN;
	case 'R': return RULE_TCP_RST;
	case 'P': return RULE_TCP_PSH;
	case 'A': return RULE_TCP_ACK;
	case 'U': return RULE_TCP_URG;
	case 'E': case '2': return RULE_TCP_ECE;
	case 'C': case '1': return RULE_TCP_CWR;
	default: return -1;
	}
}

/* flags:[!+*]FSRPAUCE12|0[+*!][,mask] */
static int kw_flags(struct rp_ctx *c, struct rp_span kw, struct rp_span v)
{
	struct rule_tcp_flags *f = &c->r->flags;
	struct rp_span set;
	bool zero = false, any = false;

	if (once(c, RP_SEEN_FLAGS, kw))
		return -EINVAL;
	rp_span_next(&v, ',', &set);
	f->mod = RULE_FLAGS_EXACT;
	for (size_t i = 0; i < set.n; i++) {
		char ch = set.p[i];
		int b = flag_bit(ch);

		if (ch == '+' || ch == '*' || ch == '!') {
			if (f->mod != RULE_FLAGS_EXACT)
				return rp_fail(c, set.off + i, RULE_SKIP_SYNTAX, NULL,
					       "more than one flags modifier");
			f->mod = ch == '+' ? RULE_FLAGS_PLUS : ch == '*' ? RULE_FLAGS_ANY : RULE_FLAGS_NOT;
			continue;
		}
		if (ch == '0') {
			zero = true;
			continue;
		}
		if (b < 0)
			return rp_fail(c, set.off + i, RULE_SKIP_SYNTAX, NULL, "unknown TCP flag '%c'", ch);
		if (f->set & b)
			return rp_fail(c, set.off + i, RULE_SKIP_SYNTAX, NULL, "TCP flag '%c' given twice", ch);
		f->set |= (uint8_t)b;
		any = true;
	}
	if (!any && !zero)
		return rp_fail(c, set.off, RULE_SKIP_SYNTAX, NULL, "flags needs at least one flag");
	if (zero && any)
		return rp_fail(c, set.off, RULE_SKIP_SYNTAX, NULL, "flag '0' (no flags) with other flags");
	if (v.p) {
		struct rp_span m = rp_span_trim(v);

		if (m.n == 0)
			return rp_fail(c, m.off, RULE_SKIP_SYNTAX, NULL, "empty flags mask");
		for (size_t i = 0; i < m.n; i++) {
			int b = flag_bit(m.p[i]);

			if (b < 0)
				return rp_fail(c, m.off + i, RULE_SKIP_SYNTAX, NULL,
					       "unknown TCP flag '%c' in the mask", m.p[i]);
			f->ignore |= (uint8_t)b;
		}
	}
	return 0;
}

/* ---------------------------------------------------------- flowbits */

static bool fb_name_char(char ch)
{
	return ch != ' ' && ch != '\t' && ch != ',' && ch != '&' && ch != '|' && ch != ';' &&
	       ch != '"' && (unsigned char)ch > 0x20 && ch != 0x7f;
}

static int kw_flowbits(struct rp_ctx *c, struct rp_span kw, struct rp_span v)
{
	static const char *const cmds[] = { "set", "unset", "toggle", "isset", "isnotset" };
	struct rule_flowbit *fb;
	struct rp_span cmd, names;
	const char **arr;
	size_t k, n = 1;
	char sep = 0;

	(void)kw;
	rp_span_next(&v, ',', &cmd);
	if (rp_span_ieq(cmd, "noalert")) {
		if (v.p)
			return rp_fail(c, cmd.off, RULE_SKIP_SYNTAX, NULL, "flowbits:noalert takes no name");
		c->r->noalert = true;
		return 0;
	}
	for (k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
		if (rp_span_ieq(cmd, cmds[k]))
			break;
	if (k == sizeof(cmds) / sizeof(cmds[0]))
		return rp_fail(c, cmd.off, RULE_SKIP_SYNTAX, NULL, "unknown flowbits command '%.*s'",
			       (int)cmd.n, cmd.p);
	names = rp_span_trim(v);
	if (!v.p || names.n == 0)
		return rp_fail(c, cmd.off, RULE_SKIP_SYNTAX, NULL, "flowbits:%s needs a name", cmds[k]);
	for (size_t i = 0; i < names.n; i++) {
		char ch = names.p[i];

		if (ch == '&' || ch == '|') {
			if (sep && sep != ch)
				return rp_fail(c, names.off + i, RULE_SKIP_SYNTAX, NULL,
					       "flowbits names mix '&' and '|'");
			sep = ch;
			n++;
		} else if (!fb_name_char(ch)) {
			return rp_fail(c, names.off + i, RULE_SKIP_SYNTAX, NULL,
				       "bad character '%c' in flowbit name", ch);
		}
	}
	if (sep && k != RULE_FB_ISSET && k != RULE_FB_ISNOTSET)
		return rp_fail(c, names.off, RULE_SKIP_INVALID, NULL,
			       "flowbits:%s takes one name ('&'/'|' groups are for isset/isnotset)",
			       cmds[k]);
	arr = rule_arena_alloc(c->arena, n * sizeof(*arr));
	if (!arr)
		return rp_oom(c);
	n = 0;
	while (rp_span_next(&names, sep ? sep : ',', &cmd)) {
		if (cmd.n == 0)
			return rp_fail(c, cmd.off, RULE_SKIP_SYNTAX, NULL, "empty flowbit name");
		arr[n] = rule_arena_strndup(c->arena, cmd.p, cmd.n);
		if (!arr[n++])
			return rp_oom(c);
	}
	fb = rp_grow(c, c->fb, &c->cap_fb, c->n_fb, sizeof(*c->fb));
	if (!fb)
		return -ENOMEM;
	c->fb = fb;
	fb = &c->fb[c->n_fb++];
	fb->cmd = (enum rule_fb_cmd)k;
	fb->group = sep == '&' ? RULE_FB_AND : sep == '|' ? RULE_FB_OR : RULE_FB_ONE;
	fb->n = (uint32_t)n;
	fb->names = arr;
	return 0;
}

/* ----------------------------------------------- threshold, detection_filter */

static int kw_threshold(struct rp_ctx *c, struct rp_span kw, struct rp_span v)
{
	bool df = rp_span_ieq(kw, "detection_filter");
	struct rule_threshold *t = df ? &c->r->detection_filter : &c->r->threshold;
	bool have_type = df, have_track = false, have_count = false, have_secs = false;
	bool have_mult = false, have_unique = false;
	struct rp_span item;
	const char *kn = df ? "detection_filter" : "threshold";

	if (c->seen & RP_SEEN_THRESHOLD)
		return rp_fail(c, kw.off, RULE_SKIP_INVALID, NULL,
			       "only one threshold or detection_filter per rule");
	c->seen |= RP_SEEN_THRESHOLD;
	t->type = RULE_THR_THRESHOLD;
	while (rp_span_next(&v, ',', &item)) {
		struct rp_span key = item, val = { item.p + item.n, 0, item.off + item.n };
		int64_t x;

		for (size_t i = 0; i < item.n; i++) {
			if (item.p[i] == ' ' || item.p[i] == '\t') {
				key.n = i;
				val = rp_span_trim((struct rp_span){ item.p + i, item.n - i, item.off + i });
				break;
			}
		}
		if (!df && rp_span_ieq(key, "type")) {
			if (have_type)
				goto dup;
			have_type = true;
			if (rp_span_ieq(val, "limit"))
				t->type = RULE_THR_LIMIT;
			else if (rp_span_ieq(val, "threshold"))
				t->type = RULE_THR_THRESHOLD;
			else if (rp_span_ieq(val, "both"))
				t->type = RULE_THR_BOTH;
			else if (rp_span_ieq(val, "backoff"))
				t->type = RULE_THR_BACKOFF;
			else
				return rp_fail(c, val.off, RULE_SKIP_SYNTAX, NULL,
					       "threshold type must be limit, threshold, both or backoff, not '%.*s'",
					       (int)val.n, val.p);
		} else if (rp_span_ieq(key, "track")) {
			if (have_track)
				goto dup;
			have_track = true;
			if (rp_span_ieq(val, "by_src"))
				t->track = RULE_TRACK_BY_SRC;
			else if (rp_span_ieq(val, "by_dst"))
				t->track = RULE_TRACK_BY_DST;
			else if (rp_span_ieq(val, "by_rule"))
				t->track = RULE_TRACK_BY_RULE;
			else if (rp_span_ieq(val, "by_both"))
				t->track = RULE_TRACK_BY_BOTH;
			else if (rp_span_ieq(val, "by_flow"))
				t->track = RULE_TRACK_BY_FLOW;
			else
				return rp_fail(c, val.off, RULE_SKIP_SYNTAX, NULL,
					       "%s track must be by_src, by_dst, by_rule, by_both or by_flow, not '%.*s'",
					       kn, (int)val.n, val.p);
		} else if (rp_span_ieq(key, "count")) {
			if (have_count)
				goto dup;
			have_count = true;
			if (rp_int(c, val, 10, 1, UINT32_MAX, "count", &x))
				return -EINVAL;
			t->count = (uint32_t)x;
		} else if (rp_span_ieq(key, "seconds")) {
			if (have_secs)
				goto dup;
			have_secs = true;
			if (rp_int(c, val, 10, 1, UINT32_MAX, "seconds", &x))
				return -EINVAL;
			t->seconds = (uint32_t)x;
		} else if (!df && rp_span_ieq(key, "multiplier")) {
			if (have_mult)
				goto dup;
			have_mult = true;
			if (rp_int(c, val, 10, 2, UINT32_MAX, "multiplier", &x))
				return -EINVAL;
			t->multiplier = (uint32_t)x;
		} else if (rp_span_ieq(key, "unique_on")) {
			if (have_unique)
				goto dup;
			have_unique = true;
			if (rp_span_ieq(val, "src_port"))
				t->unique_on = RULE_UNIQUE_SRC_PORT;
			else if (rp_span_ieq(val, "dst_port"))
				t->unique_on = RULE_UNIQUE_DST_PORT;
			else
				return rp_fail(c, val.off, RULE_SKIP_SYNTAX, NULL,
					       "%s unique_on must be src_port or dst_port, not '%.*s'", kn,
					       (int)val.n, val.p);
		} else {
			return rp_fail(c, item.off, RULE_SKIP_SYNTAX, NULL, "unknown %s option '%.*s'", kn,
				       (int)key.n, key.p);
		}
		continue;
dup:
		return rp_fail(c, item.off, RULE_SKIP_INVALID, NULL, "%s: '%.*s' given twice", kn,
			       (int)key.n, key.p);
	}
	if (t->type == RULE_THR_BACKOFF) {
		if (!have_track || !have_count || !have_mult || have_secs)
			return rp_fail(c, kw.off, RULE_SKIP_SYNTAX, NULL,
				       "threshold type backoff needs track, count and multiplier (no seconds)");
	} else if (!have_type || !have_track || !have_count || !have_secs || have_mult) {
		return rp_fail(c, kw.off, RULE_SKIP_SYNTAX, NULL, "%s needs %s", kn,
			       df ? "track, count and seconds" : "type, track, count and seconds (multiplier only with backoff)");
	}
	if (have_unique && (!df || (t->track != RULE_TRACK_BY_SRC && t->track != RULE_TRACK_BY_DST)))
		return rp_fail(c, kw.off, RULE_SKIP_INVALID, NULL,
			       "unique_on needs detection_filter with track by_src or by_dst");
	t->set = true;
	return 0;
}

/* ------------------------------------------------- the keyword table */

enum kw_value { V_NONE, V_REQ, V_OPT };

struct kw_def {
	const char *name;
	enum kw_value value;
	int (*fn)(struct rp_ctx *c, struct rp_span kw, struct rp_span v);
};

/* sorted by name (bsearch) */
static const struct kw_def keywords[] = {
	{ "byte_jump", V_REQ, rp_kw_byte_jump },
	{ "byte_test", V_REQ, rp_kw_byte_test },
	{ "classtype", V_REQ, kw_classtype },
	{ "content", V_REQ, rp_kw_content },
	{ "depth", V_REQ, rp_kw_position },
	{ "detection_filter", V_REQ, kw_threshold },
	{ "distance", V_REQ, rp_kw_position },
	{ "dsize", V_REQ, kw_cmp },
	{ "fast_pattern", V_OPT, rp_kw_fast_pattern },
	{ "flags", V_REQ, kw_flags },
	{ "flow", V_REQ, kw_flow },
	{ "flowbits", V_REQ, kw_flowbits },
	{ "gid", V_REQ, kw_gid },
	{ "icode", V_REQ, kw_cmp },
	{ "ip_proto", V_REQ, kw_ip_proto },
	{ "isdataat", V_REQ, rp_kw_isdataat },
	{ "itype", V_REQ, kw_cmp },
	{ "metadata", V_REQ, kw_metadata },
	{ "msg", V_REQ, kw_msg },
	{ "noalert", V_NONE, kw_noalert },
	{ "nocase", V_NONE, rp_kw_nocase },
	{ "offset", V_REQ, rp_kw_position },
	{ "pcre", V_REQ, rp_kw_pcre },
	{ "pkt_data", V_NONE, kw_nop },
	{ "prefilter", V_NONE, kw_nop },
	{ "priority", V_REQ, kw_priority },
	{ "rawbytes", V_NONE, rp_kw_nocase },
	{ "reference", V_REQ, kw_reference },
	{ "rev", V_REQ, kw_rev },
	{ "sameip", V_NONE, kw_sameip },
	{ "sid", V_REQ, kw_sid },
	{ "target", V_REQ, kw_target },
	{ "threshold", V_REQ, kw_threshold },
	{ "ttl", V_REQ, kw_cmp },
	{ "within", V_REQ, rp_kw_position },
};

/* Keywords that inspect an application-layer buffer or state (prefixes). */
static const char *const app_layer[] = {
	"app-layer-", "base64_data", "bittorrent", "cip_", "dce_", "dcerpc", "dhcp", "dnp3", "dns",
	"enip", "file", "ftp", "hassh", "http", "ike", "imap", "ja3", "ja4", "krb5", "ldap",
	"modbus", "mqtt", "nfs", "pgsql", "pop3", "quic", "rdp", "rfb", "sip", "smb", "smtp",
	"snmp", "ssh", "ssl_", "tftp", "tls", "uricontent", "urilen", "websocket",
};

/* Known Suricata/Snort packet keywords vigil does not implement yet. */
static const char *const unsupported[] = {
	"absent", "ack", "activated_by", "activates", "asn1", "base64_decode", "bsize", "bypass",
	"byte_extract", "byte_math", "compress_whitespace", "config", "count", "datarep", "dataset",
	"decode-event", "dotprefix", "endswith", "engine-event", "entropy", "flow.age", "flow.bytes",
	"flow.pkts", "flowint", "flowvar", "fragbits", "fragoffset", "from_base64", "geoip",
	"header_lowercase", "hostbits", "icmp_id", "icmp_seq", "icmpv4.hdr", "icmpv6.hdr",
	"icmpv6.mtu", "id", "ipopts", "iprep", "ipv4-csum", "ipv4.hdr", "ipv6.hdr", "l3_proto",
	"logto", "lua", "luajit", "luaxform", "pcrexform", "pktvar", "react", "replace",
	"requires", "resp", "rpc", "sd_pattern", "seq", "session", "startswith", "stream-event",
	"stream_reassemble", "stream_size", "strip_pseudo_headers", "strip_whitespace", "tag",
	"tcp.flags", "tcp.hdr", "tcp.mss", "tcpv4-csum", "tcpv6-csum", "to_lowercase", "to_md5",
	"to_sha1", "to_sha256", "to_uppercase", "tos", "udp.hdr", "udpv4-csum", "udpv6-csum",
	"url_decode", "window", "xbits", "xor",
};

static int kw_cmp_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct kw_def *)elem)->name);
}

static int str_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

static bool is_app_layer(const char *name)
{
	for (size_t i = 0; i < sizeof(app_layer) / sizeof(app_layer[0]); i++)
		if (strncmp(name, app_layer[i], strlen(app_layer[i])) == 0)
			return true;
	return false;
}

int rp_option(struct rp_ctx *c, struct rp_span kw, bool has_value, struct rp_span value)
{
	const struct kw_def *d;
	char name[RP_MAXNAME];

	if (kw.n >= RP_MAXNAME)
		return rp_fail(c, kw.off, RULE_SKIP_UNKNOWN_KEYWORD, NULL, "unknown keyword '%.*s'",
			       (int)kw.n, kw.p);
	rp_kwname(kw, name);
	d = bsearch(name, keywords, sizeof(keywords) / sizeof(keywords[0]), sizeof(keywords[0]),
		    kw_cmp_name);
	if (!d) {
		if (is_app_layer(name))
			return rp_fail(c, kw.off, RULE_SKIP_APP_LAYER, name,
				       "app-layer keyword '%s' is not supported", name);
		if (bsearch(name, unsupported, sizeof(unsupported) / sizeof(unsupported[0]),
			    sizeof(unsupported[0]), str_cmp))
			return rp_fail(c, kw.off, RULE_SKIP_UNSUPPORTED, name,
				       "keyword '%s' is not supported", name);
		return rp_fail(c, kw.off, RULE_SKIP_UNKNOWN_KEYWORD, name, "unknown keyword '%s'", name);
	}
	if (d->value == V_NONE && has_value)
		return rp_fail(c, value.off, RULE_SKIP_SYNTAX, NULL, "'%s' takes no value", name);
	if (d->value == V_REQ && (!has_value || rp_span_trim(value).n == 0))
		return rp_fail(c, has_value ? value.off : kw.off + kw.n, RULE_SKIP_SYNTAX, NULL,
			       "'%s' needs a value", name);
	if (!has_value)
		value = (struct rp_span){ NULL, 0, kw.off + kw.n };
	if (d->fn(c, kw, value))
		return c->oom ? -ENOMEM : -EINVAL;
	if (d->fn == rp_kw_content || d->fn == rp_kw_pcre)
		c->has_pcre_or_content = true;
	return 0;
}

/* ------------------------------------------------------- end of a rule */

int rp_finish(struct rp_ctx *c)
{
	struct rule *r = c->r;
	int32_t best = -1;

	if (!(c->seen & RP_SEEN_SID))
		return rp_fail(c, c->start_off, RULE_SKIP_MISSING_SID, NULL, "rule has no sid");
	if (!(c->seen & RP_SEEN_GID))
		r->gid = 1;
	if (!r->msg)
		r->msg = "";
	if (!c->prio_explicit && !r->class_desc)
		r->priority = 3;
	/* fast pattern: explicit, else the longest positive content (first on
	 * ties), else none: the rule goes to the non-MPM list */
	if (c->fp_explicit >= 0) {
		best = c->fp_explicit;
	} else {
		for (size_t i = 0; i < c->n_pm; i++) {
			const struct rule_content *ct = &c->pm[i].content;

			if (c->pm[i].type != RULE_PM_CONTENT || (ct->flags & RULE_CONTENT_NEGATED))
				continue;
			if (best < 0 || ct->len > c->pm[best].content.len)
				best = (int32_t)i;
		}
	}
	r->fast_pattern = best;
	r->mpm = best >= 0;
	r->n_pm = (uint32_t)c->n_pm;
	r->pm = rule_arena_dup(c->arena, c->pm, c->n_pm * sizeof(*c->pm));
	r->n_flowbits = (uint32_t)c->n_fb;
	r->flowbits = rule_arena_dup(c->arena, c->fb, c->n_fb * sizeof(*c->fb));
	r->n_metadata = (uint32_t)c->n_meta;
	r->metadata = rule_arena_dup(c->arena, c->meta, c->n_meta * sizeof(*c->meta));
	r->n_refs = (uint32_t)c->n_refs;
	r->refs = rule_arena_dup(c->arena, c->refs, c->n_refs * sizeof(*c->refs));
	if (!r->pm || !r->flowbits || !r->metadata || !r->refs)
		return rp_oom(c);
	return 0;
}

void rp_ctx_free(struct rp_ctx *c)
{
	free(c->pm);
	free(c->fb);
	free(c->meta);
	free(c->refs);
	c->pm = NULL;
	c->fb = NULL;
	c->meta = NULL;
	c->refs = NULL;
	c->n_pm = c->n_fb = c->n_meta = c->n_refs = 0;
	c->cap_pm = c->cap_fb = c->cap_meta = c->cap_refs = 0;
}
