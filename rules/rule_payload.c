/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Payload keywords: content and its modifiers (nocase, rawbytes, offset,
 * depth, distance, within, fast_pattern), pcre (validated with PCRE2 when
 * built with it), byte_test, byte_jump and isdataat.  Each appends one
 * struct rule_pm, in rule order, or modifies the last content.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef RULE_HAVE_PCRE2
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#endif

#include "rule_priv.h"

static struct rule_pm *pm_new(struct rp_ctx *c, enum rule_pm_type t)
{
	struct rule_pm *pm = rp_grow(c, c->pm, &c->cap_pm, c->n_pm, sizeof(*c->pm));

	if (!pm)
		return NULL;
	c->pm = pm;
	pm = &c->pm[c->n_pm++];
	memset(pm, 0, sizeof(*pm));
	pm->type = t;
	return pm;
}

/* ------------------------------------------------------------- content */

static int hexval(char ch)
{
	int v = rule_digit_val(ch);

	return v < 16 ? v : -1;
}

/* "abc|41 42|\;" -> bytes */
static int content_decode(struct rp_ctx *c, struct rp_span in, uint8_t **out, uint32_t *outlen)
{
	uint8_t *b = rule_arena_alloc(c->arena, in.n + 1);
	size_t w = 0, pipe = 0;
	bool hex = false;
	int nib = -1;

	if (!b)
		return rp_oom(c);
	for (size_t i = 0; i < in.n; i++) {
		char ch = in.p[i];

		if (ch == '|') {
			if (hex && nib >= 0)
				return rp_fail(c, in.off + i, RULE_SKIP_SYNTAX, NULL,
					       "odd number of hex digits");
			if (!hex)
				pipe = i;
			else if (i == pipe + 1)
				return rp_fail(c, in.off + pipe, RULE_SKIP_SYNTAX, NULL,
					       "empty hex section '||'");
			hex = !hex;
			continue;
		}
		if (hex) {
			int d = hexval(ch);

			if (ch == ' ' || ch == '\t')
				continue;
			if (d < 0)
				return rp_fail(c, in.off + i, RULE_SKIP_SYNTAX, NULL,
					       "invalid hex character '%c'", ch);
			if (nib < 0) {
				nib = d;
			} else {
				b[w++] = (uint8_t)(nib << 4 | d);
				nib = -1;
			}
			continue;
		}
		if (ch == '\\') {
			if (i + 1 == in.n)
				return rp_fail(c, in.off + i, RULE_SKIP_SYNTAX, NULL, "dangling '\\'");
			ch = in.p[++i];
			if (ch != '"' && ch != ';' && ch != ':' && ch != '\\')
				return rp_fail(c, in.off + i - 1, RULE_SKIP_SYNTAX, NULL,
					       "invalid escape '\\%c' (only \\\" \\; \\: \\\\)", ch);
		}
		b[w++] = (uint8_t)ch;
	}
	if (hex)
		return rp_fail(c, in.off + pipe, RULE_SKIP_SYNTAX, NULL, "unterminated hex section '|'");
	if (w == 0)
		return rp_fail(c, in.off, RULE_SKIP_INVALID, NULL, "empty content");
	if (w > 65535)
		return rp_fail(c, in.off, RULE_SKIP_INVALID, NULL, "content longer than 65535 bytes");
	*out = b;
	*outlen = (uint32_t)w;
	return 0;
}

int rp_kw_content(struct rp_ctx *c, struct rp_span kw, struct rp_span v)
{
	struct rule_pm *pm;
	struct rp_span in;
	uint8_t *pat = NULL;
	uint32_t len = 0;
	bool neg = false;

	(void)kw;
	v = rp_span_trim(v);
	if (v.n && v.p[0] == '!') {
		neg = true;
		v.p++;
		v.n--;
		v.off++;
	}
	if (rp_quoted(c, v, true, "content", &in) || content_decode(c, in, &pat, &len))
		return -EINVAL;
	pm = pm_new(c, RULE_PM_CONTENT);
	if (!pm)
		return -ENOMEM;
	pm->content.pat = pat;
	pm->content.len = len;
	pm->content.flags = neg ? RULE_CONTENT_NEGATED : 0;
	c->last_content = (int32_t)(c->n_pm - 1);
	return 0;
}

