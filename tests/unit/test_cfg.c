/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit test of the configuration store (dataplane/base/cfg.c).
 * Standalone: prints each failed check with its line; exit 0 iff all pass.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"

static int failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		failures++; \
	} \
} while (0)

#define CHECK_STR(got, want) check_str(__LINE__, #got, (got), (want))
#define CHECK_U64(got, want) check_u64(__LINE__, #got, (got), (want))

static void check_str(int line, const char *expr, const char *got, const char *want)
{
	if ((!got && !want) || (got && want && strcmp(got, want) == 0))
		return;
	printf("FAIL %s:%d: %s\n    got:  %s%s%s\n    want: %s%s%s\n", __FILE__, line, expr,
	       got ? "'" : "", got ? got : "NULL", got ? "'" : "",
	       want ? "'" : "", want ? want : "NULL", want ? "'" : "");
	failures++;
}

static void check_u64(int line, const char *expr, uint64_t got, uint64_t want)
{
	if (got == want)
		return;
	printf("FAIL %s:%d: %s\n    got:  %llu\n    want: %llu\n", __FILE__, line, expr,
	       (unsigned long long)got, (unsigned long long)want);
	failures++;
}

static const struct cfg_key schema[] = {
	{ "flow.max-flows", CFG_T_U64, "65536", 1024, 16777216, NULL, "flows tracked at once per worker" },
	{ "flow.timeout", CFG_T_DURATION, "30s", 1000, 3600000, NULL, "idle timeout" },
	{ "flow.memcap", CFG_T_SIZE, "64mb", 1u << 20, 1ull << 32, NULL, "flow memory cap" },
	{ "flow.hash-seed", CFG_T_U64, NULL, 0, 0, NULL, "hash seed (random if unset)" },
	{ "detect.enabled", CFG_T_BOOL, "yes", 0, 0, NULL, "run the detection engine" },
	{ "detect.profile", CFG_T_ENUM, "auto", 0, 0, "all|none|auto", "rule grouping profile" },
	{ "outputs.eve.filename", CFG_T_STRING, "eve.json", 0, 0, NULL, "EVE output file" },
	{ "outputs.eve.prefix", CFG_T_STRING, NULL, 0, 0, NULL, "prefix of each record" },
	{ "capture.interfaces", CFG_T_LIST, "[eth0]", 0, 0, NULL, "interfaces to capture on" },
	{ "vars.address-groups.*", CFG_T_LIST, NULL, 0, 0, NULL, "address groups" },
	{ "vars.port-groups.*", CFG_T_STRING, NULL, 0, 0, NULL, "port groups" },
	{ "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p", CFG_T_U64, NULL, 0, 0, NULL, "16 levels deep" },
};
#define NKEYS (sizeof(schema) / sizeof(schema[0]))

static struct cfg *load(int line, const char *yaml)
{
	struct cfg *c = NULL;
	char err[512] = "";
	int rc = cfg_create_from_buffer(&c, schema, NKEYS, "t.yaml", yaml, strlen(yaml), err, sizeof(err));

	if (rc) {
		printf("FAIL %s:%d: unexpected error %d: %s\n", __FILE__, line, rc, err);
		failures++;
	}
	return c;
}

/* The config must be refused with exactly the message want. */
static void refused(int line, const char *yaml, const char *want)
{
	struct cfg *c = (struct cfg *)1;
	char err[512] = "";
	int rc = cfg_create_from_buffer(&c, schema, NKEYS, "t.yaml", yaml, strlen(yaml), err, sizeof(err));

	if (rc != -EINVAL || c != NULL || strcmp(err, want) != 0) {
		printf("FAIL %s:%d: rc %d (want %d), out %s\n    got:  '%s'\n    want: '%s'\n",
		       __FILE__, line, rc, -EINVAL, c ? "set" : "NULL", err, want);
		failures++;
	}
	cfg_destroy(c);
}

/* Same, the message must start with want (libyaml's wording may vary). */
static void refused_prefix(int line, const char *yaml, const char *want)
{
	struct cfg *c = NULL;
	char err[512] = "";
	int rc = cfg_create_from_buffer(&c, schema, NKEYS, "t.yaml", yaml, strlen(yaml), err, sizeof(err));

	if (rc != -EINVAL || c != NULL || strncmp(err, want, strlen(want)) != 0) {
		printf("FAIL %s:%d: rc %d\n    got:  '%s'\n    want: '%s...'\n", __FILE__, line, rc, err, want);
		failures++;
	}
	cfg_destroy(c);
}

#define REFUSED(yaml, want) refused(__LINE__, yaml, want)
#define REFUSED_PREFIX(yaml, want) refused_prefix(__LINE__, yaml, want)

static const char good_yaml[] =
	"%YAML 1.1\n"                                           /* 1 */
	"---\n"                                                 /* 2 */
	"# vigil test config\n"                                 /* 3 */
	"flow:\n"                                               /* 4 */
	"  max-flows: 200000\n"                                 /* 5 */
	"  timeout: 2m\n"                                       /* 6 */
	"  memcap: 1gb\n"                                       /* 7 */
	"detect:\n"                                             /* 8 */
	"  enabled: off\n"                                      /* 9 */
	"  profile: none\n"                                     /* 10 */
	"outputs:\n"                                            /* 11 */
	"  eve:\n"                                              /* 12 */
	"    filename: \"/var/log/vigil/eve.json\"\n"           /* 13 */
	"capture:\n"                                            /* 14 */
	"  interfaces:\n"                                       /* 15 */
	"    - eth1\n"                                          /* 16 */
	"    - \"eth2, with comma\"\n"                          /* 17 */
	"vars:\n"                                               /* 18 */
	"  address-groups:\n"                                   /* 19 */
	"    HOME_NET: \"[192.168.0.0/16,10.0.0.0/8, 172.16.0.0/12]\"\n" /* 20 */
	"    EXTERNAL_NET: \"!$HOME_NET\"\n"                    /* 21 */
	"    DNS_SERVERS: [10.0.0.53, \"10.0.0.54\"]\n"         /* 22 */
	"    NESTED: \"[$HOME_NET, ![10.1.0.0/16, 10.2.0.0/16]]\"\n" /* 23 */
	"    EMPTY: []\n"                                       /* 24 */
	"  port-groups:\n"                                      /* 25 */
	"    HTTP_PORTS: \"80\"\n"                              /* 26 */
	"a: {b: {c: {d: {e: {f: {g: {h: {i: {j: {k: {l: {m: {n: {o: {p: 7}}}}}}}}}}}}}}}\n"; /* 27 */

