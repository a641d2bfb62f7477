/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_hs_ceiling: the raw Hyperscan ceiling of content inspection.
 *
 *   bench_hs_ceiling [--vars-default] [--seconds S] RULES CAPTURE...
 *
 * One block-mode database over every loaded rule's fast pattern (the chop
 * when fast_pattern:off,len is given, caseless for nocase; identical
 * patterns once), scanning the payload of every packet of the captures
 * (innermost layer, as pkt_decode() finds it) held in memory, with no
 * engine around it: no flows, no reassembly, no rule grouping, no
 * verification.  What an engine does on the same captures, as a fraction of
 * this, is its detection overhead.
 *
 * RULES is a rules file, or a folder whose *.rules files are all loaded (in
 * name order).  A CAPTURE folder stands for its *.pcap, *.pcapng and *.cap
 * files; a named file that libpcap cannot read is skipped with a note when
 * its name is not a capture's (so a shell glob over a data folder works).
 * The stock Suricata address and port variables are always set
 * (--vars-default says so explicitly).  Prints a table, then one
 * "RESULT key=value..." line.
 * Exit: 0, 1 on errors, 77 when the rules or captures are absent.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <hs/hs.h>
#include <pcap/pcap.h>

#include "pkt.h"
#include "rule.h"

#define EXIT_SKIP 77
#define MAX_FILES 256

struct pat {                   /* one fast pattern, pointing into its ruleset */
	const uint8_t *p;
	uint32_t len;
	bool caseless;
	const struct rule *r;  /* the rule it came from (for diagnostics) */
};

struct payload {
	uint64_t off;
	uint32_t len;
};

struct corpus {
	uint8_t *buf;          /* every payload, back to back */
	uint64_t used, cap;
	struct payload *pl;
	uint64_t n, n_cap;
	uint64_t pkts, wire_bytes;   /* all packets read, captured lengths */
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && !strcmp(s + a - b, suf);
}

static bool is_capture_name(const char *s)
{
	return has_suffix(s, ".pcap") || has_suffix(s, ".pcapng") || has_suffix(s, ".cap");
}

static bool is_rules_name(const char *s)
{
	return has_suffix(s, ".rules");
}

/* Makes room for NEED elements of SIZE bytes in *P (capacity *CAP,
 * doubled from FIRST).  Returns 0 or -ENOMEM. */
