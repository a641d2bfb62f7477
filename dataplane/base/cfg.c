/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configuration store (see cfg.h for the contract): schema, value syntax,
 * the sorted value array, getters, --set, dump.  YAML loading is in
 * cfg_yaml.c.
 *
 * Defaults are parsed once at create time into a table parallel to the
 * schema and are not part of the value array; getters fall back to them.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "cfg_priv.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CFG_SUGGEST_MAX 128    /* longest key for which a suggestion is computed */
#define CFG_QUOTE_MAX   64     /* bytes of a bad value quoted in a message */

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

void cfg_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

char *cfg_strndup(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static char *str_dup(const char *s)
{
	return cfg_strndup(s, strlen(s));
}

char *cfg_strprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* Length to quote of a value in a message, and the ellipsis to add. */
#define QLEN(s)  ((int)(strlen(s) > CFG_QUOTE_MAX ? CFG_QUOTE_MAX : strlen(s)))
#define QELL(s)  (strlen(s) > CFG_QUOTE_MAX ? "..." : "")

void cfg_val_free(struct cfg_val *v)
{
	free(v->key);
	free(v->text);
	free(v->origin);
	for (size_t i = 0; i < v->nitems; i++)
		free(v->items[i]);
	free(v->items);
	memset(v, 0, sizeof(*v));
}

static const char *const type_names[] = {
	[CFG_T_BOOL] = "bool", [CFG_T_U64] = "u64", [CFG_T_DURATION] = "duration",
	[CFG_T_SIZE] = "size", [CFG_T_STRING] = "string", [CFG_T_ENUM] = "enum",
	[CFG_T_LIST] = "list",
};

static bool is_wild(const struct cfg_key *k)
{
	size_t n = strlen(k->name);

	return n >= 2 && k->name[n - 1] == '*' && k->name[n - 2] == '.';
}

/*
 * NULL if key[0..len) is a valid dotted key: non-empty components of
 * printable non-blank bytes other than '=' and '*'.  Else the reason.
 */
const char *cfg_key_problem(const char *key, size_t len)
{
	if (len == 0)
		return "empty key";
	if (len > CFG_MAX_KEY_LEN)
		return "key too long";
	if (key[0] == '.' || key[len - 1] == '.')
		return "empty key component";
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)key[i];

		if (ch <= ' ' || ch == 0x7f)
			return "blank or control character in key";
		if (ch == '=' || ch == '*')
			return "'=' or '*' in key";
		if (ch == '.' && key[i + 1] == '.')
			return "empty key component";
	}
	return NULL;
}

