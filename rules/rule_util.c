/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Small pieces the parser files share: the arena, spans, numbers and the
 * first-error recording of a rule's parse context.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule_priv.h"

/* ------------------------------------------------------------- arena */

#define ARENA_CHUNK (64u * 1024u)
#define ARENA_ALIGN _Alignof(max_align_t)

struct rule_arena_chunk {
	struct rule_arena_chunk *next;
	size_t size, used;
	_Alignas(max_align_t) unsigned char data[];
};

void *rule_arena_alloc(struct rule_arena *a, size_t n)
{
	struct rule_arena_chunk *c = a->head;
	size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	void *p;

	if (need < n)
		return NULL;
	if (need == 0)
		need = ARENA_ALIGN;
	if (!c || c->size - c->used < need) {
		size_t size = need > ARENA_CHUNK ? need : ARENA_CHUNK;

		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->next = a->head;
		c->size = size;
		c->used = 0;
		a->head = c;
		a->bytes += sizeof(*c) + size;
	}
	p = c->data + c->used;
	c->used += need;
	memset(p, 0, n);
	return p;
}

void *rule_arena_dup(struct rule_arena *a, const void *p, size_t n)
{
	void *q = rule_arena_alloc(a, n);

	if (q && n)
		memcpy(q, p, n);
	return q;
}

char *rule_arena_strndup(struct rule_arena *a, const char *s, size_t n)
{
	char *q = rule_arena_alloc(a, n + 1);

	if (q && n)
		memcpy(q, s, n);
	return q;
}

char *rule_arena_printf(struct rule_arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *q;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	q = rule_arena_alloc(a, (size_t)n + 1);
	if (!q)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(q, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return q;
}

struct rule_arena_mark rule_arena_mark(const struct rule_arena *a)
{
	struct rule_arena_mark m = { a->head, a->head ? a->head->used : 0 };

	return m;
}

void rule_arena_reset(struct rule_arena *a, struct rule_arena_mark m)
{
	while (a->head && a->head != m.head) {
		struct rule_arena_chunk *c = a->head;

		a->head = c->next;
		a->bytes -= sizeof(*c) + c->size;
		free(c);
	}
	if (a->head)
		a->head->used = m.used;
}

void rule_arena_fini(struct rule_arena *a)
{
	struct rule_arena_mark none = { NULL, 0 };

	rule_arena_reset(a, none);
}

/* -------------------------------------------------------------- spans */

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f';
}

struct rp_span rp_span_trim(struct rp_span s)
{
	while (s.n && is_space(s.p[0])) {
		s.p++;
		s.n--;
		s.off++;
	}
	while (s.n && is_space(s.p[s.n - 1]))
		s.n--;
	return s;
}

bool rp_span_eq(struct rp_span s, const char *word)
{
	size_t n = strlen(word);

	return s.n == n && memcmp(s.p, word, n) == 0;
}

static char lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

bool rp_span_ieq(struct rp_span s, const char *word)
{
	size_t n = strlen(word);

	if (s.n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(s.p[i]) != lower(word[i]))
			return false;
	return true;
}

bool rp_span_next(struct rp_span *s, char sep, struct rp_span *head)
{
	const char *q;

	if (!s->p)
		return false;
	q = s->n ? memchr(s->p, sep, s->n) : NULL;
	head->p = s->p;
	head->off = s->off;
	if (!q) {
		head->n = s->n;
		s->p = NULL;   /* exhausted: the next call returns false */
		s->n = 0;
	} else {
		head->n = (size_t)(q - s->p);
		s->off += head->n + 1;
		s->n -= head->n + 1;
		s->p = q + 1;
	}
	*head = rp_span_trim(*head);
	return true;
}

/* ------------------------------------------------------------- errors */

int rp_fail(struct rp_ctx *c, size_t off, enum rule_skip_reason why, const char *kw,
	    const char *fmt, ...)
{
	va_list ap;

	if (c->failed)
		return -EINVAL;
	c->failed = true;
	c->why = why;
	c->err_off = off;
	va_start(ap, fmt);
	vsnprintf(c->err_msg, sizeof(c->err_msg), fmt, ap);
	va_end(ap);
	snprintf(c->err_kw, sizeof(c->err_kw), "%s", kw ? kw : "");
	return -EINVAL;
}

int rp_oom(struct rp_ctx *c)
{
	c->oom = true;
	c->failed = true;
	return -ENOMEM;
}