static int grow(void *p, uint64_t *cap, uint64_t need, size_t size, uint64_t first)
{
	uint64_t nc = *cap ? *cap : first;
	void *np;

	if (need <= *cap)
		return 0;
	while (nc < need)
		nc *= 2;
	if (!(np = realloc(*(void **)p, nc * size)))
		return -ENOMEM;
	*(void **)p = np;
	*cap = nc;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends PATH (a file), or the files of folder PATH whose name passes
 * KEEP in name order, to OUT[*n..], as malloc'ed paths.  Returns 0, or
 * -errno (-ENOENT: PATH is absent; -E2BIG: more than MAX_FILES). */
static int add_paths(const char *path, bool (*keep)(const char *), char **out, size_t *n)
{
	struct stat st;
	struct dirent *e;
	size_t first = *n;
	int rc = 0;
	DIR *d;

	if (stat(path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode)) {
		if (*n == MAX_FILES)
			return -E2BIG;
		return (out[(*n)++] = strdup(path)) ? 0 : (--*n, -ENOMEM);
	}
	if (!(d = opendir(path)))
		return -errno;
	while (!rc && (e = readdir(d))) {
		if (!keep(e->d_name))
			continue;
		size_t len = strlen(path) + strlen(e->d_name) + 2;
		if (*n == MAX_FILES)
			rc = -E2BIG;
		else if (!(out[*n] = malloc(len)))
			rc = -ENOMEM;
		else
			snprintf(out[(*n)++], len, "%s/%s", path, e->d_name);
	}
	closedir(d);
	qsort(out + first, *n - first, sizeof(*out), cmp_str);
	return rc;
}

/* Byte order, ASCII case folded when both are caseless: identical
 * (bytes, caseless) pairs compare equal. */
static int cmp_pat(const void *a, const void *b)
{
	const struct pat *x = a, *y = b;

	if (x->caseless != y->caseless)
		return x->caseless ? 1 : -1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	for (uint32_t i = 0; i < x->len; i++) {
		int cx = x->p[i], cy = y->p[i];
		if (x->caseless) {
			cx = cx >= 'A' && cx <= 'Z' ? cx + 32 : cx;
			cy = cy >= 'A' && cy <= 'Z' ? cy + 32 : cy;
		}
		if (cx != cy)
			return cx - cy;
	}
	return 0;
}

/* Appends the fast pattern of every rule of RS to *PATS (grown as needed).
 * Counts rules whose fast pattern is a negated content in *NEG. */
static int collect_patterns(const struct ruleset *rs, struct pat **pats, uint64_t *n,
			    uint64_t *cap, size_t *neg)
{
	for (size_t i = 0; i < ruleset_count(rs); i++) {
		const struct rule *r = ruleset_get(rs, i);

		if (r->fast_pattern < 0 || r->pm[r->fast_pattern].type != RULE_PM_CONTENT)
			continue;
		const struct rule_content *c = &r->pm[r->fast_pattern].content;
		if (c->flags & RULE_CONTENT_NEGATED) {   /* matched by absence: not a prefilter */
			(*neg)++;
			continue;
		}
		struct pat p = { c->pat, c->len, (c->flags & RULE_CONTENT_NOCASE) != 0, r };
		if (c->flags & RULE_CONTENT_FP_CHOP) {
			p.p = c->pat + c->fp_off;
			p.len = c->fp_len;
		}
		if (!p.len)   /* the parser never makes one; libhs 5.4 crashes on it */
			continue;
		if (grow(pats, cap, *n + 1, sizeof(p), 4096))
			return -ENOMEM;
		(*pats)[(*n)++] = p;
	}
	return 0;
}

static int corpus_add(struct corpus *c, const uint8_t *data, uint32_t len)
{
	if (grow(&c->pl, &c->n_cap, c->n + 1, sizeof(*c->pl), 4096) ||
	    grow(&c->buf, &c->cap, c->used + len, 1, 1u << 20))
		return -ENOMEM;
	memcpy(c->buf + c->used, data, len);
	c->pl[c->n++] = (struct payload){ c->used, len };
	c->used += len;
	return 0;
}

/* Reads PATH into C.  Returns 0, 1 (skipped: not a capture by name) or -1. */
static int corpus_load(struct corpus *c, const char *path)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *pc = pcap_open_offline(path, ebuf);
	int rc;

	if (!pc) {
		if (!is_capture_name(path)) {
			fprintf(stderr, "bench_hs_ceiling: %s: not a capture, skipped\n", path);
			return 1;
		}
		fprintf(stderr, "bench_hs_ceiling: %s: %s\n", path, ebuf);
		return -1;
	}
	struct pkt_decode_opts o = { .linktype = pcap_datalink(pc), .verify_csum = false };
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		struct pkt p;
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec * 1000u;

		c->pkts++;
		c->wire_bytes += h->caplen;
		if (!pkt_decode(&p, data, h->caplen, ts, &o, NULL) || !p.payload_len ||
		    (uint64_t)p.payload_off + p.payload_len > h->caplen)
			continue;
		if (corpus_add(c, data + p.payload_off, p.payload_len)) {
			fprintf(stderr, "bench_hs_ceiling: out of memory\n");
			pcap_close(pc);
			return -1;
		}
	}
	if (rc == PCAP_ERROR)   /* truncated capture: keep what was read */
		fprintf(stderr, "bench_hs_ceiling: %s: %s (using the packets read)\n", path,
			pcap_geterr(pc));
	pcap_close(pc);
	return 0;
}

static int count_match(unsigned id, unsigned long long from, unsigned long long to,
		       unsigned flags, void *ctx)
{
	(void)id, (void)from, (void)to, (void)flags;
	++*(uint64_t *)ctx;
	return 0;              /* keep scanning */
}

/* One pass over every payload; returns 0 or -1 (hs_scan error). */
static int scan_pass(const hs_database_t *db, hs_scratch_t *s, const struct corpus *c,
		     uint64_t *matches)
{
	for (uint64_t i = 0; i < c->n; i++)
		if (hs_scan(db, (const char *)c->buf + c->pl[i].off, c->pl[i].len, 0, s,
			    count_match, matches) != HS_SUCCESS)
			return -1;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_hs_ceiling [--vars-default] [--seconds S] RULES CAPTURE...\n"
		   "  RULES     a rules file, or a folder of *.rules files\n"
		   "  CAPTURE   pcap/pcapng files, or folders of them\n"
		   "  --seconds minimum measured wall time (default 2.0)\n");
}

