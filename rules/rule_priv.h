/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals shared by the files of rules/: the arena, text spans with
 * their offset in the rule, the per-rule parse context and the ruleset.
 * Not installed; nothing outside rules/ includes it.
 */
#ifndef VIGIL_RULE_PRIV_H
#define VIGIL_RULE_PRIV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rule.h"

/* ------------------------------------------------------------- arena */

/* Bump allocator: everything a loaded rule points to lives in its
 * ruleset's arena and is freed at once.  A mark taken before a rule and a
 * reset to it drop what a rule that failed to parse had allocated. */
struct rule_arena_chunk;
struct rule_arena {
	struct rule_arena_chunk *head;
	size_t bytes;            /* allocated from the system */
};
struct rule_arena_mark {
	struct rule_arena_chunk *head;
	size_t used;
};

void *rule_arena_alloc(struct rule_arena *a, size_t n);          /* zeroed; NULL on ENOMEM */
void *rule_arena_dup(struct rule_arena *a, const void *p, size_t n);
char *rule_arena_strndup(struct rule_arena *a, const char *s, size_t n);
char *rule_arena_printf(struct rule_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
struct rule_arena_mark rule_arena_mark(const struct rule_arena *a);
void rule_arena_reset(struct rule_arena *a, struct rule_arena_mark m);
void rule_arena_fini(struct rule_arena *a);

/* -------------------------------------------------------------- spans */

/* A piece of the rule text and where it starts in the rule (byte offset
 * in the logical, joined text), so every error can point at a column. */
struct rp_span {
	const char *p;
	size_t n;
	size_t off;
};

struct rp_span rp_span_trim(struct rp_span s);
bool rp_span_eq(struct rp_span s, const char *word);       /* exact */
bool rp_span_ieq(struct rp_span s, const char *word);      /* ASCII case-insensitive */
/* Splits at the first SEP (not quote-aware): *HEAD gets what precedes it
 * (trimmed), S what follows.  "" yields one empty item, "a," two; returns
 * false once the last item was returned. */
bool rp_span_next(struct rp_span *s, char sep, struct rp_span *head);

/* ------------------------------------------------------ the parse context */

struct ruleset;

/* One logical rule being parsed: the text, the rule under construction and
 * the first error (later ones are ignored). */
struct rp_ctx {
	struct ruleset *rs;
	const struct rule_load_opts *opts;
	struct rule_arena *arena;
	const char *text;
	size_t len;
	struct rule *r;

	/* payload inspections and repeated keywords, grown with realloc and
	 * copied to the arena when the rule is complete */
	struct rule_pm *pm;
	size_t n_pm, cap_pm;
	struct rule_flowbit *fb;
	size_t n_fb, cap_fb;
	struct rule_kv *meta;
	size_t n_meta, cap_meta;
	struct rule_kv *refs;
	size_t n_refs, cap_refs;

	int32_t last_content;    /* index in pm, -1 */
	int32_t fp_explicit;     /* index in pm, -1 */
	bool has_pcre_or_content;
	uint32_t seen;           /* once-only keywords seen (RP_SEEN_*) */
	bool prio_explicit;
	size_t start_off;        /* the action */
	size_t sid_off;

	/* the first error */
	bool failed;
	bool oom;
	enum rule_skip_reason why;
	size_t err_off;
	char err_msg[320];
	char err_kw[64];
	/* a warning to attach once the rule is loaded */
	bool warned;
	size_t warn_off;
	char warn_msg[256];
};

/* Records the first error at OFF (a byte offset in the rule) and returns
 * -EINVAL; KW (may be NULL) is the keyword or protocol to count it under.
 * rp_oom records running out of memory (the load stops) and returns
 * -ENOMEM.  rp_warn records a warning for a rule that still loads. */
int rp_fail(struct rp_ctx *c, size_t off, enum rule_skip_reason why, const char *kw,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int rp_oom(struct rp_ctx *c);
void rp_warn(struct rp_ctx *c, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Numbers: optional sign when MIN < 0; BASE 10, 16 (optional 0x), or 0
 * for C rules (0x hex, leading 0 octal).  WHAT names the value in the
 * error, which points at S. */
int rp_int(struct rp_ctx *c, struct rp_span s, int base, int64_t min, int64_t max,
	   const char *what, int64_t *out);

/* Keyword names are compared in lower case, copied to BUF. */
#define RP_MAXNAME 64
const char *rp_kwname(struct rp_span kw, char buf[RP_MAXNAME]);
/* V must be "..." (REQUIRED) or may be bare; *IN gets the text between the
 * quotes.  Rejects an unescaped '"' inside. */
int rp_quoted(struct rp_ctx *c, struct rp_span v, bool required, const char *kw,
	      struct rp_span *in);
/* Resolves \" \; \: \\ (the only escapes of rules) into the arena;
 * LENIENT (msg, as Suricata and Snort): any other '\x' is 'x'. */
int rp_unescape(struct rp_ctx *c, struct rp_span in, bool lenient, char **out, size_t *outlen);
/* ARR (N used, *CAP allocated, of ELEM bytes) with room for one more,
 * possibly moved; NULL when out of memory (ARR is then unchanged). */
void *rp_grow(struct rp_ctx *c, void *arr, size_t *cap, size_t n, size_t elem);

/* rule_payload.c: the payload keywords (see rp_option for the contract). */
int rp_kw_content(struct rp_ctx *c, struct rp_span kw, struct rp_span v);
int rp_kw_nocase(struct rp_ctx *c, struct rp_span kw, struct rp_span v);   /* and rawbytes */
int rp_kw_position(struct rp_ctx *c, struct rp_span kw, struct rp_span v); /* offset, depth, ... */
int rp_kw_fast_pattern(struct rp_ctx *c, struct rp_span kw, struct rp_span v);
int rp_kw_pcre(struct rp_ctx *c, struct rp_span kw, struct rp_span v);
int rp_kw_byte_test(struct rp_ctx *c, struct rp_span kw, struct rp_span v);
int rp_kw_byte_jump(struct rp_ctx *c, struct rp_span kw, struct rp_span v);
int rp_kw_isdataat(struct rp_ctx *c, struct rp_span kw, struct rp_span v);

/* rule_opts.c: runs the keyword KW with VALUE (HAS_VALUE false when the
 * option had no ':'; VALUE is then empty with p == NULL).  Handlers get
 * the keyword (for error columns) and the raw value, return 0 or the
 * rp_fail/rp_oom code, and append to or modify C. */
int rp_option(struct rp_ctx *c, struct rp_span kw, bool has_value, struct rp_span value);
/* After the last option: resolves the fast pattern and the priority and
 * copies the arrays into the arena. */
int rp_finish(struct rp_ctx *c);
void rp_ctx_free(struct rp_ctx *c);

/* rule_parse.c: parses the logical rule C->text into C->r. */
int rp_rule(struct rp_ctx *c);

/* ---------------------------------------------- address and port sets */

/* Parses an address or port expression of the rule at S, resolving
 * variables through OPTS->vars, interned in the ruleset by text. */
int rp_addrset(struct rp_ctx *c, struct rp_span s, const struct rule_addrset **out);
int rp_portset(struct rp_ctx *c, struct rp_span s, const struct rule_portset **out);

/* The intern table of the sets of one ruleset (rule_addr.c). */
struct rule_set_cache;
void rule_set_cache_destroy(struct rule_set_cache *sc);

/* rule_class.c: Suricata's standard classes, without a table object. */
const struct rule_class *rule_class_find_builtin(const char *name);

/* ------------------------------------------------------------ ruleset */

/* Accessors rule_set.c gives the parser. */
struct rule_set_cache **ruleset_set_cache(struct ruleset *rs);

/* Value of a hexadecimal (or lower-base) digit; 99 when ch is none. */
int rule_digit_val(char ch);

#endif