static struct rule_content *last_content(struct rp_ctx *c, struct rp_span kw)
{
	if (c->last_content < 0) {
		rp_fail(c, kw.off, RULE_SKIP_INVALID, NULL, "'%.*s' needs a preceding content",
			(int)kw.n, kw.p);
		return NULL;
	}
	return &c->pm[c->last_content].content;
}

int rp_kw_nocase(struct rp_ctx *c, struct rp_span kw, struct rp_span v)
{
	struct rule_content *ct = last_content(c, kw);
	uint32_t bit = rp_span_ieq(kw, "nocase") ? RULE_CONTENT_NOCASE : RULE_CONTENT_RAWBYTES;

	(void)v;
	if (!ct)
		return -EINVAL;
	if (ct->flags & bit)
		return rp_fail(c, kw.off, RULE_SKIP_INVALID, NULL, "duplicate '%.*s' for one content",
			       (int)kw.n, kw.p);
	ct->flags |= bit;
	return 0;
}

#define CT_POS (RULE_CONTENT_OFFSET | RULE_CONTENT_DEPTH | RULE_CONTENT_DISTANCE | RULE_CONTENT_WITHIN)

/* offset, depth, distance, within */
int rp_kw_position(struct rp_ctx *c, struct rp_span kw, struct rp_span v)
{
	struct rule_content *ct = last_content(c, kw);
	struct rp_span t = rp_span_trim(v);
	uint32_t bit, clash;
	int64_t x, min = 0;
	char name[RP_MAXNAME];

	if (!ct)
		return -EINVAL;
	rp_kwname(kw, name);
	if (strcmp(name, "offset") == 0) {
		bit = RULE_CONTENT_OFFSET;
		clash = RULE_CONTENT_DISTANCE | RULE_CONTENT_WITHIN;
	} else if (strcmp(name, "depth") == 0) {
		bit = RULE_CONTENT_DEPTH;
		clash = RULE_CONTENT_DISTANCE | RULE_CONTENT_WITHIN;
		min = 1;
	} else if (strcmp(name, "distance") == 0) {
		bit = RULE_CONTENT_DISTANCE;
		clash = RULE_CONTENT_OFFSET | RULE_CONTENT_DEPTH;
		min = -65535;
	} else {
		bit = RULE_CONTENT_WITHIN;
		clash = RULE_CONTENT_OFFSET | RULE_CONTENT_DEPTH;
		min = 1;
	}
	if (t.n && ((t.p[0] >= 'a' && t.p[0] <= 'z') || (t.p[0] >= 'A' && t.p[0] <= 'Z')))
		return rp_fail(c, t.off, RULE_SKIP_UNSUPPORTED, "byte_extract",
			       "%s from a variable ('%.*s') is not supported", name, (int)t.n, t.p);
	if (rp_int(c, t, 10, min, 65535, name, &x))
		return -EINVAL;
	if (ct->flags & bit)
		return rp_fail(c, kw.off, RULE_SKIP_INVALID, NULL, "duplicate '%s' for one content", name);
	if (ct->flags & clash)
		return rp_fail(c, kw.off, RULE_SKIP_INVALID, NULL,
			       "'%s' mixes relative (distance/within) and absolute (offset/depth) "
			       "positions on one content", name);
	if (ct->flags & RULE_CONTENT_FP_ONLY)
		return rp_fail(c, kw.off, RULE_SKIP_INVALID, NULL,
			       "'%s' on a content with fast_pattern:only", name);
	if ((ct->flags & RULE_CONTENT_NEGATED) && (ct->flags & RULE_CONTENT_FP))
		return rp_fail(c, kw.off, RULE_SKIP_INVALID, NULL,
			       "'%s' on a negated content with fast_pattern", name);
	if ((bit == RULE_CONTENT_DEPTH || bit == RULE_CONTENT_WITHIN) && x < (int64_t)ct->len)
		return rp_fail(c, t.off, RULE_SKIP_INVALID, NULL,
			       "%s %lld is smaller than the content length %u", name, (long long)x,
			       ct->len);
	ct->flags |= bit;
	switch (bit) {
	case RULE_CONTENT_OFFSET: ct->offset = (int32_t)x; break;
	case RULE_CONTENT_DEPTH: ct->depth = (int32_t)x; break;
	case RULE_CONTENT_DISTANCE: ct->distance = (int32_t)x; break;
	default: ct->within = (int32_t)x; break;
	}
	return 0;
}

