/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The rule parser: Suricata/Snort rule text in, an immutable in-memory
 * ruleset out, for the compiler (Hyperscan) and the matcher to consume.
 *
 * Threading: a ruleset, a variables table and a classification table are
 * built by one thread; once built they are never modified, and any number
 * of threads may read them concurrently.  Nothing here runs on the
 * per-packet path except rule_addr_match() and rule_port_match(), which
 * neither allocate nor fail.
 *
 * Errors: functions return 0 or -errno; constructors fill an out-parameter
 * (NULL on failure); x_destroy(NULL) does nothing.  A rule that cannot be
 * loaded is not an error of the load: it is skipped and described by a
 * diagnostic ("file:line:col: message" and a reason), unless the load is
 * strict.
 */
#ifndef VIGIL_RULE_H
#define VIGIL_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ------------------------------------------------------------ variables */

/* Address and port variables ("HOME_NET" -> "[10.0.0.0/8,...]").  A value
 * may reference other variables; cycles are reported when a rule uses one. */
struct rule_vars;

int rule_vars_create(struct rule_vars **out);
/* Sets (or replaces) NAME, given with or without its leading '$'.  Names
 * are [A-Za-z0-9_]+; -EINVAL otherwise.  Both strings are copied. */
int rule_vars_set(struct rule_vars *v, const char *name, const char *value);
/* The value of NAME (with or without '$'), or NULL. */
const char *rule_vars_get(const struct rule_vars *v, const char *name);
/* Sets the address and port groups of Suricata's stock suricata.yaml
 * (HOME_NET, EXTERNAL_NET, *_SERVERS, HTTP_PORTS, ...), replacing them. */
int rule_vars_set_defaults(struct rule_vars *v);
void rule_vars_destroy(struct rule_vars *v);

/* ------------------------------------------------------- classification */

struct rule_class {
	const char *name;        /* lower case */
	const char *desc;
	uint8_t priority;
};

struct rule_classes;

/* Suricata's standard classification.config, built in. */
int rule_classes_create_default(struct rule_classes **out);
/* Reads "config classification: name,description,priority" lines ('#'
 * comments and blank lines allowed).  A malformed line fails the load with
 * "path:line:col: message" in ERR. */
int rule_classes_load(struct rule_classes **out, const char *path, char *err, size_t errlen);
int rule_classes_load_buffer(struct rule_classes **out, const char *name, const char *buf,
			     size_t len, char *err, size_t errlen);
/* Case-insensitive lookup; NULL when unknown. */
const struct rule_class *rule_classes_find(const struct rule_classes *c, const char *name);
size_t rule_classes_count(const struct rule_classes *c);
void rule_classes_destroy(struct rule_classes *c);

/* ------------------------------------------------- addresses and ports */

/* Inclusive ranges, sorted, disjoint and never adjacent. */
struct rule_ip4_range {
	uint32_t lo, hi;         /* host byte order */
};
struct rule_ip6_range {
	uint8_t lo[16], hi[16];  /* network byte order */
};

/* A normalised address set: what the expression (lists, CIDRs, ranges,
 * negations, variables) matches, as IPv4 and IPv6 ranges. */
struct rule_addrset {
	const char *text;        /* the expression as written */
	bool any;                /* matches every IPv4 and IPv6 address */
	uint32_t n4, n6;
	const struct rule_ip4_range *v4;
	const struct rule_ip6_range *v6;
};

struct rule_port_range {
	uint16_t lo, hi;
};

struct rule_portset {
	const char *text;
	bool any;                /* 0-65535 */
	uint32_t n;
	const struct rule_port_range *r;
};

/* ADDR holds the address in network byte order; for IPV4 == 4 only its
 * first 4 bytes are read.  Any other IPVER matches nothing. */
bool rule_addr_match(const struct rule_addrset *s, const uint8_t addr[16], uint8_t ipver);
bool rule_port_match(const struct rule_portset *s, uint16_t port);

/* Parse one address or port expression outside a rule (tests, command
 * line, configuration); VARS may be NULL.  On error ERR holds
 * "col N: message" (1-based column in TEXT). */
int rule_addrset_parse(struct rule_addrset **out, const char *text, const struct rule_vars *vars,
		       char *err, size_t errlen);
void rule_addrset_destroy(struct rule_addrset *s);
int rule_portset_parse(struct rule_portset **out, const char *text, const struct rule_vars *vars,
		       char *err, size_t errlen);
void rule_portset_destroy(struct rule_portset *s);

/* ------------------------------------------------------------- a rule */

