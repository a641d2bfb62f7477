/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The load: files and buffers split into physical lines, joined into
 * logical rules (trailing '\'), comments and includes handled, each rule
 * parsed (rule_parse.c) and either kept or skipped with a diagnostic;
 * duplicate (gid, sid); the report.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"   /* dataplane/base: mix64 */
#include "rule_priv.h"

#define MAX_INCLUDE_DEPTH 8

struct sid_ent {
	uint64_t key;            /* gid << 32 | sid; 0 = empty (sid is never 0) */
	uint32_t idx;
};

struct ruleset {
	struct rule_arena arena;
	struct rule **rules;
	size_t n, cap;
	struct rule_diag *diags;
	size_t nd, capd;
	struct rule_set_cache *sets;
	struct sid_ent *sids;
	size_t nsid, capsid;     /* capsid: power of two */
	struct ruleset_stats st;
};

struct rule_set_cache **ruleset_set_cache(struct ruleset *rs)
{
	return &rs->sets;
}

const char *rule_skip_reason_name(enum rule_skip_reason r)
{
	static const char *const names[RULE_SKIP__COUNT] = {
		[RULE_SKIP_NONE] = "warning",
		[RULE_SKIP_SYNTAX] = "syntax error",
		[RULE_SKIP_INVALID] = "invalid value",
		[RULE_SKIP_UNSUPPORTED_PROTO] = "unsupported protocol",
		[RULE_SKIP_APP_LAYER] = "app-layer keyword",
		[RULE_SKIP_UNKNOWN_KEYWORD] = "unknown keyword",
		[RULE_SKIP_UNSUPPORTED] = "unsupported keyword",
		[RULE_SKIP_MISSING_SID] = "missing sid",
		[RULE_SKIP_DUPLICATE_SID] = "duplicate sid",
		[RULE_SKIP_BAD_VARIABLE] = "bad variable",
		[RULE_SKIP_BAD_PCRE] = "bad pcre",
		[RULE_SKIP_INCLUDE] = "include failed",
	};

	return (unsigned)r < RULE_SKIP__COUNT ? names[r] : "?";
}

/* ------------------------------------------------------------ sid table */

static struct sid_ent *sid_slot(const struct ruleset *rs, uint64_t key)
{
	if (!rs->capsid)
		return NULL;
	for (size_t i = mix64(key) & (rs->capsid - 1);; i = (i + 1) & (rs->capsid - 1))
		if (rs->sids[i].key == key || rs->sids[i].key == 0)
			return &rs->sids[i];
}

static int sid_put(struct ruleset *rs, uint64_t key, uint32_t idx)
{
	struct sid_ent *e;

	if ((rs->nsid + 1) * 2 > rs->capsid) {
		size_t cap = rs->capsid ? rs->capsid * 2 : 1024;
		struct sid_ent *ns = calloc(cap, sizeof(*ns)), *old = rs->sids;
		size_t oldcap = rs->capsid;

		if (!ns)
			return -ENOMEM;
		rs->sids = ns;
		rs->capsid = cap;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].key)
				*sid_slot(rs, old[i].key) = old[i];
		free(old);
	}
	e = sid_slot(rs, key);
	e->key = key;
	e->idx = idx;
	rs->nsid++;
	return 0;
}

const struct rule *ruleset_find(const struct ruleset *rs, uint32_t gid, uint32_t sid)
{
	const struct sid_ent *e = rs ? sid_slot(rs, (uint64_t)gid << 32 | sid) : NULL;

	return e && e->key ? rs->rules[e->idx] : NULL;
}

/* ------------------------------------------------------------ diagnostics */

/* physical pieces of a logical rule: where each starts in the joined text */
struct seg {
	size_t loff;
	uint32_t line;
};

struct loader {
	struct ruleset *rs;
	const struct rule_load_opts *opts;
	char *err;
	size_t errlen;
	const char *stack[MAX_INCLUDE_DEPTH + 2];   /* canonical paths being read */
	int nstack;
	/* the logical rule being assembled */
	char *lb;
	size_t lbn, lbcap;
	struct seg *segs;
	size_t nseg, capseg;
};

static int add_diag(struct loader *L, const char *file, uint32_t line, uint32_t col,
		    enum rule_skip_reason why, const char *kw, uint32_t sid, const char *msg)
{
	struct ruleset *rs = L->rs;
	struct rule_diag *d;

