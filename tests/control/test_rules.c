/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rule change management below the API: the rules text (sids, the four
 * one-rule edits and their refusals, the sids two texts differ in), the
 * unified diff (exact output of small cases; on thousands of random texts
 * with repeated lines, a diff that, applied to the old text, gives the new
 * one; the too-large bound; missing final newlines), the version and
 * deployment store (prefixes, the immutable columns, cases stored once,
 * desired versions of sensors and the fleet, history), and drift
 * (incidents opened after the grace period, resolved by "system").
 */
#include <errno.h>
#include <sys/stat.h>
#include <time.h>

#include "../unit/check.h"
#include "ctl_test.h"
#include "incident.h"
#include "rules.h"
#include "store_priv.h"

static const char text1[] =
	"# test rules\n"
	"alert udp any any -> any 53 (msg:\"one\"; content:\"sid:9;\"; sid:1001; rev:1;)\n"
	"alert udp any any -> any 53 (msg:\"two\"; content:\"b\"; sid:1002; rev:1;)\n"
	"# alert udp any any -> any 53 (msg:\"three\"; content:\"c\"; sid:1003; rev:1;)\n"
	"\n";

/* NULL-safe string equality: a failing check must not crash the test. */
static bool eqs(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* --- sids and edits ------------------------------------------------------ */

static void test_line_sid(void)
{
	static const struct {
		const char *line;
		bool found, commented;
		uint32_t sid;
	} cases[] = {
		{ "alert ip any any -> any any (msg:\"x\"; sid:5; rev:1;)", true, false, 5 },
		{ "alert ip any any -> any any (msg:\"x\"; sid : 77 ; rev:1;)", true, false, 77 },
		{ "alert ip any any -> any any (sid:8)", true, false, 8 },
		{ "  #alert ip any any -> any any (msg:\"x\"; sid:6;)", true, true, 6 },
		{ "alert ip any any -> any any (content:\"sid:9;\"; sid:10;)", true, false, 10 },
		{ "alert ip any any -> any any (msg:\"x\"; xsid:5;)", false, false, 0 },
		{ "alert ip any any -> any any (msg:\"x\"; sid:0;)", false, false, 0 },
		{ "alert ip any any -> any any (msg:\"x\"; sid:4294967296;)", false, false, 0 },
		{ "alert ip any any -> any any (msg:\"x\"; sid:4294967295;)", true, false, 4294967295u },
		{ "alert ip any any -> any any (msg:\"x\"; sid:12x;)", false, false, 0 },
		{ "# just a comment", false, true, 0 },
		{ "", false, false, 0 },
	};

	cur_test = "line_sid";
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t sid = 0;
		bool off = false, found = rules_line_sid(cases[i].line, strlen(cases[i].line), &sid, &off);
		CHECK(found == cases[i].found);
		if (found)
			CHECK_EQ(sid, cases[i].sid);
		CHECK(off == cases[i].commented);
	}
}

/* rules_edit() of text1; want the new text or the error. */
static void edit_case(enum rules_edit_action a, uint32_t sid, const char *rule, int want_err,
		      const char *want)
{
	char *out = NULL, msg[256];
	size_t len = 0;
	int err = rules_edit(text1, strlen(text1), a, sid, rule, &out, &len, msg, sizeof(msg));

	CHECK_EQ(err, want_err);
	if (err) {
		CHECK(out == NULL && msg[0]);
		return;
	}
	CHECK(out && len == strlen(out) && strcmp(out, want) == 0);
	if (out && strcmp(out, want) != 0)
		printf("    got:\n%s    want:\n%s", out, want);
	free(out);
}

