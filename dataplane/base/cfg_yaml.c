/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configuration store: YAML loading (see cfg.h for what is accepted).
 *
 * libyaml events -> key records (every mapping key at every level, with its
 * full dotted path and position) and raw values (leaves) -> duplicate check
 * on the full paths -> schema check of each raw value in file order ->
 * sorted array of typed values.  Only the first error is reported: a syntax
 * error stops the parse; otherwise the earliest (in file order) of the first
 * duplicate and the first invalid value wins.  The event API lets us stop at
 * the first alias or anchor, so nothing is ever expanded.
 */
#include "cfg_priv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

static int cmp_val(const void *a, const void *b)
{
	return strcmp(((const struct cfg_val *)a)->key, ((const struct cfg_val *)b)->key);
}

/* A mapping key, at any level: its full path and position. */
struct cfg_keyrec {
	char *path;
	unsigned line, col;
};

/* A leaf: the value of recs[rec]. */
struct cfg_raw {
	size_t rec;
	char *text;             /* scalar; NULL for sequences and nulls */
	char **items;           /* sequence items */
	size_t nitems, capitems;
	bool is_seq, is_null;
	unsigned line, col;     /* position of the value */
};

struct cfg_frame {
	bool is_seq;
	bool want_key;          /* mapping: the next node is a key */
	size_t base;            /* mapping: path length of its prefix */
	size_t nkeys;           /* mapping: keys seen */
	size_t keyrec;          /* mapping: rec of the current key */
	size_t raw;             /* sequence: its raw value */
	unsigned line, col;
};

struct cfg_parse {
	const struct cfg *c;
	const char *name;
	const unsigned char *buf;
	size_t len;
	char *err;
	size_t errlen;
	unsigned ndocs;
	size_t nitems;          /* list items so far, all lists */
	char path[CFG_MAX_KEY_LEN + 1];
	size_t pathlen;
	struct cfg_frame frames[CFG_MAX_DEPTH];
	size_t depth;
	struct cfg_keyrec *recs;
	size_t nrecs, caprecs;
	struct cfg_raw *raws;
	size_t nraws, capraws;
};

__attribute__((format(printf, 4, 5)))
static int perr(struct cfg_parse *p, unsigned line, unsigned col, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cfg_seterr(p->err, p->errlen, "%s:%u:%u: %s", p->name, line, col, msg);
	return -EINVAL;
}

static int pnomem(struct cfg_parse *p)
{
	cfg_seterr(p->err, p->errlen, "%s: out of memory", p->name);
	return -ENOMEM;
}

static void parse_free(struct cfg_parse *p)
{
	for (size_t i = 0; i < p->nrecs; i++)
		free(p->recs[i].path);
	free(p->recs);
	for (size_t i = 0; i < p->nraws; i++) {
		free(p->raws[i].text);
		for (size_t j = 0; j < p->raws[i].nitems; j++)
			free(p->raws[i].items[j]);
		free(p->raws[i].items);
	}
	free(p->raws);
}

#define LINE(m) ((unsigned)(m).line + 1)
#define COL(m)  ((unsigned)(m).column + 1)

static int check_props(struct cfg_parse *p, const yaml_char_t *anchor, const yaml_char_t *tag,
		       const yaml_mark_t *m)
{
	if (anchor)
		return perr(p, LINE(*m), COL(*m), "anchors are not supported (&%.32s)", (const char *)anchor);
	if (tag)
		return perr(p, LINE(*m), COL(*m), "tags are not supported (%.64s)", (const char *)tag);
	return 0;
}

static bool is_null_scalar(const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return n == 0 || (n == 1 && s[0] == '~') ||
	       (n == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4)));
}

/* New raw value for the current key of mapping frame f. */
static struct cfg_raw *add_raw(struct cfg_parse *p, const struct cfg_frame *f, unsigned line, unsigned col)
{
	struct cfg_raw *r;

	if (p->nraws == p->capraws) {
		size_t cap = p->capraws ? 2 * p->capraws : 64;
		struct cfg_raw *nr = realloc(p->raws, cap * sizeof(*nr));

		if (!nr)
			return NULL;
		p->raws = nr;
		p->capraws = cap;
	}
	r = &p->raws[p->nraws++];
	memset(r, 0, sizeof(*r));
	r->rec = f->keyrec;
	r->line = line;
	r->col = col;
	return r;
}

/* The value of mapping frame f's current key is complete. */
static void end_value(struct cfg_parse *p, struct cfg_frame *f)
{
	p->pathlen = f->base;
	p->path[p->pathlen] = '\0';
	f->want_key = true;
}