	if (rs->nd == rs->capd) {
		size_t cap = rs->capd ? rs->capd * 2 : 256;
		struct rule_diag *nd = realloc(rs->diags, cap * sizeof(*nd));

		if (!nd)
			return -ENOMEM;
		rs->diags = nd;
		rs->capd = cap;
	}
	d = &rs->diags[rs->nd];
	d->file = file;
	d->line = line;
	d->col = col;
	d->where = rule_arena_printf(&rs->arena, "%s:%u:%u", file, line, col);
	d->msg = rule_arena_strndup(&rs->arena, msg, strlen(msg));
	d->reason = why;
	d->keyword = kw && kw[0] ? rule_arena_strndup(&rs->arena, kw, strlen(kw)) : NULL;
	d->sid = sid;
	if (!d->where || !d->msg || (kw && kw[0] && !d->keyword))
		return -ENOMEM;
	rs->nd++;
	rs->st.by_reason[why]++;
	if (why == RULE_SKIP_NONE)
		rs->st.warnings++;
	if (why != RULE_SKIP_NONE && L->opts->strict) {
		if (L->err && L->errlen)
			snprintf(L->err, L->errlen, "%s: %s", d->where, d->msg);
		return -EINVAL;
	}
	return 0;
}

static void where_of(const struct loader *L, size_t off, uint32_t *line, uint32_t *col)
{
	size_t k = 0;

	for (size_t i = 1; i < L->nseg; i++)
		if (L->segs[i].loff <= off)
			k = i;
	*line = L->segs[k].line;
	*col = (uint32_t)(off - L->segs[k].loff + 1);
}

/* Best effort: the sid of a rule that failed before its sid was read. */
static uint32_t guess_sid(const char *t, size_t n)
{
	for (size_t i = 0; i + 4 < n; i++) {
		uint64_t v = 0;
		size_t j;

		if (memcmp(t + i, "sid", 3) != 0 || (i && t[i - 1] != ';' && t[i - 1] != '(' &&
						     t[i - 1] != ' ' && t[i - 1] != '\t'))
			continue;
		for (j = i + 3; j < n && (t[j] == ' ' || t[j] == '\t'); j++)
			;
		if (j >= n || t[j] != ':')
			continue;
		for (j++; j < n && (t[j] == ' ' || t[j] == '\t'); j++)
			;
		for (; j < n && t[j] >= '0' && t[j] <= '9' && v <= UINT32_MAX; j++)
			v = v * 10 + (uint64_t)(t[j] - '0');
		if (v && v <= UINT32_MAX)
			return (uint32_t)v;
	}
	return 0;
}

/* ------------------------------------------------------------ one rule */

static int process_rule(struct loader *L, const char *file)
{
	struct ruleset *rs = L->rs;
	struct rule_arena_mark mark = rule_arena_mark(&rs->arena);
	struct rp_ctx c = { .rs = rs, .opts = L->opts, .arena = &rs->arena, .text = L->lb,
			    .len = L->lbn };
	uint32_t line, col;
	int rc;

	rs->st.rules++;
	c.r = rule_arena_alloc(&rs->arena, sizeof(*c.r));
	if (!c.r)
		return -ENOMEM;
	rc = rp_rule(&c);
	rp_ctx_free(&c);
	if (c.oom) {
		rule_arena_reset(&rs->arena, mark);
		return -ENOMEM;
	}
	if (rc == 0) {
		uint64_t key = (uint64_t)c.r->gid << 32 | c.r->sid;
		const struct sid_ent *e = sid_slot(rs, key);

		if (e && e->key) {
			const struct rule *first = rs->rules[e->idx];
			uint32_t gid = c.r->gid, sid = c.r->sid;
			char msg[512];

			snprintf(msg, sizeof(msg), "duplicate sid %u (gid %u): first defined at %s:%u", sid,
				 gid, first->file, first->line);
			rule_arena_reset(&rs->arena, mark);
			rs->st.skipped++;
			where_of(L, c.sid_off, &line, &col);
			return add_diag(L, file, line, col, RULE_SKIP_DUPLICATE_SID, NULL, sid, msg);
		}
		c.r->file = file;
		c.r->line = L->segs[0].line;
		c.r->text = rule_arena_strndup(&rs->arena, L->lb, L->lbn);
		if (!c.r->text)
			return -ENOMEM;
		if (rs->n == rs->cap) {
			size_t cap = rs->cap ? rs->cap * 2 : 1024;
			struct rule **nr = realloc(rs->rules, cap * sizeof(*nr));

			if (!nr)
				return -ENOMEM;
			rs->rules = nr;
			rs->cap = cap;
		}
		if (sid_put(rs, key, (uint32_t)rs->n))
			return -ENOMEM;
		rs->rules[rs->n++] = c.r;
		rs->st.loaded++;
		if (!c.r->mpm)
			rs->st.non_mpm++;
		if (c.warned) {
			where_of(L, c.warn_off, &line, &col);
			return add_diag(L, file, line, col, RULE_SKIP_NONE, NULL, c.r->sid, c.warn_msg);
		}
		return 0;
	}
	rule_arena_reset(&rs->arena, mark);
	rs->st.skipped++;
	where_of(L, c.err_off, &line, &col);
	return add_diag(L, file, line, col, c.why, c.err_kw, guess_sid(L->lb, L->lbn), c.err_msg);
}