enum rule_action { RULE_ACTION_ALERT, RULE_ACTION_DROP, RULE_ACTION_PASS, RULE_ACTION_REJECT };
/* which side a reject answers: "reject" is rejectsrc */
enum rule_reject { RULE_REJECT_NONE, RULE_REJECT_SRC, RULE_REJECT_DST, RULE_REJECT_BOTH };
enum rule_proto {
	RULE_PROTO_IP, RULE_PROTO_TCP, RULE_PROTO_UDP, RULE_PROTO_ICMP,
	RULE_PROTO_TCP_PKT,      /* tcp, packets only */
	RULE_PROTO_TCP_STREAM,   /* tcp, reassembled stream only */
};
enum rule_dir { RULE_DIR_TO, RULE_DIR_BOTH };   /* "->" and "<>" */

/* Numeric comparisons of dsize, ttl, itype, icode, ip_proto. */
enum rule_cmp_op {
	RULE_CMP_NONE,           /* keyword absent */
	RULE_CMP_EQ, RULE_CMP_NE, RULE_CMP_LT, RULE_CMP_LE, RULE_CMP_GT, RULE_CMP_GE,
	RULE_CMP_RANGE,          /* lo < x < hi ("lo<>hi" or "lo-hi", exclusive) */
};
struct rule_cmp {
	enum rule_cmp_op op;
	uint32_t lo, hi;         /* hi only for RANGE */
};
bool rule_cmp_match(const struct rule_cmp *c, uint32_t x);   /* NONE matches */

/* content */
#define RULE_CONTENT_NEGATED   (1u << 0)
#define RULE_CONTENT_NOCASE    (1u << 1)
#define RULE_CONTENT_RAWBYTES  (1u << 2)   /* accepted, no effect */
#define RULE_CONTENT_OFFSET    (1u << 3)   /* the field of that name is set */
#define RULE_CONTENT_DEPTH     (1u << 4)
#define RULE_CONTENT_DISTANCE  (1u << 5)
#define RULE_CONTENT_WITHIN    (1u << 6)
#define RULE_CONTENT_FP        (1u << 7)   /* explicit fast_pattern */
#define RULE_CONTENT_FP_ONLY   (1u << 8)   /* fast_pattern:only */
#define RULE_CONTENT_FP_CHOP   (1u << 9)   /* fast_pattern:fp_off,fp_len */

struct rule_content {
	const uint8_t *pat;      /* decoded bytes (hex and escapes resolved) */
	uint32_t len;            /* >= 1 */
	uint32_t flags;          /* RULE_CONTENT_* */
	int32_t offset, depth;   /* absolute: offset >= 0, depth >= len */
	int32_t distance, within;/* relative to the previous match; within >= len */
	uint16_t fp_off, fp_len; /* fast_pattern chop */
};

/* pcre: the pattern between the slashes, exactly as written */
#define RULE_PCRE_NEGATED      (1u << 0)
#define RULE_PCRE_RELATIVE     (1u << 1)   /* R */
#define RULE_PCRE_CASELESS     (1u << 2)   /* i */
#define RULE_PCRE_DOTALL       (1u << 3)   /* s */
#define RULE_PCRE_MULTILINE    (1u << 4)   /* m */
#define RULE_PCRE_EXTENDED     (1u << 5)   /* x */
#define RULE_PCRE_ANCHORED     (1u << 6)   /* A */
#define RULE_PCRE_DOLLAR_ENDONLY (1u << 7) /* E */
#define RULE_PCRE_UNGREEDY     (1u << 8)   /* G */
#define RULE_PCRE_MATCH_LIMIT  (1u << 9)   /* O: override the match limit */
#define RULE_PCRE_RAWBYTES     (1u << 10)  /* B: accepted, no effect */

struct rule_pcre {
	const char *re;
	uint32_t flags;          /* RULE_PCRE_* */
};

enum rule_endian { RULE_ENDIAN_BIG, RULE_ENDIAN_LITTLE };
/* how the bytes are read: binary, or a string of digits in a base */
enum rule_num_base { RULE_BASE_BINARY, RULE_BASE_DEC, RULE_BASE_HEX, RULE_BASE_OCT };
enum rule_bt_op { RULE_BT_LT, RULE_BT_GT, RULE_BT_EQ, RULE_BT_LE, RULE_BT_GE, RULE_BT_AND, RULE_BT_XOR };

struct rule_byte_test {
	uint8_t nbytes;          /* 1-8 binary, 1-20 string */
	enum rule_bt_op op;
	bool negated;            /* "!" before the operator */
	bool relative;
	enum rule_endian endian;
	enum rule_num_base base;
	bool has_bitmask;
	uint64_t value;
	int32_t offset;
	uint32_t bitmask;
};

struct rule_byte_jump {
	uint8_t nbytes;          /* 0 (jump by offset and post_offset only, as Suricata 7), 1-8 binary, 1-20 string */
	bool relative, align, from_beginning, from_end, has_bitmask;
	enum rule_endian endian;
	enum rule_num_base base;
	int32_t offset;
	uint32_t multiplier;     /* 1 when absent */
	int32_t post_offset;
	uint32_t bitmask;
};

