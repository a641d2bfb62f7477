/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A tiny append-only JSON writer for the EVE records the output thread
 * writes for every flow (and later every alert).  Building a jansson object
 * per record cost ~8 us (36% of the engine's CPU on a 100k-flow capture);
 * this writes the same text straight into a reusable buffer.  jansson is
 * still used for the rare stats record and for parsing.
 *
 * Keys are literals written by us; string values are escaped.  The caller
 * places commas with jb_sep(); jb_ok() tells whether the buffer kept up.
 */
#ifndef VIGIL_JBUF_H
#define VIGIL_JBUF_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jbuf {
	char *p;
	size_t len, cap;
	bool oom;
	bool first;               /* no member written yet in the current object */
};

static inline void jb_reset(struct jbuf *b)
{
	b->len = 0;
	b->oom = false;
	b->first = true;
}

static inline bool jb_reserve(struct jbuf *b, size_t n)
{
	if (b->len + n <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 1024;
	while (cap < b->len + n)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static inline void jb_raw(struct jbuf *b, const char *s, size_t n)
{
	if (jb_reserve(b, n)) {
		memcpy(b->p + b->len, s, n);
		b->len += n;
	}
}

static inline void jb_lit(struct jbuf *b, const char *s)
{
	jb_raw(b, s, strlen(s));
}

/* A JSON string with escaping (control characters as \u00XX); runs of
 * plain characters are copied at once. */
static inline void jb_str(struct jbuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	jb_raw(b, "\"", 1);
	for (;;) {
		const char *run = s;
		while ((unsigned char)*s >= 0x20 && *s != '"' && *s != '\\')
			s++;
		if (s > run)
			jb_raw(b, run, (size_t)(s - run));
		unsigned char c = (unsigned char)*s;
		if (!c)
			break;
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			jb_raw(b, e, 2);
		} else {
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			jb_raw(b, e, 6);
		}
		s++;
	}
	jb_raw(b, "\"", 1);
}

static inline void jb_key(struct jbuf *b, const char *key);

static inline void jb_open(struct jbuf *b, const char *key)
{
	if (!b->first)
		jb_raw(b, ",", 1);
	if (key) {
		b->first = true;
		jb_key(b, key);
	}
	jb_raw(b, "{", 1);
	b->first = true;
}

static inline void jb_close(struct jbuf *b)
{
	jb_raw(b, "}", 1);
	b->first = false;
}

/* key: one of our literals (never needs escaping). */
static inline void jb_key(struct jbuf *b, const char *key)
{
	size_t n = strlen(key);

	if (!jb_reserve(b, n + 4))
		return;
	if (!b->first)
		b->p[b->len++] = ',';
	b->first = false;
	b->p[b->len++] = '"';
	memcpy(b->p + b->len, key, n);
	b->len += n;
	b->p[b->len++] = '"';
	b->p[b->len++] = ':';
}

static inline void jb_kstr(struct jbuf *b, const char *key, const char *v)
{
	jb_key(b, key);
	jb_str(b, v);
}

/* Decimal digits of v into the end of buf[24]; returns where they start. */
static inline char *jb_u64_digits(uint64_t v, char *end)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

static inline void jb_ku64(struct jbuf *b, const char *key, uint64_t v)
{
	char n[24];
	char *d = jb_u64_digits(v, n + sizeof(n));

	jb_key(b, key);
	jb_raw(b, d, (size_t)(n + sizeof(n) - d));
}

static inline void jb_kbool(struct jbuf *b, const char *key, bool v)
{
	jb_key(b, key);
	jb_lit(b, v ? "true" : "false");
}

static inline void jb_fini(struct jbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

#endif