static void test_good(void)
{
	struct cfg *c = load(__LINE__, good_yaml);
	const char *const *items;

	if (!c)
		return;
	CHECK_U64(cfg_get_u64(c, "flow.max-flows"), 200000);
	CHECK_U64(cfg_get_duration_ms(c, "flow.timeout"), 120000);
	CHECK_U64(cfg_get_size(c, "flow.memcap"), 1ull << 30);
	CHECK(!cfg_get_bool(c, "detect.enabled"));
	CHECK(cfg_get_enum(c, "detect.profile") == 1);
	CHECK_STR(cfg_get_str(c, "detect.profile"), "none");
	CHECK_STR(cfg_get_str(c, "outputs.eve.filename"), "/var/log/vigil/eve.json");
	CHECK_U64(cfg_get_u64(c, "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p"), 7);

	/* origins: position of the value */
	CHECK_STR(cfg_origin(c, "flow.max-flows"), "t.yaml:5:14");
	CHECK_STR(cfg_origin(c, "outputs.eve.filename"), "t.yaml:13:15");
	CHECK_STR(cfg_origin(c, "capture.interfaces"), "t.yaml:16:5");
	CHECK_STR(cfg_origin(c, "flow.hash-seed"), "unset");
	CHECK_STR(cfg_origin(c, "outputs.eve.prefix"), "unset");
	CHECK(cfg_is_set(c, "flow.max-flows"));
	CHECK(!cfg_is_set(c, "flow.hash-seed"));
	CHECK(cfg_get_u64(c, "flow.hash-seed") == 0);
	CHECK(cfg_get_str(c, "outputs.eve.prefix") == NULL);

	/* lists: YAML sequence, "[..]" string, nested brackets, one scalar, empty */
	CHECK(cfg_get_list(c, "capture.interfaces", &items) == 2);
	CHECK_STR(items[0], "eth1");
	CHECK_STR(items[1], "eth2, with comma");
	CHECK(cfg_get_list(c, "vars.address-groups.HOME_NET", &items) == 3);
	CHECK_STR(items[0], "192.168.0.0/16");
	CHECK_STR(items[1], "10.0.0.0/8");
	CHECK_STR(items[2], "172.16.0.0/12");
	CHECK_STR(cfg_get_str(c, "vars.address-groups.HOME_NET"), "[192.168.0.0/16, 10.0.0.0/8, 172.16.0.0/12]");
	CHECK(cfg_get_list(c, "vars.address-groups.EXTERNAL_NET", &items) == 1);
	CHECK_STR(items[0], "!$HOME_NET");
	CHECK(cfg_get_list(c, "vars.address-groups.DNS_SERVERS", &items) == 2);
	CHECK_STR(items[1], "10.0.0.54");
	CHECK_STR(cfg_origin(c, "vars.address-groups.DNS_SERVERS"), "t.yaml:22:18");
	CHECK(cfg_get_list(c, "vars.address-groups.NESTED", &items) == 2);
	CHECK_STR(items[0], "$HOME_NET");
	CHECK_STR(items[1], "![10.1.0.0/16, 10.2.0.0/16]");
	CHECK(cfg_get_list(c, "vars.address-groups.EMPTY", &items) == 0 && items == NULL);
	CHECK(cfg_is_set(c, "vars.address-groups.EMPTY"));
	CHECK(cfg_get_list(c, "vars.address-groups.NOPE", &items) == 0 && items == NULL);
	CHECK_STR(cfg_get_str(c, "vars.port-groups.HTTP_PORTS"), "80");
	cfg_destroy(c);
}

static void test_defaults(void)
{
	struct cfg *c = NULL;
	const char *const *items;
	char err[256] = "";

	CHECK(cfg_create(&c, schema, NKEYS, NULL, err, sizeof(err)) == 0);
	if (!c)
		return;
	CHECK_U64(cfg_get_u64(c, "flow.max-flows"), 65536);
	CHECK_U64(cfg_get_duration_ms(c, "flow.timeout"), 30000);
	CHECK_U64(cfg_get_size(c, "flow.memcap"), 64ull << 20);
	CHECK(cfg_get_bool(c, "detect.enabled"));
	CHECK(cfg_get_enum(c, "detect.profile") == 2);
	CHECK_STR(cfg_get_str(c, "outputs.eve.filename"), "eve.json");
	CHECK(cfg_get_list(c, "capture.interfaces", &items) == 1);
	CHECK_STR(items[0], "eth0");
	CHECK_STR(cfg_origin(c, "flow.max-flows"), "default");
	CHECK(!cfg_is_set(c, "flow.max-flows"));
	CHECK(cfg_get_str(c, "flow.hash-seed") == NULL);
	cfg_destroy(c);

	/* empty input, comments only, bare "---", null values, empty sections */
	c = load(__LINE__, "");
	CHECK(c && cfg_get_u64(c, "flow.max-flows") == 65536);
	cfg_destroy(c);
	c = load(__LINE__, "# nothing\n\n");
	cfg_destroy(c);
	c = load(__LINE__, "%YAML 1.1\n---\n");
	cfg_destroy(c);
	c = load(__LINE__, "flow:\n  max-flows:\n  timeout: ~\nvars:\n  address-groups:\n  port-groups: {}\n"
		 "detect: null\noutputs: {eve: {}}\n");
	if (c) {
		CHECK_U64(cfg_get_u64(c, "flow.max-flows"), 65536);
		CHECK_STR(cfg_origin(c, "flow.timeout"), "default");
		CHECK(!cfg_is_set(c, "flow.max-flows"));
	}
	cfg_destroy(c);
	/* a quoted empty string is a value, not null */
	c = load(__LINE__, "outputs:\n  eve:\n    prefix: ''\n");
	if (c) {
		CHECK_STR(cfg_get_str(c, "outputs.eve.prefix"), "");
		CHECK(cfg_is_set(c, "outputs.eve.prefix"));
	}
	cfg_destroy(c);
	/* CRLF line ends, UTF-8 byte order mark */
	c = load(__LINE__, "\xef\xbb\xbf" "flow:\r\n  max-flows: 4096\r\n  timeout: 1m\r\n");
	CHECK(c && cfg_get_u64(c, "flow.max-flows") == 4096);
	CHECK(c && strcmp(cfg_origin(c, "flow.timeout"), "t.yaml:3:12") == 0);
	cfg_destroy(c);
	/* dotted keys in the file are the same keys */
	c = load(__LINE__, "flow.max-flows: 4096\n");
	CHECK(c && cfg_get_u64(c, "flow.max-flows") == 4096);
	cfg_destroy(c);
	cfg_destroy(NULL);
}

