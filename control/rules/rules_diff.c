/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A unified diff of two rules texts, line by line.
 *
 * Patience diff: after the common head and tail are taken off, the lines
 * that occur exactly once on each side are matched, the longest run of
 * them in the same order (a longest increasing subsequence) anchors the
 * alignment, and the gaps between anchors are diffed the same way.  In a
 * rules file nearly every line is unique (it carries its sid), so the
 * anchors do almost all the work in O(n log n); a gap without unique
 * lines (blank lines, repeated comments) gets an exact LCS when it is
 * small and is replaced wholesale when it is not.  The result is a
 * correct diff (applying it to a gives b) in bounded time and memory,
 * though not always the shortest one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

#define CONTEXT 3
#define LCS_MAX_CELLS (1u << 20)   /* the exact LCS of a gap: at most this table (4 MiB) */
#define MAX_DEPTH 64               /* of gaps within gaps; deeper ones are replaced */

struct line {
	const char *p;
	size_t n;                  /* with its '\n', if it has one */
	uint64_t h;
};

struct op {
	char type;                 /* ' ', '-', '+' */
	size_t i;                  /* the line of a (' ', '-') or b ('+') */
};

struct ctx {
	const struct line *a, *b;
	struct op *ops;
	size_t n, cap;
	size_t removed, added;
	int err;
};

static uint64_t hash(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
	return h;
}

static int split(const char *text, size_t len, struct line **out, size_t *n)
{
	size_t k = 0, cap = 0;
	struct line *v = NULL;

	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ln = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		if (k == cap) {
			cap = cap ? 2 * cap : 256;
			struct line *nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		v[k++] = (struct line){ p, ln, hash(p, ln) };
		p += ln;
	}
	*out = v;
	*n = k;
	return 0;
}

static bool eq(const struct line *x, const struct line *y)
{
	return x->h == y->h && x->n == y->n && memcmp(x->p, y->p, x->n) == 0;
}

static void emit(struct ctx *c, char type, size_t i)
{
	if (c->err)
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 1024;
		struct op *v = realloc(c->ops, cap * sizeof(*v));
		if (!v) {
			c->err = -ENOMEM;
			return;
		}
		c->ops = v;
		c->cap = cap;
	}
	c->ops[c->n++] = (struct op){ type, i };
	c->removed += type == '-';
	c->added += type == '+';
}

/* Everything of a[alo, ahi) removed, then b[blo, bhi) added. */
static void replace(struct ctx *c, size_t alo, size_t ahi, size_t blo, size_t bhi)
{
	for (size_t i = alo; i < ahi; i++)
		emit(c, '-', i);
	for (size_t j = blo; j < bhi; j++)
		emit(c, '+', j);
}

/* The exact LCS of a small gap (both sides non-empty). */
static void lcs(struct ctx *c, size_t alo, size_t ahi, size_t blo, size_t bhi)
{
	size_t n = ahi - alo, m = bhi - blo, i = 0, j = 0;
	uint32_t *t = calloc((n + 1) * (m + 1), sizeof(*t));

	if (!t) {
		c->err = -ENOMEM;
		return;
	}
#define T(x, y) t[(x) * (m + 1) + (y)]
	for (size_t x = n; x-- > 0;)
		for (size_t y = m; y-- > 0;)
			T(x, y) = eq(&c->a[alo + x], &c->b[blo + y]) ? T(x + 1, y + 1) + 1 :
				  T(x + 1, y) >= T(x, y + 1) ? T(x + 1, y) : T(x, y + 1);
	while (i < n && j < m) {
		if (eq(&c->a[alo + i], &c->b[blo + j])) {
			emit(c, ' ', alo + i);
			i++;
			j++;
		} else if (T(i + 1, j) >= T(i, j + 1)) {
			emit(c, '-', alo + i++);
		} else {
			emit(c, '+', blo + j++);
		}
	}
#undef T
	free(t);
	replace(c, alo + i, ahi, blo + j, bhi);
}

/* --- unique lines and their longest common order ----------------------- */

struct slot {
	const struct line *l;      /* NULL: empty */
	size_t ca, cb, ia, ib;     /* counts and (last) positions */
};

struct pair {
	size_t i, j;
};

