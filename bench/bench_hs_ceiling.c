/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_hs_ceiling: the raw Hyperscan ceiling of content inspection.
 *
 *   bench_hs_ceiling [--vars-default] [--seconds S] [--mode block|window|stream|all]
 *                    [--carry C] [--all-matches] RULES CAPTURE...
 *
 * One block-mode database over every loaded rule's fast pattern (the chop
 * when fast_pattern:off,len is given, caseless for nocase; identical
 * patterns once), scanning the payload of every packet of the captures
 * (innermost layer, as pkt_decode() finds it) held in memory, with no
 * engine around it: no flows, no reassembly, no rule grouping, no
 * verification.  What an engine does on the same captures, as a fraction of
 * this, is its detection overhead.
 *
 * --mode chooses how TCP payloads are scanned; every other payload is
 * scanned on its own with the block database in every mode:
 *   block   each payload on its own (the default: the ceiling above)
 *   window  per TCP flow direction, the last C bytes of that direction
 *           already scanned (the carry, --carry C, default 512) then the new
 *           payload, copied into one buffer and scanned with the block
 *           database: what the engine does with in-order stream data
 *   stream  one Hyperscan stream per TCP flow direction over a second
 *           database of the same patterns compiled with HS_MODE_STREAM;
 *           each payload is scanned into its direction's stream
 *   all     the three in turn in one process, then a comparison table
 * Patterns are compiled with SINGLEMATCH: one report per pattern per
 * block scan, but per stream for a stream's whole life, so later chunks
 * of a flow direction get no report of a pattern already seen;
 * --all-matches compiles both databases without it (every occurrence).
 * A flow direction is the 5-tuple as the packet travels (addresses, ports,
 * protocol).  TCP payloads are taken in capture order: nothing is
 * reassembled or reordered (the captures are mostly in order), so a
 * retransmission is scanned again and a reordered segment where it lies.
 *
 * RULES is a rules file, or a folder whose *.rules files are all loaded (in
 * name order).  A CAPTURE folder stands for its *.pcap, *.pcapng and *.cap
 * files; a named file that libpcap cannot read is skipped with a note when
 * its name is not a capture's (so a shell glob over a data folder works).
 * The stock Suricata address and port variables are always set
 * (--vars-default says so explicitly).  Prints a table, then "RESULT
 * key=value..." lines: in block mode the one line it always printed,
 * otherwise one per mode, each starting "RESULT mode=NAME".
 * Exit: 0, 1 on errors, 77 when the rules or captures are absent.
 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
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
#define MAX_CARRY (1u << 20)
#define DIR_NONE UINT32_MAX    /* payload outside any TCP flow direction */

enum mode { MODE_BLOCK, MODE_WINDOW, MODE_STREAM, MODE_N };

static const char *const mode_names[MODE_N] = { "block", "window", "stream" };

struct pat {                   /* one fast pattern, pointing into its ruleset */
	const uint8_t *p;
	uint32_t len;
	bool caseless;
	const struct rule *r;  /* the rule it came from (for diagnostics) */
};

/* A TCP flow direction as the packet travels, compared with memcmp (no
 * padding holes; IPv4 addresses in the first 4 bytes, the rest zero). */
struct dir_key {
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint8_t proto, ipver, pad[2];
};
static_assert(sizeof(struct dir_key) == 40, "dir_key is hashed as 5 words");

struct payload {
	uint64_t off;
	uint32_t len;
	uint32_t dir;          /* TCP: direction index (0 until assigned); else DIR_NONE */
};

struct corpus {
	uint8_t *buf;          /* every payload, back to back */
	uint64_t used, cap;
	struct payload *pl;
	uint64_t n, n_cap;
	struct dir_key *keys;  /* each payload's direction, while loading (want_dirs) */
	uint64_t keys_cap;
	bool want_dirs;
	uint32_t max_len;      /* longest payload */
	uint64_t n_tcp, tcp_bytes;   /* TCP payloads and their bytes */
	uint64_t n_dirs;             /* distinct TCP flow directions (want_dirs) */
	uint64_t pkts, wire_bytes;   /* all packets read, captured lengths */
};