void rp_warn(struct rp_ctx *c, size_t off, const char *fmt, ...)
{
	va_list ap;

	if (c->warned)
		return;
	c->warned = true;
	c->warn_off = off;
	va_start(ap, fmt);
	vsnprintf(c->warn_msg, sizeof(c->warn_msg), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ numbers */

/* Value of a digit of base up to 16; 99 for anything else. */
int rule_digit_val(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return 99;
}

int rp_int(struct rp_ctx *c, struct rp_span s, int base, int64_t min, int64_t max,
	   const char *what, int64_t *out)
{
	struct rp_span t = rp_span_trim(s);
	size_t i = 0;
	bool neg = false;
	uint64_t v = 0, lim;

	if (t.n == 0)
		return rp_fail(c, t.off, RULE_SKIP_SYNTAX, NULL, "missing %s", what);
	if (t.p[0] == '-' || t.p[0] == '+') {
		neg = t.p[0] == '-';
		if (neg && min >= 0)
			return rp_fail(c, t.off, RULE_SKIP_INVALID, NULL,
				       "%s must not be negative: '%.*s'", what, (int)t.n, t.p);
		i++;
	}
	if (base == 0) {
		base = 10;
		if (t.n - i > 2 && t.p[i] == '0' && (t.p[i + 1] == 'x' || t.p[i + 1] == 'X')) {
			base = 16;
			i += 2;
		} else if (t.n - i > 1 && t.p[i] == '0') {
			base = 8;
			i++;
		}
	} else if (base == 16 && t.n - i > 2 && t.p[i] == '0' && (t.p[i + 1] == 'x' || t.p[i + 1] == 'X')) {
		i += 2;
	}
	if (i == t.n)
		return rp_fail(c, t.off, RULE_SKIP_SYNTAX, NULL, "bad number for %s: '%.*s'", what,
			       (int)t.n, t.p);
	lim = neg ? (uint64_t)0 - (uint64_t)min : (uint64_t)max;
	for (; i < t.n; i++) {
		int d = rule_digit_val(t.p[i]);

		if (d >= base)
			return rp_fail(c, t.off, RULE_SKIP_SYNTAX, NULL, "bad number for %s: '%.*s'",
				       what, (int)t.n, t.p);
		if (v > (lim - (uint64_t)d) / (uint64_t)base)
			return rp_fail(c, t.off, RULE_SKIP_INVALID, NULL,
				       "%s out of range [%lld, %lld]: '%.*s'", what, (long long)min,
				       (long long)max, (int)t.n, t.p);
		v = v * (uint64_t)base + (uint64_t)d;
	}
	if (neg)
		*out = v > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	if (*out < min || *out > max)
		return rp_fail(c, t.off, RULE_SKIP_INVALID, NULL, "%s out of range [%lld, %lld]: '%.*s'",
			       what, (long long)min, (long long)max, (int)t.n, t.p);
	return 0;
}

/* ---------------------------------------------------------- keywords */

const char *rp_kwname(struct rp_span kw, char buf[RP_MAXNAME])
{
	size_t n = kw.n < RP_MAXNAME - 1 ? kw.n : RP_MAXNAME - 1;

	for (size_t i = 0; i < n; i++) {
		char ch = kw.p[i];

		buf[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
	}
	buf[n] = '\0';
	return buf;
}

/* ------------------------------------------------------ quoted strings */

/* V must be "..." (REQUIRED) or may be bare; *IN gets the text between the
 * quotes.  Rejects an unescaped '"' inside. */
int rp_quoted(struct rp_ctx *c, struct rp_span v, bool required, const char *kw,
		  struct rp_span *in)
{
	v = rp_span_trim(v);
	if (v.n == 0 || v.p[0] != '"') {
		if (required)
			return rp_fail(c, v.off, RULE_SKIP_SYNTAX, NULL, "%s needs a quoted string", kw);
		*in = v;
		return 0;
	}
	for (size_t i = 1; i < v.n; i++) {
		if (v.p[i] == '\\') {
			i++;
			continue;
		}
		if (v.p[i] == '"') {
			if (i != v.n - 1) {
				size_t k = i + 1;

				while (k < v.n && (v.p[k] == ' ' || v.p[k] == '\t'))
					k++;
				return rp_fail(c, v.off + k, RULE_SKIP_SYNTAX, NULL,
					       "unexpected text after the closing quote");
			}
			in->p = v.p + 1;
			in->n = v.n - 2;
			in->off = v.off + 1;
			return 0;
		}
	}
	return rp_fail(c, v.off, RULE_SKIP_SYNTAX, NULL, "unterminated quoted string");
}

/* Resolves \" \; \: \\ (the only escapes rules have) into the arena. */
int rp_unescape(struct rp_ctx *c, struct rp_span in, bool lenient, char **out, size_t *outlen)
{
	char *s = rule_arena_alloc(c->arena, in.n + 1);
	size_t w = 0;

	if (!s)
		return rp_oom(c);
	for (size_t i = 0; i < in.n; i++) {
		char ch = in.p[i];

		if (ch == '\\') {
			if (i + 1 == in.n)
				return rp_fail(c, in.off + i, RULE_SKIP_SYNTAX, NULL, "dangling '\\'");
			ch = in.p[++i];
			if (!lenient && ch != '"' && ch != ';' && ch != ':' && ch != '\\')
				return rp_fail(c, in.off + i - 1, RULE_SKIP_SYNTAX, NULL,
					       "invalid escape '\\%c' (only \\\" \\; \\: \\\\)", ch);
		}
		s[w++] = ch;
	}
	s[w] = '\0';
	*out = s;
	if (outlen)
		*outlen = w;
	return 0;
}

void *rp_grow(struct rp_ctx *c, void *arr, size_t *cap, size_t n, size_t elem)
{
	void *na;
	size_t ncap;

	if (n < *cap)
		return arr;
	ncap = *cap ? *cap * 2 : 8;
	na = realloc(arr, ncap * elem);
	if (!na) {
		rp_oom(c);
		return NULL;
	}
	*cap = ncap;
	return na;
}