struct rule_isdataat {
	uint32_t n;
	bool negated, relative, rawbytes;
};

/* Payload inspections, in rule order (relative ones refer to the one
 * before). */
enum rule_pm_type { RULE_PM_CONTENT, RULE_PM_PCRE, RULE_PM_BYTE_TEST, RULE_PM_BYTE_JUMP,
		    RULE_PM_ISDATAAT };

struct rule_pm {
	enum rule_pm_type type;
	union {
		struct rule_content content;
		struct rule_pcre pcre;
		struct rule_byte_test byte_test;
		struct rule_byte_jump byte_jump;
		struct rule_isdataat isdataat;
	};
};

/* flow */
#define RULE_FLOW_ESTABLISHED     (1u << 0)
#define RULE_FLOW_NOT_ESTABLISHED (1u << 1)
#define RULE_FLOW_STATELESS       (1u << 2)
#define RULE_FLOW_TO_SERVER       (1u << 3)   /* = from_client */
#define RULE_FLOW_TO_CLIENT       (1u << 4)   /* = from_server */
#define RULE_FLOW_ONLY_STREAM     (1u << 5)
#define RULE_FLOW_NO_STREAM       (1u << 6)
#define RULE_FLOW_ONLY_FRAG       (1u << 7)
#define RULE_FLOW_NO_FRAG         (1u << 8)

/* TCP flag bits, as in the TCP header */
#define RULE_TCP_FIN 0x01
#define RULE_TCP_SYN 0x02
#define RULE_TCP_RST 0x04
#define RULE_TCP_PSH 0x08
#define RULE_TCP_ACK 0x10
#define RULE_TCP_URG 0x20
#define RULE_TCP_ECE 0x40   /* "E" or "2" */
#define RULE_TCP_CWR 0x80   /* "C" or "1" */

enum rule_flags_mod {
	RULE_FLAGS_NONE,         /* keyword absent */
	RULE_FLAGS_EXACT,        /* (flags & ~ignore) == set */
	RULE_FLAGS_PLUS,         /* '+': all of set, others allowed */
	RULE_FLAGS_ANY,          /* '*': any of set */
	RULE_FLAGS_NOT,          /* '!': not all of set (Suricata; for one flag: it is clear) */
};
struct rule_tcp_flags {
	enum rule_flags_mod mod;
	uint8_t set;             /* "0" is an empty set */
	uint8_t ignore;          /* the mask after ',' */
};

enum rule_fb_cmd { RULE_FB_SET, RULE_FB_UNSET, RULE_FB_TOGGLE, RULE_FB_ISSET, RULE_FB_ISNOTSET };
enum rule_fb_group { RULE_FB_ONE, RULE_FB_AND, RULE_FB_OR };   /* "a&b", "a|b" */
struct rule_flowbit {
	enum rule_fb_cmd cmd;
	enum rule_fb_group group;
	uint32_t n;              /* >= 1; > 1 only for isset/isnotset groups */
	const char *const *names;
};

/* backoff: alert on the 1st, then every count-th match, count multiplied by
 * multiplier after each alert (Suricata 7). */
enum rule_thr_type { RULE_THR_LIMIT, RULE_THR_THRESHOLD, RULE_THR_BOTH, RULE_THR_BACKOFF };
enum rule_track { RULE_TRACK_BY_SRC, RULE_TRACK_BY_DST, RULE_TRACK_BY_RULE, RULE_TRACK_BY_BOTH,
		  RULE_TRACK_BY_FLOW };
struct rule_threshold {
	bool set;
	enum rule_thr_type type; /* detection_filter: always THRESHOLD */
	enum rule_track track;
	uint32_t count, seconds;   /* seconds 0 only for backoff (no window) */
	uint32_t multiplier;       /* backoff only, >= 2 */
	enum rule_unique { RULE_UNIQUE_NONE, RULE_UNIQUE_SRC_PORT, RULE_UNIQUE_DST_PORT } unique_on;
};

enum rule_target { RULE_TARGET_NONE, RULE_TARGET_SRC, RULE_TARGET_DST };

struct rule_kv {
	const char *key, *value;  /* metadata "key value", reference "type,value" */
};

struct rule {
	uint32_t gid, sid, rev;  /* gid 1 and rev 0 when absent */
	enum rule_action action;
	enum rule_reject reject;
	enum rule_proto proto;
	enum rule_dir dir;
	const struct rule_addrset *src, *dst;   /* shared: owned by the ruleset */
	const struct rule_portset *sport, *dport;

	const char *msg;         /* "" when absent */
	const char *classtype;   /* NULL when absent */
	const char *class_desc;  /* NULL when absent or unknown */
	uint8_t priority;        /* priority keyword, else the class's, else 3 */