/* What a pass reads and writes.  The per-direction state is indexed by the
 * direction index that corpus_assign_dirs() gave each TCP payload. */
struct bench {
	const hs_database_t *db;     /* block mode */
	const hs_database_t *sdb;    /* stream mode (NULL unless it runs) */
	hs_scratch_t *scratch;       /* allocated for both */
	const struct corpus *co;
	uint32_t carry;              /* C */
	uint8_t *win;                /* window: carry + longest payload */
	uint8_t *carry_buf;          /* window: n_dirs x C bytes */
	uint32_t *carry_len;         /* window: bytes held in each carry */
	hs_stream_t **streams;       /* stream: per direction, NULL until seen in a pass */
};

struct mode_result {
	bool ran;
	uint64_t passes, matches_per_pass, scanned_per_pass;
	double seconds, cpu_seconds;  /* over the timed passes */
	double best;                  /* the fastest timed pass */
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
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

/* Appends P's payload (in DATA) to C, with its flow direction's key when
 * C wants directions and P is TCP.  Returns 0 or -ENOMEM. */
static int corpus_add(struct corpus *c, const uint8_t *data, const struct pkt *p)
{
	bool tcp = p->proto == IPPROTO_TCP && (p->flags & PKT_F_L4);
	uint32_t len = p->payload_len;

	if (grow(&c->pl, &c->n_cap, c->n + 1, sizeof(*c->pl), 4096) ||
	    grow(&c->buf, &c->cap, c->used + len, 1, 1u << 20) ||
	    (c->want_dirs && grow(&c->keys, &c->keys_cap, c->n + 1, sizeof(*c->keys), 4096)))
		return -ENOMEM;
	memcpy(c->buf + c->used, data + p->payload_off, len);
	c->pl[c->n] = (struct payload){ c->used, len, tcp ? 0 : DIR_NONE };
	if (c->want_dirs && tcp) {
		struct dir_key *k = &c->keys[c->n];

		memset(k, 0, sizeof(*k));
		memcpy(k->src, p->src, sizeof(k->src));
		memcpy(k->dst, p->dst, sizeof(k->dst));
		k->sport = p->sport;
		k->dport = p->dport;
		k->proto = p->proto;
		k->ipver = p->ipver;
	}
	c->n++;
	c->used += len;
	c->n_tcp += tcp;
	c->tcp_bytes += tcp ? len : 0;
	c->max_len = len > c->max_len ? len : c->max_len;
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
		if (corpus_add(c, data, &p)) {
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

static uint64_t dir_hash(const struct dir_key *k)
{
	uint64_t w[5], h = 0x9e3779b97f4a7c15u;

	memcpy(w, k, sizeof(w));
	for (int i = 0; i < 5; i++) {
		h = (h ^ w[i]) * 0xff51afd7ed558ccdu;
		h ^= h >> 32;
	}
	return h;
}

/* Numbers the TCP flow directions of C in order of first appearance and
 * stores each TCP payload's number in its dir, from the keys recorded at
 * load (freed here).  The table is open addressing with linear probing,
 * its capacity fixed at a power of two >= 2x the TCP payloads, so it never
 * fills.  The lookup is done once here and not per pass: the engine's flow
 * table hands the inspector its flow (bench_flow times that), so only the
 * inspection is timed.  Returns 0 or -ENOMEM. */
static int corpus_assign_dirs(struct corpus *c)
{
	struct slot {
		struct dir_key k;
		uint32_t id;   /* direction + 1; 0: empty */
	} *t;
	uint64_t cap = 1024;

	while (cap < 2 * c->n_tcp)
		cap *= 2;
	if (!(t = calloc(cap, sizeof(*t))))
		return -ENOMEM;
	for (uint64_t i = 0; i < c->n; i++) {
		const struct dir_key *k = &c->keys[i];
		uint64_t h = dir_hash(k) & (cap - 1);

		if (c->pl[i].dir == DIR_NONE)
			continue;
		while (t[h].id && memcmp(&t[h].k, k, sizeof(*k)))
			h = (h + 1) & (cap - 1);
		if (!t[h].id) {
			t[h].k = *k;
			t[h].id = (uint32_t)++c->n_dirs;
		}
		c->pl[i].dir = t[h].id - 1;
	}
	free(t);
	free(c->keys);
	c->keys = NULL;
	return 0;
}

/* Compiles the N distinct patterns PATS, as EXPR/FLAGS/IDS/LENS give them
 * to Hyperscan, for MODE (HS_MODE_*) into *DB, in *MS milliseconds.
 * Returns 0, or -1 with a diagnostic naming the rule of a bad pattern. */
static int compile_db(const struct pat *pats, const char *const *expr, const unsigned *flags,
		      const unsigned *ids, const size_t *lens, size_t n, unsigned mode,
		      hs_database_t **db, double *ms)
{
	hs_compile_error_t *cerr = NULL;
	double t0 = mono_s();

	if (hs_compile_lit_multi(expr, flags, ids, lens, (unsigned)n, mode, NULL, db, &cerr) ==
	    HS_SUCCESS) {
		*ms = (mono_s() - t0) * 1e3;
		return 0;
	}
	int e = cerr ? cerr->expression : -1;
	fprintf(stderr, "bench_hs_ceiling: hs_compile_lit_multi (%s mode): %s",
		mode == HS_MODE_STREAM ? "stream" : "block", cerr ? cerr->message : "failed");
	if (e >= 0 && (size_t)e < n)
		fprintf(stderr, " (pattern %d, %u bytes, from %s:%u sid %u)", e, pats[e].len,
			pats[e].r->file, pats[e].r->line, pats[e].r->sid);
	fputc('\n', stderr);
	hs_free_compile_error(cerr);
	return -1;
}

static int count_match(unsigned id, unsigned long long from, unsigned long long to,
		       unsigned flags, void *ctx)
{
	(void)id, (void)from, (void)to, (void)flags;
	++*(uint64_t *)ctx;
	return 0;              /* keep scanning */
}

/*
 * The passes: each scans every payload once in capture order, adds the
 * matches to *MATCHES and the bytes handed to Hyperscan to *SCANNED, and
 * returns 0 or -1 (a Hyperscan call failed).
 */

/* block: every payload on its own. */
static int pass_block(struct bench *b, uint64_t *matches, uint64_t *scanned)
{
	const struct corpus *c = b->co;

	for (uint64_t i = 0; i < c->n; i++)
		if (hs_scan(b->db, (const char *)c->buf + c->pl[i].off, c->pl[i].len, 0, b->scratch,
			    count_match, matches) != HS_SUCCESS)
			return -1;
	*scanned += c->used;
	return 0;
}

/* window: a TCP payload is copied after its direction's carry (the last C
 * bytes of the direction scanned so far, fewer at its start) and the two
 * are scanned as one buffer; the carry then becomes the window's last C
 * bytes.  The copies are timed: the engine makes them too.  A pattern
 * wholly inside the carry is reported again (the engine would drop a match
 * that ends in the carry; that check is not made here). */
static int pass_window(struct bench *b, uint64_t *matches, uint64_t *scanned)
{
	const struct corpus *c = b->co;
	uint64_t n_scanned = 0;

	memset(b->carry_len, 0, c->n_dirs * sizeof(*b->carry_len));
	for (uint64_t i = 0; i < c->n; i++) {
		const struct payload *pl = &c->pl[i];
		const uint8_t *data = c->buf + pl->off;
		uint32_t len = pl->len;

		if (pl->dir != DIR_NONE) {
			uint8_t *carry = b->carry_buf + (uint64_t)pl->dir * b->carry;
			uint32_t kept = b->carry_len[pl->dir];

			memcpy(b->win, carry, kept);
			memcpy(b->win + kept, data, len);
			data = b->win;
			len += kept;
			kept = len < b->carry ? len : b->carry;
			memcpy(carry, b->win + len - kept, kept);
			b->carry_len[pl->dir] = kept;
		}
		if (hs_scan(b->db, (const char *)data, len, 0, b->scratch, count_match, matches) !=
		    HS_SUCCESS)
			return -1;
		n_scanned += len;
	}
	*scanned += n_scanned;
	return 0;
}

/* stream: a TCP payload goes into its direction's stream, opened (and
 * allocated by Hyperscan) the first time the direction is seen in the
 * pass; every stream is closed at the end of the pass, its end-of-data
 * matches counted.  With SINGLEMATCH a stream reports each pattern once
 * in its life, not once per payload. */
static int pass_stream(struct bench *b, uint64_t *matches, uint64_t *scanned)
{
	const struct corpus *c = b->co;
	hs_error_t err = HS_SUCCESS;

	for (uint64_t i = 0; i < c->n && err == HS_SUCCESS; i++) {
		const struct payload *pl = &c->pl[i];
		const char *data = (const char *)c->buf + pl->off;
		hs_stream_t **s = pl->dir == DIR_NONE ? NULL : &b->streams[pl->dir];

		if (!s)
			err = hs_scan(b->db, data, pl->len, 0, b->scratch, count_match, matches);
		else if (*s || (err = hs_open_stream(b->sdb, 0, s)) == HS_SUCCESS)
			err = hs_scan_stream(*s, data, pl->len, 0, b->scratch, count_match, matches);
	}
	for (uint64_t d = 0; d < c->n_dirs; d++) {   /* all of them, even after an error */
		if (b->streams[d] &&
		    hs_close_stream(b->streams[d], b->scratch, count_match, matches) != HS_SUCCESS)
			err = HS_UNKNOWN_ERROR;
		b->streams[d] = NULL;
	}
	*scanned += c->used;
	return err == HS_SUCCESS ? 0 : -1;
}

static int pass_run(struct bench *b, int m, uint64_t *matches, uint64_t *scanned)
{
	switch (m) {
	case MODE_WINDOW:
		return pass_window(b, matches, scanned);
	case MODE_STREAM:
		return pass_stream(b, matches, scanned);
	default:
		return pass_block(b, matches, scanned);
	}
}

/* Runs the modes of RUN: one warm-up pass each, whose counts fill RES's
 * per-pass figures, then rounds of one timed pass per mode until every mode
 * has run for SECONDS (so all get the same number of passes).  Taking the
 * modes in turn, not one after the other, spreads a neighbour's load on a
 * shared machine over all of them, and their ratios hold better (the
 * databases are small and a large capture's pass overflows the caches
 * anyway, so the switch between modes costs next to nothing).  With
 * one mode, this is the warm-up and the timed loop the benchmark always
 * had.  Returns 0 or -1. */
static int modes_run(struct bench *b, const bool *run, double seconds, struct mode_result *res)
{
	uint64_t matches[MODE_N] = { 0 }, scanned = 0;
	bool more = true;
	int m;

	for (m = 0; m < MODE_N; m++) {
		res[m] = (struct mode_result){ .ran = run[m] };
		if (run[m] && pass_run(b, m, &res[m].matches_per_pass, &res[m].scanned_per_pass))
			goto fail;
	}
	while (more) {
		more = false;
		for (m = 0; m < MODE_N; m++) {
			struct mode_result *r = &res[m];

			if (!run[m])
				continue;
			double t0 = mono_s(), c0 = cpu_s();
			if (pass_run(b, m, &matches[m], &scanned))
				goto fail;
			double t = mono_s() - t0;
			r->cpu_seconds += cpu_s() - c0;
			r->seconds += t;
			r->best = !r->passes || t < r->best ? t : r->best;
			r->passes++;
			more |= r->seconds < seconds;
		}
	}
	for (m = 0; m < MODE_N; m++)
		if (run[m] && matches[m] != res[m].matches_per_pass * res[m].passes)
			fprintf(stderr, "bench_hs_ceiling: warning: %s mode: matches differ between "
				"passes\n", mode_names[m]);
	return 0;
fail:
	fprintf(stderr, "bench_hs_ceiling: %s mode: a Hyperscan scan failed\n", mode_names[m]);
	return -1;
}

struct rates {
	double payload_gbps, wire_gbps, scan_gbps, mpps, ns_pkt;
};

static struct rates rates_of(const struct corpus *c, const struct mode_result *r)
{
	double p = (double)r->passes, t = r->seconds;

	return (struct rates){
		.payload_gbps = (double)c->used * p * 8 / t / 1e9,
		.wire_gbps = (double)c->wire_bytes * p * 8 / t / 1e9,
		.scan_gbps = (double)r->scanned_per_pass * p * 8 / t / 1e9,
		.mpps = (double)c->pkts * p / t / 1e6,
		.ns_pkt = t * 1e9 / ((double)c->pkts * p),
	};
}

/* Prints the keys of a RESULT line every mode shares (PREFIX first, no
 * newline): those of the block-mode line, of DB_BYTES' database. */
static void print_result(const char *prefix, size_t patterns, double compile_ms, size_t db_bytes,
			 const struct corpus *c, const struct mode_result *r)
{
	struct rates x = rates_of(c, r);

	printf("RESULT %spatterns=%zu compile_ms=%.1f db_bytes=%zu pkts=%" PRIu64
	       " payload_bytes=%" PRIu64 " wire_bytes=%" PRIu64 " passes=%" PRIu64
	       " seconds=%.3f payload_gbps=%.3f wire_gbps=%.3f mpps=%.3f ns_per_pkt=%.1f"
	       " matches_per_pass=%" PRIu64, prefix, patterns, compile_ms, db_bytes, c->pkts,
	       c->used, c->wire_bytes, r->passes, r->seconds, x.payload_gbps, x.wire_gbps, x.mpps,
	       x.ns_pkt, r->matches_per_pass);
}

/* The block mode's table, as it was before the other modes came. */
static void print_block_table(const struct corpus *c, const struct mode_result *r)
{
	struct rates x = rates_of(c, r);

	printf("%14s %10s %8s %9s %13s %10s %8s %10s %14s\n", "payload B/pass", "pkts/pass",
	       "passes", "seconds", "payload Gb/s", "wire Gb/s", "Mpps", "ns/pkt", "matches/pass");
	printf("%14" PRIu64 " %10" PRIu64 " %8" PRIu64 " %9.3f %13.3f %10.3f %8.3f %10.1f %14" PRIu64
	       "\n", c->used, c->pkts, r->passes, r->seconds, x.payload_gbps, x.wire_gbps, x.mpps,
	       x.ns_pkt, r->matches_per_pass);
	printf("(Mpps and ns/pkt count every packet, with payload or not; wire Gb/s: captured bytes "
	       "per pass x passes / time)\n");
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_hs_ceiling [--vars-default] [--seconds S]\n"
		   "                        [--mode block|window|stream|all] [--carry C]\n"
		   "                        [--all-matches]\n"
		   "                        RULES CAPTURE...\n"
		   "  RULES     a rules file, or a folder of *.rules files\n"
		   "  CAPTURE   pcap/pcapng files, or folders of them\n"
		   "  --seconds minimum measured wall time per mode (default 2.0)\n"
		   "  --mode    how TCP payloads are scanned (default block): each on its own,\n"
		   "            after the last C bytes of their flow direction, into one\n"
		   "            Hyperscan stream per flow direction, or all three compared\n"
		   "  --carry   C, the window mode's carry in bytes (default 512)\n"
		   "  --all-matches  report every occurrence (no HS_FLAG_SINGLEMATCH)\n");
}

/* The comparison of the modes that ran, their notes and RESULT lines. */
static void print_modes(const struct corpus *c, const struct mode_result *res, uint32_t carry,
			size_t n_uniq, double compile_ms, size_t db_size, double scompile_ms,
			size_t sdb_size, size_t stream_size)
{
	uint64_t state[MODE_N] = { 0, c->n_dirs * carry, c->n_dirs * stream_size };
	const struct mode_result *blk = &res[MODE_BLOCK];
	double rel[MODE_N] = { 0 }, rel_best[MODE_N] = { 0 };

	printf("%-6s %5s %6s %8s %5s %8s %7s %8s %8s %14s %9s %12s %10s %7s %7s\n", "mode",
	       "carry", "passes", "seconds", "cpu%", "cap Gb/s", "Mpps", "ns/pkt", "best",
	       "scanned B/pass", "scan Gb/s", "matches/pass", "state B", "x block", "x best");
	for (int m = 0; m < MODE_N; m++) {
		const struct mode_result *r = &res[m];
		struct rates x = rates_of(c, r);
		char cs[16] = "-", rs[16] = "-", bs[16] = "-";

		if (!r->ran)
			continue;
		if (m == MODE_WINDOW)
			snprintf(cs, sizeof(cs), "%" PRIu32, carry);
		if (blk->ran) {
			rel[m] = x.ns_pkt / rates_of(c, blk).ns_pkt;
			rel_best[m] = r->best / blk->best;
			snprintf(rs, sizeof(rs), "%.2f", rel[m]);
			snprintf(bs, sizeof(bs), "%.2f", rel_best[m]);
		}
		printf("%-6s %5s %6" PRIu64 " %8.3f %5.0f %8.3f %7.3f %8.1f %8.1f %14" PRIu64 " %9.3f %12"
		       PRIu64 " %10" PRIu64 " %7s %7s\n", mode_names[m], cs, r->passes, r->seconds,
		       100 * r->cpu_seconds / r->seconds, x.wire_gbps, x.mpps, x.ns_pkt,
		       r->best * 1e9 / (double)c->pkts, r->scanned_per_pass, x.scan_gbps,
		       r->matches_per_pass, state[m], rs, bs);
	}
	printf("(modes in turn, one pass each, after a warm-up pass each; cap Gb/s: captured bytes "
	       "x passes / time; Mpps, ns/pkt and best (the fastest pass) count every packet; "
	       "scan Gb/s: bytes handed to Hyperscan; cpu%% below ~95: descheduled; x block, x "
	       "best: ns/pkt, best, over block's)\n");
	printf("notes: TCP payloads are taken in capture order per flow direction, not reassembled "
	       "or reordered (the captures are mostly in order): a retransmission is scanned again\n"
	       "       %" PRIu64 " TCP payloads (%" PRIu64 " bytes) in %" PRIu64 " flow directions; "
	       "the %" PRIu64 " other payloads (%" PRIu64 " bytes) are scanned on their own with the "
	       "block database in every mode\n"
	       "       a payload's flow direction is looked up once at load, not per pass (the "
	       "engine's flow table hands the inspector its flow): the times are inspection only\n"
	       "       matches/pass do not compare across modes: window reports a pattern again when "
	       "it lies in the carry; with SINGLEMATCH (unless --all-matches) stream reports a "
	       "pattern once per flow direction, not once per payload\n", c->n_tcp, c->tcp_bytes,
	       c->n_dirs, c->n - c->n_tcp, c->used - c->tcp_bytes);
	if (res[MODE_WINDOW].ran)
		printf("window: carry %" PRIu32 " B: %" PRIu64 " bytes scanned per pass, %" PRIu64
		       " of them carry (+%.1f%% over the payload); carry state %" PRIu32 " B x %" PRIu64
		       " directions = %" PRIu64 " B (bytes the engine's reassembly holds anyway); "
		       "the copies into the window are timed\n", carry,
		       res[MODE_WINDOW].scanned_per_pass, res[MODE_WINDOW].scanned_per_pass - c->used,
		       100.0 * (double)(res[MODE_WINDOW].scanned_per_pass - c->used) / (double)c->used,
		       carry, c->n_dirs, state[MODE_WINDOW]);
	if (res[MODE_STREAM].ran)
		printf("stream: database %zu B (block: %zu B), compiled in %.1f ms; hs_stream_size "
		       "%zu B per flow direction x %" PRIu64 " streams open at the end of a pass = %"
		       PRIu64 " B; 100k flows x 2 directions = %.1f MB; streams opened (allocated) and "
		       "closed every pass, timed\n", sdb_size, db_size, scompile_ms, stream_size,
		       c->n_dirs, state[MODE_STREAM], 2e5 * (double)stream_size / 1e6);

	for (int m = 0; m < MODE_N; m++) {
		char prefix[32];

		if (!res[m].ran)
			continue;
		snprintf(prefix, sizeof(prefix), "mode=%s ", mode_names[m]);
		if (m == MODE_STREAM)
			print_result(prefix, n_uniq, scompile_ms, sdb_size, c, &res[m]);
		else
			print_result(prefix, n_uniq, compile_ms, db_size, c, &res[m]);
		if (m == MODE_WINDOW)
			printf(" carry=%" PRIu32, carry);
		if (m == MODE_STREAM)
			printf(" stream_bytes=%zu", stream_size);
		if (m != MODE_BLOCK)
			printf(" directions=%" PRIu64 " state_bytes=%" PRIu64, c->n_dirs, state[m]);
		printf(" scanned_bytes=%" PRIu64 " scan_gbps=%.3f cpu_pct=%.0f",
		       res[m].scanned_per_pass, rates_of(c, &res[m]).scan_gbps,
		       100 * res[m].cpu_seconds / res[m].seconds);
		printf(" best_ns_per_pkt=%.1f", res[m].best * 1e9 / (double)c->pkts);
		if (blk->ran)
			printf(" rel_block=%.3f rel_block_best=%.3f", rel[m], rel_best[m]);
		putchar('\n');
	}
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
	size_t *lens = NULL, db_size = 0, sdb_size = 0, stream_size = 0;
	hs_database_t *db = NULL, *sdb = NULL;
	hs_scratch_t *scratch = NULL;
	struct corpus co = { 0 };
	struct bench b = { 0 };
	struct mode_result res[MODE_N] = { 0 };
	bool run[MODE_N] = { false }, single = true;
	const char *mode = "block";
	double seconds = 2.0, compile_ms = 0, scompile_ms = 0;
	unsigned long carry = 512;
	int i = 1, rc = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		char *end;

		if (!strcmp(argv[i], "--vars-default"))
			continue;
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
			seconds = strtod(argv[++i], &end);
			if (*end || seconds <= 0)
				goto bad_usage;
			continue;
		}
		if (!strcmp(argv[i], "--mode") && i + 1 < argc) {
			mode = argv[++i];
			continue;
		}
		if (!strcmp(argv[i], "--carry") && i + 1 < argc) {
			carry = strtoul(argv[++i], &end, 10);
			if (*end || !*argv[i] || argv[i][0] == '-' || carry > MAX_CARRY)
				goto bad_usage;
			continue;
		}
		if (!strcmp(argv[i], "--all-matches")) {
			single = false;
			continue;
		}
		if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
		goto bad_usage;
	}
	for (int m = 0; m < MODE_N; m++)
		run[m] = !strcmp(mode, "all") || !strcmp(mode, mode_names[m]);
	if (argc - i < 2 || !(run[MODE_BLOCK] || run[MODE_WINDOW] || run[MODE_STREAM]))
		goto bad_usage;
	bool block_only = !run[MODE_WINDOW] && !run[MODE_STREAM];

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