int rp_kw_fast_pattern(struct rp_ctx *c, struct rp_span kw, struct rp_span v)
{
	struct rule_content *ct = last_content(c, kw);

	if (!ct)
		return -EINVAL;
	if (c->fp_explicit >= 0)
		return rp_fail(c, kw.off, RULE_SKIP_INVALID, NULL,
			       c->fp_explicit == c->last_content ? "duplicate 'fast_pattern' for one content" :
			       "only one content of a rule can be the fast_pattern");
	v = rp_span_trim(v);
	if (v.p && v.n) {
		if (rp_span_eq(v, "only")) {
			if (ct->flags & RULE_CONTENT_NEGATED)
				return rp_fail(c, v.off, RULE_SKIP_INVALID, NULL,
					       "fast_pattern:only on a negated content");
			if (ct->flags & CT_POS)
				return rp_fail(c, v.off, RULE_SKIP_INVALID, NULL,
					       "fast_pattern:only on a content with offset/depth/distance/within");
			ct->flags |= RULE_CONTENT_FP_ONLY;
		} else {
			struct rp_span a;
			int64_t off, len;

			rp_span_next(&v, ',', &a);
			if (!v.p)
				return rp_fail(c, a.off, RULE_SKIP_SYNTAX, NULL,
					       "fast_pattern takes 'only' or 'offset,length'");
			if (rp_int(c, a, 10, 0, 65535, "fast_pattern offset", &off) ||
			    rp_int(c, v, 10, 1, 65535, "fast_pattern length", &len))
				return -EINVAL;
			if (off + len > (int64_t)ct->len)
				return rp_fail(c, a.off, RULE_SKIP_INVALID, NULL,
					       "fast_pattern %lld,%lld is beyond the content (%u bytes)",
					       (long long)off, (long long)len, ct->len);
			ct->flags |= RULE_CONTENT_FP_CHOP;
			ct->fp_off = (uint16_t)off;
			ct->fp_len = (uint16_t)len;
		}
	}
	if ((ct->flags & RULE_CONTENT_NEGATED) && (ct->flags & CT_POS))
		return rp_fail(c, kw.off, RULE_SKIP_INVALID, NULL,
			       "fast_pattern on a negated content with offset/depth/distance/within");
	ct->flags |= RULE_CONTENT_FP;
	c->fp_explicit = c->last_content;
	return 0;
}

/* ---------------------------------------------------------------- pcre */