static void test_edits(void)
{
	const char *r1002 = "alert udp any any -> any 53 (msg:\"two v2\"; content:\"bb\"; sid:1002; rev:2;)";
	const char *r1003 = "alert udp any any -> any 53 (msg:\"three v2\"; sid:1003; rev:2;)";
	const char *r2000 = "alert udp any any -> any 53 (msg:\"new\"; sid:2000; rev:1;)";
	enum rules_edit_action a;
	char *out = NULL, msg[128];
	size_t len;

	cur_test = "edits";
	edit_case(RULES_DISABLE, 1002, NULL, 0,
		  "# test rules\n"
		  "alert udp any any -> any 53 (msg:\"one\"; content:\"sid:9;\"; sid:1001; rev:1;)\n"
		  "# alert udp any any -> any 53 (msg:\"two\"; content:\"b\"; sid:1002; rev:1;)\n"
		  "# alert udp any any -> any 53 (msg:\"three\"; content:\"c\"; sid:1003; rev:1;)\n"
		  "\n");
	edit_case(RULES_ENABLE, 1003, NULL, 0,
		  "# test rules\n"
		  "alert udp any any -> any 53 (msg:\"one\"; content:\"sid:9;\"; sid:1001; rev:1;)\n"
		  "alert udp any any -> any 53 (msg:\"two\"; content:\"b\"; sid:1002; rev:1;)\n"
		  "alert udp any any -> any 53 (msg:\"three\"; content:\"c\"; sid:1003; rev:1;)\n"
		  "\n");
	edit_case(RULES_EDIT, 1002, r1002, 0,
		  "# test rules\n"
		  "alert udp any any -> any 53 (msg:\"one\"; content:\"sid:9;\"; sid:1001; rev:1;)\n"
		  "alert udp any any -> any 53 (msg:\"two v2\"; content:\"bb\"; sid:1002; rev:2;)\n"
		  "# alert udp any any -> any 53 (msg:\"three\"; content:\"c\"; sid:1003; rev:1;)\n"
		  "\n");
	/* a disabled rule edited stays disabled */
	edit_case(RULES_EDIT, 1003, r1003, 0,
		  "# test rules\n"
		  "alert udp any any -> any 53 (msg:\"one\"; content:\"sid:9;\"; sid:1001; rev:1;)\n"
		  "alert udp any any -> any 53 (msg:\"two\"; content:\"b\"; sid:1002; rev:1;)\n"
		  "# alert udp any any -> any 53 (msg:\"three v2\"; sid:1003; rev:2;)\n"
		  "\n");
	edit_case(RULES_ADD, 2000, r2000, 0,
		  "# test rules\n"
		  "alert udp any any -> any 53 (msg:\"one\"; content:\"sid:9;\"; sid:1001; rev:1;)\n"
		  "alert udp any any -> any 53 (msg:\"two\"; content:\"b\"; sid:1002; rev:1;)\n"
		  "# alert udp any any -> any 53 (msg:\"three\"; content:\"c\"; sid:1003; rev:1;)\n"
		  "\n"
		  "alert udp any any -> any 53 (msg:\"new\"; sid:2000; rev:1;)\n");
	/* the sid inside a content string is not the rule's */
	edit_case(RULES_DISABLE, 9, NULL, -ENOENT, NULL);
	edit_case(RULES_DISABLE, 1003, NULL, -EALREADY, NULL);
	edit_case(RULES_ENABLE, 1001, NULL, -EALREADY, NULL);
	edit_case(RULES_ENABLE, 4242, NULL, -ENOENT, NULL);
	edit_case(RULES_EDIT, 4242, "alert ip any any -> any any (sid:4242;)", -ENOENT, NULL);
	edit_case(RULES_ADD, 1001, "alert ip any any -> any any (sid:1001;)", -EEXIST, NULL);
	edit_case(RULES_ADD, 1003, "alert ip any any -> any any (sid:1003;)", -EEXIST, NULL);
	edit_case(RULES_EDIT, 1002, r2000, -EINVAL, NULL);           /* another sid */
	edit_case(RULES_EDIT, 1002, "alert ip any any -> any any (sid:1002;)\nx", -EINVAL, NULL);
	edit_case(RULES_ADD, 2000, "# alert ip any any -> any any (sid:2000;)", -EINVAL, NULL);
	edit_case(RULES_ADD, 2000, NULL, -EINVAL, NULL);

	/* a sid on two enabled lines is ambiguous */
	static const char twice[] = "alert ip any any -> any any (sid:5;)\nalert tcp any any -> any any (sid:5;)\n";
	CHECK_EQ(rules_edit(twice, strlen(twice), RULES_DISABLE, 5, NULL, &out, &len, msg, sizeof(msg)),
		 -ENOTUNIQ);
	/* adding to a text without a final newline starts a new line */
	static const char nonl[] = "alert ip any any -> any any (sid:5;)";
	CHECK_EQ(rules_edit(nonl, strlen(nonl), RULES_ADD, 6, "alert ip any any -> any any (sid:6;)", &out,
			    &len, msg, sizeof(msg)), 0);
	CHECK(out && strcmp(out, "alert ip any any -> any any (sid:5;)\nalert ip any any -> any any (sid:6;)\n") == 0);
	free(out);
	CHECK_EQ(rules_edit_action_parse("disable", &a), 0);
	CHECK_EQ(a, RULES_DISABLE);
	CHECK_EQ(rules_edit_action_parse("remove", &a), -EINVAL);
}