static int map_key(struct cfg_parse *p, struct cfg_frame *f, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length, newlen;
	unsigned line = LINE(ev->start_mark), col = COL(ev->start_mark);
	const char *why;

	if (p->nrecs >= CFG_MAX_KEYS)
		return perr(p, line, col, "too many keys (more than %u)", CFG_MAX_KEYS);
	newlen = f->base + (f->base ? 1 : 0) + len;
	if (newlen > CFG_MAX_KEY_LEN)
		return perr(p, line, col, "key '%.48s...' is too long (more than %u bytes)",
			    f->base ? p->path : s, CFG_MAX_KEY_LEN);
	why = cfg_key_problem(s, len);
	if (why)
		return perr(p, line, col, "invalid key '%.*s%s': %s", (int)(len > 64 ? 64 : len), s,
			    len > 64 ? "..." : "", why);
	if (p->nrecs == p->caprecs) {
		size_t cap = p->caprecs ? 2 * p->caprecs : 64;
		struct cfg_keyrec *nr = realloc(p->recs, cap * sizeof(*nr));

		if (!nr)
			return pnomem(p);
		p->recs = nr;
		p->caprecs = cap;
	}
	if (f->base)
		p->path[f->base] = '.';
	memcpy(p->path + newlen - len, s, len);
	p->path[newlen] = '\0';
	p->pathlen = newlen;
	p->recs[p->nrecs].path = cfg_strndup(p->path, newlen);
	if (!p->recs[p->nrecs].path)
		return pnomem(p);
	p->recs[p->nrecs].line = line;
	p->recs[p->nrecs].col = col;
	f->keyrec = p->nrecs++;
	f->want_key = false;
	f->nkeys++;
	return 0;
}

static int seq_item(struct cfg_parse *p, struct cfg_frame *f, const yaml_event_t *ev)
{
	struct cfg_raw *r = &p->raws[f->raw];
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;

	if (len == 0 || is_null_scalar(ev))
		return perr(p, LINE(ev->start_mark), COL(ev->start_mark), "empty item in sequence");
	if (memchr(s, '\0', len))
		return perr(p, LINE(ev->start_mark), COL(ev->start_mark), "NUL byte in value");
	if (++p->nitems > CFG_MAX_ITEMS)
		return perr(p, LINE(ev->start_mark), COL(ev->start_mark), "too many list items (more than %u)",
			    CFG_MAX_ITEMS);
	if (r->nitems == r->capitems) {
		size_t cap = r->capitems ? 2 * r->capitems : 8;
		char **ni = realloc(r->items, cap * sizeof(*ni));

		if (!ni)
			return pnomem(p);
		r->items = ni;
		r->capitems = cap;
	}
	r->items[r->nitems] = cfg_strndup(s, len);
	if (!r->items[r->nitems])
		return pnomem(p);
	r->nitems++;
	return 0;
}

static int on_scalar(struct cfg_parse *p, const yaml_event_t *ev)
{
	const yaml_mark_t *m = &ev->start_mark;
	struct cfg_frame *f;
	struct cfg_raw *r;
	int rc;

	rc = check_props(p, ev->data.scalar.anchor, ev->data.scalar.tag, m);
	if (rc)
		return rc;
	if (p->depth == 0) {
		if (is_null_scalar(ev))
			return 0;   /* empty document */
		return perr(p, LINE(*m), COL(*m), "the top level must be a mapping");
	}
	f = &p->frames[p->depth - 1];
	if (f->is_seq)
		return seq_item(p, f, ev);
	if (f->want_key)
		return map_key(p, f, ev);
	if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length))
		return perr(p, LINE(*m), COL(*m), "NUL byte in value");
	r = add_raw(p, f, LINE(*m), COL(*m));
	if (!r)
		return pnomem(p);
	if (is_null_scalar(ev)) {
		r->is_null = true;
	} else {
		r->text = cfg_strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
		if (!r->text)
			return pnomem(p);
	}
	end_value(p, f);
	return 0;
}