/* The lines unique on both sides, as (i, j) by increasing i; *np pairs. */
static int unique_pairs(struct ctx *c, size_t alo, size_t ahi, size_t blo, size_t bhi,
			struct pair **out, size_t *np)
{
	size_t cap = 16, k = 0;
	struct slot *t;
	struct pair *p;

	while (cap < 2 * (ahi - alo + bhi - blo))
		cap *= 2;
	t = calloc(cap, sizeof(*t));
	p = malloc((ahi - alo) * sizeof(*p));
	if (!t || !p) {
		free(t);
		free(p);
		return -ENOMEM;
	}
	for (int side = 0; side < 2; side++) {
		const struct line *v = side ? c->b : c->a;
		for (size_t i = side ? blo : alo; i < (side ? bhi : ahi); i++) {
			size_t s = (size_t)v[i].h & (cap - 1);
			while (t[s].l && !eq(t[s].l, &v[i]))
				s = (s + 1) & (cap - 1);
			t[s].l = &v[i];
			if (side) {
				t[s].cb++;
				t[s].ib = i;
			} else {
				t[s].ca++;
				t[s].ia = i;
			}
		}
	}
	for (size_t s = 0; s < cap; s++)
		if (t[s].l && t[s].ca == 1 && t[s].cb == 1)
			p[k++] = (struct pair){ t[s].ia, t[s].ib };
	free(t);
	*out = p;
	*np = k;
	return 0;
}

static int by_i(const void *x, const void *y)
{
	size_t a = ((const struct pair *)x)->i, b = ((const struct pair *)y)->i;

	return a < b ? -1 : a > b;
}

/* Keeps the longest subsequence of p (sorted by i) increasing in j
 * (patience sorting with back links); *n becomes its length. */
static int lis(struct pair *p, size_t *n)
{
	size_t *top = malloc(*n * sizeof(*top)), *back = malloc(*n * sizeof(*back)), piles = 0;

	if (!top || !back) {
		free(top);
		free(back);
		return -ENOMEM;
	}
	for (size_t k = 0; k < *n; k++) {
		size_t lo = 0, hi = piles;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (p[top[mid]].j < p[k].j)
				lo = mid + 1;
			else
				hi = mid;
		}
		back[k] = lo ? top[lo - 1] : SIZE_MAX;
		top[lo] = k;
		if (lo == piles)
			piles++;
	}
	/* walk the links back from the last pile, filling p from its end */
	struct pair *keep = malloc((piles ? piles : 1) * sizeof(*keep));
	if (!keep) {
		free(top);
		free(back);
		return -ENOMEM;
	}
	for (size_t k = piles ? top[piles - 1] : SIZE_MAX, w = piles; k != SIZE_MAX; k = back[k])
		keep[--w] = p[k];
	memcpy(p, keep, piles * sizeof(*p));
	*n = piles;
	free(keep);
	free(top);
	free(back);
	return 0;
}

static void diff_gap(struct ctx *c, size_t alo, size_t ahi, size_t blo, size_t bhi, int depth);

/* A gap with both sides non-empty and different first and last lines. */
static void diff_middle(struct ctx *c, size_t alo, size_t ahi, size_t blo, size_t bhi, int depth)
{
	struct pair *p = NULL;
	size_t np = 0, pa = alo, pb = blo;

	if (depth < MAX_DEPTH) {
		c->err = c->err ? c->err : unique_pairs(c, alo, ahi, blo, bhi, &p, &np);
		if (!c->err && np) {
			qsort(p, np, sizeof(*p), by_i);
			c->err = lis(p, &np);
		}
	}
	if (c->err || np == 0) {
		free(p);
		if ((ahi - alo) * (bhi - blo) <= LCS_MAX_CELLS)
			lcs(c, alo, ahi, blo, bhi);
		else
			replace(c, alo, ahi, blo, bhi);
		return;
	}
	for (size_t k = 0; k < np; k++) {
		diff_gap(c, pa, p[k].i, pb, p[k].j, depth + 1);
		emit(c, ' ', p[k].i);
		pa = p[k].i + 1;
		pb = p[k].j + 1;
	}
	free(p);
	diff_gap(c, pa, ahi, pb, bhi, depth + 1);
}