#ifdef RULE_HAVE_PCRE2
static int pcre_check(struct rp_ctx *c, const char *re, size_t len, size_t off, uint32_t flags)
{
	uint32_t opt = 0;
	int errcode;
	PCRE2_SIZE erroff;
	pcre2_code *code;

	if (flags & RULE_PCRE_CASELESS)
		opt |= PCRE2_CASELESS;
	if (flags & RULE_PCRE_DOTALL)
		opt |= PCRE2_DOTALL;
	if (flags & RULE_PCRE_MULTILINE)
		opt |= PCRE2_MULTILINE;
	if (flags & RULE_PCRE_EXTENDED)
		opt |= PCRE2_EXTENDED;
	if (flags & RULE_PCRE_ANCHORED)
		opt |= PCRE2_ANCHORED;
	if (flags & RULE_PCRE_DOLLAR_ENDONLY)
		opt |= PCRE2_DOLLAR_ENDONLY;
	if (flags & RULE_PCRE_UNGREEDY)
		opt |= PCRE2_UNGREEDY;
	code = pcre2_compile((PCRE2_SPTR)re, len, opt, &errcode, &erroff, NULL);
	if (!code) {
		PCRE2_UCHAR msg[160];

		if (errcode == PCRE2_ERROR_NOMEMORY)
			return rp_oom(c);
		pcre2_get_error_message(errcode, msg, sizeof(msg));
		return rp_fail(c, off + (erroff <= len ? erroff : len), RULE_SKIP_BAD_PCRE, NULL,
			       "pcre: %s", (const char *)msg);
	}
	pcre2_code_free(code);
	return 0;
}
#else
static int pcre_check(struct rp_ctx *c, const char *re, size_t len, size_t off, uint32_t flags)
{
	(void)c, (void)re, (void)len, (void)off, (void)flags;
	return 0;
}
#endif

int rp_kw_pcre(struct rp_ctx *c, struct rp_span kw, struct rp_span v)
{
	struct rp_span in;
	struct rule_pm *pm;
	uint32_t flags = 0;
	size_t last;
	char *re;

	(void)kw;
	v = rp_span_trim(v);
	if (v.n && v.p[0] == '!') {
		flags |= RULE_PCRE_NEGATED;
		v.p++;
		v.n--;
		v.off++;
		v = rp_span_trim(v);
	}
	if (rp_quoted(c, v, true, "pcre", &in))
		return -EINVAL;
	if (in.n < 2 || in.p[0] != '/')
		return rp_fail(c, in.off, RULE_SKIP_SYNTAX, NULL, "pcre must look like \"/regex/flags\"");
	for (last = in.n - 1; last > 0 && in.p[last] != '/'; last--)
		;
	if (last == 0)
		return rp_fail(c, in.off, RULE_SKIP_SYNTAX, NULL, "pcre: missing closing '/'");
	for (size_t i = last + 1; i < in.n; i++) {
		char m = in.p[i];

		switch (m) {
		case 'i': flags |= RULE_PCRE_CASELESS; break;
		case 's': flags |= RULE_PCRE_DOTALL; break;
		case 'm': flags |= RULE_PCRE_MULTILINE; break;
		case 'x': flags |= RULE_PCRE_EXTENDED; break;
		case 'A': flags |= RULE_PCRE_ANCHORED; break;
		case 'E': flags |= RULE_PCRE_DOLLAR_ENDONLY; break;
		case 'G': flags |= RULE_PCRE_UNGREEDY; break;
		case 'R': flags |= RULE_PCRE_RELATIVE; break;
		case 'O': flags |= RULE_PCRE_MATCH_LIMIT; break;
		case 'B': flags |= RULE_PCRE_RAWBYTES; break;
		/* HTTP buffers: Suricata's (and Snort's K, raw cookie) */
		case 'U': case 'I': case 'P': case 'Q': case 'H': case 'D': case 'M': case 'C':
		case 'S': case 'Y': case 'V': case 'W': case 'Z': case 'K': {
			char mod[2] = { m, '\0' };

			return rp_fail(c, in.off + i, RULE_SKIP_APP_LAYER, mod,
				       "pcre modifier '%c' needs app-layer buffers", m);
		}
		default:
			return rp_fail(c, in.off + i, RULE_SKIP_SYNTAX, NULL, "unknown pcre modifier '%c'",
				       m);
		}
	}
	if ((flags & RULE_PCRE_RELATIVE) && !c->has_pcre_or_content)
		return rp_fail(c, in.off + last, RULE_SKIP_INVALID, NULL,
			       "pcre /R (relative) needs a preceding content or pcre");
	re = rule_arena_strndup(c->arena, in.p + 1, last - 1);
	if (!re)
		return rp_oom(c);
	if (pcre_check(c, re, last - 1, in.off + 1, flags))
		return -EINVAL;
	pm = pm_new(c, RULE_PM_PCRE);
	if (!pm)
		return -ENOMEM;
	pm->pcre.re = re;
	pm->pcre.flags = flags;
	return 0;
}