	/* 2. one literal database over the distinct fast patterns (and the
	 * same patterns in stream mode when it runs) */
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
		flags[k] = (single ? HS_FLAG_SINGLEMATCH : 0) |
			   (pats[k].caseless ? HS_FLAG_CASELESS : 0);
		n_short += pats[k].len <= 2;
		n_nocase += pats[k].caseless;
	}
	if (compile_db(pats, expr, flags, ids, lens, n_uniq, HS_MODE_BLOCK, &db, &compile_ms))
		goto out;
	hs_database_size(db, &db_size);
	printf("patterns   %zu distinct of %" PRIu64 " fast patterns (%zu caseless, %zu of <= 2 bytes); "
	       "compiled in %.1f ms; database %zu bytes; Hyperscan %s\n", n_uniq, n_pat, n_nocase,
	       n_short, compile_ms, db_size, hs_version());
	if (run[MODE_STREAM]) {
		if (compile_db(pats, expr, flags, ids, lens, n_uniq, HS_MODE_STREAM, &sdb,
			       &scompile_ms))
			goto out;
		hs_database_size(sdb, &sdb_size);
		hs_stream_size(sdb, &stream_size);
		printf("stream db  the same patterns with HS_MODE_STREAM: compiled in %.1f ms; "
		       "database %zu bytes; %zu bytes of state per stream\n", scompile_ms, sdb_size,
		       stream_size);
	}
	for (; n_rs; n_rs--)   /* the patterns (and pats[], expr[]) die with them */
		ruleset_destroy(rs[n_rs - 1]);

	/* 3. the payloads of every capture, in memory */
	size_t n_read = 0;
	co.want_dirs = !block_only;
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

	/* 4. the per-direction state of the modes that run */
	b = (struct bench){ .db = db, .sdb = sdb, .co = &co, .carry = (uint32_t)carry };
	if (co.want_dirs && corpus_assign_dirs(&co))
		goto nomem;
	if (run[MODE_WINDOW] &&
	    (!(b.win = malloc(carry + co.max_len)) ||
	     !(b.carry_buf = malloc(co.n_dirs * carry + 1)) ||
	     !(b.carry_len = calloc(co.n_dirs + 1, sizeof(*b.carry_len)))))
		goto nomem;
	if (run[MODE_STREAM] && !(b.streams = calloc(co.n_dirs + 1, sizeof(*b.streams))))
		goto nomem;
	if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS ||
	    (sdb && hs_alloc_scratch(sdb, &scratch) != HS_SUCCESS)) {
		fprintf(stderr, "bench_hs_ceiling: hs_alloc_scratch failed\n");
		goto out;
	}
	b.scratch = scratch;

	/* 5. scan: one warm-up pass per mode, then whole passes for >= seconds */
	if (modes_run(&b, run, seconds, res))
		goto out;

	/* 6. results */
	if (block_only) {
		print_block_table(&co, &res[MODE_BLOCK]);
		print_result("", n_uniq, compile_ms, db_size, &co, &res[MODE_BLOCK]);
		putchar('\n');
	} else {
		print_modes(&co, res, b.carry, n_uniq, compile_ms, db_size, scompile_ms, sdb_size,
			    stream_size);
	}
	rc = 0;
	goto out;
nomem:
	fprintf(stderr, "bench_hs_ceiling: out of memory\n");
out:
	hs_free_scratch(scratch);
	hs_free_database(db);
	hs_free_database(sdb);
	free(b.win), free(b.carry_buf), free(b.carry_len), free(b.streams);
	free(co.buf);
	free(co.pl);
	free(co.keys);
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