/* Mapping or sequence start. */
static int on_start(struct cfg_parse *p, const yaml_event_t *ev, bool is_seq)
{
	const yaml_mark_t *m = &ev->start_mark;
	const yaml_char_t *anchor = is_seq ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor;
	const yaml_char_t *tag = is_seq ? ev->data.sequence_start.tag : ev->data.mapping_start.tag;
	struct cfg_frame *parent = p->depth ? &p->frames[p->depth - 1] : NULL;
	struct cfg_frame *f;
	int rc;

	rc = check_props(p, anchor, tag, m);
	if (rc)
		return rc;
	if (!parent && is_seq)
		return perr(p, LINE(*m), COL(*m), "the top level must be a mapping");
	if (parent && parent->is_seq)
		return perr(p, LINE(*m), COL(*m), is_seq ? "nested sequences are not supported"
			    : "sequences of mappings are not supported");
	if (parent && parent->want_key)
		return perr(p, LINE(*m), COL(*m), "keys must be scalars");
	if (p->depth == CFG_MAX_DEPTH)
		return perr(p, LINE(*m), COL(*m), "nesting deeper than %u levels", CFG_MAX_DEPTH);
	f = &p->frames[p->depth];
	memset(f, 0, sizeof(*f));
	f->is_seq = is_seq;
	f->want_key = !is_seq;
	f->base = p->pathlen;
	f->line = LINE(*m);
	f->col = COL(*m);
	if (is_seq) {
		struct cfg_raw *r = add_raw(p, parent, LINE(*m), COL(*m));

		if (!r)
			return pnomem(p);
		r->is_seq = true;
		f->raw = p->nraws - 1;
	}
	p->depth++;
	return 0;
}

/* Mapping or sequence end. */
static int on_end(struct cfg_parse *p, const yaml_event_t *ev)
{
	struct cfg_frame *f;

	if (p->depth == 0)   /* libyaml balances events; never trust it blindly */
		return perr(p, LINE(ev->start_mark), COL(ev->start_mark), "unbalanced YAML events");
	f = &p->frames[p->depth - 1];
	if (!f->is_seq && f->nkeys == 0 && p->depth > 1) {
		/* "section: {}": like a null value */
		struct cfg_raw *r = add_raw(p, &p->frames[p->depth - 2], f->line, f->col);

		if (!r)
			return pnomem(p);
		r->is_null = true;
	}
	p->depth--;
	if (p->depth)
		end_value(p, &p->frames[p->depth - 1]);
	return 0;
}

static int on_event(struct cfg_parse *p, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++p->ndocs > 1)
			return perr(p, LINE(ev->start_mark), COL(ev->start_mark),
				    "only one YAML document is allowed");
		return 0;
	case YAML_ALIAS_EVENT:
		return perr(p, LINE(ev->start_mark), COL(ev->start_mark), "aliases are not supported (*%.32s)",
			    (const char *)ev->data.alias.anchor);
	case YAML_SCALAR_EVENT:
		return on_scalar(p, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(p, ev, true);
	case YAML_MAPPING_START_EVENT:
		return on_start(p, ev, false);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(p, ev);
	default:
		return 0;
	}
}