/* ------------------------------------------- byte_test, byte_jump, isdataat */

static bool starts_alpha(struct rp_span t)
{
	return t.n && ((t.p[0] >= 'a' && t.p[0] <= 'z') || (t.p[0] >= 'A' && t.p[0] <= 'Z') ||
		       t.p[0] == '_');
}

static int no_var(struct rp_ctx *c, struct rp_span t, const char *kw, const char *what)
{
	if (starts_alpha(t))
		return rp_fail(c, t.off, RULE_SKIP_UNSUPPORTED, "byte_extract",
			       "%s %s from a variable ('%.*s') is not supported", kw, what, (int)t.n, t.p);
	return 0;
}

/* The options byte_test and byte_jump share; *USED false when W is none
 * of them. */
struct byte_opts {
	bool relative, big, little, string, dce, has_bitmask;
	enum rule_num_base base;
	uint32_t bitmask;
};

static int byte_common(struct rp_ctx *c, struct rp_span w, const char *kw, struct byte_opts *o,
		       bool *used)
{
	*used = true;
	if (rp_span_ieq(w, "relative")) {
		o->relative = true;
	} else if (rp_span_ieq(w, "big") || rp_span_ieq(w, "little")) {
		bool little = rp_span_ieq(w, "little");

		if (o->big || o->little)
			return rp_fail(c, w.off, RULE_SKIP_INVALID, NULL, "%s: endianness given twice", kw);
		o->big = !little;
		o->little = little;
	} else if (rp_span_ieq(w, "string")) {
		o->string = true;
	} else if (rp_span_ieq(w, "hex") || rp_span_ieq(w, "dec") || rp_span_ieq(w, "oct")) {
		if (o->base != RULE_BASE_BINARY)
			return rp_fail(c, w.off, RULE_SKIP_INVALID, NULL, "%s: number base given twice", kw);
		o->base = rp_span_ieq(w, "hex") ? RULE_BASE_HEX :
			  rp_span_ieq(w, "dec") ? RULE_BASE_DEC : RULE_BASE_OCT;
	} else if (rp_span_ieq(w, "dce")) {
		return rp_fail(c, w.off, RULE_SKIP_APP_LAYER, "dce",
			       "%s option 'dce' needs the DCE/RPC app layer", kw);
	} else if (w.n > 7 && strncasecmp(w.p, "bitmask", 7) == 0 && (w.p[7] == ' ' || w.p[7] == '\t')) {
		struct rp_span m = rp_span_trim((struct rp_span){ w.p + 7, w.n - 7, w.off + 7 });
		int64_t x;

		if (o->has_bitmask)
			return rp_fail(c, w.off, RULE_SKIP_INVALID, NULL, "%s: bitmask given twice", kw);
		if (rp_int(c, m, 16, 1, UINT32_MAX, "bitmask", &x))
			return -EINVAL;
		o->has_bitmask = true;
		o->bitmask = (uint32_t)x;
	} else {
		*used = false;
	}
	return 0;
}

static int byte_finish(struct rp_ctx *c, struct rp_span nb, const char *kw, struct byte_opts *o,
		       int64_t nbytes)
{
	if (o->base != RULE_BASE_BINARY)
		o->string = true;
	if (o->string && o->base == RULE_BASE_BINARY)
		o->base = RULE_BASE_DEC;
	if (o->string && (o->big || o->little))
		return rp_fail(c, nb.off, RULE_SKIP_INVALID, NULL,
			       "%s: endianness does not apply to 'string'", kw);
	if (!o->string && nbytes > 8)
		return rp_fail(c, nb.off, RULE_SKIP_INVALID, NULL,
			       "%s: %lld bytes (binary reads 1 to 8)", kw, (long long)nbytes);
	return 0;
}

