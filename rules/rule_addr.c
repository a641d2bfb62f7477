/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Address and port expressions: variables, parsing to normalised range
 * sets, interning per ruleset, and matching.
 *
 * Semantics (Suricata's): a list is the union of its positive elements
 * (every address when it has none) minus the union of its negated ones;
 * "!x" outside a list is everything but x; a variable is its value parsed
 * as an expression.  Ranges are computed exactly (128-bit arithmetic), so
 * "[10.0.0.0/8,![10.1.0.0/16,!10.1.2.0/24]]" means what it says.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rule_priv.h"

/* ---------------------------------------------------------- variables */

struct rule_var {
	char *name;
	char *value;
};

struct rule_vars {
	struct rule_var *v;
	size_t n, cap;
};

int rule_vars_create(struct rule_vars **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

static bool var_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '_';
}

static struct rule_var *var_find(const struct rule_vars *v, const char *name, size_t n)
{
	if (!v)
		return NULL;
	for (size_t i = 0; i < v->n; i++)
		if (strlen(v->v[i].name) == n && memcmp(v->v[i].name, name, n) == 0)
			return &v->v[i];
	return NULL;
}

int rule_vars_set(struct rule_vars *v, const char *name, const char *value)
{
	struct rule_var *e;
	char *val;
	size_t n;

	if (!v || !name || !value)
		return -EINVAL;
	if (name[0] == '$')
		name++;
	n = strlen(name);
	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!var_char(name[i]))
			return -EINVAL;
	val = strdup(value);
	if (!val)
		return -ENOMEM;
	e = var_find(v, name, n);
	if (e) {
		free(e->value);
		e->value = val;
		return 0;
	}
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		struct rule_var *nv = realloc(v->v, cap * sizeof(*nv));

		if (!nv) {
			free(val);
			return -ENOMEM;
		}
		v->v = nv;
		v->cap = cap;
	}
	e = &v->v[v->n];
	e->name = strdup(name);
	if (!e->name) {
		free(val);
		return -ENOMEM;
	}
	e->value = val;
	v->n++;
	return 0;
}

const char *rule_vars_get(const struct rule_vars *v, const char *name)
{
	struct rule_var *e;

	if (!name)
		return NULL;
	if (name[0] == '$')
		name++;
	e = var_find(v, name, strlen(name));
	return e ? e->value : NULL;
}

int rule_vars_set_defaults(struct rule_vars *v)
{
	static const char *const defs[][2] = {
		{ "HOME_NET", "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]" },
		{ "EXTERNAL_NET", "!$HOME_NET" },
		{ "HTTP_SERVERS", "$HOME_NET" },
		{ "SMTP_SERVERS", "$HOME_NET" },
		{ "SQL_SERVERS", "$HOME_NET" },
		{ "DNS_SERVERS", "$HOME_NET" },
		{ "TELNET_SERVERS", "$HOME_NET" },
		{ "AIM_SERVERS", "$EXTERNAL_NET" },
		{ "DC_SERVERS", "$HOME_NET" },
		{ "DNP3_SERVER", "$HOME_NET" },
		{ "DNP3_CLIENT", "$HOME_NET" },
		{ "MODBUS_CLIENT", "$HOME_NET" },
		{ "MODBUS_SERVER", "$HOME_NET" },
		{ "ENIP_CLIENT", "$HOME_NET" },
		{ "ENIP_SERVER", "$HOME_NET" },
		{ "HTTP_PORTS", "80" },
		{ "SHELLCODE_PORTS", "!80" },
		{ "ORACLE_PORTS", "1521" },
		{ "SSH_PORTS", "22" },
		{ "DNP3_PORTS", "20000" },
		{ "MODBUS_PORTS", "502" },
		{ "FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]" },
		{ "FTP_PORTS", "21" },
		{ "GENEVE_PORTS", "6081" },
		{ "VXLAN_PORTS", "4789" },
		{ "TEREDO_PORTS", "3544" },
	};

	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
		int rc = rule_vars_set(v, defs[i][0], defs[i][1]);

		if (rc)
			return rc;
	}
	return 0;
}

void rule_vars_destroy(struct rule_vars *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		free(v->v[i].name);
		free(v->v[i].value);
	}
	free(v->v);
	free(v);
}

/* ---------------------------------------------------------- range sets */