/* Report libyaml's error. */
static int syntax_error(struct cfg_parse *p, const yaml_parser_t *yp)
{
	const char *problem = yp->problem ? yp->problem : "unknown error";
	unsigned line = 1, col = 1;

	switch (yp->error) {
	case YAML_MEMORY_ERROR:
		return pnomem(p);
	case YAML_READER_ERROR:
		/* only a byte offset: count lines ourselves */
		for (size_t i = 0; i < yp->problem_offset && i < p->len; i++) {
			if (p->buf[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		if (yp->problem_value != -1)
			return perr(p, line, col, "invalid input: %s (#%X)", problem, (unsigned)yp->problem_value);
		return perr(p, line, col, "invalid input: %s", problem);
	default:
		if (yp->context)
			return perr(p, LINE(yp->problem_mark), COL(yp->problem_mark),
				    "syntax error: %s (%s at line %u column %u)", problem, yp->context,
				    LINE(yp->context_mark), COL(yp->context_mark));
		return perr(p, LINE(yp->problem_mark), COL(yp->problem_mark), "syntax error: %s", problem);
	}
}

static int parse_events(struct cfg_parse *p)
{
	yaml_parser_t yp;
	yaml_event_t ev;
	bool done = false;
	int rc = 0;

	if (!yaml_parser_initialize(&yp))
		return pnomem(p);
	yaml_parser_set_input_string(&yp, p->buf, p->len);
	while (!done && !rc) {
		if (!yaml_parser_parse(&yp, &ev)) {
			rc = syntax_error(p, &yp);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		rc = on_event(p, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&yp);
	return rc;
}

static int cmp_recp(const void *a, const void *b)
{
	const struct cfg_keyrec *x = *(const struct cfg_keyrec *const *)a;
	const struct cfg_keyrec *y = *(const struct cfg_keyrec *const *)b;
	int r = strcmp(x->path, y->path);

	if (r)
		return r;
	return x < y ? -1 : x > y;
}

/*
 * Find the earliest second occurrence of a key path: sets *dup to its rec
 * index (SIZE_MAX if none) and *first to the rec it repeats.
 */
static int find_dup(struct cfg_parse *p, size_t *dupi, size_t *first)
{
	struct cfg_keyrec **v;

	*dupi = SIZE_MAX;
	if (p->nrecs < 2)
		return 0;
	v = malloc(p->nrecs * sizeof(*v));
	if (!v)
		return pnomem(p);
	for (size_t i = 0; i < p->nrecs; i++)
		v[i] = &p->recs[i];
	qsort(v, p->nrecs, sizeof(*v), cmp_recp);
	for (size_t i = 1; i < p->nrecs; i++) {
		size_t idx = (size_t)(v[i] - p->recs);

		if (strcmp(v[i]->path, v[i - 1]->path) == 0 && idx < *dupi &&
		    (i < 2 || strcmp(v[i - 1]->path, v[i - 2]->path) != 0)) {
			*dupi = idx;
			*first = (size_t)(v[i - 1] - p->recs);
		}
	}
	free(v);
	return 0;
}

/*
 * Check raw value r against the schema and convert it into v.
 * Returns 0 (v filled), 1 (null value of a known key: nothing to store),
 * -EINVAL (message set) or -ENOMEM.
 */
static int check_raw(struct cfg_parse *p, struct cfg_raw *r, struct cfg_val *v)
{
	struct cfg_keyrec *k = &p->recs[r->rec];
	const struct cfg_key *sk = cfg_schema_find(p->c, k->path, strlen(k->path));
	char msg[512];
	int rc;

	if (!sk) {
		if (r->is_null && cfg_is_section(p->c, k->path, strlen(k->path)))
			return 1;
		cfg_explain_unknown(p->c, k->path, msg, sizeof(msg));
		return perr(p, k->line, k->col, "%s", msg);
	}
	if (r->is_null)
		return 1;
	if (r->is_seq) {
		if (sk->type != CFG_T_LIST)
			return perr(p, r->line, r->col, "%s: expected a single value, not a sequence", k->path);
		v->items = r->items;
		v->nitems = r->nitems;
		r->items = NULL;
		r->nitems = 0;
		if (cfg_list_text(v))
			return pnomem(p);
	} else {
		rc = cfg_parse_value(sk, r->text, v, msg, sizeof(msg));
		if (rc == -ENOMEM)
			return pnomem(p);
		if (rc)
			return perr(p, r->line, r->col, "%s: %s", k->path, msg);
	}
	v->sk = sk;
	v->origin = cfg_strprintf("%s:%u:%u", p->name, r->line, r->col);
	if (!v->origin)
		return pnomem(p);
	v->key = k->path;
	k->path = NULL;
	return 0;
}

int cfg_load_yaml(struct cfg *c, const char *name, const void *buf, size_t len,
		  char *err, size_t errlen)
{
	struct cfg_parse *p;
	struct cfg_val *vals = NULL;
	size_t nvals = 0, dupi, first = 0;
	int rc;

	if (len > CFG_MAX_FILE_SIZE) {
		cfg_seterr(err, errlen, "%s: file too large (more than %u bytes)", name, CFG_MAX_FILE_SIZE);
		return -EFBIG;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		cfg_seterr(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	p->c = c;
	p->name = name;
	p->buf = buf;
	p->len = len;
	p->err = err;
	p->errlen = errlen;
	rc = parse_events(p);
	if (rc)
		goto out;
	rc = find_dup(p, &dupi, &first);
	if (rc)
		goto out;
	vals = calloc(p->nraws ? p->nraws : 1, sizeof(*vals));
	if (!vals) {
		rc = pnomem(p);
		goto out;
	}
	for (size_t i = 0; i < p->nraws && p->raws[i].rec < dupi; i++) {
		rc = check_raw(p, &p->raws[i], &vals[nvals]);
		if (rc < 0) {
			nvals++;   /* free the partial value too */
			goto out;
		}
		if (rc == 0)
			nvals++;
	}
	rc = 0;
	if (dupi != SIZE_MAX) {
		rc = perr(p, p->recs[dupi].line, p->recs[dupi].col,
			  "duplicate key '%s' (first defined at line %u column %u)",
			  p->recs[dupi].path, p->recs[first].line, p->recs[first].col);
		goto out;
	}
	if (nvals > 1)
		qsort(vals, nvals, sizeof(*vals), cmp_val);
	c->vals = vals;
	c->nvals = c->capvals = nvals;
	vals = NULL;
	nvals = 0;
out:
	for (size_t i = 0; i < nvals; i++)
		cfg_val_free(&vals[i]);
	free(vals);
	parse_free(p);
	free(p);
	return rc;
}