int rp_kw_byte_test(struct rp_ctx *c, struct rp_span kw, struct rp_span v)
{
	struct rule_byte_test bt = { 0 };
	struct byte_opts o = { 0 };
	struct rp_span nb = { 0 }, op = { 0 }, val = { 0 }, off = { 0 }, w;
	int64_t x;

	(void)kw;
	if (!rp_span_next(&v, ',', &nb) || !rp_span_next(&v, ',', &op) ||
	    !rp_span_next(&v, ',', &val) || !rp_span_next(&v, ',', &off))
		return rp_fail(c, nb.off, RULE_SKIP_SYNTAX, NULL,
			       "byte_test needs bytes,operator,value,offset");
	if (rp_int(c, nb, 10, 1, 20, "byte_test bytes", &x))
		return -EINVAL;
	bt.nbytes = (uint8_t)x;
	if (op.n && op.p[0] == '!') {
		bt.negated = true;
		op = rp_span_trim((struct rp_span){ op.p + 1, op.n - 1, op.off + 1 });
	}
	if (rp_span_eq(op, "<"))
		bt.op = RULE_BT_LT;
	else if (rp_span_eq(op, ">"))
		bt.op = RULE_BT_GT;
	else if (rp_span_eq(op, "=") || rp_span_eq(op, "=="))
		bt.op = RULE_BT_EQ;
	else if (rp_span_eq(op, "<="))
		bt.op = RULE_BT_LE;
	else if (rp_span_eq(op, ">="))
		bt.op = RULE_BT_GE;
	else if (rp_span_eq(op, "&"))
		bt.op = RULE_BT_AND;
	else if (rp_span_eq(op, "^"))
		bt.op = RULE_BT_XOR;
	else
		return rp_fail(c, op.off, RULE_SKIP_SYNTAX, NULL, "unknown byte_test operator '%.*s'",
			       (int)op.n, op.p);
	if (no_var(c, val, "byte_test", "value") || rp_int(c, val, 0, 0, INT64_MAX, "byte_test value", &x))
		return -EINVAL;
	bt.value = (uint64_t)x;
	if (no_var(c, off, "byte_test", "offset") ||
	    rp_int(c, off, 0, -65535, 65535, "byte_test offset", &x))
		return -EINVAL;
	bt.offset = (int32_t)x;
	while (rp_span_next(&v, ',', &w)) {
		bool used;

		if (byte_common(c, w, "byte_test", &o, &used))
			return -EINVAL;
		if (!used)
			return rp_fail(c, w.off, RULE_SKIP_SYNTAX, NULL, "unknown byte_test option '%.*s'",
				       (int)w.n, w.p);
	}
	if (byte_finish(c, nb, "byte_test", &o, bt.nbytes))
		return -EINVAL;
	bt.relative = o.relative;
	bt.endian = o.little ? RULE_ENDIAN_LITTLE : RULE_ENDIAN_BIG;
	bt.base = o.base;
	bt.has_bitmask = o.has_bitmask;
	bt.bitmask = o.bitmask;
	{
		struct rule_pm *pm = pm_new(c, RULE_PM_BYTE_TEST);

		if (!pm)
			return -ENOMEM;
		pm->byte_test = bt;
	}
	return 0;
}

