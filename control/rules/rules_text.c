/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The rules text, one line per rule: finding a rule by its sid, the four
 * one-rule edits, and the sids two texts differ in.  A rule spread over
 * several lines with '\' continuations is not one line: it is found by
 * the line that carries its sid, and edited as that line only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The sid keyword at p (p[-1] checked by the caller): its value. */
static bool sid_at(const char *p, const char *end, uint32_t *sid)
{
	uint64_t v = 0;
	size_t nd = 0;

	if (end - p < 4 || memcmp(p, "sid", 3) != 0)
		return false;
	p += 3;
	while (p < end && blank(*p))
		p++;
	if (p == end || *p++ != ':')
		return false;
	while (p < end && blank(*p))
		p++;
	for (; p < end && digit(*p) && nd < 11; p++, nd++)
		v = v * 10 + (uint64_t)(*p - '0');
	if (nd == 0 || nd > 10 || v == 0 || v > UINT32_MAX)
		return false;
	while (p < end && blank(*p))
		p++;
	if (p == end || (*p != ';' && *p != ')'))
		return false;
	*sid = (uint32_t)v;
	return true;
}

bool rules_line_sid(const char *line, size_t n, uint32_t *sid, bool *commented)
{
	const char *p = line, *end = line + n;
	bool found = false;
	uint32_t v;

	while (p < end && blank(*p))
		p++;
	*commented = p < end && *p == '#';
	/* the last one: a sid inside a content string comes before the keyword */
	for (const char *q = p; q < end; q++) {
		if (*q != 's' || (q > line && !(blank(q[-1]) || q[-1] == ';' || q[-1] == '(')))
			continue;
		if (sid_at(q, end, &v)) {
			*sid = v;
			found = true;
		}
	}
	return found;
}

int rules_edit_action_parse(const char *name, enum rules_edit_action *out)
{
	static const char *const names[] = { "enable", "disable", "edit", "add" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum rules_edit_action)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* The lines of the text that carry the sid, enabled and disabled. */
struct hits {
	size_t on, off;                 /* how many */
	const char *on_at, *off_at;     /* the first of each */
	size_t on_len, off_len;         /* their lengths, without '\n' */
};

static void find_sid(const char *text, size_t len, uint32_t sid, struct hits *h)
{
	const char *p = text, *end = text + len;

	memset(h, 0, sizeof(*h));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		uint32_t v;
		bool off;
		if (rules_line_sid(p, n, &v, &off) && v == sid) {
			if (off && h->off++ == 0) {
				h->off_at = p;
				h->off_len = n;
			} else if (!off && h->on++ == 0) {
				h->on_at = p;
				h->on_len = n;
			}
		}
		p += n + 1;
	}
}

/* text with [at, at + n) replaced by the concatenation of a and b. */
static int splice(const char *text, size_t len, const char *at, size_t n, const char *a, size_t alen,
		  const char *b, size_t blen, char **out, size_t *outlen)
{
	size_t head = (size_t)(at - text), tail = len - head - n;
	char *r = malloc(head + alen + blen + tail + 1);

	if (!r)
		return -ENOMEM;
	memcpy(r, text, head);
	memcpy(r + head, a, alen);
	memcpy(r + head + alen, b, blen);
	memcpy(r + head + alen + blen, at + n, tail);
	r[head + alen + blen + tail] = '\0';
	*out = r;
	*outlen = head + alen + blen + tail;
	return 0;
}

/* The new rule line: one line, an enabled rule, carrying sid. */
static int check_rule(const char *rule, uint32_t sid, char *msg, size_t msglen)
{
	uint32_t v;
	bool off;

	if (!rule || !*rule) {
		snprintf(msg, msglen, "rule: missing");
		return -EINVAL;
	}
	if (strpbrk(rule, "\r\n")) {
		snprintf(msg, msglen, "rule: must be one line");
		return -EINVAL;
	}
	if (!rules_line_sid(rule, strlen(rule), &v, &off) || v != sid || off) {
		snprintf(msg, msglen, "rule: must be a rule (not a comment) with sid:%u;", sid);
		return -EINVAL;
	}
	return 0;
}