/* ------------------------------------------------------------ includes */

static int read_file(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 0, got;
	int rc = 0;

	*buf = NULL;
	*len = 0;
	if (!f)
		return -errno;
	for (;;) {
		if (cap - *len < 65536) {
			char *nb = realloc(*buf, cap ? cap * 2 : 131072);

			if (!nb) {
				rc = -ENOMEM;
				break;
			}
			*buf = nb;
			cap = cap ? cap * 2 : 131072;
		}
		got = fread(*buf + *len, 1, cap - *len, f);
		*len += got;
		if (got == 0) {
			if (ferror(f))
				rc = -EIO;
			break;
		}
	}
	fclose(f);
	if (rc) {
		free(*buf);
		*buf = NULL;
	}
	return rc;
}

static int load_text(struct loader *L, const char *file, const char *buf, size_t len, int depth);

static int include_file(struct loader *L, const char *from, uint32_t line, uint32_t col,
			const char *arg, size_t n, int depth)
{
	struct ruleset *rs = L->rs;
	const char *slash = strrchr(from, '/');
	char *path, *canon = NULL, *buf = NULL, msg[PATH_MAX + 128];
	size_t len;
	int rc;

	if (L->opts->no_include)
		return add_diag(L, from, line, col, RULE_SKIP_INCLUDE, NULL, 0, "include is disabled");
	if (arg[0] == '/' || !slash)
		path = rule_arena_printf(&rs->arena, "%.*s", (int)n, arg);
	else
		path = rule_arena_printf(&rs->arena, "%.*s/%.*s", (int)(slash - from), from, (int)n, arg);
	if (!path)
		return -ENOMEM;
	if (depth + 1 > MAX_INCLUDE_DEPTH) {
		snprintf(msg, sizeof(msg), "include depth exceeds %d at '%s'", MAX_INCLUDE_DEPTH, path);
		return add_diag(L, from, line, col, RULE_SKIP_INCLUDE, NULL, 0, msg);
	}
	canon = realpath(path, NULL);
	if (!canon) {
		snprintf(msg, sizeof(msg), "cannot include '%s': %s", path, strerror(errno));
		return add_diag(L, from, line, col, RULE_SKIP_INCLUDE, NULL, 0, msg);
	}
	for (int i = 0; i < L->nstack; i++) {
		if (strcmp(L->stack[i], canon) == 0) {
			size_t w = (size_t)snprintf(msg, sizeof(msg), "include cycle: ");

			for (int j = i; j < L->nstack && w < sizeof(msg); j++)
				w += (size_t)snprintf(msg + w, sizeof(msg) - w, "%s -> ", L->stack[j]);
			if (w < sizeof(msg))
				snprintf(msg + w, sizeof(msg) - w, "%s", canon);
			free(canon);
			return add_diag(L, from, line, col, RULE_SKIP_INCLUDE, NULL, 0, msg);
		}
	}
	rc = read_file(path, &buf, &len);
	if (rc) {
		free(canon);
		if (rc == -ENOMEM)
			return rc;
		snprintf(msg, sizeof(msg), "cannot include '%s': %s", path, strerror(-rc));
		return add_diag(L, from, line, col, RULE_SKIP_INCLUDE, NULL, 0, msg);
	}
	L->stack[L->nstack++] = canon;
	rc = load_text(L, path, buf, len, depth + 1);
	L->nstack--;
	free(canon);
	free(buf);
	return rc;
}

/* ------------------------------------------------------------ the text */

static bool blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