static bool sids_are(json_t *arr, const uint32_t *want, size_t n)
{
	if (json_array_size(arr) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((uint32_t)json_integer_value(json_array_get(arr, i)) != want[i])
			return false;
	return true;
}

static void test_sid_changes(void)
{
	static const char a[] =
		"alert ip any any -> any any (msg:\"a\"; sid:1;)\n"
		"alert ip any any -> any any (msg:\"b\"; sid:2;)\n"
		"alert ip any any -> any any (msg:\"c\"; sid:3;)\n"
		"# alert ip any any -> any any (msg:\"d\"; sid:4;)\n";
	static const char b[] =
		"alert ip any any -> any any (msg:\"c\"; sid:3;)\n"
		"alert ip any any -> any any (msg:\"a2\"; sid:1;)\n"
		"# alert ip any any -> any any (msg:\"b\"; sid:2;)\n"
		"alert ip any any -> any any (msg:\"d\"; sid:4;)\n"
		"alert ip any any -> any any (msg:\"e\"; sid:10;)\n";
	static const uint32_t added[] = { 4, 10 }, removed[] = { 2 }, changed[] = { 1 };
	json_t *ad, *rm, *ch;

	cur_test = "sid_changes";
	CHECK_EQ(rules_sid_changes(a, strlen(a), b, strlen(b), &ad, &rm, &ch), 0);
	CHECK(sids_are(ad, added, 2));
	CHECK(sids_are(rm, removed, 1));
	CHECK(sids_are(ch, changed, 1));
	json_decref(ad);
	json_decref(rm);
	json_decref(ch);
	CHECK_EQ(rules_sid_changes("", 0, "", 0, &ad, &rm, &ch), 0);
	CHECK(json_array_size(ad) + json_array_size(rm) + json_array_size(ch) == 0);
	json_decref(ad);
	json_decref(rm);
	json_decref(ch);
}

/* --- diff ------------------------------------------------------------------ */

struct sbuf {
	char *p;
	size_t n, cap;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

/* The line of text starting at *p (with its '\n'), *p advanced. */
static size_t next_line(const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = nl ? (size_t)(nl - *p) + 1 : (size_t)(end - *p);

	*p += n;
	return n;
}

/* Applies a unified diff to a (checking every context and removed line);
 * the result, or NULL if the diff does not fit a. */
static char *apply(const char *a, const char *diff)
{
	struct sbuf out = { 0 };
	const char *ap = a, *aend = a + strlen(a), *d = diff, *dend = diff + strlen(diff);
	size_t aline = 0;     /* lines of a consumed */
	bool ok = true;

	sb_put(&out, "", 0);
	while (ok && d < dend) {
		const char *l = d;
		size_t n = next_line(&d, dend);
		unsigned long s1, c1 = 1, s2, c2 = 1;
		if (!strncmp(l, "--- ", 4) || !strncmp(l, "+++ ", 4))
			continue;
		if (sscanf(l, "@@ -%lu,%lu +%lu,%lu @@", &s1, &c1, &s2, &c2) != 4 &&
		    sscanf(l, "@@ -%lu +%lu,%lu @@", &s1, &s2, &c2) != 3 &&
		    sscanf(l, "@@ -%lu,%lu +%lu @@", &s1, &c1, &s2) != 3 &&
		    sscanf(l, "@@ -%lu +%lu @@", &s1, &s2) != 2) {
			ok = false;
			break;
		}
		(void)n;
		size_t upto = c1 ? s1 - 1 : s1;   /* lines of a before the hunk */
		while (aline < upto && ap < aend) {
			const char *x = ap;
			sb_put(&out, x, next_line(&ap, aend));
			aline++;
		}
		/* the hunk's lines */
		while (d < dend && (*d == ' ' || *d == '-' || *d == '+')) {
			const char *h = d;
			size_t hn = next_line(&d, dend);
			bool nonl = d < dend && !strncmp(d, "\\ No newline at end of file\n", 28);
			size_t cn = hn - 1 - (nonl ? 1 : 0);
			if (nonl)
				next_line(&d, dend);
			if (*h != '+') {
				const char *x = ap;
				size_t xn = ap < aend ? next_line(&ap, aend) : 0;
				aline++;
				if (xn != cn || memcmp(x, h + 1, cn) != 0) {
					ok = false;
					break;
				}
			}
			if (*h != '-')
				sb_put(&out, h + 1, cn);
		}
	}
	while (ok && ap < aend) {
		const char *x = ap;
		sb_put(&out, x, next_line(&ap, aend));
	}
	if (!ok) {
		free(out.p);
		return NULL;
	}
	return out.p;
}

static char *diff_of(const char *a, const char *b, size_t max, bool *big)
{
	char *d = NULL;

	CHECK_EQ(rules_diff(a, strlen(a), b, strlen(b), "A", "B", max, &d, big), 0);
	return d;
}

static void test_diff_exact(void)
{
	bool big;
	char *d;

	cur_test = "diff_exact";
	d = diff_of("a\nb\nc\n", "a\nb\nc\n", 100, &big);
	CHECK(d && strcmp(d, "") == 0 && !big);
	free(d);
	d = diff_of("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nX\n6\n7\n8\n9\n", 100, &big);
	CHECK(d && strcmp(d, "--- A\n+++ B\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+X\n 6\n 7\n 8\n") == 0);
	free(d);
	/* into an empty text and out of one; GNU's ranges for no lines */
	d = diff_of("", "x\ny\n", 100, &big);
	CHECK(d && strcmp(d, "--- A\n+++ B\n@@ -0,0 +1,2 @@\n+x\n+y\n") == 0);
	free(d);
	d = diff_of("x\n", "", 100, &big);
	CHECK(d && strcmp(d, "--- A\n+++ B\n@@ -1 +0,0 @@\n-x\n") == 0);
	free(d);
	/* a missing final newline is a change, and marked */
	d = diff_of("a\nb\n", "a\nb", 100, &big);
	CHECK(d && strcmp(d, "--- A\n+++ B\n@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n") == 0);
	free(d);
	/* two changes far apart: two hunks */
	d = diff_of("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n",
		    "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n", 100, &big);
	CHECK(d && strcmp(d, "--- A\n+++ B\n@@ -1,3 +1,4 @@\n+0\n 1\n 2\n 3\n"
			  "@@ -12,4 +13,3 @@\n 12\n 13\n 14\n-15\n") == 0);
	free(d);
}

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A random text of n lines: mostly unique rules, some blank lines and
 * repeated comments (so the gaps between anchors need the LCS). */
static void random_text(struct sbuf *b, size_t n, int seed_space)
{
	char line[96];

	for (size_t i = 0; i < n; i++) {
		uint64_t r = rnd() % 10;
		int k;
		if (r == 0)
			k = snprintf(line, sizeof(line), "\n");
		else if (r == 1)
			k = snprintf(line, sizeof(line), "# group %d\n", (int)(rnd() % 3));
		else
			k = snprintf(line, sizeof(line), "alert ip any any -> any any (sid:%d;)\n",
				     (int)(rnd() % (uint64_t)seed_space));
		sb_put(b, line, (size_t)k);
	}
}

/* b: a with random lines removed, changed, added. */
static void mutate(const char *a, struct sbuf *b, int changes)
{
	const char *p = a, *end = a + strlen(a);
	char line[96];

	while (p < end) {
		const char *l = p;
		size_t n = next_line(&p, end);
		uint64_t r = rnd() % 1000;
		if (r < (uint64_t)changes) {
			int k = snprintf(line, sizeof(line), "alert tcp any any -> any any (sid:%d;)\n",
					 (int)(rnd() % 100000));
			sb_put(b, line, (size_t)k);
			if (rnd() % 2)
				sb_put(b, l, n);        /* an insertion, else a replacement */
		} else if (r < 2 * (uint64_t)changes) {
			continue;                       /* a removal */
		} else {
			sb_put(b, l, n);
		}
	}
}

static void test_diff_random(void)
{
	int bad = 0;

	cur_test = "diff_random";
	for (int round = 0; round < 2000; round++) {
		struct sbuf a = { 0 }, b = { 0 };
		bool big;
		sb_put(&a, "", 0);
		sb_put(&b, "", 0);
		random_text(&a, (size_t)(rnd() % 60), round % 2 ? 20 : 100000);
		if (rnd() % 3 == 0 && a.n)
			a.n--, a.p[a.n] = '\0';         /* no final newline */
		mutate(a.p, &b, (int)(rnd() % 300));
		if (rnd() % 4 == 0 && b.n)
			b.n--, b.p[b.n] = '\0';
		char *d = diff_of(a.p, b.p, 1000000, &big), *c = d ? apply(a.p, d) : NULL;
		if (!c || strcmp(c, b.p) != 0) {
			if (bad++ < 3)
				printf("FAIL diff_random round %d:\n--a--\n%s\n--b--\n%s\n--diff--\n%s\n", round,
				       a.p, b.p, d ? d : "(null)");
		}
		free(c);
		free(d);
		free(a.p);
		free(b.p);
	}
	CHECK_EQ(bad, 0);
}

/* A rules file of 60000 lines with a few changes: fast, small, exact. */
static void test_diff_large(void)
{
	struct sbuf a = { 0 }, b = { 0 };
	char line[96];
	bool big;
	struct timespec t0, t1;

	cur_test = "diff_large";
	sb_put(&a, "", 0);
	sb_put(&b, "", 0);
	for (int i = 0; i < 60000; i++) {
		int k = snprintf(line, sizeof(line), "alert ip any any -> any any (msg:\"r\"; sid:%d;)\n", i + 1);
		sb_put(&a, line, (size_t)k);
		if (i == 100 || i == 30000)
			continue;                        /* removed */
		if (i == 45000)
			k = snprintf(line, sizeof(line), "alert ip any any -> any any (msg:\"changed\"; sid:%d;)\n",
				     i + 1);
		sb_put(&b, line, (size_t)k);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char *d = diff_of(a.p, b.p, 20000, &big), *c = d ? apply(a.p, d) : NULL;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(!big && c && strcmp(c, b.p) == 0);
	CHECK(d && strlen(d) < 4096);                  /* three small hunks */
	CHECK((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 5000);
	free(c);
	free(d);

	/* every line different: more than the bound, said so */
	struct sbuf x = { 0 };
	sb_put(&x, "", 0);
	for (int i = 0; i < 25000; i++) {
		int k = snprintf(line, sizeof(line), "pass ip any any -> any any (sid:%d;)\n", i + 1);
		sb_put(&x, line, (size_t)k);
	}
	d = diff_of(a.p, x.p, 20000, &big);
	CHECK(big && d && strstr(d, "too large") && strstr(d, "60000 lines removed, 25000 added"));
	free(d);
	free(a.p);
	free(b.p);
	free(x.p);
}

/* --- the store ------------------------------------------------------------------ */

static void version(struct store *st, const char *id, const char *parent, const char *status,
		    const char *content)
{
	struct store_ruleset r = { id, parent, "alice", "msg", 100, status, content, strlen(content) };

	CHECK_EQ(store_ruleset_insert(st, &r), 0);
}

static int64_t scalar(struct store *st, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v = -1;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static void test_store_versions(struct store *st)
{
	char ida[65], idb[65], id[65], *text = NULL;
	struct store_ruleset_info info;
	static const uint8_t pcap[] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0 };
	struct store_case c = { "c1", "[1,2]", "[3]", pcap, sizeof(pcap) };
	struct store_case_data *cd = NULL;
	size_t n = 0;
	json_t *o = NULL;

	cur_test = "store_versions";
	store_ruleset_id("hello", 5, ida);
	CHECK(strcmp(ida, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824") == 0);
	/* two ids sharing their first 8 digits */
	memcpy(ida, "abcdef01", 8);
	memcpy(idb, ida, 65);
	idb[10] = idb[10] == '0' ? '1' : '0';
	version(st, ida, NULL, "validating", "alert ip any any -> any any (sid:1;)\n");
	version(st, idb, ida, "validating", "alert ip any any -> any any (sid:2;)\n");
	CHECK_EQ(store_ruleset_resolve(st, "abcdef01", id), -ENOTUNIQ);
	CHECK_EQ(store_ruleset_resolve(st, "ABCDEF01", id), -ENOTUNIQ);
	CHECK_EQ(store_ruleset_resolve(st, "abcdef0", id), -EINVAL);       /* too short */
	CHECK_EQ(store_ruleset_resolve(st, "abcdef0g", id), -EINVAL);
	CHECK_EQ(store_ruleset_resolve(st, "00000000", id), -ENOENT);
	char pre[12];
	snprintf(pre, sizeof(pre), "%.11s", idb);
	CHECK_EQ(store_ruleset_resolve(st, pre, id), 0);
	CHECK(strcmp(id, idb) == 0);
	CHECK_EQ(store_ruleset_resolve(st, ida, id), 0);
	CHECK(strcmp(id, ida) == 0);
	CHECK_EQ(store_ruleset_insert(st, &(struct store_ruleset){ ida, NULL, "bob", "m", 1, "submitted",
								  "x", 1 }), -EEXIST);
	/* immutable, never deleted */
	char sql[256];
	snprintf(sql, sizeof(sql), "UPDATE rulesets SET content = 'x' WHERE id = '%s'", ida);
	CHECK(sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK);
	snprintf(sql, sizeof(sql), "DELETE FROM rulesets WHERE id = '%s'", ida);
	CHECK(sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK);
	/* cases: the capture stored once however many versions have it */
	CHECK_EQ(store_case_add(st, ida, &c), 0);
	CHECK_EQ(store_cases_inherit(st, idb, ida), 0);
	CHECK_EQ(scalar(st, "SELECT count(*) FROM case_pcaps"), 1);
	CHECK_EQ(scalar(st, "SELECT count(*) FROM ruleset_cases"), 2);
	CHECK_EQ(store_cases_load(st, idb, &cd, &n), 0);
	CHECK(n == 1 && cd && strcmp(cd[0].name, "c1") == 0 && cd[0].pcap_len == sizeof(pcap) &&
	      memcmp(cd[0].pcap, pcap, sizeof(pcap)) == 0 && json_array_size(cd[0].must) == 2);
	store_cases_free(cd, n);
	/* the status, validation and approvals of the VERSION object */
	CHECK_EQ(store_ruleset_set_validation(st, idb, "validated", "0123456789abcdef", 1, 0,
					      "{\"ok\":true,\"steps\":[]}"), 0);
	CHECK_EQ(store_approval_add(st, idb, "carol", "approve", "fine", 200), 0);
	CHECK_EQ(store_ruleset_set_status(st, idb, "approved"), 0);
	CHECK_EQ(store_ruleset_info(st, idb, &info), 0);
	CHECK(strcmp(info.status, "approved") == 0 && strcmp(info.parent, ida) == 0 &&
	      strcmp(info.author, "alice") == 0 && strcmp(info.engine_id, "0123456789abcdef") == 0);
	CHECK_EQ(store_ruleset_json(st, idb, true, &o), 0);
	CHECK(json_is_true(json_object_get(json_object_get(o, "validation"), "ok")));
	CHECK(eqs(json_string_value(json_object_get(json_array_get(json_object_get(o, "approvals"), 0),
						    "user")), "carol"));
	CHECK_EQ(json_integer_value(json_object_get(json_array_get(json_object_get(o, "cases"), 0),
						    "pcap_bytes")), sizeof(pcap));
	CHECK_EQ(json_integer_value(json_object_get(o, "rules")), 1);
	CHECK(json_string_value(json_object_get(o, "content")) != NULL);
	json_decref(o);
	CHECK_EQ(store_ruleset_content(st, ida, &text, &n), 0);
	CHECK(text && n == strlen(text) && strstr(text, "sid:1;"));
	free(text);
	CHECK_EQ(store_ruleset_by_engine(st, "0123456789abcdef", NULL, id), 0);
	CHECK(strcmp(id, idb) == 0);
	CHECK_EQ(store_ruleset_by_engine(st, "ffffffffffffffff", NULL, id), -ENOENT);
	CHECK_EQ(store_rulesets_json(st, 10, &o), 0);
	CHECK(json_array_size(o) == 2 && !json_object_get(json_array_get(o, 0), "content") &&
	      eqs(json_string_value(json_object_get(json_array_get(o, 0), "id")), idb));
	json_decref(o);
}

static void test_store_deploy(struct store *st)
{
	char v1[65], v2[65], v3[65], id[65], engine[65];
	struct store_deploy_step *h = NULL;
	int64_t d = 0;
	size_t n = 0;
	char *prev = NULL;
	json_t *o = NULL;

	cur_test = "store_deploy";
	store_ruleset_id("v1", 2, v1);
	store_ruleset_id("v2", 2, v2);
	store_ruleset_id("v3", 2, v3);
	version(st, v1, NULL, "approved", "v1");
	version(st, v2, v1, "approved", "v2");
	version(st, v3, v2, "approved", "v3");
	CHECK_EQ(store_ruleset_set_validation(st, v1, NULL, "e1e1e1e1e1e1e1e1", 1, 0, "{}"), 0);
	CHECK_EQ(store_sensor_desired(st, "s1", id, engine), -ENOENT);
	CHECK_EQ(store_last_deployed(st, id), -ENOENT);
	CHECK_EQ(store_sensor_heartbeat(st, "s1", "0.1", "x", "{}", 10, &prev), 0);
	free(prev);
	/* the fleet gets v1, then s2 alone v2 */
	CHECK_EQ(store_deployment_add(st, v1, "deploy", true, "mgr", 20, NULL, &d), 0);
	CHECK_EQ(store_deployment_target_add(st, d, "s1", v1), 0);
	CHECK_EQ(store_deployment_target_add(st, d, STORE_FLEET, v1), 0);
	CHECK_EQ(store_deployment_add(st, v2, "deploy", false, "mgr", 30, "r", &d), 0);
	CHECK_EQ(store_deployment_target_add(st, d, "s2", v2), 0);
	CHECK_EQ(store_sensor_desired(st, "s1", id, engine), 0);
	CHECK(strcmp(id, v1) == 0 && strcmp(engine, "e1e1e1e1e1e1e1e1") == 0);
	CHECK_EQ(store_sensor_desired(st, "s2", id, engine), 0);
	CHECK(strcmp(id, v2) == 0 && engine[0] == '\0');
	/* a sensor never deployed to has the fleet's */
	CHECK_EQ(store_sensor_desired(st, "s9", id, engine), 0);
	CHECK(strcmp(id, v1) == 0);
	CHECK_EQ(store_last_deployed(st, id), 0);
	CHECK(strcmp(id, v2) == 0);
	CHECK_EQ(store_known_sensors(st, &o), 0);
	CHECK(json_array_size(o) == 2 && eqs(json_string_value(json_array_get(o, 0)), "s1") &&
	      eqs(json_string_value(json_array_get(o, 1)), "s2"));
	json_decref(o);
	CHECK_EQ(store_deployment_add(st, v3, "deploy", false, "mgr", 40, NULL, &d), 0);
	CHECK_EQ(store_deployment_target_add(st, d, "s2", v3), 0);
	CHECK_EQ(store_deployment_add(st, v2, "rollback", false, "mgr", 50, NULL, &d), 0);
	CHECK_EQ(store_deployment_target_add(st, d, "s2", v2), 0);
	CHECK_EQ(store_sensor_history(st, "s2", &h, &n), 0);
	CHECK(n == 3 && !strcmp(h[0].kind, "deploy") && !strcmp(h[2].kind, "rollback") &&
	      !strcmp(h[2].ruleset, v2));
	free(h);
	CHECK_EQ(store_deployment_json(st, d, &o), 0);
	CHECK(eqs(json_string_value(json_object_get(o, "kind")), "rollback") &&
	      json_is_false(json_object_get(o, "fleet")) &&
	      json_array_size(json_object_get(o, "sensors")) == 1 &&
	      eqs(json_string_value(json_object_get(o, "by")), "mgr"));
	json_decref(o);
	CHECK_EQ(store_deployments_json(st, 10, &o), 0);
	CHECK_EQ(json_array_size(o), 4);
	/* the fleet's row is not a sensor */
	CHECK(json_array_size(json_object_get(json_array_get(o, 3), "sensors")) == 1 &&
	      json_is_true(json_object_get(json_array_get(o, 3), "fleet")));
	json_decref(o);
	/* append-only */
	CHECK(sqlite3_exec(st->db, "DELETE FROM deployments", NULL, NULL, NULL) != SQLITE_OK);
	CHECK(sqlite3_exec(st->db, "UPDATE deployment_targets SET sensor = 'x'", NULL, NULL, NULL) != SQLITE_OK);
}

/* --- drift --------------------------------------------------------------------- */

static int64_t open_drift(struct store *st, const char *key, struct store_incident *inc)
{
	return store_incident_find_open(st, key, inc) == 0 ? inc->id : 0;
}

static void heartbeat(struct store *st, const char *ruleset, const char *hash, int64_t now)
{
	char *prev = NULL;

	CHECK_EQ(store_sensor_heartbeat(st, "tap", "0.1", ruleset, "{}", now, &prev), 0);
	free(prev);
	CHECK_EQ(store_sensor_state_set(st, "tap", hash, NULL), 0);
}

static void test_drift(struct store *st)
{
	struct incident_cfg cfg;
	struct incident_events evs;
	struct store_incident inc;
	char v[65];
	int64_t d = 0, id;
	json_t *tl = NULL;

	cur_test = "drift";
	incident_cfg_default(&cfg);
	incident_events_init(&evs);
	cfg.drift_grace_s = 30;
	/* no baseline: nothing, whatever runs */
	heartbeat(st, "aaaaaaaaaaaaaaaa", "h1", 1000);
	CHECK_EQ(incident_drift_sensor(st, &cfg, "tap", "sensor", 1000, &evs), 0);
	store_ruleset_id("drift-v", 7, v);
	version(st, v, NULL, "approved", "drift-v");
	CHECK_EQ(store_ruleset_set_validation(st, v, NULL, "bbbbbbbbbbbbbbbb", 1, 0, "{}"), 0);
	CHECK_EQ(store_deployment_add(st, v, "deploy", false, "mgr", 1000, NULL, &d), 0);
	CHECK_EQ(store_deployment_target_add(st, d, "tap", v), 0);
	/* a mismatch within the grace period is not drift yet */
	heartbeat(st, "aaaaaaaaaaaaaaaa", "h1", 1001);
	CHECK_EQ(incident_drift_sensor(st, &cfg, "tap", "sensor", 1001, &evs), 0);
	CHECK_EQ(open_drift(st, "drift:tap:ruleset", &inc), 0);
	CHECK_EQ(incident_drift_due(st, &cfg, 1030, &evs), 0);
	/* past it (on tick): opened, kind drift, severity 2, what runs and what should */
	CHECK_EQ(incident_drift_due(st, &cfg, 1031, &evs), 1);
	id = open_drift(st, "drift:tap:ruleset", &inc);
	CHECK(id > 0 && !strcmp(inc.kind, "drift") && inc.severity == 2 &&
	      strstr(inc.title, "aaaaaaaaaaaaaaaa") && strstr(inc.title, "bbbbbbbbbbbbbbbb"));
	CHECK(evs.n == 1 && !strcmp(evs.v[0].event, "opened"));
	/* joined, not opened again */
	heartbeat(st, "aaaaaaaaaaaaaaaa", "h1", 1040);
	CHECK_EQ(incident_drift_sensor(st, &cfg, "tap", "sensor", 1040, &evs), 1);
	CHECK_EQ(open_drift(st, "drift:tap:ruleset", &inc), id);
	CHECK_EQ(inc.last_seen, 1040);
	CHECK_EQ(evs.n, 1);
	/* back on its baseline: resolved by system */
	heartbeat(st, "bbbbbbbbbbbbbbbb", "h1", 1050);
	CHECK_EQ(incident_drift_sensor(st, &cfg, "tap", "sensor", 1050, &evs), 0);
	CHECK_EQ(open_drift(st, "drift:tap:ruleset", &inc), 0);
	CHECK_EQ(store_incident_get(st, id, &inc), 0);
	CHECK(!strcmp(inc.status, "resolved") && inc.resolved_at == 1050);
	CHECK(evs.n == 2 && !strcmp(evs.v[1].event, "resolved"));
	CHECK_EQ(store_timeline_json(st, id, &tl), 0);
	json_t *last = json_array_get(tl, json_array_size(tl) - 1);
	CHECK(eqs(json_string_value(json_object_get(last, "user")), "system"));
	json_decref(tl);
	/* configuration: the first hash since the deployment is the baseline */
	heartbeat(st, "bbbbbbbbbbbbbbbb", "h2", 1060);
	CHECK_EQ(incident_drift_sensor(st, &cfg, "tap", "sensor", 1060, &evs), 1);
	CHECK(open_drift(st, "drift:tap:config", &inc) > 0 && strstr(inc.title, "h2") && strstr(inc.title, "h1"));
	heartbeat(st, "bbbbbbbbbbbbbbbb", "h1", 1070);
	CHECK_EQ(incident_drift_sensor(st, &cfg, "tap", "sensor", 1070, &evs), 0);
	CHECK_EQ(open_drift(st, "drift:tap:config", &inc), 0);
	/* a deployment restarts it: the next hash is the new baseline */
	heartbeat(st, "bbbbbbbbbbbbbbbb", "h3", 1080);
	CHECK_EQ(incident_drift_sensor(st, &cfg, "tap", "sensor", 1080, &evs), 1);
	CHECK_EQ(store_deployment_add(st, v, "deploy", false, "mgr", 1085, NULL, &d), 0);
	CHECK_EQ(store_deployment_target_add(st, d, "tap", v), 0);
	CHECK_EQ(incident_drift_sensor(st, &cfg, "tap", "sensor", 1090, &evs), 0);
	CHECK_EQ(open_drift(st, "drift:tap:config", &inc), 0);
	/* grace 0: drift on the first mismatching heartbeat */
	cfg.drift_grace_s = 0;
	heartbeat(st, "cccccccccccccccc", "h3", 1100);
	CHECK_EQ(incident_drift_sensor(st, &cfg, "tap", "sensor", 1100, &evs), 1);
	CHECK(open_drift(st, "drift:tap:ruleset", &inc) > 0);
	incident_events_fini(&evs);
}

int main(void)
{
	struct store *st = NULL;

	test_line_sid();
	test_edits();
	test_sid_changes();
	test_diff_exact();
	test_diff_random();
	test_diff_large();
	if (store_open(tmp_db("rules.db"), &st) != 0) {
		printf("FAIL: cannot open the database\n");
		return 1;
	}
	test_store_versions(st);
	test_store_deploy(st);
	test_drift(st);
	store_close(st);
	printf("%s\n", failures ? "FAILED" : "PASS");
	return failures ? 1 : 0;
}