struct u128 {
	uint64_t hi, lo;
};

static int u128_cmp(struct u128 a, struct u128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

static struct u128 u128_inc(struct u128 a)
{
	a.lo++;
	if (a.lo == 0)
		a.hi++;
	return a;
}

static struct u128 u128_dec(struct u128 a)
{
	if (a.lo == 0)
		a.hi--;
	a.lo--;
	return a;
}

struct rr {
	struct u128 lo, hi;
};

/* one family's ranges; normalised = sorted, disjoint, non-adjacent */
struct rs {
	struct rr *r;
	size_t n, cap;
};

static bool rs_add(struct rs *s, struct u128 lo, struct u128 hi)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4;
		struct rr *nr = realloc(s->r, cap * sizeof(*nr));

		if (!nr)
			return false;
		s->r = nr;
		s->cap = cap;
	}
	s->r[s->n].lo = lo;
	s->r[s->n].hi = hi;
	s->n++;
	return true;
}

static int rr_cmp(const void *a, const void *b)
{
	return u128_cmp(((const struct rr *)a)->lo, ((const struct rr *)b)->lo);
}

static void rs_normalise(struct rs *s)
{
	size_t w = 0;

	if (s->n < 2)
		return;
	qsort(s->r, s->n, sizeof(s->r[0]), rr_cmp);
	for (size_t i = 1; i < s->n; i++) {
		struct rr *cur = &s->r[w];

		/* merge when overlapping or adjacent (cur.hi + 1 >= next.lo) */
		if (u128_cmp(s->r[i].lo, cur->hi) <= 0 ||
		    (u128_cmp(cur->hi, (struct u128){ UINT64_MAX, UINT64_MAX }) != 0 &&
		     u128_cmp(s->r[i].lo, u128_inc(cur->hi)) == 0)) {
			if (u128_cmp(s->r[i].hi, cur->hi) > 0)
				cur->hi = s->r[i].hi;
		} else {
			s->r[++w] = s->r[i];
		}
	}
	s->n = w + 1;
}

/* A = A \ B, both normalised; the result stays normalised. */
static bool rs_subtract(struct rs *a, const struct rs *b)
{
	struct rs out = { 0 };
	size_t j = 0;

	for (size_t i = 0; i < a->n; i++) {
		struct u128 lo = a->r[i].lo, hi = a->r[i].hi;
		bool alive = true;

		while (j < b->n && u128_cmp(b->r[j].hi, lo) < 0)
			j++;
		for (size_t k = j; k < b->n && u128_cmp(b->r[k].lo, hi) <= 0; k++) {
			if (u128_cmp(b->r[k].lo, lo) > 0 && !rs_add(&out, lo, u128_dec(b->r[k].lo)))
				goto oom;
			if (u128_cmp(b->r[k].hi, hi) >= 0) {
				alive = false;
				break;
			}
			lo = u128_inc(b->r[k].hi);
		}
		if (alive && !rs_add(&out, lo, hi))
			goto oom;
	}
	free(a->r);
	*a = out;
	return true;
oom:
	free(out.r);
	return false;
}

/* Appends B's ranges to A; A must be normalised before it is used. */
static bool rs_append(struct rs *a, const struct rs *b)
{
	for (size_t i = 0; i < b->n; i++)
		if (!rs_add(a, b->r[i].lo, b->r[i].hi))
			return false;
	return true;
}

/* ------------------------------------------------- expression parsing */

enum xkind { X_ADDR, X_PORT };

#define XFAM 2          /* address: [0] IPv4, [1] IPv6; port: [0] */
#define XMAX_VARS 16    /* variable nesting */
#define XMAX_NEST 64    /* bracket nesting */

struct xval {
	struct rs fam[XFAM];
};

static void xval_free(struct xval *v)
{
	for (int f = 0; f < XFAM; f++) {
		free(v->fam[f].r);
		v->fam[f] = (struct rs){ 0 };
	}
}

static struct u128 fam_max(enum xkind k, int f)
{
	if (k == X_PORT)
		return (struct u128){ 0, 65535 };
	return f == 0 ? (struct u128){ 0, UINT32_MAX } : (struct u128){ UINT64_MAX, UINT64_MAX };
}

static int nfam(enum xkind k)
{
	return k == X_ADDR ? 2 : 1;
}

#define XMAX_EXPANSIONS 4096   /* variable references per expression */