static int lb_append(struct loader *L, const char *p, size_t n, uint32_t line)
{
	if (L->nseg == L->capseg) {
		size_t cap = L->capseg ? L->capseg * 2 : 8;
		struct seg *ns = realloc(L->segs, cap * sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		L->segs = ns;
		L->capseg = cap;
	}
	L->segs[L->nseg].loff = L->lbn;
	L->segs[L->nseg].line = line;
	L->nseg++;
	if (L->lbn + n + 1 > L->lbcap) {
		size_t cap = L->lbcap ? L->lbcap : 1024;
		char *nb;

		while (cap < L->lbn + n + 1)
			cap *= 2;
		nb = realloc(L->lb, cap);
		if (!nb)
			return -ENOMEM;
		L->lb = nb;
		L->lbcap = cap;
	}
	memcpy(L->lb + L->lbn, p, n);
	L->lbn += n;
	L->lb[L->lbn] = '\0';
	return 0;
}

/* Is the text after '#' a rule that was commented out? */
static bool looks_like_rule(const char *p, size_t n)
{
	static const char *const actions[] = { "alert ", "drop ", "pass ", "reject ", "rejectsrc ",
					       "rejectdst ", "rejectboth " };

	while (n && (*p == '#' || blank(*p))) {
		p++;
		n--;
	}
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (n > strlen(actions[i]) && memcmp(p, actions[i], strlen(actions[i])) == 0)
			return true;
	return false;
}

/* A complete logical line: an include or a rule. */
static int logical(struct loader *L, const char *file, int depth)
{
	const char *t = L->lb;
	size_t n = L->lbn, i = 0;

	while (i < n && blank(t[i]))
		i++;
	if (n - i > 8 && memcmp(t + i, "include", 7) == 0 && blank(t[i + 7])) {
		size_t a = i + 8, b = n;
		uint32_t line, col;
		char *arg;
		int rc;

		while (a < b && blank(t[a]))
			a++;
		while (b > a && blank(t[b - 1]))
			b--;
		if (b - a >= 2 && t[a] == '"' && t[b - 1] == '"') {
			a++;
			b--;
		}
		where_of(L, a, &line, &col);
		if (a == b)
			return add_diag(L, file, line, col, RULE_SKIP_INCLUDE, NULL, 0,
					"include needs a file name");
		arg = strndup(t + a, b - a);
		if (!arg)
			return -ENOMEM;
		rc = include_file(L, file, line, col, arg, strlen(arg), depth);
		free(arg);
		return rc;
	}
	return process_rule(L, file);
}

static int load_text(struct loader *L, const char *name, const char *buf, size_t len, int depth)
{
	const char *file = rule_arena_strndup(&L->rs->arena, name, strlen(name));
	uint32_t lineno = 0;
	bool cont = false;
	size_t i = 0;
	int rc = 0;

	if (!file)
		return -ENOMEM;
	L->rs->st.files++;
	while (i < len && rc == 0) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - buf) : len, s = i, t;
		bool more;

		i = e + 1;
		lineno++;
		L->rs->st.lines++;
		if (e > s && buf[e - 1] == '\r')
			e--;
		if (!cont) {
			size_t k = s;

			while (k < e && blank(buf[k]))
				k++;
			if (k == e)
				continue;
			if (buf[k] == '#') {
				if (looks_like_rule(buf + k, e - k))
					L->rs->st.commented_rules++;
				continue;
			}
			L->lbn = 0;
			L->nseg = 0;
		}
		for (t = e; t > s && blank(buf[t - 1]); t--)
			;
		more = t > s && buf[t - 1] == '\\';
		rc = lb_append(L, buf + s, more ? t - 1 - s : e - s, lineno);
		if (rc)
			break;
		cont = more;
		if (!more)
			rc = logical(L, file, depth);
	}
	if (rc == 0 && cont)
		rc = logical(L, file, depth);
	return rc;
}

/* ------------------------------------------------------------ API */

static int load(struct ruleset **out, const char *name, const char *canon, const char *buf,
		size_t len, const struct rule_load_opts *opts, char *err, size_t errlen)
{
	static const struct rule_load_opts defaults = { 0 };
	struct loader L = { .opts = opts ? opts : &defaults, .err = err, .errlen = errlen };
	int rc;

	*out = NULL;
	L.rs = calloc(1, sizeof(*L.rs));
	if (!L.rs)
		return -ENOMEM;
	if (canon)
		L.stack[L.nstack++] = canon;
	rc = load_text(&L, name, buf, len, 0);
	free(L.lb);
	free(L.segs);
	if (rc) {
		if (rc == -ENOMEM && err && errlen)
			snprintf(err, errlen, "out of memory");
		ruleset_destroy(L.rs);
		return rc;
	}
	*out = L.rs;
	return 0;
}

int ruleset_load_buffer(struct ruleset **out, const char *name, const char *buf, size_t len,
			const struct rule_load_opts *opts, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	return load(out, name ? name : "<buffer>", NULL, buf, len, opts, err, errlen);
}