	/* payload */
	uint32_t n_pm;
	const struct rule_pm *pm;
	int32_t fast_pattern;    /* index in pm of the MPM content, -1: none */
	bool mpm;                /* fast_pattern >= 0; false: non-MPM list */

	/* packet and flow conditions */
	uint32_t flow;           /* RULE_FLOW_* */
	struct rule_cmp dsize, ttl, itype, icode, ip_proto;
	struct rule_tcp_flags flags;
	bool sameip;
	bool noalert;            /* flowbits:noalert or noalert */
	uint32_t n_flowbits;
	const struct rule_flowbit *flowbits;
	struct rule_threshold threshold, detection_filter;

	/* stored, not interpreted */
	enum rule_target target;
	uint32_t n_metadata, n_refs;
	const struct rule_kv *metadata, *refs;

	const char *file;        /* as opened (includes: relative to the includer) */
	uint32_t line;           /* first physical line */
	const char *text;        /* the rule, continuation lines joined */
};

/* ------------------------------------------------------------ the load */

enum rule_skip_reason {
	RULE_SKIP_NONE,              /* a warning: the rule was loaded */
	RULE_SKIP_SYNTAX,            /* malformed: quote, ';', ')', number, address, ... */
	RULE_SKIP_INVALID,           /* well-formed but invalid value or combination */
	RULE_SKIP_UNSUPPORTED_PROTO, /* http, dns, tls, ... */
	RULE_SKIP_APP_LAYER,         /* app-layer keyword or pcre buffer modifier */
	RULE_SKIP_UNKNOWN_KEYWORD,
	RULE_SKIP_UNSUPPORTED,       /* a known keyword or option vigil does not implement */
	RULE_SKIP_MISSING_SID,
	RULE_SKIP_DUPLICATE_SID,     /* the first (gid, sid) is kept */
	RULE_SKIP_BAD_VARIABLE,      /* undefined, cyclic or malformed variable */
	RULE_SKIP_BAD_PCRE,
	RULE_SKIP_INCLUDE,           /* an include line that failed (no rule) */
	RULE_SKIP__COUNT
};
const char *rule_skip_reason_name(enum rule_skip_reason r);

struct rule_diag {
	const char *where;       /* "file:line:col" */
	const char *file;
	uint32_t line, col;      /* 1-based, physical line and byte column */
	const char *msg;
	enum rule_skip_reason reason;
	const char *keyword;     /* the keyword, protocol or pcre modifier at fault, or NULL */
	uint32_t sid;            /* of the rule when it could be read, else 0 */
};

struct rule_load_opts {
	const struct rule_vars *vars;        /* NULL: no variables */
	const struct rule_classes *classes;  /* NULL: the built-in default set */
	bool strict;             /* the first skipped rule (or failed include) fails the load */
	bool no_include;         /* refuse "include" lines (untrusted input, fuzzing) */
};

struct ruleset;

/* Load a rules file (and what it includes).  Returns 0 with *OUT set even
 * when rules were skipped (see the diagnostics); -errno with ERR set when
 * the file cannot be read, memory runs out, or (strict) a rule is bad.
 * OPTS may be NULL. */
int ruleset_load_file(struct ruleset **out, const char *path, const struct rule_load_opts *opts,
		      char *err, size_t errlen);
/* Same, from memory; NAME is used in diagnostics and to resolve includes. */
int ruleset_load_buffer(struct ruleset **out, const char *name, const char *buf, size_t len,
			const struct rule_load_opts *opts, char *err, size_t errlen);

size_t ruleset_count(const struct ruleset *rs);
const struct rule *ruleset_get(const struct ruleset *rs, size_t i);
const struct rule *ruleset_find(const struct ruleset *rs, uint32_t gid, uint32_t sid);
size_t ruleset_diag_count(const struct ruleset *rs);
const struct rule_diag *ruleset_diag(const struct ruleset *rs, size_t i);

struct ruleset_stats {
	size_t files;            /* read, includes counted */
	size_t lines;            /* physical lines */
	size_t commented_rules;  /* "# alert ..." lines */
	size_t rules;            /* rule statements seen (loaded + skipped) */
	size_t loaded;
	size_t skipped;
	size_t warnings;
	size_t non_mpm;          /* loaded rules without a fast pattern */
	size_t by_reason[RULE_SKIP__COUNT];   /* diagnostics per reason */
};
void ruleset_get_stats(const struct ruleset *rs, struct ruleset_stats *st);

/* The load report: counts, skips per reason with the most frequent
 * keywords/protocols of each. */
void ruleset_report(const struct ruleset *rs, FILE *f);
void ruleset_destroy(struct ruleset *rs);

#endif