struct xstack {
	const char *name[XMAX_VARS];
	size_t len[XMAX_VARS];
	int n;
	unsigned expansions;   /* bounds "[$A,$A,...]" fan-out (billion laughs) */
};

struct xparser {
	enum xkind kind;
	const struct rule_vars *vars;
	const char *s;
	size_t n, i;
	size_t base;            /* offset of s[0] where errors are reported */
	struct xstack *stack;
	int nest;
	/* first error */
	bool failed, oom;
	enum rule_skip_reason why;
	size_t err_off;
	char msg[300];
};

static int xfail(struct xparser *p, size_t at, enum rule_skip_reason why, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int xfail(struct xparser *p, size_t at, enum rule_skip_reason why, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return -EINVAL;
	p->failed = true;
	p->why = why;
	p->err_off = p->base + at;
	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int xoom(struct xparser *p)
{
	p->failed = p->oom = true;
	return -ENOMEM;
}

static void skip_ws(struct xparser *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t'))
		p->i++;
}

static bool atom_end(char ch)
{
	return ch == ',' || ch == ']' || ch == '[' || ch == ' ' || ch == '\t';
}

static bool set_full(struct xparser *p, struct xval *v)
{
	for (int f = 0; f < nfam(p->kind); f++)
		if (!rs_add(&v->fam[f], (struct u128){ 0, 0 }, fam_max(p->kind, f)))
			return false;
	return true;
}

static int parse_elem(struct xparser *p, struct xval *out, bool *negated);
static int parse_top(struct xparser *p, struct xval *out);

/* IPv4 "a.b.c.d", "/len", "/mask", "a-b"; IPv6 "x::y", "/len", "a-b" */
static int ip_parse(const char *txt, int *fam, struct u128 *v)
{
	unsigned char b[16];

	if (inet_pton(AF_INET, txt, b) == 1) {
		*fam = 0;
		v->hi = 0;
		v->lo = (uint64_t)b[0] << 24 | (uint64_t)b[1] << 16 | (uint64_t)b[2] << 8 | b[3];
		return 0;
	}
	if (inet_pton(AF_INET6, txt, b) == 1) {
		*fam = 1;
		v->hi = v->lo = 0;
		for (int k = 0; k < 8; k++) {
			v->hi = v->hi << 8 | b[k];
			v->lo = v->lo << 8 | b[k + 8];
		}
		return 0;
	}
	return -1;
}

/* the mask of the top LEN bits of a family of BITS bits */
static struct u128 prefix_mask(int bits, unsigned len)
{
	struct u128 m = { 0, 0 };

	if (bits == 32)
		return (struct u128){ 0, len == 0 ? 0 : (uint64_t)(UINT32_MAX << (32 - len)) & UINT32_MAX };
	if (len == 0)
		return m;
	if (len <= 64) {
		m.hi = len == 64 ? UINT64_MAX : ~(UINT64_MAX >> len);
		return m;
	}
	m.hi = UINT64_MAX;
	m.lo = len == 128 ? UINT64_MAX : ~(UINT64_MAX >> (len - 64));
	return m;
}

static int parse_addr_atom(struct xparser *p, size_t start, size_t end, struct xval *out)
{
	char buf[96], *slash, *dash;
	int fam, fam2, bits;
	struct u128 lo, hi;
	size_t len = end - start;

	if (len >= sizeof(buf))
		return xfail(p, start, RULE_SKIP_SYNTAX, "bad address '%.*s'", (int)len, p->s + start);
	memcpy(buf, p->s + start, len);
	buf[len] = '\0';
	if (strcasecmp(buf, "any") == 0)
		return set_full(p, out) ? 0 : xoom(p);
	slash = strchr(buf, '/');
	dash = strchr(buf, '-');
	if (slash)
		*slash = '\0';
	else if (dash)
		*dash = '\0';
	if (ip_parse(buf, &fam, &lo) != 0)
		return xfail(p, start, RULE_SKIP_SYNTAX, "bad address '%.*s'", (int)len, p->s + start);
	bits = fam == 0 ? 32 : 128;
	hi = lo;
	if (slash) {
		const char *m = slash + 1;
		unsigned plen = 0;
		struct u128 mask, mv;

		if (*m == '\0')
			return xfail(p, start, RULE_SKIP_SYNTAX, "missing prefix length in '%.*s'",
				     (int)len, p->s + start);
		if (fam == 0 && strchr(m, '.')) {
			/* a dotted netmask: contiguous ones */
			if (ip_parse(m, &fam2, &mv) != 0 || fam2 != 0)
				return xfail(p, start, RULE_SKIP_SYNTAX, "bad netmask in '%.*s'",
					     (int)len, p->s + start);
			while (plen < 32 && (mv.lo >> (31 - plen) & 1))
				plen++;
			if (u128_cmp(prefix_mask(32, plen), mv) != 0)
				return xfail(p, start, RULE_SKIP_SYNTAX, "non-contiguous netmask in '%.*s'",
					     (int)len, p->s + start);
		} else {
			for (const char *q = m; *q; q++) {
				if (*q < '0' || *q > '9' || plen > 1000)
					return xfail(p, start, RULE_SKIP_SYNTAX,
						     "bad prefix length in '%.*s'", (int)len, p->s + start);
				plen = plen * 10 + (unsigned)(*q - '0');
			}
			if (plen > (unsigned)bits)
				return xfail(p, start, RULE_SKIP_SYNTAX,
					     "prefix length %u too long for '%.*s'", plen, (int)len,
					     p->s + start);
		}
		mask = prefix_mask(bits, plen);
		lo.hi &= mask.hi;
		lo.lo &= mask.lo;
		hi.hi = lo.hi | (~mask.hi & fam_max(X_ADDR, fam).hi);
		hi.lo = lo.lo | (~mask.lo & fam_max(X_ADDR, fam).lo);
	} else if (dash) {
		if (ip_parse(dash + 1, &fam2, &hi) != 0 || fam2 != fam)
			return xfail(p, start, RULE_SKIP_SYNTAX, "bad address range '%.*s'", (int)len,
				     p->s + start);
		if (u128_cmp(lo, hi) > 0)
			return xfail(p, start, RULE_SKIP_SYNTAX, "empty address range '%.*s'", (int)len,
				     p->s + start);
	}
	return rs_add(&out->fam[fam], lo, hi) ? 0 : xoom(p);
}

static int port_num(struct xparser *p, size_t start, size_t a, size_t b, uint64_t *v)
{
	*v = 0;
	if (a == b)
		return -1;
	for (size_t k = a; k < b; k++) {
		char ch = p->s[k];

		if (ch < '0' || ch > '9')
			return -1;
		*v = *v * 10 + (uint64_t)(ch - '0');
		if (*v > 65535)
			return xfail(p, start, RULE_SKIP_SYNTAX, "port out of range in '%.*s'",
				     (int)(b - start), p->s + start);
	}
	return 0;
}

static int parse_port_atom(struct xparser *p, size_t start, size_t end, struct xval *out)
{
	const char *colon = memchr(p->s + start, ':', end - start);
	uint64_t lo = 0, hi = 65535;
	int rc;

	if (end - start == 3 && strncasecmp(p->s + start, "any", 3) == 0)
		return set_full(p, out) ? 0 : xoom(p);
	if (!colon) {
		rc = port_num(p, start, start, end, &lo);
		hi = lo;
	} else {
		size_t c = (size_t)(colon - p->s);

		if (c == start && c + 1 == end)
			rc = -1;
		else {
			rc = c == start ? 0 : port_num(p, start, start, c, &lo);
			if (rc == 0 && c + 1 < end)
				rc = port_num(p, start, c + 1, end, &hi);
		}
	}
	if (p->failed)
		return -EINVAL;
	if (rc)
		return xfail(p, start, RULE_SKIP_SYNTAX, "bad port '%.*s'", (int)(end - start),
			     p->s + start);
	if (lo > hi)
		return xfail(p, start, RULE_SKIP_SYNTAX, "empty port range '%.*s'", (int)(end - start),
			     p->s + start);
	return rs_add(&out->fam[0], (struct u128){ 0, lo }, (struct u128){ 0, hi }) ? 0 : xoom(p);
}

static int parse_var(struct xparser *p, struct xval *out)
{
	size_t start = p->i, a = ++p->i;
	const struct rule_var *var;
	struct xparser sub;
	int rc;

	while (p->i < p->n && var_char(p->s[p->i]))
		p->i++;
	if (p->i == a)
		return xfail(p, start, RULE_SKIP_SYNTAX, "missing variable name after '$'");
	var = var_find(p->vars, p->s + a, p->i - a);
	if (!var)
		return xfail(p, start, RULE_SKIP_BAD_VARIABLE, "undefined variable $%.*s",
			     (int)(p->i - a), p->s + a);
	for (int k = 0; k < p->stack->n; k++) {
		if (p->stack->len[k] == p->i - a && memcmp(p->stack->name[k], p->s + a, p->i - a) == 0) {
			char chain[256];
			size_t w = 0;

			for (int j = k; j < p->stack->n && w < sizeof(chain); j++)
				w += (size_t)snprintf(chain + w, sizeof(chain) - w, "$%.*s -> ",
						      (int)p->stack->len[j], p->stack->name[j]);
			return xfail(p, start, RULE_SKIP_BAD_VARIABLE, "variable cycle: %s$%.*s",
				     w < sizeof(chain) ? chain : "", (int)(p->i - a), p->s + a);
		}
	}
	if (++p->stack->expansions > XMAX_EXPANSIONS)
		return xfail(p, start, RULE_SKIP_BAD_VARIABLE,
			     "more than %d variable references in one expression", XMAX_EXPANSIONS);
	if (p->stack->n == XMAX_VARS)
		return xfail(p, start, RULE_SKIP_BAD_VARIABLE, "variables nested too deep at $%.*s",
			     (int)(p->i - a), p->s + a);
	p->stack->name[p->stack->n] = p->s + a;
	p->stack->len[p->stack->n] = p->i - a;
	p->stack->n++;
	sub = (struct xparser){ .kind = p->kind, .vars = p->vars, .s = var->value,
				.n = strlen(var->value), .stack = p->stack };
	rc = parse_top(&sub, out);
	p->stack->n--;
	if (rc == 0)
		return 0;
	if (sub.oom)
		return xoom(p);
	return xfail(p, start, RULE_SKIP_BAD_VARIABLE, "variable $%.*s: %s", (int)(p->i - a),
		     p->s + a, sub.msg);
}

static int parse_list(struct xparser *p, struct xval *out)
{
	size_t open = p->i;
	struct xval pos = { 0 }, neg = { 0 };
	bool any_pos = false;
	int rc = 0;

	if (++p->nest > XMAX_NEST)
		return xfail(p, open, RULE_SKIP_SYNTAX, "lists nested too deep");
	p->i++;
	skip_ws(p);
	if (p->i < p->n && p->s[p->i] == ']') {
		rc = xfail(p, open, RULE_SKIP_SYNTAX, "empty list");
		goto out;
	}
	for (;;) {
		struct xval e = { 0 };
		bool negated = false;

		rc = parse_elem(p, &e, &negated);
		if (rc == 0) {
			for (int f = 0; f < nfam(p->kind) && rc == 0; f++)
				if (!rs_append(negated ? &neg.fam[f] : &pos.fam[f], &e.fam[f]))
					rc = xoom(p);
			if (!negated)
				any_pos = true;
		}
		xval_free(&e);
		if (rc)
			goto out;
		skip_ws(p);
		if (p->i >= p->n) {
			rc = xfail(p, open, RULE_SKIP_SYNTAX, "unterminated '['");
			goto out;
		}
		if (p->s[p->i] == ']') {
			p->i++;
			break;
		}
		if (p->s[p->i] != ',') {
			rc = xfail(p, p->i, RULE_SKIP_SYNTAX, "expected ',' or ']' at '%c'", p->s[p->i]);
			goto out;
		}
		p->i++;
	}
	if (!any_pos && !set_full(p, &pos)) {
		rc = xoom(p);
		goto out;
	}
	for (int f = 0; f < nfam(p->kind); f++) {
		rs_normalise(&pos.fam[f]);   /* once per list: lists may be long */
		rs_normalise(&neg.fam[f]);
		if (!rs_subtract(&pos.fam[f], &neg.fam[f])) {
			rc = xoom(p);
			goto out;
		}
	}
	*out = pos;
	pos = (struct xval){ 0 };
out:
	p->nest--;
	xval_free(&pos);
	xval_free(&neg);
	return rc;
}

/* One element: '!'* followed by a list, a variable or an atom.  The value
 * is returned without the negation applied; *NEGATED says if it was. */
static int parse_elem(struct xparser *p, struct xval *out, bool *negated)
{
	size_t start;

	skip_ws(p);
	*negated = false;
	while (p->i < p->n && p->s[p->i] == '!') {
		*negated = !*negated;
		p->i++;
		skip_ws(p);
	}
	if (p->i >= p->n || p->s[p->i] == ',' || p->s[p->i] == ']')
		return xfail(p, p->i, RULE_SKIP_SYNTAX, p->kind == X_ADDR ? "missing address" : "missing port");
	if (p->s[p->i] == '[')
		return parse_list(p, out);
	if (p->s[p->i] == '$')
		return parse_var(p, out);
	start = p->i;
	while (p->i < p->n && !atom_end(p->s[p->i]))
		p->i++;
	if (p->i == start)
		return xfail(p, start, RULE_SKIP_SYNTAX, "unexpected '%c'", p->s[start]);
	if (p->kind == X_ADDR)
		return parse_addr_atom(p, start, p->i, out);
	return parse_port_atom(p, start, p->i, out);
}

static int parse_top(struct xparser *p, struct xval *out)
{
	struct xval v = { 0 }, full = { 0 };
	bool negated;
	int rc;

	rc = parse_elem(p, &v, &negated);
	if (rc)
		goto fail;
	skip_ws(p);
	if (p->i < p->n) {
		rc = xfail(p, p->i, RULE_SKIP_SYNTAX, "unexpected '%c'", p->s[p->i]);
		goto fail;
	}
	if (negated) {
		if (!set_full(p, &full)) {
			rc = xoom(p);
			goto fail;
		}
		for (int f = 0; f < nfam(p->kind); f++) {
			if (!rs_subtract(&full.fam[f], &v.fam[f])) {
				rc = xoom(p);
				goto fail;
			}
		}
		xval_free(&v);
		v = full;
		full = (struct xval){ 0 };
	}
	*out = v;
	return 0;
fail:
	xval_free(&v);
	xval_free(&full);
	return rc;
}

/* ------------------------------------------------- building the sets */

static bool fam_is_full(const struct rs *s, struct u128 max)
{
	return s->n == 1 && s->r[0].lo.hi == 0 && s->r[0].lo.lo == 0 && u128_cmp(s->r[0].hi, max) == 0;
}

static struct rule_addrset *addrset_build(const struct xval *v, const char *text, size_t tlen)
{
	size_t n4 = v->fam[0].n, n6 = v->fam[1].n;
	size_t sz = sizeof(struct rule_addrset) + n6 * sizeof(struct rule_ip6_range) +
		    n4 * sizeof(struct rule_ip4_range) + tlen + 1;
	struct rule_addrset *s = calloc(1, sz);
	struct rule_ip6_range *v6;
	struct rule_ip4_range *v4;
	char *t;

	if (!s)
		return NULL;
	v6 = (struct rule_ip6_range *)(s + 1);
	v4 = (struct rule_ip4_range *)(v6 + n6);
	t = (char *)(v4 + n4);
	for (size_t i = 0; i < n4; i++) {
		v4[i].lo = (uint32_t)v->fam[0].r[i].lo.lo;
		v4[i].hi = (uint32_t)v->fam[0].r[i].hi.lo;
	}
	for (size_t i = 0; i < n6; i++) {
		for (int k = 0; k < 8; k++) {
			v6[i].lo[k] = (uint8_t)(v->fam[1].r[i].lo.hi >> (56 - 8 * k));
			v6[i].lo[k + 8] = (uint8_t)(v->fam[1].r[i].lo.lo >> (56 - 8 * k));
			v6[i].hi[k] = (uint8_t)(v->fam[1].r[i].hi.hi >> (56 - 8 * k));
			v6[i].hi[k + 8] = (uint8_t)(v->fam[1].r[i].hi.lo >> (56 - 8 * k));
		}
	}
	memcpy(t, text, tlen);
	s->text = t;
	s->n4 = (uint32_t)n4;
	s->n6 = (uint32_t)n6;
	s->v4 = v4;
	s->v6 = v6;
	s->any = fam_is_full(&v->fam[0], fam_max(X_ADDR, 0)) && fam_is_full(&v->fam[1], fam_max(X_ADDR, 1));
	return s;
}

static struct rule_portset *portset_build(const struct xval *v, const char *text, size_t tlen)
{
	size_t n = v->fam[0].n;
	struct rule_portset *s = calloc(1, sizeof(*s) + n * sizeof(struct rule_port_range) + tlen + 1);
	struct rule_port_range *r;
	char *t;

	if (!s)
		return NULL;
	r = (struct rule_port_range *)(s + 1);
	t = (char *)(r + n);
	for (size_t i = 0; i < n; i++) {
		r[i].lo = (uint16_t)v->fam[0].r[i].lo.lo;
		r[i].hi = (uint16_t)v->fam[0].r[i].hi.lo;
	}
	memcpy(t, text, tlen);
	s->text = t;
	s->n = (uint32_t)n;
	s->r = r;
	s->any = fam_is_full(&v->fam[0], fam_max(X_PORT, 0));
	return s;
}

/* Parses TEXT (TLEN bytes) into a new set; errors in P. */
static void *xparse(struct xparser *p, enum xkind kind, const struct rule_vars *vars,
		    const char *text, size_t tlen, size_t base)
{
	struct xstack stack = { .n = 0 };
	struct xval v = { 0 };
	void *set = NULL;

	*p = (struct xparser){ .kind = kind, .vars = vars, .s = text, .n = tlen, .base = base,
			       .stack = &stack };
	if (parse_top(p, &v) != 0)
		return NULL;
	if (kind == X_ADDR && v.fam[0].n == 0 && v.fam[1].n == 0)
		xfail(p, 0, RULE_SKIP_INVALID, "address '%.*s' matches nothing", (int)tlen, text);
	else if (kind == X_PORT && v.fam[0].n == 0)
		xfail(p, 0, RULE_SKIP_INVALID, "port '%.*s' matches nothing", (int)tlen, text);
	else {
		set = kind == X_ADDR ? (void *)addrset_build(&v, text, tlen) :
				       (void *)portset_build(&v, text, tlen);
		if (!set)
			xoom(p);
	}
	xval_free(&v);
	return set;
}

/* Parse one expression of the given kind on its own; see rule.h. */
static void *parse_alone(enum xkind kind, const char *text, const struct rule_vars *vars, char *err,
			 size_t errlen, int *rc)
{
	struct xparser p;
	void *set = xparse(&p, kind, vars, text, strlen(text), 0);

	*rc = 0;
	if (set)
		return set;
	if (err && errlen)
		snprintf(err, errlen, "col %zu: %s", p.err_off + 1, p.oom ? "out of memory" : p.msg);
	*rc = p.oom ? -ENOMEM : -EINVAL;
	return NULL;
}

int rule_addrset_parse(struct rule_addrset **out, const char *text, const struct rule_vars *vars,
		       char *err, size_t errlen)
{
	int rc;

	*out = parse_alone(X_ADDR, text, vars, err, errlen, &rc);
	return rc;
}

void rule_addrset_destroy(struct rule_addrset *s)
{
	free(s);
}

int rule_portset_parse(struct rule_portset **out, const char *text, const struct rule_vars *vars,
		       char *err, size_t errlen)
{
	int rc;

	*out = parse_alone(X_PORT, text, vars, err, errlen, &rc);
	return rc;
}

void rule_portset_destroy(struct rule_portset *s)
{
	free(s);
}

/* ------------------------------------------------------------ matching */

bool rule_addr_match(const struct rule_addrset *s, const uint8_t addr[16], uint8_t ipver)
{
	size_t lo = 0, hi;

	if (ipver == 4) {
		uint32_t a = (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 |
			     (uint32_t)addr[2] << 8 | addr[3];

		hi = s->n4;
		while (lo < hi) {   /* first range with hi >= a */
			size_t mid = lo + (hi - lo) / 2;

			if (s->v4[mid].hi < a)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo < s->n4 && s->v4[lo].lo <= a;
	}
	if (ipver == 6) {
		hi = s->n6;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (memcmp(s->v6[mid].hi, addr, 16) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo < s->n6 && memcmp(s->v6[lo].lo, addr, 16) <= 0;
	}
	return false;
}

bool rule_port_match(const struct rule_portset *s, uint16_t port)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->r[mid].hi < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && s->r[lo].lo <= port;
}

bool rule_cmp_match(const struct rule_cmp *c, uint32_t x)
{
	switch (c->op) {
	case RULE_CMP_NONE: return true;
	case RULE_CMP_EQ: return x == c->lo;
	case RULE_CMP_NE: return x != c->lo;
	case RULE_CMP_LT: return x < c->lo;
	case RULE_CMP_LE: return x <= c->lo;
	case RULE_CMP_GT: return x > c->lo;
	case RULE_CMP_GE: return x >= c->lo;
	case RULE_CMP_RANGE: return x > c->lo && x < c->hi;
	}
	return false;
}

/* ---------------------------------------------- interning per ruleset */

struct cache_ent {
	const char *key;        /* the set's own text */
	size_t klen;
	uint64_t hash;
	uint8_t kind;
	void *set;
};

struct rule_set_cache {
	struct cache_ent *e;
	size_t n, cap;          /* cap: power of two */
};

static uint64_t fnv1a(const char *s, size_t n, uint8_t kind)
{
	uint64_t h = 0xcbf29ce484222325ull ^ kind;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void *cache_get(const struct rule_set_cache *sc, uint8_t kind, const char *s, size_t n,
		       uint64_t h)
{
	if (!sc || !sc->cap)
		return NULL;
	for (size_t i = h & (sc->cap - 1);; i = (i + 1) & (sc->cap - 1)) {
		const struct cache_ent *e = &sc->e[i];

		if (!e->set)
			return NULL;
		if (e->hash == h && e->kind == kind && e->klen == n && memcmp(e->key, s, n) == 0)
			return e->set;
	}
}

static int cache_put(struct rule_set_cache **scp, uint8_t kind, const char *key, size_t n,
		     uint64_t h, void *set)
{
	struct rule_set_cache *sc = *scp;

	if (!sc) {
		sc = calloc(1, sizeof(*sc));
		if (!sc)
			return -ENOMEM;
		*scp = sc;
	}
	if ((sc->n + 1) * 2 > sc->cap) {
		size_t cap = sc->cap ? sc->cap * 2 : 64;
		struct cache_ent *ne = calloc(cap, sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		for (size_t i = 0; i < sc->cap; i++) {
			size_t j;

			if (!sc->e[i].set)
				continue;
			for (j = sc->e[i].hash & (cap - 1); ne[j].set; j = (j + 1) & (cap - 1))
				;
			ne[j] = sc->e[i];
		}
		free(sc->e);
		sc->e = ne;
		sc->cap = cap;
	}
	for (size_t i = h & (sc->cap - 1);; i = (i + 1) & (sc->cap - 1)) {
		if (!sc->e[i].set) {
			sc->e[i] = (struct cache_ent){ key, n, h, kind, set };
			sc->n++;
			return 0;
		}
	}
}

void rule_set_cache_destroy(struct rule_set_cache *sc)
{
	if (!sc)
		return;
	for (size_t i = 0; i < sc->cap; i++)
		free(sc->e[i].set);
	free(sc->e);
	free(sc);
}

static int rp_set(struct rp_ctx *c, struct rp_span s, enum xkind kind, void **out)
{
	struct rule_set_cache **scp = ruleset_set_cache(c->rs);
	uint64_t h = fnv1a(s.p, s.n, (uint8_t)kind);
	struct xparser p;
	void *set;

	set = cache_get(*scp, (uint8_t)kind, s.p, s.n, h);
	if (set) {
		*out = set;
		return 0;
	}
	set = xparse(&p, kind, c->opts->vars, s.p, s.n, s.off);
	if (!set) {
		if (p.oom)
			return rp_oom(c);
		return rp_fail(c, p.err_off, p.why, NULL, "%s", p.msg);
	}
	if (cache_put(scp, (uint8_t)kind,
		      kind == X_ADDR ? ((struct rule_addrset *)set)->text : ((struct rule_portset *)set)->text,
		      s.n, h, set) != 0) {
		free(set);
		return rp_oom(c);
	}
	*out = set;
	return 0;
}

int rp_addrset(struct rp_ctx *c, struct rp_span s, const struct rule_addrset **out)
{
	void *set;
	int rc = rp_set(c, s, X_ADDR, &set);

	*out = rc ? NULL : set;
	return rc;
}

int rp_portset(struct rp_ctx *c, struct rp_span s, const struct rule_portset **out)
{
	void *set;
	int rc = rp_set(c, s, X_PORT, &set);

	*out = rc ? NULL : set;
	return rc;
}