static void test_types(void)
{
	static const struct {
		const char *yaml;
		uint64_t want;
	} ok[] = {
		{ "detect: {enabled: yes}", 1 }, { "detect: {enabled: No}", 0 },
		{ "detect: {enabled: TRUE}", 1 }, { "detect: {enabled: false}", 0 },
		{ "detect: {enabled: on}", 1 }, { "detect: {enabled: OFF}", 0 },
		{ "detect: {enabled: 1}", 1 }, { "detect: {enabled: 0}", 0 },
		{ "flow: {max-flows: 1024}", 1024 }, { "flow: {max-flows: 16777216}", 16777216 },
		{ "flow: {hash-seed: 18446744073709551615}", UINT64_MAX },
		{ "flow: {timeout: 30}", 30000 }, { "flow: {timeout: 30s}", 30000 },
		{ "flow: {timeout: 1500ms}", 1500 }, { "flow: {timeout: 5m}", 300000 },
		{ "flow: {timeout: 1h}", 3600000 }, { "flow: {timeout: 1000ms}", 1000 },
		{ "flow: {timeout: 10 S}", 10000 },
		{ "flow: {memcap: 1048576}", 1048576 }, { "flow: {memcap: 1024kb}", 1048576 },
		{ "flow: {memcap: 1mb}", 1048576 }, { "flow: {memcap: 2gb}", 2ull << 30 },
		{ "flow: {memcap: 1MiB}", 1048576 }, { "flow: {memcap: 3M}", 3ull << 20 },
		{ "flow: {memcap: 4GB}", 4ull << 30 }, { "flow: {memcap: 2048K}", 2ull << 20 },
		{ "flow: {memcap: 1048576b}", 1048576 }, { "flow: {memcap: 1 gib}", 1ull << 30 },
		{ "detect: {profile: all}", 0 }, { "detect: {profile: auto}", 2 },
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct cfg *c = load(__LINE__, ok[i].yaml);
		uint64_t got;

		if (!c)
			continue;
		if (strstr(ok[i].yaml, "enabled"))
			got = cfg_get_bool(c, "detect.enabled");
		else if (strstr(ok[i].yaml, "max-flows"))
			got = cfg_get_u64(c, "flow.max-flows");
		else if (strstr(ok[i].yaml, "hash-seed"))
			got = cfg_get_u64(c, "flow.hash-seed");
		else if (strstr(ok[i].yaml, "timeout"))
			got = cfg_get_duration_ms(c, "flow.timeout");
		else if (strstr(ok[i].yaml, "memcap"))
			got = cfg_get_size(c, "flow.memcap");
		else
			got = (uint64_t)cfg_get_enum(c, "detect.profile");
		if (got != ok[i].want) {
			printf("FAIL %s:%d: '%s' gave %llu, want %llu\n", __FILE__, __LINE__, ok[i].yaml,
			       (unsigned long long)got, (unsigned long long)ok[i].want);
			failures++;
		}
		cfg_destroy(c);
	}
}

