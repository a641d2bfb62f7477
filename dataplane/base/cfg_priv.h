/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals of the configuration store shared by cfg.c (schema, values,
 * API) and cfg_yaml.c (YAML loading).  Not part of the API: include cfg.h.
 */
#ifndef VIGIL_CFG_PRIV_H
#define VIGIL_CFG_PRIV_H

#include "cfg.h"

/* A typed value: from the file, --set, or a schema default. */
struct cfg_val {
	char *key;                  /* full dotted key */
	const struct cfg_key *sk;   /* schema entry that accepts the key */
	char *text;                 /* value as text; canonical "[a, b]" for lists */
	char **items;               /* CFG_T_LIST only */
	size_t nitems;
	uint64_t num;               /* BOOL 0/1, U64, DURATION ms, SIZE bytes, ENUM index */
	char *origin;               /* "FILE:LINE:COL", "--set" or "default" */
};

/* A ".*" schema entry, by its parent ("vars.address-groups"). */
struct cfg_wild {
	char *parent;               /* own copy */
	const struct cfg_key *k;
};

struct cfg {
	const struct cfg_key *schema;
	size_t nkeys;
	const struct cfg_key **byname;  /* every schema entry, sorted by name */
	struct cfg_wild *wild;          /* ".*" entries, sorted by parent */
	size_t nwild;
	struct cfg_val *defs;           /* [nkeys]; text NULL: no default */
	struct cfg_val *vals;           /* file and --set values, sorted by key */
	size_t nvals, capvals;
};

/* snprintf into err unless err is NULL or errlen 0. */
void cfg_seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* malloc'd copies; NULL when out of memory. */
char *cfg_strndup(const char *s, size_t n);
char *cfg_strprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Free what v owns and clear it. */
void cfg_val_free(struct cfg_val *v);

/* NULL if key[0..len) is a valid dotted key, else the reason. */
const char *cfg_key_problem(const char *key, size_t len);
/* The schema entry accepting key[0..len) (exact name, then ".*"), or NULL. */
const struct cfg_key *cfg_schema_find(const struct cfg *c, const char *key, size_t len);
/* True if some schema name starts with key[0..len) + ".". */
bool cfg_is_section(const struct cfg *c, const char *key, size_t len);
/* Why key (not accepted by the schema) is refused, with a suggestion. */
void cfg_explain_unknown(const struct cfg *c, const char *key, char *msg, size_t msglen);

/*
 * Parse text as a value of sk's type into v (num, text, items), bounds
 * included.  Returns 0, -EINVAL with the reason in msg, or -ENOMEM.  On
 * failure v may hold partial allocations: the caller frees it.
 */
int cfg_parse_value(const struct cfg_key *sk, const char *text, struct cfg_val *v,
		    char *msg, size_t msglen);
/* Build v->text = "[a, b]" from v->items.  0 or -ENOMEM. */
int cfg_list_text(struct cfg_val *v);

/* Parse and validate the YAML in buf into c->vals (which must be empty);
 * name is used in messages and origins.  0 or -errno, err set. */
int cfg_load_yaml(struct cfg *c, const char *name, const void *buf, size_t len,
		  char *err, size_t errlen);

#endif