int rp_kw_byte_jump(struct rp_ctx *c, struct rp_span kw, struct rp_span v)
{
	struct rule_byte_jump bj = { .multiplier = 1 };
	struct byte_opts o = { 0 };
	struct rp_span nb = { 0 }, off = { 0 }, w;
	bool has_mult = false, has_post = false;
	int64_t x;

	(void)kw;
	if (!rp_span_next(&v, ',', &nb) || !rp_span_next(&v, ',', &off))
		return rp_fail(c, nb.off, RULE_SKIP_SYNTAX, NULL, "byte_jump needs bytes,offset");
	if (rp_int(c, nb, 10, 0, 20, "byte_jump bytes", &x))
		return -EINVAL;
	bj.nbytes = (uint8_t)x;
	if (no_var(c, off, "byte_jump", "offset") ||
	    rp_int(c, off, 0, -65535, 65535, "byte_jump offset", &x))
		return -EINVAL;
	bj.offset = (int32_t)x;
	while (rp_span_next(&v, ',', &w)) {
		bool used;

		if (byte_common(c, w, "byte_jump", &o, &used))
			return -EINVAL;
		if (used)
			continue;
		if (rp_span_ieq(w, "align")) {
			bj.align = true;
		} else if (rp_span_ieq(w, "from_beginning")) {
			bj.from_beginning = true;
		} else if (rp_span_ieq(w, "from_end")) {
			bj.from_end = true;
		} else if (w.n > 10 && strncasecmp(w.p, "multiplier", 10) == 0 &&
			   (w.p[10] == ' ' || w.p[10] == '\t')) {
			struct rp_span m = { w.p + 10, w.n - 10, w.off + 10 };

			if (has_mult)
				return rp_fail(c, w.off, RULE_SKIP_INVALID, NULL,
					       "byte_jump: multiplier given twice");
			if (rp_int(c, m, 10, 1, 65535, "byte_jump multiplier", &x))
				return -EINVAL;
			bj.multiplier = (uint32_t)x;
			has_mult = true;
		} else if (w.n > 11 && strncasecmp(w.p, "post_offset", 11) == 0 &&
			   (w.p[11] == ' ' || w.p[11] == '\t')) {
			struct rp_span m = rp_span_trim((struct rp_span){ w.p + 11, w.n - 11, w.off + 11 });

			if (has_post)
				return rp_fail(c, w.off, RULE_SKIP_INVALID, NULL,
					       "byte_jump: post_offset given twice");
			if (no_var(c, m, "byte_jump", "post_offset") ||
			    rp_int(c, m, 10, -65535, 65535, "byte_jump post_offset", &x))
				return -EINVAL;
			bj.post_offset = (int32_t)x;
			has_post = true;
		} else {
			return rp_fail(c, w.off, RULE_SKIP_SYNTAX, NULL, "unknown byte_jump option '%.*s'",
				       (int)w.n, w.p);
		}
	}
	if (bj.from_beginning && bj.from_end)
		return rp_fail(c, nb.off, RULE_SKIP_INVALID, NULL,
			       "byte_jump: from_beginning and from_end together");
	if (byte_finish(c, nb, "byte_jump", &o, bj.nbytes))
		return -EINVAL;
	bj.relative = o.relative;
	bj.endian = o.little ? RULE_ENDIAN_LITTLE : RULE_ENDIAN_BIG;
	bj.base = o.base;
	bj.has_bitmask = o.has_bitmask;
	bj.bitmask = o.bitmask;
	{
		struct rule_pm *pm = pm_new(c, RULE_PM_BYTE_JUMP);

		if (!pm)
			return -ENOMEM;
		pm->byte_jump = bj;
	}
	return 0;
}

int rp_kw_isdataat(struct rp_ctx *c, struct rp_span kw, struct rp_span v)
{
	struct rule_isdataat id = { 0 };
	struct rp_span n, w;
	struct rule_pm *pm;
	int64_t x;

	(void)kw;
	rp_span_next(&v, ',', &n);
	if (n.n && n.p[0] == '!') {
		id.negated = true;
		n = rp_span_trim((struct rp_span){ n.p + 1, n.n - 1, n.off + 1 });
	}
	if (no_var(c, n, "isdataat", "length") || rp_int(c, n, 10, 0, 65535, "isdataat", &x))
		return -EINVAL;
	id.n = (uint32_t)x;
	while (rp_span_next(&v, ',', &w)) {
		if (rp_span_ieq(w, "relative"))
			id.relative = true;
		else if (rp_span_ieq(w, "rawbytes"))
			id.rawbytes = true;
		else
			return rp_fail(c, w.off, RULE_SKIP_SYNTAX, NULL, "unknown isdataat option '%.*s'",
				       (int)w.n, w.p);
	}
	pm = pm_new(c, RULE_PM_ISDATAAT);
	if (!pm)
		return -ENOMEM;
	pm->isdataat = id;
	return 0;
}