static int edit_disable(const char *text, size_t len, uint32_t sid, const struct hits *h, char **out,
			size_t *outlen, char *msg, size_t msglen)
{
	if (h->on == 0) {
		snprintf(msg, msglen, "sid %u: %s", sid, h->off ? "disabled already" : "no such rule");
		return h->off ? -EALREADY : -ENOENT;
	}
	if (h->on > 1) {
		snprintf(msg, msglen, "sid %u: on %zu lines", sid, h->on);
		return -ENOTUNIQ;
	}
	return splice(text, len, h->on_at, 0, "# ", 2, "", 0, out, outlen);
}

static int edit_enable(const char *text, size_t len, uint32_t sid, const struct hits *h, char **out,
		       size_t *outlen, char *msg, size_t msglen)
{
	const char *p = h->off_at, *e;

	if (h->on) {
		snprintf(msg, msglen, "sid %u: enabled already", sid);
		return -EALREADY;
	}
	if (h->off == 0) {
		snprintf(msg, msglen, "sid %u: no such rule", sid);
		return -ENOENT;
	}
	if (h->off > 1) {
		snprintf(msg, msglen, "sid %u: on %zu disabled lines", sid, h->off);
		return -ENOTUNIQ;
	}
	/* the blanks, '#' and the blanks after it go */
	e = p;
	while (blank(*e))
		e++;
	e++;
	while (blank(*e))
		e++;
	return splice(text, len, p, (size_t)(e - p), "", 0, "", 0, out, outlen);
}

static int edit_replace(const char *text, size_t len, uint32_t sid, const struct hits *h,
			const char *rule, char **out, size_t *outlen, char *msg, size_t msglen)
{
	bool on = h->on > 0;

	if (h->on + h->off == 0) {
		snprintf(msg, msglen, "sid %u: no such rule", sid);
		return -ENOENT;
	}
	if (h->on > 1 || (!on && h->off > 1)) {
		snprintf(msg, msglen, "sid %u: on %zu lines", sid, on ? h->on : h->off);
		return -ENOTUNIQ;
	}
	/* a disabled rule stays disabled */
	return splice(text, len, on ? h->on_at : h->off_at, on ? h->on_len : h->off_len,
		      on ? "" : "# ", on ? 0 : 2, rule, strlen(rule), out, outlen);
}

static int edit_add(const char *text, size_t len, uint32_t sid, const struct hits *h,
		    const char *rule, char **out, size_t *outlen, char *msg, size_t msglen)
{
	size_t rl = strlen(rule);
	bool nl = len > 0 && text[len - 1] != '\n';
	char *line;
	int err;

	if (h->on + h->off) {
		snprintf(msg, msglen, "sid %u: exists already (%s)", sid,
			 h->on ? "enabled" : "disabled");
		return -EEXIST;
	}
	line = malloc(rl + 3);
	if (!line)
		return -ENOMEM;
	snprintf(line, rl + 3, "%s%s\n", nl ? "\n" : "", rule);
	err = splice(text, len, text + len, 0, line, strlen(line), "", 0, out, outlen);
	free(line);
	return err;
}

int rules_edit(const char *text, size_t len, enum rules_edit_action a, uint32_t sid,
	       const char *rule, char **out, size_t *outlen, char *msg, size_t msglen)
{
	struct hits h;
	int err;

	*out = NULL;
	msg[0] = '\0';
	if ((a == RULES_EDIT || a == RULES_ADD) && (err = check_rule(rule, sid, msg, msglen)))
		return err;
	find_sid(text, len, sid, &h);
	switch (a) {
	case RULES_DISABLE:
		return edit_disable(text, len, sid, &h, out, outlen, msg, msglen);
	case RULES_ENABLE:
		return edit_enable(text, len, sid, &h, out, outlen, msg, msglen);
	case RULES_EDIT:
		return edit_replace(text, len, sid, &h, rule, out, outlen, msg, msglen);
	case RULES_ADD:
		return edit_add(text, len, sid, &h, rule, out, outlen, msg, msglen);
	}
	snprintf(msg, msglen, "action: unknown");
	return -EINVAL;
}