/* Compare NUL-terminated name with key[0..len). */
static int cmpn(const char *name, const char *key, size_t len)
{
	int r = strncmp(name, key, len);

	if (r)
		return r;
	return name[len] ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* Schema lookup                                                       */

/* Index of the first byname entry not below key[0..len). */
static size_t byname_lower(const struct cfg *c, const char *key, size_t len)
{
	size_t lo = 0, hi = c->nkeys;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmpn(c->byname[mid]->name, key, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The schema entry accepting key[0..len): exact name first, then ".*". */
const struct cfg_key *cfg_schema_find(const struct cfg *c, const char *key, size_t len)
{
	size_t i = byname_lower(c, key, len), dot, lo, hi;

	if (i < c->nkeys && cmpn(c->byname[i]->name, key, len) == 0)
		return c->byname[i];
	for (dot = len; dot > 0 && key[dot - 1] != '.'; dot--)
		;
	if (dot < 2)
		return NULL;
	dot--;   /* length of the parent */
	lo = 0;
	hi = c->nwild;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = cmpn(c->wild[mid].parent, key, dot);

		if (r == 0) {
			/* ".*" covers one component only */
			return memchr(key + dot + 1, '.', len - dot - 1) ? NULL : c->wild[mid].k;
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* True if some schema name starts with key[0..len) + ".". */
bool cfg_is_section(const struct cfg *c, const char *key, size_t len)
{
	char buf[CFG_MAX_KEY_LEN + 2];
	size_t i;

	if (len > CFG_MAX_KEY_LEN)
		return false;
	memcpy(buf, key, len);
	buf[len] = '.';
	i = byname_lower(c, buf, len + 1);
	return i < c->nkeys && strncmp(c->byname[i]->name, buf, len + 1) == 0;
}

/* Length of the shortest proper prefix of key that the schema accepts as a
 * value key (a value key given sub-keys), or 0. */
static size_t leaf_prefix(const struct cfg *c, const char *key, size_t len)
{
	for (size_t i = 1; i < len; i++) {
		if (key[i] == '.' && cfg_schema_find(c, key, i))
			return i;
	}
	return 0;
}

static size_t edit_distance(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t row[CFG_SUGGEST_MAX + 1];

	for (size_t j = 0; j <= blen; j++)
		row[j] = j;
	for (size_t i = 1; i <= alen; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= blen; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[blen];
}

/*
 * A schema key close to the unknown key (small edit distance, or the same
 * last component under another section), written to buf; false if none.
 */
static bool suggest(const struct cfg *c, const char *key, char *buf, size_t buflen)
{
	size_t klen = strlen(key), best = SIZE_MAX;
	const char *last = strrchr(key, '.');
	char cand[2 * CFG_SUGGEST_MAX + 2];

	last = last ? last + 1 : key;
	if (klen > CFG_SUGGEST_MAX)
		return false;
	for (size_t i = 0; i < c->nkeys; i++) {
		const struct cfg_key *k = &c->schema[i];
		size_t n = strlen(k->name), d;

		if (is_wild(k)) {
			/* compare with the parent + the key's last component */
			if (last == key || n - 1 + strlen(last) > CFG_SUGGEST_MAX)
				continue;
			n = (size_t)snprintf(cand, sizeof(cand), "%.*s%s", (int)(n - 1), k->name, last);
		} else {
			if (n > CFG_SUGGEST_MAX)
				continue;
			memcpy(cand, k->name, n + 1);
		}
		d = edit_distance(key, klen, cand, n);
		if (d < best && d > 0 && d <= 1 + klen / 8) {
			best = d;
			snprintf(buf, buflen, "%s", cand);
		}
	}
	if (best != SIZE_MAX)
		return true;
	for (size_t i = 0; i < c->nkeys; i++) {
		const struct cfg_key *k = &c->schema[i];
		const char *kl = strrchr(k->name, '.');

		if (kl && !is_wild(k) && strcmp(kl + 1, last) == 0 && strcmp(k->name, key) != 0) {
			snprintf(buf, buflen, "%s", k->name);
			return true;
		}
	}
	return false;
}

/* "unknown key 'x' (did you mean 'y'?)" or why key is not a value key. */
void cfg_explain_unknown(const struct cfg *c, const char *key, char *msg, size_t msglen)
{
	size_t len = strlen(key);
	size_t leaf = leaf_prefix(c, key, len);
	char sug[2 * CFG_SUGGEST_MAX + 2];

	if (cfg_is_section(c, key, len))
		snprintf(msg, msglen, "'%s' is a section, not a key; expected a mapping", key);
	else if (leaf)
		snprintf(msg, msglen, "unknown key '%s': '%.*s' takes a single value, not a mapping",
			 key, (int)leaf, key);
	else if (suggest(c, key, sug, sizeof(sug)))
		snprintf(msg, msglen, "unknown key '%s' (did you mean '%s'?)", key, sug);
	else
		snprintf(msg, msglen, "unknown key '%s'", key);
}

/* ------------------------------------------------------------------ */
/* Value syntax                                                        */

struct cfg_unit {
	const char *name;
	uint64_t mul;
};

static const struct cfg_unit u64_units[] = {
	{ "", 1 }, { NULL, 0 },
};

static const struct cfg_unit duration_units[] = {
	{ "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { NULL, 0 },
};

static const struct cfg_unit size_units[] = {
	{ "", 1 }, { "b", 1 },
	{ "k", 1ull << 10 }, { "kb", 1ull << 10 }, { "kib", 1ull << 10 },
	{ "m", 1ull << 20 }, { "mb", 1ull << 20 }, { "mib", 1ull << 20 },
	{ "g", 1ull << 30 }, { "gb", 1ull << 30 }, { "gib", 1ull << 30 },
	{ NULL, 0 },
};

/*
 * Decimal number followed by an optional unit (spaces allowed in between),
 * scaled by the unit.  Returns 0, -EINVAL (syntax) or -ERANGE (overflow).
 */
static int parse_scaled(const char *s, const struct cfg_unit *units, uint64_t *out)
{
	const char *p = s;
	uint64_t n = 0;
	bool big = false;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (n > (UINT64_MAX - d) / 10)
			big = true;
		else
			n = n * 10 + d;
	}
	while (*p == ' ')
		p++;
	if (p > s && p[-1] == ' ' && *p == '\0')
		return -EINVAL;   /* trailing blanks */
	for (const struct cfg_unit *u = units; u->name; u++) {
		if (strcasecmp(p, u->name) != 0)
			continue;
		if (big || n > UINT64_MAX / u->mul)
			return -ERANGE;
		*out = n * u->mul;
		return 0;
	}
	return -EINVAL;
}

static int parse_bool(const char *s, uint64_t *out)
{
	static const char *const t[] = { "yes", "true", "on", "1" };
	static const char *const f[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcasecmp(s, t[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, f[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}

/* Index of s in "a|b|c", or -1. */
static int enum_index(const char *vals, const char *s)
{
	size_t slen = strlen(s);
	int idx = 0;

	for (const char *p = vals; p; idx++) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);

		if (n == slen && memcmp(p, s, n) == 0)
			return idx;
		p = bar ? bar + 1 : NULL;
	}
	return -1;
}

/* Human form of a bound ("1h", "64KiB", "1024"). */
static void fmt_bound(enum cfg_type t, uint64_t n, char *buf, size_t len)
{
	static const struct cfg_unit dur[] = {
		{ "h", 3600000 }, { "m", 60000 }, { "s", 1000 }, { "ms", 1 },
	};
	static const struct cfg_unit sz[] = {
		{ "GiB", 1ull << 30 }, { "MiB", 1ull << 20 }, { "KiB", 1ull << 10 }, { "", 1 },
	};
	const struct cfg_unit *u = t == CFG_T_DURATION ? dur : t == CFG_T_SIZE ? sz : NULL;

	if (u && n) {
		for (size_t i = 0; i < 4; i++) {
			if (n % u[i].mul == 0) {
				snprintf(buf, len, "%llu%s", (unsigned long long)(n / u[i].mul), u[i].name);
				return;
			}
		}
	}
	snprintf(buf, len, "%llu%s", (unsigned long long)n, t == CFG_T_DURATION ? "s" : "");
}

/* Build v->text = "[a, b]" from v->items. */
int cfg_list_text(struct cfg_val *v)
{
	size_t len = 3;
	char *p;

	for (size_t i = 0; i < v->nitems; i++)
		len += strlen(v->items[i]) + 2;
	v->text = p = malloc(len);
	if (!p)
		return -ENOMEM;
	*p++ = '[';
	for (size_t i = 0; i < v->nitems; i++) {
		size_t n = strlen(v->items[i]);

		if (i) {
			*p++ = ',';
			*p++ = ' ';
		}
		memcpy(p, v->items[i], n);
		p += n;
	}
	*p++ = ']';
	*p = '\0';
	return 0;
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/*
 * Split a list written as text: "" is empty, "[a, b]" is split at commas
 * outside nested brackets (items trimmed, none empty), anything else is one
 * item.  Fills v->items/nitems.  Returns 0, -EINVAL (msg set) or -ENOMEM.
 */
static int list_split(const char *text, struct cfg_val *v, char *msg, size_t msglen)
{
	const char *s = text, *e = text + strlen(text), *p, *start;
	size_t n = 0;
	int depth = 0;

	while (s < e && is_blank(*s))
		s++;
	while (e > s && is_blank(e[-1]))
		e--;
	if (s == e)
		return 0;
	if (*s != '[') {
		v->items = malloc(sizeof(*v->items));
		if (!v->items || !(v->items[0] = cfg_strndup(s, (size_t)(e - s))))
			return -ENOMEM;
		v->nitems = 1;
		return 0;
	}
	if (e[-1] != ']' || e - s < 2) {
		snprintf(msg, msglen, "'%.*s%s' is not a list: missing the closing ']'", QLEN(text), text, QELL(text));
		return -EINVAL;
	}
	s++;
	e--;
	/* count and check first, then copy */
	for (p = s; p < e; p++) {
		if (*p == '[')
			depth++;
		else if (*p == ']' && --depth < 0)
			break;
		else if (*p == ',' && depth == 0)
			n++;
	}
	if (depth != 0) {
		snprintf(msg, msglen, "'%.*s%s' is not a list: unbalanced brackets", QLEN(text), text, QELL(text));
		return -EINVAL;
	}
	for (p = s; p < e && is_blank(*p); p++)
		;
	if (p == e)
		return 0;   /* "[]" */
	if (++n > CFG_MAX_ITEMS) {
		snprintf(msg, msglen, "list has more than %u items", CFG_MAX_ITEMS);
		return -EINVAL;
	}
	v->items = calloc(n, sizeof(*v->items));
	if (!v->items)
		return -ENOMEM;
	depth = 0;
	start = s;
	for (p = s; p <= e; p++) {
		const char *a = start, *b = p;

		if (p < e && *p == '[')
			depth++;
		else if (p < e && *p == ']')
			depth--;
		if (p < e && (*p != ',' || depth != 0))
			continue;
		while (a < b && is_blank(*a))
			a++;
		while (b > a && is_blank(b[-1]))
			b--;
		if (a == b) {
			snprintf(msg, msglen, "'%.*s%s' has an empty list item", QLEN(text), text, QELL(text));
			return -EINVAL;
		}
		v->items[v->nitems] = cfg_strndup(a, (size_t)(b - a));
		if (!v->items[v->nitems])
			return -ENOMEM;
		v->nitems++;
		start = p + 1;
	}
	return 0;
}

/*
 * Parse text as a value of sk's type into v (num, text, items), bounds
 * included.  Returns 0, -EINVAL with the reason in msg, or -ENOMEM.  On
 * failure v may hold partial allocations: the caller frees it.
 */
int cfg_parse_value(const struct cfg_key *sk, const char *text, struct cfg_val *v,
			char *msg, size_t msglen)
{
	char bound[32];
	uint64_t n = 0;
	int rc, idx;

	switch (sk->type) {
	case CFG_T_BOOL:
		if (parse_bool(text, &n)) {
			snprintf(msg, msglen, "'%.*s%s' is not a boolean (use yes/no, true/false, on/off, 1/0)",
				 QLEN(text), text, QELL(text));
			return -EINVAL;
		}
		break;
	case CFG_T_U64:
	case CFG_T_DURATION:
	case CFG_T_SIZE:
		rc = parse_scaled(text, sk->type == CFG_T_U64 ? u64_units
				  : sk->type == CFG_T_DURATION ? duration_units : size_units, &n);
		if (rc == -ERANGE) {
			snprintf(msg, msglen, "'%.*s%s' is too large", QLEN(text), text, QELL(text));
			return -EINVAL;
		}
		if (rc) {
			snprintf(msg, msglen, "'%.*s%s' is not %s", QLEN(text), text, QELL(text),
				 sk->type == CFG_T_U64 ? "an unsigned integer"
				 : sk->type == CFG_T_DURATION ? "a duration (e.g. 30, 30s, 500ms, 5m, 1h)"
				 : "a size (e.g. 1048576, 64kb, 1mb, 2gb, 1MiB)");
			return -EINVAL;
		}
		if (n < sk->min) {
			fmt_bound(sk->type, sk->min, bound, sizeof(bound));
			snprintf(msg, msglen, "%.*s%s is below the minimum %s", QLEN(text), text, QELL(text), bound);
			return -EINVAL;
		}
		if (sk->max && n > sk->max) {
			fmt_bound(sk->type, sk->max, bound, sizeof(bound));
			snprintf(msg, msglen, "%.*s%s is above the maximum %s", QLEN(text), text, QELL(text), bound);
			return -EINVAL;
		}
		break;
	case CFG_T_STRING:
		break;
	case CFG_T_ENUM:
		idx = enum_index(sk->enum_vals, text);
		if (idx < 0) {
			snprintf(msg, msglen, "'%.*s%s' is not one of %s", QLEN(text), text, QELL(text), sk->enum_vals);
			return -EINVAL;
		}
		n = (uint64_t)idx;
		break;
	case CFG_T_LIST:
		rc = list_split(text, v, msg, msglen);
		if (!rc)
			rc = cfg_list_text(v);
		if (rc == -ENOMEM)
			snprintf(msg, msglen, "out of memory");
		return rc;
	}
	v->num = n;
	v->text = str_dup(text);
	if (!v->text) {
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Schema                                                              */

static int cmp_byname(const void *a, const void *b)
{
	return strcmp((*(const struct cfg_key *const *)a)->name, (*(const struct cfg_key *const *)b)->name);
}

static int cmp_wild(const void *a, const void *b)
{
	return strcmp(((const struct cfg_wild *)a)->parent, ((const struct cfg_wild *)b)->parent);
}

/* Check one schema entry on its own. */
static int schema_check_key(const struct cfg_key *k, char *err, size_t errlen)
{
	const char *why;
	size_t len;

	if (!k->name) {
		cfg_seterr(err, errlen, "schema: entry without a name");
		return -EINVAL;
	}
	len = strlen(k->name);
	why = cfg_key_problem(k->name, is_wild(k) ? len - 2 : len);
	if (why) {
		cfg_seterr(err, errlen, "schema: bad key name '%s': %s", k->name, why);
		return -EINVAL;
	}
	if ((unsigned)k->type > CFG_T_LIST) {
		cfg_seterr(err, errlen, "schema: %s: bad type %d", k->name, (int)k->type);
		return -EINVAL;
	}
	if (k->type == CFG_T_ENUM) {
		const char *v = k->enum_vals;

		if (!v || !*v || *v == '|' || v[strlen(v) - 1] == '|' || strstr(v, "||")) {
			cfg_seterr(err, errlen, "schema: %s: enum_vals must be \"a|b|...\"", k->name);
			return -EINVAL;
		}
	}
	if (k->max && k->min > k->max) {
		cfg_seterr(err, errlen, "schema: %s: min is above max", k->name);
		return -EINVAL;
	}
	if (k->def && is_wild(k)) {
		cfg_seterr(err, errlen, "schema: %s: a \".*\" key cannot have a default", k->name);
		return -EINVAL;
	}
	return 0;
}

static int schema_init(struct cfg *c, char *err, size_t errlen)
{
	char msg[256];
	size_t nw = 0;
	int rc;

	for (size_t i = 0; i < c->nkeys; i++) {
		rc = schema_check_key(&c->schema[i], err, errlen);
		if (rc)
			return rc;
		nw += is_wild(&c->schema[i]);
	}
	c->byname = calloc(c->nkeys ? c->nkeys : 1, sizeof(*c->byname));
	c->wild = calloc(nw ? nw : 1, sizeof(*c->wild));
	c->defs = calloc(c->nkeys ? c->nkeys : 1, sizeof(*c->defs));
	if (!c->byname || !c->wild || !c->defs)
		goto nomem;
	for (size_t i = 0; i < c->nkeys; i++) {
		const struct cfg_key *k = &c->schema[i];

		c->byname[i] = k;
		if (!is_wild(k))
			continue;
		c->wild[c->nwild].parent = cfg_strndup(k->name, strlen(k->name) - 2);
		if (!c->wild[c->nwild].parent)
			goto nomem;
		c->wild[c->nwild++].k = k;
	}
	if (c->nkeys > 1)
		qsort(c->byname, c->nkeys, sizeof(*c->byname), cmp_byname);
	if (c->nwild > 1)
		qsort(c->wild, c->nwild, sizeof(*c->wild), cmp_wild);
	for (size_t i = 0; i + 1 < c->nkeys; i++) {
		if (strcmp(c->byname[i]->name, c->byname[i + 1]->name) == 0) {
			cfg_seterr(err, errlen, "schema: duplicate key '%s'", c->byname[i]->name);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < c->nkeys; i++) {
		const struct cfg_key *k = &c->schema[i];
		size_t len = strlen(k->name);

		if (!is_wild(k) && cfg_is_section(c, k->name, len)) {
			cfg_seterr(err, errlen, "schema: '%s' is both a key and a section", k->name);
			return -EINVAL;
		}
		if (!k->def)
			continue;
		rc = cfg_parse_value(k, k->def, &c->defs[i], msg, sizeof(msg));
		if (rc == -ENOMEM)
			goto nomem;
		if (rc) {
			cfg_seterr(err, errlen, "schema: %s: bad default: %s", k->name, msg);
			return rc;
		}
		c->defs[i].sk = k;
		c->defs[i].key = str_dup(k->name);
		c->defs[i].origin = str_dup("default");
		if (!c->defs[i].key || !c->defs[i].origin)
			goto nomem;
	}
	return 0;
nomem:
	cfg_seterr(err, errlen, "schema: out of memory");
	return -ENOMEM;
}

/* ------------------------------------------------------------------ */
/* Value array                                                         */

static size_t vals_lower(const struct cfg *c, const char *key)
{
	size_t lo = 0, hi = c->nvals;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(c->vals[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct cfg_val *vals_find(const struct cfg *c, const char *key)
{
	size_t i = vals_lower(c, key);

	return i < c->nvals && strcmp(c->vals[i].key, key) == 0 ? &c->vals[i] : NULL;
}

/* Insert or replace v (moved in: v is cleared). */
static int vals_put(struct cfg *c, struct cfg_val *v)
{
	size_t i = vals_lower(c, v->key);

	if (i < c->nvals && strcmp(c->vals[i].key, v->key) == 0) {
		cfg_val_free(&c->vals[i]);
		c->vals[i] = *v;
		memset(v, 0, sizeof(*v));
		return 0;
	}
	if (c->nvals == c->capvals) {
		size_t cap = c->capvals ? 2 * c->capvals : 16;
		struct cfg_val *nv = realloc(c->vals, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		c->vals = nv;
		c->capvals = cap;
	}
	memmove(&c->vals[i + 1], &c->vals[i], (c->nvals - i) * sizeof(*c->vals));
	c->vals[i] = *v;
	c->nvals++;
	memset(v, 0, sizeof(*v));
	return 0;
}

/* Read a whole file of at most CFG_MAX_FILE_SIZE bytes. */
static int read_file(const char *path, char **bufp, size_t *lenp, char *err, size_t errlen)
{
	size_t len = 0, cap = 64 * 1024;
	char *buf = NULL, *nb;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		cfg_seterr(err, errlen, "%s: cannot open: %s", path, strerror(-rc));
		return rc;
	}
	buf = malloc(cap);
	if (!buf)
		goto nomem;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			if (cap > CFG_MAX_FILE_SIZE) {
				cfg_seterr(err, errlen, "%s: file too large (more than %u bytes)", path, CFG_MAX_FILE_SIZE);
				rc = -EFBIG;
				goto out;
			}
			cap = cap * 2 > CFG_MAX_FILE_SIZE ? CFG_MAX_FILE_SIZE + 1 : cap * 2;
			nb = realloc(buf, cap);
			if (!nb)
				goto nomem;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			cfg_seterr(err, errlen, "%s: cannot read: %s", path, strerror(-rc));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CFG_MAX_FILE_SIZE) {
		cfg_seterr(err, errlen, "%s: file too large (more than %u bytes)", path, CFG_MAX_FILE_SIZE);
		rc = -EFBIG;
		goto out;
	}
	*bufp = buf;
	*lenp = len;
	buf = NULL;
	goto out;
nomem:
	cfg_seterr(err, errlen, "%s: out of memory", path);
	rc = -ENOMEM;
out:
	free(buf);
	close(fd);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Public API                                                          */

static int create(struct cfg **out, const struct cfg_key *schema, size_t nkeys,
		  const char *name, const void *buf, size_t len, const char *path,
		  char *err, size_t errlen)
{
	struct cfg *c;
	char *fbuf = NULL;
	int rc;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	c = calloc(1, sizeof(*c));
	if (!c) {
		cfg_seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->schema = schema;
	c->nkeys = schema ? nkeys : 0;
	rc = schema_init(c, err, errlen);
	if (rc)
		goto fail;
	if (path) {
		rc = read_file(path, &fbuf, &len, err, errlen);
		if (rc)
			goto fail;
		name = path;
		buf = fbuf;
	}
	if (buf) {
		rc = cfg_load_yaml(c, name ? name : "<buffer>", buf, len, err, errlen);
		if (rc)
			goto fail;
	}
	free(fbuf);
	*out = c;
	return 0;
fail:
	free(fbuf);
	cfg_destroy(c);
	return rc;
}

int cfg_create(struct cfg **out, const struct cfg_key *schema, size_t nkeys,
	       const char *path, char *err, size_t errlen)
{
	return create(out, schema, nkeys, NULL, NULL, 0, path, err, errlen);
}

int cfg_create_from_buffer(struct cfg **out, const struct cfg_key *schema, size_t nkeys,
			   const char *name, const void *buf, size_t len,
			   char *err, size_t errlen)
{
	static const char empty[1];

	return create(out, schema, nkeys, name, buf ? buf : empty, buf ? len : 0, NULL, err, errlen);
}

void cfg_destroy(struct cfg *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nvals; i++)
		cfg_val_free(&c->vals[i]);
	free(c->vals);
	if (c->defs) {
		for (size_t i = 0; i < c->nkeys; i++)
			cfg_val_free(&c->defs[i]);
		free(c->defs);
	}
	for (size_t i = 0; i < c->nwild; i++)
		free(c->wild[i].parent);
	free(c->wild);
	free(c->byname);
	free(c);
}

int cfg_set(struct cfg *c, const char *kv, char *err, size_t errlen)
{
	const char *eq = strchr(kv, '=');
	struct cfg_val v = { 0 };
	const struct cfg_key *sk;
	const char *why;
	char msg[512];
	size_t klen;
	int rc;

	if (!eq) {
		cfg_seterr(err, errlen, "--set: '%.*s%s' is not KEY=VALUE", QLEN(kv), kv, QELL(kv));
		return -EINVAL;
	}
	klen = (size_t)(eq - kv);
	why = cfg_key_problem(kv, klen);
	if (why) {
		cfg_seterr(err, errlen, "--set: invalid key '%.*s%s': %s", (int)(klen > 64 ? 64 : klen), kv,
		       klen > 64 ? "..." : "", why);
		return -EINVAL;
	}
	v.key = cfg_strndup(kv, klen);
	if (!v.key)
		goto nomem;
	sk = cfg_schema_find(c, kv, klen);
	if (!sk) {
		cfg_explain_unknown(c, v.key, msg, sizeof(msg));
		cfg_seterr(err, errlen, "--set: %s", msg);
		rc = -EINVAL;
		goto out;
	}
	rc = cfg_parse_value(sk, eq + 1, &v, msg, sizeof(msg));
	if (rc == -ENOMEM)
		goto nomem;
	if (rc) {
		cfg_seterr(err, errlen, "--set: %s: %s", v.key, msg);
		goto out;
	}
	v.sk = sk;
	v.origin = str_dup("--set");
	if (!v.origin || vals_put(c, &v))
		goto nomem;
	rc = 0;
	goto out;
nomem:
	cfg_seterr(err, errlen, "--set: out of memory");
	rc = -ENOMEM;
out:
	cfg_val_free(&v);
	return rc;
}

/*
 * The effective value of key (set, else default), or NULL.  A key outside
 * the schema, or of another type than want (CFG_T__ANY: any), is a
 * programming error.
 */
#define CFG_T__ANY (-1)

static const struct cfg_val *lookup(const struct cfg *c, const char *key, int want)
{
	const struct cfg_key *sk = cfg_schema_find(c, key, strlen(key));
	const struct cfg_val *v;

	assert(sk && "cfg: key not in the schema");
	if (!sk)
		return NULL;
	assert((want == CFG_T__ANY || (int)sk->type == want) && "cfg: getter of the wrong type");
	if (want != CFG_T__ANY && (int)sk->type != want)
		return NULL;
	v = vals_find(c, key);
	if (v)
		return v;
	if (!is_wild(sk) && c->defs[sk - c->schema].text)
		return &c->defs[sk - c->schema];
	return NULL;
}

bool cfg_get_bool(const struct cfg *c, const char *key)
{
	const struct cfg_val *v = lookup(c, key, CFG_T_BOOL);

	return v ? v->num != 0 : false;
}

uint64_t cfg_get_u64(const struct cfg *c, const char *key)
{
	const struct cfg_val *v = lookup(c, key, CFG_T_U64);

	return v ? v->num : 0;
}

uint64_t cfg_get_duration_ms(const struct cfg *c, const char *key)
{
	const struct cfg_val *v = lookup(c, key, CFG_T_DURATION);

	return v ? v->num : 0;
}

uint64_t cfg_get_size(const struct cfg *c, const char *key)
{
	const struct cfg_val *v = lookup(c, key, CFG_T_SIZE);

	return v ? v->num : 0;
}

const char *cfg_get_str(const struct cfg *c, const char *key)
{
	const struct cfg_val *v = lookup(c, key, CFG_T__ANY);

	return v ? v->text : NULL;
}

int cfg_get_enum(const struct cfg *c, const char *key)
{
	const struct cfg_val *v = lookup(c, key, CFG_T_ENUM);

	return v ? (int)v->num : -1;
}

size_t cfg_get_list(const struct cfg *c, const char *key, const char *const **items)
{
	const struct cfg_val *v = lookup(c, key, CFG_T_LIST);

	if (!v || !v->nitems) {
		*items = NULL;
		return 0;
	}
	*items = (const char *const *)v->items;
	return v->nitems;
}

bool cfg_is_set(const struct cfg *c, const char *key)
{
	const struct cfg_val *v = lookup(c, key, CFG_T__ANY);

	return v && v->sk && v != &c->defs[v->sk - c->schema];
}

const char *cfg_origin(const struct cfg *c, const char *key)
{
	const struct cfg_val *v = lookup(c, key, CFG_T__ANY);

	return v ? v->origin : "unset";
}

static bool prefix_match(const char *key, const char *prefix, size_t plen)
{
	if (plen == 0)
		return true;
	if (strncmp(key, prefix, plen) != 0)
		return false;
	return prefix[plen - 1] == '.' || key[plen] == '\0' || key[plen] == '.';
}

void cfg_foreach(const struct cfg *c, const char *prefix,
		 void (*fn)(const char *key, const char *value, void *arg), void *arg)
{
	const char *pfx = prefix ? prefix : "";
	size_t plen = strlen(pfx);
	size_t i = vals_lower(c, pfx), j = byname_lower(c, pfx, plen);

	/* merge the set values with the defaults, both sorted by key; the
	 * keys starting with pfx are contiguous in both */
	for (;;) {
		const struct cfg_val *v = NULL, *d = NULL;
		int r;

		for (; i < c->nvals && strncmp(c->vals[i].key, pfx, plen) == 0; i++) {
			if (prefix_match(c->vals[i].key, pfx, plen)) {
				v = &c->vals[i];
				break;
			}
		}
		for (; j < c->nkeys && strncmp(c->byname[j]->name, pfx, plen) == 0; j++) {
			const struct cfg_val *dv = &c->defs[c->byname[j] - c->schema];

			if (dv->text && prefix_match(dv->key, pfx, plen)) {
				d = dv;
				break;
			}
		}
		if (!v && !d)
			return;
		r = !v ? 1 : !d ? -1 : strcmp(v->key, d->key);
		if (r <= 0) {
			fn(v->key, v->text, arg);
			i++;
			if (r == 0)
				j++;
		} else {
			fn(d->key, d->text, arg);
			j++;
		}
	}
}

/* Write s with control characters escaped (and '"', '\' when quoted). */
static void put_escaped(FILE *f, const char *s, bool quoted)
{
	if (quoted)
		fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else if (quoted && (*p == '"' || *p == '\\'))
			fprintf(f, "\\%c", *p);
		else
			fputc(*p, f);
	}
	if (quoted)
		fputc('"', f);
}

static void dump_val(FILE *f, const struct cfg_val *v)
{
	fputs(v->key, f);
	fputs(" = ", f);
	put_escaped(f, v->text, v->sk->type == CFG_T_STRING);
	fputs("  (", f);
	put_escaped(f, v->origin, false);
	fputs(")\n", f);
}

void cfg_dump(const struct cfg *c, FILE *f)
{
	for (size_t i = 0; i < c->nkeys; i++) {
		const struct cfg_key *k = &c->schema[i];
		const struct cfg_val *v;
		bool any = false;

		if (is_wild(k)) {
			for (size_t j = 0; j < c->nvals; j++) {
				if (c->vals[j].sk == k) {
					dump_val(f, &c->vals[j]);
					any = true;
				}
			}
			if (!any)
				fprintf(f, "%s  (none)\n", k->name);
			continue;
		}
		v = vals_find(c, k->name);
		if (!v && c->defs[i].text)
			v = &c->defs[i];
		if (v)
			dump_val(f, v);
		else
			fprintf(f, "%s  (unset)\n", k->name);
	}
}

void cfg_schema_print(const struct cfg_key *keys, size_t n, FILE *f)
{
	char lo[32], hi[32];

	for (size_t i = 0; i < n; i++) {
		const struct cfg_key *k = &keys[i];
		bool num = k->type == CFG_T_U64 || k->type == CFG_T_DURATION || k->type == CFG_T_SIZE;

		if (!k->name)
			continue;
		fprintf(f, "%s (%s", k->name, (unsigned)k->type <= CFG_T_LIST ? type_names[k->type] : "?");
		if (k->type == CFG_T_ENUM && k->enum_vals)
			fprintf(f, ": %s", k->enum_vals);
		if (k->def) {
			fputs(", default: ", f);
			put_escaped(f, k->def, k->type == CFG_T_STRING);
		}
		if (num && (k->min || k->max)) {
			fmt_bound(k->type, k->min, lo, sizeof(lo));
			fmt_bound(k->type, k->max, hi, sizeof(hi));
			fprintf(f, ", range: %s..%s", lo, k->max ? hi : "");
		}
		fputs(")\n", f);
		if (k->help && *k->help)
			fprintf(f, "    %s\n", k->help);
	}
}