static void test_value_errors(void)
{
	REFUSED("detect:\n  enabled: maybe\n",
		"t.yaml:2:12: detect.enabled: 'maybe' is not a boolean (use yes/no, true/false, on/off, 1/0)");
	REFUSED("flow:\n  max-flows: ten\n",
		"t.yaml:2:14: flow.max-flows: 'ten' is not an unsigned integer");
	REFUSED("flow:\n  max-flows: -5\n",
		"t.yaml:2:14: flow.max-flows: '-5' is not an unsigned integer");
	REFUSED("flow:\n  max-flows: 10k\n",
		"t.yaml:2:14: flow.max-flows: '10k' is not an unsigned integer");
	REFUSED("flow:\n  hash-seed: 18446744073709551616\n",
		"t.yaml:2:14: flow.hash-seed: '18446744073709551616' is too large");
	REFUSED("flow:\n  max-flows: 0\n",
		"t.yaml:2:14: flow.max-flows: 0 is below the minimum 1024");
	REFUSED("flow:\n  max-flows: 16777217\n",
		"t.yaml:2:14: flow.max-flows: 16777217 is above the maximum 16777216");
	REFUSED("flow:\n  timeout: 5x\n",
		"t.yaml:2:12: flow.timeout: '5x' is not a duration (e.g. 30, 30s, 500ms, 5m, 1h)");
	REFUSED("flow:\n  timeout: 1.5s\n",
		"t.yaml:2:12: flow.timeout: '1.5s' is not a duration (e.g. 30, 30s, 500ms, 5m, 1h)");
	REFUSED("flow:\n  timeout: 500ms\n",
		"t.yaml:2:12: flow.timeout: 500ms is below the minimum 1s");
	REFUSED("flow:\n  timeout: 2h\n",
		"t.yaml:2:12: flow.timeout: 2h is above the maximum 1h");
	REFUSED("flow:\n  timeout: 99999999999999999h\n",
		"t.yaml:2:12: flow.timeout: '99999999999999999h' is too large");
	REFUSED("flow:\n  memcap: 1tb\n",
		"t.yaml:2:11: flow.memcap: '1tb' is not a size (e.g. 1048576, 64kb, 1mb, 2gb, 1MiB)");
	REFUSED("flow:\n  memcap: mb\n",
		"t.yaml:2:11: flow.memcap: 'mb' is not a size (e.g. 1048576, 64kb, 1mb, 2gb, 1MiB)");
	REFUSED("flow:\n  memcap: 1kb\n",
		"t.yaml:2:11: flow.memcap: 1kb is below the minimum 1MiB");
	REFUSED("flow:\n  memcap: 5gb\n",
		"t.yaml:2:11: flow.memcap: 5gb is above the maximum 4GiB");
	REFUSED("detect:\n  profile: some\n",
		"t.yaml:2:12: detect.profile: 'some' is not one of all|none|auto");
	REFUSED("detect:\n  profile: ALL\n",
		"t.yaml:2:12: detect.profile: 'ALL' is not one of all|none|auto");
	REFUSED("flow:\n  max-flows: [1, 2]\n",
		"t.yaml:2:14: flow.max-flows: expected a single value, not a sequence");
	REFUSED("vars:\n  address-groups:\n    HOME_NET: \"[10.0.0.0/8, 192.168.0.0/16\"\n",
		"t.yaml:3:15: vars.address-groups.HOME_NET: '[10.0.0.0/8, 192.168.0.0/16' is not a list: missing the closing ']'");
	REFUSED("vars:\n  address-groups:\n    HOME_NET: \"[a,,b]\"\n",
		"t.yaml:3:15: vars.address-groups.HOME_NET: '[a,,b]' has an empty list item");
	REFUSED("vars:\n  address-groups:\n    HOME_NET: \"[a, ![b]]]\"\n",
		"t.yaml:3:15: vars.address-groups.HOME_NET: '[a, ![b]]]' is not a list: unbalanced brackets");
	/* the first error in file order wins */
	REFUSED("flow:\n  max-flows: 2000\n  timeout: forever\n  memcap: lots\n",
		"t.yaml:3:12: flow.timeout: 'forever' is not a duration (e.g. 30, 30s, 500ms, 5m, 1h)");
}

static void test_key_errors(void)
{
	REFUSED("flow:\n  max-flow: 10\n",
		"t.yaml:2:3: unknown key 'flow.max-flow' (did you mean 'flow.max-flows'?)");
	REFUSED("flw:\n  timeout: 10\n",
		"t.yaml:2:3: unknown key 'flw.timeout' (did you mean 'flow.timeout'?)");
	REFUSED("max-flows: 10\n",
		"t.yaml:1:1: unknown key 'max-flows' (did you mean 'flow.max-flows'?)");
	REFUSED("vars:\n  adress-groups:\n    HOME_NET: 10.0.0.0/8\n",
		"t.yaml:3:5: unknown key 'vars.adress-groups.HOME_NET' (did you mean 'vars.address-groups.HOME_NET'?)");
	REFUSED("flow:\n  max-flows: 2000\nzzz: 1\n", "t.yaml:3:1: unknown key 'zzz'");
	REFUSED("bogus:\n", "t.yaml:1:1: unknown key 'bogus'");
	REFUSED("bogus: {}\n", "t.yaml:1:1: unknown key 'bogus'");
	REFUSED("flow: 10\n", "t.yaml:1:1: 'flow' is a section, not a key; expected a mapping");
	REFUSED("flow:\n  max-flows:\n    x: 1\n",
		"t.yaml:3:5: unknown key 'flow.max-flows.x': 'flow.max-flows' takes a single value, not a mapping");
	REFUSED("vars:\n  address-groups:\n    A:\n      B: x\n",
		"t.yaml:4:7: unknown key 'vars.address-groups.A.B': 'vars.address-groups.A' takes a single value, not a mapping");
	REFUSED("flow:\n  \"max flows\": 1\n",
		"t.yaml:2:3: invalid key 'max flows': blank or control character in key");
	REFUSED("flow:\n  \"\": 1\n", "t.yaml:2:3: invalid key '': empty key");
	REFUSED("flow:\n  a..b: 1\n", "t.yaml:2:3: invalid key 'a..b': empty key component");
	REFUSED("flow:\n  a=b: 1\n", "t.yaml:2:3: invalid key 'a=b': '=' or '*' in key");
	REFUSED("? [a, b]\n: 1\n", "t.yaml:1:3: keys must be scalars");
	REFUSED("? {a: b}\n: 1\n", "t.yaml:1:3: keys must be scalars");

	/* duplicates, also through nesting and dotted keys */
	REFUSED("flow:\n  max-flows: 2000\n  max-flows: 3000\n",
		"t.yaml:3:3: duplicate key 'flow.max-flows' (first defined at line 2 column 3)");
	REFUSED("flow:\n  max-flows: 2000\ndetect:\n  enabled: yes\nflow:\n  timeout: 1s\n",
		"t.yaml:5:1: duplicate key 'flow' (first defined at line 1 column 1)");
	REFUSED("flow.max-flows: 2000\nflow:\n  max-flows: 3000\n",
		"t.yaml:3:3: duplicate key 'flow.max-flows' (first defined at line 1 column 1)");
	REFUSED("flow: {timeout: 1s, timeout: 2s}\n",
		"t.yaml:1:21: duplicate key 'flow.timeout' (first defined at line 1 column 8)");
	/* an invalid value before the duplicate is reported first, and vice versa */
	REFUSED("flow:\n  max-flows: x\n  timeout: 1s\n  timeout: 2s\n",
		"t.yaml:2:14: flow.max-flows: 'x' is not an unsigned integer");
	REFUSED("flow:\n  timeout: 1s\n  timeout: 2s\n  max-flows: x\n",
		"t.yaml:3:3: duplicate key 'flow.timeout' (first defined at line 2 column 3)");
}

