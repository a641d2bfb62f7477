/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configuration store: one YAML file plus --set overrides, validated as a
 * whole against a schema the engine declares, flattened into dotted keys
 * ("flow: {max-flows: 10}" is the key "flow.max-flows").
 *
 * Life cycle: cfg_create() (file or none) -> cfg_set() for each --set ->
 * getters.  The store is read at start-up only; it keeps no global state.
 * Getters take a const struct cfg and may run from any thread once the last
 * cfg_set() has returned; cfg_set() itself must not race with anything.
 *
 * Accepted YAML: a single document (an optional "%YAML 1.1" directive and
 * "---" are fine) whose top level is a mapping.  Mapping keys are scalars;
 * values are scalars, nested mappings, or sequences of scalars (for
 * CFG_T_LIST keys).  Refused: syntax errors, duplicate keys (also through
 * nesting: "a.b: 1" next to "a: {b: 2}"), anchors, aliases, tags,
 * sequences of mappings or of sequences, nesting deeper than
 * CFG_MAX_DEPTH, files over CFG_MAX_FILE_SIZE, keys not in the schema,
 * values that do not parse as their type or are out of bounds.
 * A key given with a YAML null value ("key:", "key: ~", "key: null") or an
 * empty mapping ("section: {}") is accepted when known and leaves the key
 * unset (its default applies); quote it ("key: ''") for an empty string.
 *
 * Errors are written to the caller's buffer (err, errlen; err may be NULL),
 * never printed:  "FILE:LINE:COL: message" (1-based, the column of the
 * offending key or value), "--set: message" for overrides, and
 * "FILE: message" when there is no position (cannot open, too large).
 */
#ifndef VIGIL_CFG_H
#define VIGIL_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CFG_MAX_FILE_SIZE (4u << 20)   /* bytes of YAML accepted */
#define CFG_MAX_DEPTH     16           /* nested mappings/sequences, top level included */
#define CFG_MAX_KEY_LEN   256          /* bytes of a full dotted key */
#define CFG_MAX_KEYS      65536        /* mapping keys per file (all levels) */
#define CFG_MAX_ITEMS     262144       /* list items per file */

enum cfg_type {
	CFG_T_BOOL,      /* yes/no, true/false, on/off, 1/0 (any case) */
	CFG_T_U64,       /* decimal */
	CFG_T_DURATION,  /* 30 (= seconds), 30s, 500ms, 5m, 1h; kept in milliseconds */
	CFG_T_SIZE,      /* 1048576, 64kb, 1mb, 2gb, 1MiB (k/m/g 1024-based, b/ib optional, any case); kept in bytes */
	CFG_T_STRING,    /* anything */
	CFG_T_ENUM,      /* one of enum_vals, exact match */
	CFG_T_LIST,      /* YAML sequence of scalars, "[a, b, [c, d]]" (split at top-level commas), or one scalar */
};

/*
 * One schema entry.  The table passed to cfg_create() must outlive the
 * struct cfg (normally a static const array).
 */
struct cfg_key {
	const char *name;       /* dotted key, e.g. "flow.max-flows"; a trailing ".*"
				 * accepts any one further component (e.g.
				 * "vars.address-groups.*" matches "vars.address-groups.HOME_NET") */
	enum cfg_type type;
	const char *def;        /* default value as text, may be NULL (no default); not allowed on ".*" keys */
	uint64_t min, max;      /* bounds for U64/DURATION/SIZE (DURATION in ms, SIZE in bytes); max 0 = no upper bound */
	const char *enum_vals;  /* "all|none|auto" for CFG_T_ENUM */
	const char *help;       /* one line of documentation */
};

struct cfg;

/*
 * Build a store from the schema and the YAML file at path (NULL: defaults
 * only).  The schema itself is checked too (bad names, duplicates, defaults
 * that do not validate): such errors start with "schema: ".
 * Returns 0 and sets *out, or -errno (-EINVAL bad config or schema, -EFBIG
 * too large, -ENOMEM, or the open/read error) with *out = NULL and err set.
 */
int cfg_create(struct cfg **out, const struct cfg_key *schema, size_t nkeys,
	       const char *path, char *err, size_t errlen);

/* Same, from a buffer (not necessarily NUL-terminated); name is used in
 * messages and origins (NULL: "<buffer>"). */
int cfg_create_from_buffer(struct cfg **out, const struct cfg_key *schema, size_t nkeys,
			   const char *name, const void *buf, size_t len,
			   char *err, size_t errlen);

/* NULL is a no-op. */
void cfg_destroy(struct cfg *c);

/*
 * Apply one "KEY=VALUE" override (split at the first '='), validated like a
 * file value; its origin is "--set".  A later cfg_set() of the same key wins.
 * On error nothing changes.  Invalidates pointers previously returned for
 * that key by cfg_get_str()/cfg_get_list().
 * Returns 0 or -EINVAL (message set), -ENOMEM.
 */
int cfg_set(struct cfg *c, const char *key_eq_value, char *err, size_t errlen);

/*
 * Getters.  key must be a schema key (or match a ".*" entry) of the getter's
 * type; anything else is a programming error: it asserts in debug builds and
 * returns false/0/NULL/-1 otherwise.  An unset key without a default reads
 * as false/0/NULL/-1/empty list.  Returned strings live as long as the store.
 */
bool cfg_get_bool(const struct cfg *c, const char *key);
uint64_t cfg_get_u64(const struct cfg *c, const char *key);
uint64_t cfg_get_duration_ms(const struct cfg *c, const char *key);
uint64_t cfg_get_size(const struct cfg *c, const char *key);
/* Any type: the value as text (as written; "[a, b]" for lists). */
const char *cfg_get_str(const struct cfg *c, const char *key);
/* Index of the value in enum_vals, -1 if unset. */
int cfg_get_enum(const struct cfg *c, const char *key);
/* Number of items; *items points to them (NULL when there are none). */
size_t cfg_get_list(const struct cfg *c, const char *key, const char *const **items);

/* True if the value comes from the file or --set (not from the default). */
bool cfg_is_set(const struct cfg *c, const char *key);

/* "FILE:LINE:COL" (position of the value), "--set", "default", or "unset". */
const char *cfg_origin(const struct cfg *c, const char *key);

/*
 * Call fn for every key that has a value (set or default), in key order,
 * whose name is prefix or starts with prefix + "." (a prefix ending in "."
 * or an empty/NULL prefix match as plain string prefixes).  value is the
 * text as for cfg_get_str().  fn must not modify the store.
 */
void cfg_foreach(const struct cfg *c, const char *prefix,
		 void (*fn)(const char *key, const char *value, void *arg), void *arg);

/* Every schema key, in schema order, with its effective value and origin
 * (".*" entries list each matching key); for "vigil -T -v". */
void cfg_dump(const struct cfg *c, FILE *f);

/* Documented list of keys: name, type, default, bounds, help; for
 * "vigil --help-config".  Does not need a store. */
void cfg_schema_print(const struct cfg_key *keys, size_t n, FILE *f);

#endif