int main(int argc, char **argv)
{
	char *files[MAX_FILES], *caps[MAX_FILES], err[512];
	size_t n_files = 0, n_caps = 0, n_rs = 0, n_neg = 0, n_uniq = 0;
	uint64_t n_pat = 0, cap_pat = 0;
	struct ruleset *rs[MAX_FILES];
	struct ruleset_stats tot = { 0 };
	struct rule_vars *vars = NULL;
	struct pat *pats = NULL;
	const char **expr = NULL;
	unsigned *flags = NULL, *ids = NULL;
	size_t *lens = NULL, db_size = 0;
	hs_database_t *db = NULL;
	hs_compile_error_t *cerr = NULL;
	hs_scratch_t *scratch = NULL;
	struct corpus co = { 0 };
	double seconds = 2.0;
	int i = 1, rc = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--vars-default"))
			continue;
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
			char *end;
			seconds = strtod(argv[++i], &end);
			if (*end || seconds <= 0)
				goto bad_usage;
			continue;
		}
		if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
		goto bad_usage;
	}
	if (argc - i < 2)
		goto bad_usage;

	/* the paths first: absent data is a skip, found before any work */
	const char *rules = argv[i++], *bad = rules;
	int e = add_paths(rules, is_rules_name, files, &n_files);
	while (!e && i < argc)
		e = add_paths(bad = argv[i++], is_capture_name, caps, &n_caps);
	if (e || !n_files || !n_caps) {
		rc = e && e != -ENOENT ? 1 : EXIT_SKIP;
		fprintf(stderr, "bench_hs_ceiling: %s: %s%s\n", n_files ? bad : rules,
			e ? strerror(-e) : !n_files ? "no *.rules files" : "no captures",
			rc == EXIT_SKIP ? ": skipping" : "");
		goto out;
	}

	/* 1. rules, every file with the stock variables */
	if (rule_vars_create(&vars) || rule_vars_set_defaults(vars)) {
		fprintf(stderr, "bench_hs_ceiling: out of memory\n");
		goto out;
	}
	struct rule_load_opts lo = { .vars = vars };
	for (size_t f = 0; f < n_files; f++) {
		struct ruleset_stats s;
		if (ruleset_load_file(&rs[f], files[f], &lo, err, sizeof(err))) {
			fprintf(stderr, "bench_hs_ceiling: %s\n", err);
			goto out;
		}
		n_rs++;
		ruleset_get_stats(rs[f], &s);
		tot.loaded += s.loaded;
		tot.skipped += s.skipped;
		tot.non_mpm += s.non_mpm;
		if (collect_patterns(rs[f], &pats, &n_pat, &cap_pat, &n_neg)) {
			fprintf(stderr, "bench_hs_ceiling: out of memory\n");
			goto out;
		}
	}
	printf("rules      %s: %zu file(s), %zu loaded, %zu skipped, %zu without a fast pattern, "
	       "%zu with a negated one (left out)\n", rules, n_files, tot.loaded, tot.skipped,
	       tot.non_mpm, n_neg);

	/* 2. one literal database over the distinct fast patterns */
	qsort(pats, n_pat, sizeof(*pats), cmp_pat);
	for (size_t k = 0; k < n_pat; k++)
		if (!n_uniq || cmp_pat(&pats[n_uniq - 1], &pats[k]))
			pats[n_uniq++] = pats[k];
	if (!n_uniq) {
		fprintf(stderr, "bench_hs_ceiling: %s: no fast patterns to compile\n", rules);
		goto out;
	}
	expr = malloc(n_uniq * sizeof(*expr));
	flags = malloc(n_uniq * sizeof(*flags));
	ids = malloc(n_uniq * sizeof(*ids));
	lens = malloc(n_uniq * sizeof(*lens));
	if (!expr || !flags || !ids || !lens) {
		fprintf(stderr, "bench_hs_ceiling: out of memory\n");
		goto out;
	}
	size_t n_short = 0, n_nocase = 0;
	for (size_t k = 0; k < n_uniq; k++) {
		expr[k] = (const char *)pats[k].p;
		lens[k] = pats[k].len;
		ids[k] = (unsigned)k;
		/* SINGLEMATCH: the engine only needs to know which patterns
		 * occur in a buffer (it verifies the rule afterwards), so one
		 * report per pattern per scan is all it would ask for. */
		flags[k] = HS_FLAG_SINGLEMATCH | (pats[k].caseless ? HS_FLAG_CASELESS : 0);
		n_short += pats[k].len <= 2;
		n_nocase += pats[k].caseless;
	}
	double t0 = mono_s();
	if (hs_compile_lit_multi(expr, flags, ids, lens, (unsigned)n_uniq, HS_MODE_BLOCK, NULL, &db,
				 &cerr) != HS_SUCCESS) {
		e = cerr ? cerr->expression : -1;
		fprintf(stderr, "bench_hs_ceiling: hs_compile_lit_multi: %s",
			cerr ? cerr->message : "failed");
		if (e >= 0 && (size_t)e < n_uniq)
			fprintf(stderr, " (pattern %d, %u bytes, from %s:%u sid %u)", e,
				pats[e].len, pats[e].r->file, pats[e].r->line, pats[e].r->sid);
		fputc('\n', stderr);
		goto out;
	}
	double compile_ms = (mono_s() - t0) * 1e3;
	hs_database_size(db, &db_size);
	printf("patterns   %zu distinct of %" PRIu64 " fast patterns (%zu caseless, %zu of <= 2 bytes); "
	       "compiled in %.1f ms; database %zu bytes; Hyperscan %s\n", n_uniq, n_pat, n_nocase,
	       n_short, compile_ms, db_size, hs_version());
	for (; n_rs; n_rs--)   /* the patterns (and pats[], expr[]) die with them */
		ruleset_destroy(rs[n_rs - 1]);

	/* 3. the payloads of every capture, in memory */
	size_t n_read = 0;
	for (size_t k = 0; k < n_caps; k++) {
		int r = corpus_load(&co, caps[k]);
		if (r < 0)
			goto out;
		n_read += r == 0;
	}
	if (!n_read) {
		fprintf(stderr, "bench_hs_ceiling: no captures to read: skipping\n");
		rc = EXIT_SKIP;
		goto out;
	}
	printf("captures   %zu file(s): %" PRIu64 " packets, %" PRIu64 " captured bytes, %" PRIu64
	       " packets with payload, %" PRIu64 " payload bytes\n", n_read, co.pkts, co.wire_bytes,
	       co.n, co.used);
	if (!co.n) {
		fprintf(stderr, "bench_hs_ceiling: no payload to scan: skipping\n");
		rc = EXIT_SKIP;
		goto out;
	}

	/* 4. scan: one warm-up pass, then whole passes for >= seconds */
	uint64_t matches = 0, passes = 0;
	if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS || scan_pass(db, scratch, &co, &matches)) {
		fprintf(stderr, "bench_hs_ceiling: hs_alloc_scratch/hs_scan failed\n");
		goto out;
	}
	uint64_t per_pass = matches;
	double elapsed;
	matches = 0;
	t0 = mono_s();
	do {
		if (scan_pass(db, scratch, &co, &matches)) {
			fprintf(stderr, "bench_hs_ceiling: hs_scan failed\n");
			goto out;
		}
		passes++;
	} while ((elapsed = mono_s() - t0) < seconds);

	/* 5. results */
	double payload_gbps = (double)co.used * (double)passes * 8 / elapsed / 1e9;
	double wire_gbps = (double)co.wire_bytes * (double)passes * 8 / elapsed / 1e9;
	double mpps = (double)co.pkts * (double)passes / elapsed / 1e6;
	double ns_pkt = elapsed * 1e9 / ((double)co.pkts * (double)passes);
	if (matches != per_pass * passes)
		fprintf(stderr, "bench_hs_ceiling: warning: matches differ between passes\n");
	printf("%14s %10s %8s %9s %13s %10s %8s %10s %14s\n", "payload B/pass", "pkts/pass", "passes",
	       "seconds", "payload Gb/s", "wire Gb/s", "Mpps", "ns/pkt", "matches/pass");
	printf("%14" PRIu64 " %10" PRIu64 " %8" PRIu64 " %9.3f %13.3f %10.3f %8.3f %10.1f %14" PRIu64
	       "\n", co.used, co.pkts, passes, elapsed, payload_gbps, wire_gbps, mpps, ns_pkt,
	       per_pass);
	printf("(Mpps and ns/pkt count every packet, with payload or not; wire Gb/s: captured bytes "
	       "per pass x passes / time)\n");
	printf("RESULT patterns=%zu compile_ms=%.1f db_bytes=%zu pkts=%" PRIu64 " payload_bytes=%" PRIu64
	       " wire_bytes=%" PRIu64 " passes=%" PRIu64 " seconds=%.3f payload_gbps=%.3f"
	       " wire_gbps=%.3f mpps=%.3f ns_per_pkt=%.1f matches_per_pass=%" PRIu64 "\n", n_uniq,
	       compile_ms, db_size, co.pkts, co.used, co.wire_bytes, passes, elapsed, payload_gbps,
	       wire_gbps, mpps, ns_pkt, per_pass);
	rc = 0;
out:
	hs_free_scratch(scratch);
	hs_free_database(db);
	hs_free_compile_error(cerr);
	free(co.buf);
	free(co.pl);
	free(expr), free(flags), free(ids), free(lens), free(pats);
	for (size_t f = 0; f < n_rs; f++)
		ruleset_destroy(rs[f]);
	for (size_t f = 0; f < n_files; f++)
		free(files[f]);
	for (size_t k = 0; k < n_caps; k++)
		free(caps[k]);
	rule_vars_destroy(vars);
	return rc;
bad_usage:
	usage(stderr);
	return 1;
}