static void test_structure_errors(void)
{
	char deep[1024] = "";
	const char *keys = "abcdefghijklmnopq";

	REFUSED_PREFIX("flow:\n  max-flows: 2000\n timeout: 1s\n", "t.yaml:3:2: syntax error: ");
	REFUSED("flow: {max-flows: 2000\n",
		"t.yaml:2:1: syntax error: did not find expected ',' or '}' (while parsing a flow mapping at line 1 column 7)");
	REFUSED("flow:\n  max-flows: 1: 2\n",
		"t.yaml:2:15: syntax error: mapping values are not allowed in this context");
	REFUSED("flow:\n\tmax-flows: 2000\n",
		"t.yaml:2:1: syntax error: found character that cannot start any token (while scanning for the next token at line 2 column 1)");
	REFUSED("flow:\n  max-flows: \"2000\n",
		"t.yaml:3:1: syntax error: found unexpected end of stream (while scanning a quoted scalar at line 2 column 14)");
	REFUSED("flow:\n  max-flows: \xff\n",
		"t.yaml:2:14: invalid input: invalid leading UTF-8 octet (#FF)");
	REFUSED("flow:\n  max-flows: &x 2000\n  timeout: *x\n",
		"t.yaml:2:14: anchors are not supported (&x)");
	REFUSED("flow:\n  max-flows: 2000\n  timeout: *x\n",
		"t.yaml:3:12: aliases are not supported (*x)");
	REFUSED("a: &a [\"lol\",\"lol\",\"lol\"]\nb: &b [*a,*a,*a,*a]\nc: [*b,*b,*b,*b]\n",
		"t.yaml:1:4: anchors are not supported (&a)");
	REFUSED("flow:\n  max-flows: !!int 2000\n", "t.yaml:2:14: tags are not supported (tag:yaml.org,2002:int)");
	REFUSED("include: !include other.yaml\n", "t.yaml:1:10: tags are not supported (!include)");
	REFUSED("capture:\n  interfaces:\n    - name: eth0\n",
		"t.yaml:3:7: sequences of mappings are not supported");
	REFUSED("capture:\n  interfaces: [[eth0]]\n", "t.yaml:2:16: nested sequences are not supported");
	REFUSED("capture:\n  interfaces:\n    - eth0\n    -\n    - eth1\n", "t.yaml:4:6: empty item in sequence");
	REFUSED("capture:\n  interfaces: [eth0, \"\"]\n", "t.yaml:2:22: empty item in sequence");
	REFUSED("- a\n- b\n", "t.yaml:1:1: the top level must be a mapping");
	REFUSED("hello\n", "t.yaml:1:1: the top level must be a mapping");
	REFUSED("flow:\n  max-flows: 2000\n---\nflow: {}\n", "t.yaml:3:1: only one YAML document is allowed");
	REFUSED("outputs:\n  eve:\n    prefix: \"a\\0b\"\n", "t.yaml:3:13: NUL byte in value");

	/* 16 levels are fine (test_good), 17 are not */
	for (int i = 0; i < 17; i++) {
		size_t n = strlen(deep);

		snprintf(deep + n, sizeof(deep) - n, "%*s%c:\n", 2 * i, "", keys[i]);
	}
	strcat(deep, "                                  x: 1\n");
	REFUSED(deep, "t.yaml:17:33: nesting deeper than 16 levels");
	REFUSED("a: [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]\n", "t.yaml:1:5: nested sequences are not supported");
	REFUSED("a: {b: {c: {d: {e: {f: {g: {h: {i: {j: {k: {l: {m: {n: {o: {p: {q: 1}}}}}}}}}}}}}}}}\n",
		"t.yaml:1:64: nesting deeper than 16 levels");
	{
		char key[300];

		memset(key, 'k', sizeof(key));
		snprintf(deep, sizeof(deep), "flow:\n  %.*s: 1\n", 260, key);
		REFUSED(deep, "t.yaml:2:3: key 'flow...' is too long (more than 256 bytes)");
	}
}