/* --- the sids two texts differ in -------------------------------------- */

struct sid_line {
	uint32_t sid;
	const char *p;
	size_t n;
};

static int by_sid(const void *a, const void *b)
{
	uint32_t x = ((const struct sid_line *)a)->sid, y = ((const struct sid_line *)b)->sid;

	return x < y ? -1 : x > y;
}

/* The enabled rules of a text, sorted by sid (the first line of a sid
 * that appears twice is kept). */
static int enabled_rules(const char *text, size_t len, struct sid_line **out, size_t *n)
{
	const char *p = text, *end = text + len;
	struct sid_line *v = NULL;
	size_t k = 0, cap = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ln = nl ? (size_t)(nl - p) : (size_t)(end - p);
		uint32_t sid;
		bool off;
		if (rules_line_sid(p, ln, &sid, &off) && !off) {
			if (k == cap) {
				cap = cap ? 2 * cap : 64;
				struct sid_line *nv = realloc(v, cap * sizeof(*v));
				if (!nv) {
					free(v);
					return -ENOMEM;
				}
				v = nv;
			}
			v[k++] = (struct sid_line){ sid, p, ln };
		}
		p += ln + 1;
	}
	if (k)
		qsort(v, k, sizeof(*v), by_sid);   /* not stable: dedup keeps the earlier line below */
	*out = v;
	*n = k;
	return 0;
}

/* The earliest line among the run of equal sids at v[i]; i advanced past. */
static const struct sid_line *first_of(const struct sid_line *v, size_t n, size_t *i)
{
	const struct sid_line *best = &v[*i];

	for ((*i)++; *i < n && v[*i].sid == best->sid; (*i)++)
		if (v[*i].p < best->p)
			best = &v[*i];
	return best;
}

static bool same_line(const struct sid_line *x, const struct sid_line *y)
{
	return x->n == y->n && memcmp(x->p, y->p, x->n) == 0;
}

int rules_sid_changes(const char *a, size_t alen, const char *b, size_t blen, json_t **added,
		      json_t **removed, json_t **changed)
{
	struct sid_line *va = NULL, *vb = NULL;
	size_t na = 0, nb = 0, i = 0, j = 0;
	int err = enabled_rules(a, alen, &va, &na);

	if (!err)
		err = enabled_rules(b, blen, &vb, &nb);
	*added = json_array();
	*removed = json_array();
	*changed = json_array();
	if (!err && (!*added || !*removed || !*changed))
		err = -ENOMEM;
	while (!err && (i < na || j < nb)) {
		if (j == nb || (i < na && va[i].sid < vb[j].sid)) {
			err = json_array_append_new(*removed, json_integer(first_of(va, na, &i)->sid)) ? -ENOMEM : 0;
		} else if (i == na || vb[j].sid < va[i].sid) {
			err = json_array_append_new(*added, json_integer(first_of(vb, nb, &j)->sid)) ? -ENOMEM : 0;
		} else {
			const struct sid_line *x = first_of(va, na, &i), *y = first_of(vb, nb, &j);
			if (!same_line(x, y))
				err = json_array_append_new(*changed, json_integer(x->sid)) ? -ENOMEM : 0;
		}
	}
	free(va);
	free(vb);
	if (err) {
		json_decref(*added);
		json_decref(*removed);
		json_decref(*changed);
		*added = *removed = *changed = NULL;
	}
	return err;
}