static void diff_gap(struct ctx *c, size_t alo, size_t ahi, size_t blo, size_t bhi, int depth)
{
	size_t tail = 0;

	while (alo < ahi && blo < bhi && eq(&c->a[alo], &c->b[blo])) {
		emit(c, ' ', alo);
		alo++;
		blo++;
	}
	while (ahi - tail > alo && bhi - tail > blo && eq(&c->a[ahi - 1 - tail], &c->b[bhi - 1 - tail]))
		tail++;
	if (alo == ahi - tail || blo == bhi - tail)
		replace(c, alo, ahi - tail, blo, bhi - tail);
	else
		diff_middle(c, alo, ahi - tail, blo, bhi - tail, depth);
	for (size_t k = ahi - tail; k < ahi; k++)
		emit(c, ' ', k);
}

/* --- output ------------------------------------------------------------ */

/* "l,n" as GNU diff writes a range: "l" alone for one line, the line
 * before for none. */
static void range(FILE *f, size_t before, size_t count)
{
	if (count == 1)
		fprintf(f, "%zu", before + 1);
	else
		fprintf(f, "%zu,%zu", count ? before + 1 : before, count);
}

static void put_line(FILE *f, char type, const struct line *l)
{
	fputc(type, f);
	fwrite(l->p, 1, l->n, f);
	if (l->n == 0 || l->p[l->n - 1] != '\n')
		fputs("\n\\ No newline at end of file\n", f);
}

/* One hunk: ops [s, e), with na / nb lines of a / b before s. */
static void hunk(FILE *f, const struct ctx *c, size_t s, size_t e, size_t na, size_t nb)
{
	size_t ca = 0, cb = 0;

	for (size_t k = s; k < e; k++) {
		ca += c->ops[k].type != '+';
		cb += c->ops[k].type != '-';
	}
	fputs("@@ -", f);
	range(f, na, ca);
	fputs(" +", f);
	range(f, nb, cb);
	fputs(" @@\n", f);
	for (size_t k = s; k < e; k++)
		put_line(f, c->ops[k].type, c->ops[k].type == '+' ? &c->b[c->ops[k].i] : &c->a[c->ops[k].i]);
}

static void write_hunks(FILE *f, const struct ctx *c)
{
	size_t k = 0, na = 0, nb = 0;

	while (k < c->n) {
		size_t first = k, last, s, e;
		while (first < c->n && c->ops[first].type == ' ')
			first++;
		if (first == c->n)
			break;
		/* changes closer than 2 * CONTEXT equal lines share a hunk */
		last = first;
		for (size_t q = first + 1; q < c->n && q - last <= 2 * CONTEXT + 1; q++)
			if (c->ops[q].type != ' ')
				last = q;
		s = first - k > CONTEXT ? first - CONTEXT : k;
		e = c->n - last - 1 > CONTEXT ? last + 1 + CONTEXT : c->n;
		for (; k < s; k++) {
			na += c->ops[k].type != '+';
			nb += c->ops[k].type != '-';
		}
		hunk(f, c, s, e, na, nb);
		for (; k < e; k++) {
			na += c->ops[k].type != '+';
			nb += c->ops[k].type != '-';
		}
	}
}

int rules_diff(const char *a, size_t alen, const char *b, size_t blen, const char *aname,
	       const char *bname, size_t max_changed, char **out, bool *too_large)
{
	struct ctx c = { 0 };
	struct line *la = NULL, *lb = NULL;
	size_t na = 0, nb = 0, len = 0;
	FILE *f;
	int err;

	*out = NULL;
	*too_large = false;
	err = split(a, alen, &la, &na);
	if (!err)
		err = split(b, blen, &lb, &nb);
	c.a = la;
	c.b = lb;
	if (!err) {
		diff_gap(&c, 0, na, 0, nb, 0);
		err = c.err;
	}
	f = err ? NULL : open_memstream(out, &len);
	if (!err && !f)
		err = -ENOMEM;
	if (!err && c.removed + c.added > max_changed) {
		*too_large = true;
		fprintf(f, "(diff too large to show: %zu lines removed, %zu added)\n", c.removed, c.added);
	} else if (!err && c.removed + c.added > 0) {
		fprintf(f, "--- %s\n+++ %s\n", aname, bname);
		write_hunks(f, &c);
	}
	if (f && fclose(f) != 0)
		err = -ENOMEM;
	if (err) {
		free(*out);
		*out = NULL;
	}
	free(c.ops);
	free(la);
	free(lb);
	return err;
}