static void test_limits_and_files(void)
{
	struct cfg *c = (struct cfg *)1;
	char err[512] = "";
	const char *tmpdir = getenv("TMPDIR");
	char path[512];
	size_t big = CFG_MAX_FILE_SIZE + 1;
	char *buf = malloc(big);
	FILE *f;
	int fd, rc;

	/* too large: nothing parsed */
	if (buf) {
		memset(buf, '#', big);
		rc = cfg_create_from_buffer(&c, schema, NKEYS, "big.yaml", buf, big, err, sizeof(err));
		CHECK(rc == -EFBIG && c == NULL);
		CHECK_STR(err, "big.yaml: file too large (more than 4194304 bytes)");
		/* exactly the limit is fine */
		buf[big - 2] = '\n';
		rc = cfg_create_from_buffer(&c, schema, NKEYS, "big.yaml", buf, big - 1, err, sizeof(err));
		CHECK(rc == 0 && c != NULL);
		cfg_destroy(c);
	}

	rc = cfg_create(&c, schema, NKEYS, "/nonexistent/vigil.yaml", err, sizeof(err));
	CHECK(rc == -ENOENT && c == NULL);
	CHECK_STR(err, "/nonexistent/vigil.yaml: cannot open: No such file or directory");

	/* a real file, and errors name it */
	snprintf(path, sizeof(path), "%s/test_cfg_XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd >= 0) {
		f = fdopen(fd, "w");
		fputs("flow:\n  max-flows: 5000\n", f);
		fclose(f);
		rc = cfg_create(&c, schema, NKEYS, path, err, sizeof(err));
		CHECK(rc == 0);
		if (c) {
			char want[600];

			CHECK_U64(cfg_get_u64(c, "flow.max-flows"), 5000);
			snprintf(want, sizeof(want), "%s:2:14", path);
			CHECK_STR(cfg_origin(c, "flow.max-flows"), want);
			cfg_destroy(c);
		}
		f = fopen(path, "w");
		fputs("flow:\n  max-flows: 5\n", f);
		fclose(f);
		rc = cfg_create(&c, schema, NKEYS, path, err, sizeof(err));
		CHECK(rc == -EINVAL && c == NULL);
		CHECK(strstr(err, ":2:14: flow.max-flows: 5 is below the minimum 1024") != NULL);
		CHECK(strncmp(err, path, strlen(path)) == 0);
		if (buf) {
			f = fopen(path, "w");
			fwrite(buf, 1, big, f);
			fclose(f);
			rc = cfg_create(&c, schema, NKEYS, path, err, sizeof(err));
			CHECK(rc == -EFBIG && c == NULL);
		}
		unlink(path);
	}
	free(buf);

	/* too many keys, too many list items */
	{
		size_t cap = 32 + 65537 * 16, n;
		char *y = malloc(cap);

		if (y) {
			n = (size_t)snprintf(y, cap, "vars:\n  port-groups:\n");
			for (unsigned i = 0; i < 65534; i++)   /* + vars, port-groups */
				n += (size_t)snprintf(y + n, cap - n, "    P%u: x\n", i);
			CHECK(cfg_create_from_buffer(&c, schema, NKEYS, "t.yaml", y, n, err, sizeof(err)) == 0);
			cfg_destroy(c);
			n += (size_t)snprintf(y + n, cap - n, "    P65534: x\n");
			CHECK(cfg_create_from_buffer(&c, schema, NKEYS, "t.yaml", y, n, err, sizeof(err)) == -EINVAL);
			CHECK_STR(err, "t.yaml:65537:5: too many keys (more than 65536)");
			free(y);
		}
		cap = 32 + 2 * (CFG_MAX_ITEMS + 1);
		y = malloc(cap);
		if (y) {
			n = (size_t)snprintf(y, cap, "capture:\n  interfaces: [");
			for (unsigned i = 0; i <= CFG_MAX_ITEMS; i++) {
				y[n++] = 'a';
				y[n++] = ',';
			}
			y[n - 1] = ']';
			CHECK(cfg_create_from_buffer(&c, schema, NKEYS, "t.yaml", y, n, err, sizeof(err)) == -EINVAL);
			CHECK_STR(err, "t.yaml:2:524304: too many list items (more than 262144)");
			free(y);
		}
	}

	/* no error buffer at all */
	rc = cfg_create_from_buffer(&c, schema, NKEYS, NULL, "zzz: 1", 6, NULL, 0);
	CHECK(rc == -EINVAL && c == NULL);
	/* unnamed buffer */
	rc = cfg_create_from_buffer(&c, schema, NKEYS, NULL, "zzz: 1", 6, err, sizeof(err));
	CHECK_STR(err, "<buffer>:1:1: unknown key 'zzz'");
	/* truncated error buffer stays terminated */
	rc = cfg_create_from_buffer(&c, schema, NKEYS, "t.yaml", "zzz: 1", 6, err, 8);
	CHECK_STR(err, "t.yaml:");
}