int ruleset_load_file(struct ruleset **out, const char *path, const struct rule_load_opts *opts,
		      char *err, size_t errlen)
{
	char *buf, *canon;
	size_t len;
	int rc;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	rc = read_file(path, &buf, &len);
	if (rc) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	canon = realpath(path, NULL);
	rc = load(out, path, canon, buf, len, opts, err, errlen);
	free(canon);
	free(buf);
	return rc;
}

size_t ruleset_count(const struct ruleset *rs)
{
	return rs ? rs->n : 0;
}

const struct rule *ruleset_get(const struct ruleset *rs, size_t i)
{
	return rs && i < rs->n ? rs->rules[i] : NULL;
}

size_t ruleset_diag_count(const struct ruleset *rs)
{
	return rs ? rs->nd : 0;
}

const struct rule_diag *ruleset_diag(const struct ruleset *rs, size_t i)
{
	return rs && i < rs->nd ? &rs->diags[i] : NULL;
}

void ruleset_get_stats(const struct ruleset *rs, struct ruleset_stats *st)
{
	if (rs)
		*st = rs->st;
	else
		memset(st, 0, sizeof(*st));
}

/* ------------------------------------------------------------ report */

struct name_count {
	enum rule_skip_reason why;
	const char *name;
	size_t count;
};

static int by_reason_name(const void *a, const void *b)
{
	const struct rule_diag *x = *(const struct rule_diag *const *)a;
	const struct rule_diag *y = *(const struct rule_diag *const *)b;

	if (x->reason != y->reason)
		return (int)x->reason - (int)y->reason;
	return strcmp(x->keyword, y->keyword);
}

static int by_count(const void *a, const void *b)
{
	const struct name_count *x = a, *y = b;

	if (x->why != y->why)
		return (int)x->why - (int)y->why;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->name, y->name);
}

void ruleset_report(const struct ruleset *rs, FILE *f)
{
	const struct ruleset_stats *st = &rs->st;
	const struct rule_diag **kd = NULL;
	struct name_count *nc = NULL;
	size_t nk = 0, nn = 0;

	fprintf(f, "rules: %zu files, %zu lines, %zu rule statements (%zu more commented out)\n",
		st->files, st->lines, st->rules, st->commented_rules);
	fprintf(f, "  loaded  %zu (%zu without a fast pattern: non-MPM list)\n", st->loaded,
		st->non_mpm);
	fprintf(f, "  skipped %zu\n", st->skipped);
	kd = malloc((rs->nd ? rs->nd : 1) * sizeof(*kd));
	nc = malloc((rs->nd ? rs->nd : 1) * sizeof(*nc));
	if (kd && nc) {
		for (size_t i = 0; i < rs->nd; i++)
			if (rs->diags[i].keyword)
				kd[nk++] = &rs->diags[i];
		qsort(kd, nk, sizeof(*kd), by_reason_name);
		for (size_t i = 0; i < nk; i++) {
			if (nn && nc[nn - 1].why == kd[i]->reason && strcmp(nc[nn - 1].name, kd[i]->keyword) == 0)
				nc[nn - 1].count++;
			else
				nc[nn++] = (struct name_count){ kd[i]->reason, kd[i]->keyword, 1 };
		}
		qsort(nc, nn, sizeof(*nc), by_count);
	}
	for (int r = RULE_SKIP_SYNTAX; r < RULE_SKIP__COUNT; r++) {
		size_t shown = 0, distinct = 0;

		if (!st->by_reason[r])
			continue;
		fprintf(f, "    %-22s %6zu", rule_skip_reason_name((enum rule_skip_reason)r),
			st->by_reason[r]);
		for (size_t i = 0; kd && nc && i < nn; i++) {
			if (nc[i].why != (enum rule_skip_reason)r)
				continue;
			distinct++;
			if (shown < 10)
				fprintf(f, "%s%s %zu", shown++ ? ", " : "  ", nc[i].name, nc[i].count);
		}
		if (distinct > shown)
			fprintf(f, ", ... (%zu names)", distinct);
		fputc('\n', f);
	}
	if (st->warnings)
		fprintf(f, "  warnings %zu\n", st->warnings);
	free(kd);
	free(nc);
}

void ruleset_destroy(struct ruleset *rs)
{
	if (!rs)
		return;
	rule_set_cache_destroy(rs->sets);
	rule_arena_fini(&rs->arena);
	free(rs->rules);
	free(rs->diags);
	free(rs->sids);
	free(rs);
}