static void test_set(void)
{
	struct cfg *c = load(__LINE__, "flow:\n  max-flows: 2000\n");
	const char *const *items;
	char err[256] = "";

	if (!c)
		return;
	CHECK(cfg_set(c, "flow.max-flows=4096", err, sizeof(err)) == 0);
	CHECK_U64(cfg_get_u64(c, "flow.max-flows"), 4096);
	CHECK_STR(cfg_origin(c, "flow.max-flows"), "--set");
	CHECK(cfg_set(c, "flow.timeout=90s", err, sizeof(err)) == 0);
	CHECK_U64(cfg_get_duration_ms(c, "flow.timeout"), 90000);
	CHECK(cfg_is_set(c, "flow.timeout"));
	CHECK(cfg_set(c, "outputs.eve.prefix=a=b", err, sizeof(err)) == 0);
	CHECK_STR(cfg_get_str(c, "outputs.eve.prefix"), "a=b");
	CHECK(cfg_set(c, "outputs.eve.filename=", err, sizeof(err)) == 0);
	CHECK_STR(cfg_get_str(c, "outputs.eve.filename"), "");
	CHECK(cfg_set(c, "vars.address-groups.HOME_NET=[10.0.0.0/8, 192.168.0.0/16]", err, sizeof(err)) == 0);
	CHECK(cfg_get_list(c, "vars.address-groups.HOME_NET", &items) == 2);
	CHECK_STR(items[1], "192.168.0.0/16");
	CHECK(cfg_set(c, "capture.interfaces=eth3", err, sizeof(err)) == 0);
	CHECK(cfg_get_list(c, "capture.interfaces", &items) == 1);
	CHECK_STR(items[0], "eth3");
	CHECK(cfg_set(c, "detect.enabled=off", err, sizeof(err)) == 0);
	CHECK(!cfg_get_bool(c, "detect.enabled"));
	CHECK(cfg_set(c, "capture.interfaces=", err, sizeof(err)) == 0);
	CHECK(cfg_get_list(c, "capture.interfaces", &items) == 0 && items == NULL);
	CHECK_STR(cfg_get_str(c, "capture.interfaces"), "[]");
	CHECK(cfg_set(c, "capture.interfaces=[ ]", err, sizeof(err)) == 0);
	CHECK(cfg_get_list(c, "capture.interfaces", &items) == 0);
	CHECK(cfg_set(c, "capture.interfaces=  [ eth0 ,\teth1 ]  ", err, sizeof(err)) == 0);
	CHECK(cfg_get_list(c, "capture.interfaces", &items) == 2);
	CHECK_STR(cfg_get_str(c, "capture.interfaces"), "[eth0, eth1]");
	CHECK(cfg_set(c, "capture.interfaces= eth9 ", err, sizeof(err)) == 0);
	CHECK(cfg_get_list(c, "capture.interfaces", &items) == 1);
	CHECK_STR(items[0], "eth9");
	/* the last one wins */
	CHECK(cfg_set(c, "flow.max-flows=8192", err, sizeof(err)) == 0);
	CHECK_U64(cfg_get_u64(c, "flow.max-flows"), 8192);

	/* refused, and nothing changes */
	CHECK(cfg_set(c, "flow.max-flows=ten", err, sizeof(err)) == -EINVAL);
	CHECK_STR(err, "--set: flow.max-flows: 'ten' is not an unsigned integer");
	CHECK(cfg_set(c, "flow.max-flows=1", err, sizeof(err)) == -EINVAL);
	CHECK_STR(err, "--set: flow.max-flows: 1 is below the minimum 1024");
	CHECK_U64(cfg_get_u64(c, "flow.max-flows"), 8192);
	CHECK(cfg_set(c, "flow.max-flow=1", err, sizeof(err)) == -EINVAL);
	CHECK_STR(err, "--set: unknown key 'flow.max-flow' (did you mean 'flow.max-flows'?)");
	CHECK(cfg_set(c, "flow=1", err, sizeof(err)) == -EINVAL);
	CHECK_STR(err, "--set: 'flow' is a section, not a key; expected a mapping");
	CHECK(cfg_set(c, "flow.max-flows", err, sizeof(err)) == -EINVAL);
	CHECK_STR(err, "--set: 'flow.max-flows' is not KEY=VALUE");
	CHECK(cfg_set(c, "=1", err, sizeof(err)) == -EINVAL);
	CHECK_STR(err, "--set: invalid key '': empty key");
	CHECK(cfg_set(c, "flow.timeout=30 ", err, sizeof(err)) == -EINVAL);
	CHECK_STR(err, "--set: flow.timeout: '30 ' is not a duration (e.g. 30, 30s, 500ms, 5m, 1h)");
	CHECK(cfg_set(c, "flow..timeout=1", err, sizeof(err)) == -EINVAL);
	CHECK_STR(err, "--set: invalid key 'flow..timeout': empty key component");
	CHECK(cfg_set(c, ".flow=1", err, sizeof(err)) == -EINVAL);
	CHECK_STR(err, "--set: invalid key '.flow': empty key component");
	CHECK(cfg_set(c, "flow.timeout=", err, sizeof(err)) == -EINVAL);
	CHECK_STR(err, "--set: flow.timeout: '' is not a duration (e.g. 30, 30s, 500ms, 5m, 1h)");
	CHECK(cfg_set(c, "vars.address-groups.X=[a", err, sizeof(err)) == -EINVAL);
	CHECK_STR(err, "--set: vars.address-groups.X: '[a' is not a list: missing the closing ']'");
	CHECK(cfg_set(c, "vars.address-groups.X.Y=a", err, sizeof(err)) == -EINVAL);
	CHECK_STR(err, "--set: unknown key 'vars.address-groups.X.Y': 'vars.address-groups.X' takes a single value, not a mapping");
	CHECK_U64(cfg_get_duration_ms(c, "flow.timeout"), 90000);
	cfg_destroy(c);
}

struct seen {
	char buf[1024];
};

static void collect(const char *key, const char *value, void *arg)
{
	struct seen *s = arg;
	size_t n = strlen(s->buf);

	snprintf(s->buf + n, sizeof(s->buf) - n, "%s=%s;", key, value);
}

static void test_foreach(void)
{
	struct cfg *c = load(__LINE__, "vars:\n  address-groups:\n    HOME_NET: \"[10.0.0.0/8]\"\n"
			     "    DMZ: 192.0.2.0/24\n  port-groups:\n    HTTP_PORTS: \"80\"\n"
			     "flow:\n  timeout: 1m\n");
	struct seen s;

	if (!c)
		return;
	memset(&s, 0, sizeof(s));
	cfg_foreach(c, "vars.address-groups", collect, &s);
	CHECK_STR(s.buf, "vars.address-groups.DMZ=[192.0.2.0/24];vars.address-groups.HOME_NET=[10.0.0.0/8];");
	memset(&s, 0, sizeof(s));
	cfg_foreach(c, "vars.address-groups.", collect, &s);
	CHECK_STR(s.buf, "vars.address-groups.DMZ=[192.0.2.0/24];vars.address-groups.HOME_NET=[10.0.0.0/8];");
	/* set values and defaults merged, in key order */
	memset(&s, 0, sizeof(s));
	cfg_foreach(c, "flow", collect, &s);
	CHECK_STR(s.buf, "flow.max-flows=65536;flow.memcap=64mb;flow.timeout=1m;");
	/* components, not string prefixes */
	memset(&s, 0, sizeof(s));
	cfg_foreach(c, "flo", collect, &s);
	CHECK_STR(s.buf, "");
	memset(&s, 0, sizeof(s));
	cfg_foreach(c, "flow.timeout", collect, &s);
	CHECK_STR(s.buf, "flow.timeout=1m;");
	memset(&s, 0, sizeof(s));
	cfg_foreach(c, "vars", collect, &s);
	CHECK_STR(s.buf, "vars.address-groups.DMZ=[192.0.2.0/24];vars.address-groups.HOME_NET=[10.0.0.0/8];"
		  "vars.port-groups.HTTP_PORTS=80;");
	memset(&s, 0, sizeof(s));
	cfg_foreach(c, NULL, collect, &s);
	CHECK_STR(s.buf, "capture.interfaces=[eth0];detect.enabled=yes;detect.profile=auto;"
		  "flow.max-flows=65536;flow.memcap=64mb;flow.timeout=1m;outputs.eve.filename=eve.json;"
		  "vars.address-groups.DMZ=[192.0.2.0/24];vars.address-groups.HOME_NET=[10.0.0.0/8];"
		  "vars.port-groups.HTTP_PORTS=80;");
	cfg_destroy(c);
}

/* Everything written to f, as a malloc'd string. */
static char *slurp(FILE *f)
{
	long n = ftell(f);
	char *s = malloc(n > 0 ? (size_t)n + 1 : 1);

	rewind(f);
	if (s)
		s[n > 0 ? fread(s, 1, (size_t)n, f) : 0] = '\0';
	return s;
}

static void test_dump(void)
{
	struct cfg *c = load(__LINE__, "flow:\n  max-flows: 2000\nvars:\n  address-groups:\n    HOME_NET: [a, b]\n"
			     "outputs:\n  eve:\n    prefix: \"say \\\"hi\\\"\\n\"\n");
	FILE *f = tmpfile();
	char *out;
	char err[128];

	if (!c || !f) {
		CHECK(f != NULL);
		cfg_destroy(c);
		return;
	}
	CHECK(cfg_set(c, "detect.enabled=no", err, sizeof(err)) == 0);
	cfg_dump(c, f);
	out = slurp(f);
	CHECK_STR(out,
		  "flow.max-flows = 2000  (t.yaml:2:14)\n"
		  "flow.timeout = 30s  (default)\n"
		  "flow.memcap = 64mb  (default)\n"
		  "flow.hash-seed  (unset)\n"
		  "detect.enabled = no  (--set)\n"
		  "detect.profile = auto  (default)\n"
		  "outputs.eve.filename = \"eve.json\"  (default)\n"
		  "outputs.eve.prefix = \"say \\\"hi\\\"\\n\"  (t.yaml:8:13)\n"
		  "capture.interfaces = [eth0]  (default)\n"
		  "vars.address-groups.HOME_NET = [a, b]  (t.yaml:5:15)\n"
		  "vars.port-groups.*  (none)\n"
		  "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p  (unset)\n");
	free(out);
	fclose(f);
	cfg_destroy(c);

	f = tmpfile();
	if (!f)
		return;
	cfg_schema_print(schema, 6, f);
	out = slurp(f);
	CHECK_STR(out,
		  "flow.max-flows (u64, default: 65536, range: 1024..16777216)\n"
		  "    flows tracked at once per worker\n"
		  "flow.timeout (duration, default: 30s, range: 1s..1h)\n"
		  "    idle timeout\n"
		  "flow.memcap (size, default: 64mb, range: 1MiB..4GiB)\n"
		  "    flow memory cap\n"
		  "flow.hash-seed (u64)\n"
		  "    hash seed (random if unset)\n"
		  "detect.enabled (bool, default: yes)\n"
		  "    run the detection engine\n"
		  "detect.profile (enum: all|none|auto, default: auto)\n"
		  "    rule grouping profile\n");
	free(out);
	fclose(f);
}

static void schema_refused(int line, const struct cfg_key *keys, size_t n, const char *want)
{
	struct cfg *c = NULL;
	char err[256] = "";
	int rc = cfg_create(&c, keys, n, NULL, err, sizeof(err));

	if (rc != -EINVAL || c || strcmp(err, want) != 0) {
		printf("FAIL %s:%d: rc %d\n    got:  '%s'\n    want: '%s'\n", __FILE__, line, rc, err, want);
		failures++;
	}
	cfg_destroy(c);
}

static void test_schema_errors(void)
{
	static const struct cfg_key dup[] = {
		{ .name = "a.b", .type = CFG_T_U64 }, { .name = "a.b", .type = CFG_T_BOOL },
	};
	static const struct cfg_key baddef[] = {
		{ .name = "a.b", .type = CFG_T_U64, .def = "5", .min = 10 },
	};
	static const struct cfg_key badenum[] = {
		{ .name = "a.b", .type = CFG_T_ENUM, .enum_vals = "x||y" },
	};
	static const struct cfg_key both[] = {
		{ .name = "a.b", .type = CFG_T_U64 }, { .name = "a.b.c", .type = CFG_T_U64 },
	};
	static const struct cfg_key wilddef[] = {
		{ .name = "a.*", .type = CFG_T_U64, .def = "1" },
	};
	static const struct cfg_key minmax[] = {
		{ .name = "a.b", .type = CFG_T_SIZE, .min = 10, .max = 5 },
	};
	static const struct cfg_key noname[] = {
		{ .name = NULL, .type = CFG_T_SIZE },
	};
	static const struct cfg_key badname[] = {
		{ .name = "a.*.b", .type = CFG_T_U64 },
	};
	struct cfg *c = NULL;
	char err[64];

	schema_refused(__LINE__, dup, 2, "schema: duplicate key 'a.b'");
	schema_refused(__LINE__, baddef, 1, "schema: a.b: bad default: 5 is below the minimum 10");
	schema_refused(__LINE__, badenum, 1, "schema: a.b: enum_vals must be \"a|b|...\"");
	schema_refused(__LINE__, both, 2, "schema: 'a.b' is both a key and a section");
	schema_refused(__LINE__, wilddef, 1, "schema: a.*: a \".*\" key cannot have a default");
	schema_refused(__LINE__, minmax, 1, "schema: a.b: min is above max");
	schema_refused(__LINE__, noname, 1, "schema: entry without a name");
	schema_refused(__LINE__, badname, 1, "schema: bad key name 'a.*.b': '=' or '*' in key");
	/* an empty schema refuses every key */
	CHECK(cfg_create_from_buffer(&c, NULL, 0, "t.yaml", "a: 1", 4, err, sizeof(err)) == -EINVAL);
	CHECK_STR(err, "t.yaml:1:1: unknown key 'a'");
	CHECK(cfg_create_from_buffer(&c, NULL, 0, "t.yaml", "", 0, err, sizeof(err)) == 0 && c);
	cfg_destroy(c);
}

int main(void)
{
	test_good();
	test_defaults();
	test_types();
	test_value_errors();
	test_key_errors();
	test_structure_errors();
	test_limits_and_files();
	test_set();
	test_foreach();
	test_dump();
	test_schema_errors();
	if (failures) {
		printf("test_cfg: %d check(s) failed\n", failures);
		return 1;
	}
	printf("test_cfg: all checks passed\n");
	return 0;
}
