/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ruleset versions (content-addressed), their approvals and their
 * regression cases.  The immutable columns are guarded by the schema's
 * triggers too; this module only ever updates status, engine id, counts
 * and validation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>

#include "store_priv.h"

/* The VERSION object of the contract, without content; approvals and cases
 * as JSON text built by SQLite (json_group_array keeps the inner order). */
#define VERSION_COLS \
	"r.id, r.parent, r.author, r.message, " STORE_RFC3339("r.created_at") " AS created_at, " \
	"r.status, r.engine_id, r.loaded AS rules, r.skipped, r.size, r.validation, " \
	"(SELECT json_group_array(json_object('user', a.user, 'decision', a.decision, " \
	"  'comment', a.comment, 'ts', " STORE_RFC3339("a.ts") ")) " \
	" FROM (SELECT * FROM ruleset_approvals a WHERE a.ruleset = r.id ORDER BY a.id) a) " \
	"AS approvals, " \
	"(SELECT json_group_array(json_object('name', c.name, 'must', json(c.must), " \
	"  'must_not', json(c.must_not), 'pcap_bytes', p.size)) " \
	" FROM (SELECT * FROM ruleset_cases c WHERE c.ruleset = r.id ORDER BY c.name) c " \
	" JOIN case_pcaps p ON p.sha = c.pcap) AS cases"
/* validation, approvals and cases hold JSON text */
#define VERSION_JSON STORE_JSON_COL(10) | STORE_JSON_COL(11) | STORE_JSON_COL(12)

static void hex(const uint8_t *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

void store_ruleset_id(const char *text, size_t len, char out[STORE_ID_HEX + 1])
{
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	sha256_update(&ctx, len, (const uint8_t *)text);
	sha256_digest(&ctx, sizeof(d), d);
	hex(d, sizeof(d), out);
}

int store_ruleset_insert(struct store *st, const struct store_ruleset *r)
{
	static const char sql[] =
		"INSERT INTO rulesets(id, parent, author, message, created_at, status, size, content) "
		"VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	store_bind_text(s, 1, r->id);
	store_bind_text(s, 2, r->parent);
	store_bind_text(s, 3, r->author);
	store_bind_text(s, 4, r->message);
	sqlite3_bind_int64(s, 5, r->created_at);
	store_bind_text(s, 6, r->status);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)r->size);
	sqlite3_bind_text64(s, 8, r->content, r->size, SQLITE_TRANSIENT, SQLITE_UTF8);
	return store_step_done(st, s);
}

/* Ids are lowercase hex, so every id starting with p lies in [p, p + "g"). */
int store_ruleset_resolve(struct store *st, const char *prefix, char id[STORE_ID_HEX + 1])
{
	static const char sql[] = "SELECT id FROM rulesets WHERE id >= ?1 AND id < ?1 || 'g' LIMIT 2";
	char p[STORE_ID_HEX + 1];
	size_t n = strlen(prefix);
	sqlite3_stmt *s;
	int rc, rows = 0;

	if (n < 8 || n > STORE_ID_HEX || strspn(prefix, "0123456789abcdefABCDEF") != n)
		return -EINVAL;
	for (size_t i = 0; i <= n; i++)
		p[i] = (char)(prefix[i] >= 'A' && prefix[i] <= 'F' ? prefix[i] - 'A' + 'a' : prefix[i]);
	s = store_stmt(st, sql);
	if (!s)
		return -EIO;
	store_bind_text(s, 1, p);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (rows++ == 0)
			store_col_text(s, 0, id, STORE_ID_HEX + 1);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return store_err(st, rc);
	return rows == 0 ? -ENOENT : rows > 1 ? -ENOTUNIQ : 0;
}

int store_ruleset_info(struct store *st, const char *id, struct store_ruleset_info *out)
{
	static const char sql[] =
		"SELECT id, parent, author, status, engine_id FROM rulesets WHERE id = ?1";
	sqlite3_stmt *s = store_stmt(st, sql);
	int rc;

	if (!s)
		return -EIO;
	store_bind_text(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		store_col_text(s, 0, out->id, sizeof(out->id));
		store_col_text(s, 1, out->parent, sizeof(out->parent));
		store_col_text(s, 2, out->author, sizeof(out->author));
		store_col_text(s, 3, out->status, sizeof(out->status));
		store_col_text(s, 4, out->engine_id, sizeof(out->engine_id));
	}
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : store_err(st, rc);
}

int store_ruleset_content(struct store *st, const char *id, char **text, size_t *len)
{
	static const char sql[] = "SELECT content FROM rulesets WHERE id = ?1";
	sqlite3_stmt *s = store_stmt(st, sql);
	int rc, err = 0;

	*text = NULL;
	if (!s)
		return -EIO;
	store_bind_text(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 0);
		size_t n = (size_t)sqlite3_column_bytes(s, 0);
		*text = malloc(n + 1);
		if (*text) {
			memcpy(*text, t ? t : "", n);
			(*text)[n] = '\0';
			*len = n;
		} else {
			err = -ENOMEM;
		}
	} else {
		err = rc == SQLITE_DONE ? -ENOENT : store_err(st, rc);
	}
	sqlite3_reset(s);
	return err;
}

static int changed_one(struct store *st, int err)
{
	if (!err && sqlite3_changes(st->db) != 1)
		err = -ENOENT;
	return err;
}

int store_ruleset_set_status(struct store *st, const char *id, const char *status)
{
	static const char sql[] = "UPDATE rulesets SET status = ?2 WHERE id = ?1";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	store_bind_text(s, 1, id);
	store_bind_text(s, 2, status);
	return changed_one(st, store_step_done(st, s));
}

int store_ruleset_set_validation(struct store *st, const char *id, const char *status,
				 const char *engine_id, int64_t loaded, int64_t skipped,
				 const char *validation)
{
	static const char sql[] =
		"UPDATE rulesets SET status = coalesce(?2, status), engine_id = ?3, loaded = ?4, "
		"skipped = ?5, validation = ?6 WHERE id = ?1";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	store_bind_text(s, 1, id);
	store_bind_text(s, 2, status);
	store_bind_text(s, 3, engine_id && *engine_id ? engine_id : NULL);
	store_bind_opt_int(s, 4, loaded);
	store_bind_opt_int(s, 5, skipped);
	store_bind_text(s, 6, validation);
	return changed_one(st, store_step_done(st, s));
}

/* The one row of s as an object, or -ENOENT. */
static int one_json(struct store *st, sqlite3_stmt *s, uint64_t json_cols, json_t **out)
{
	json_t *arr;
	int err = store_rows_json(st, s, json_cols, false, &arr);

	if (err)
		return err;
	if (json_array_size(arr) != 1) {
		json_decref(arr);
		return -ENOENT;
	}
	*out = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	return 0;
}

int store_ruleset_json(struct store *st, const char *id, bool content, json_t **out)
{
	static const char sql[] = "SELECT " VERSION_COLS " FROM rulesets r WHERE r.id = ?1";
	static const char sql_content[] =
		"SELECT " VERSION_COLS ", r.content FROM rulesets r WHERE r.id = ?1";
	sqlite3_stmt *s = store_stmt(st, content ? sql_content : sql);

	if (!s)
		return -EIO;
	store_bind_text(s, 1, id);
	return one_json(st, s, VERSION_JSON, out);
}

int store_rulesets_json(struct store *st, int64_t limit, json_t **out)
{
	static const char sql[] =
		"SELECT " VERSION_COLS " FROM rulesets r ORDER BY r.rowid DESC LIMIT ?1";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, limit);
	return store_rows_json(st, s, VERSION_JSON, false, out);
}

int store_rulesets_pending(struct store *st, void (*fn)(void *arg, const char *id), void *arg)
{
	static const char sql[] =
		"SELECT id FROM rulesets WHERE status IN ('submitted', 'validating') OR validation IS NULL "
		"ORDER BY rowid";
	sqlite3_stmt *s = store_stmt(st, sql);
	int rc;

	if (!s)
		return -EIO;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(arg, (const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_err(st, rc);
}

int store_ruleset_by_engine(struct store *st, const char *engine_id, const char *prefer,
			    char id[STORE_ID_HEX + 1])
{
	static const char sql[] =
		"SELECT id FROM rulesets WHERE engine_id = ?1 ORDER BY id = ?2 DESC, rowid DESC LIMIT 1";
	sqlite3_stmt *s = store_stmt(st, sql);
	int rc;

	if (!s)
		return -EIO;
	if (!engine_id || !*engine_id)
		return -ENOENT;
	store_bind_text(s, 1, engine_id);
	store_bind_text(s, 2, prefer ? prefer : "");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		store_col_text(s, 0, id, STORE_ID_HEX + 1);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : store_err(st, rc);
}

int store_approval_add(struct store *st, const char *id, const char *user, const char *decision,
		       const char *comment, int64_t ts)
{
	static const char sql[] =
		"INSERT INTO ruleset_approvals(ruleset, user, decision, comment, ts) "
		"VALUES(?1, ?2, ?3, ?4, ?5)";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	store_bind_text(s, 1, id);
	store_bind_text(s, 2, user);
	store_bind_text(s, 3, decision);
	store_bind_text(s, 4, comment);
	sqlite3_bind_int64(s, 5, ts);
	return store_step_done(st, s);
}

/* --- regression cases -------------------------------------------------- */

int store_case_add(struct store *st, const char *id, const struct store_case *c)
{
	static const char pcap[] =
		"INSERT OR IGNORE INTO case_pcaps(sha, size, data) VALUES(?1, ?2, ?3)";
	static const char kase[] =
		"INSERT INTO ruleset_cases(ruleset, name, must, must_not, pcap) VALUES(?1, ?2, ?3, ?4, ?5)";
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE];
	char sha[2 * SHA256_DIGEST_SIZE + 1];
	sqlite3_stmt *s = store_stmt(st, pcap);
	int err;

	if (!s)
		return -EIO;
	sha256_init(&ctx);
	sha256_update(&ctx, c->pcap_len, c->pcap);
	sha256_digest(&ctx, sizeof(d), d);
	hex(d, sizeof(d), sha);
	store_bind_text(s, 1, sha);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)c->pcap_len);
	sqlite3_bind_blob64(s, 3, c->pcap, c->pcap_len, SQLITE_STATIC);
	err = store_step_done(st, s);
	sqlite3_clear_bindings(s);   /* SQLITE_STATIC: the caller's buffer goes away */
	if (err)
		return err;
	s = store_stmt(st, kase);
	if (!s)
		return -EIO;
	store_bind_text(s, 1, id);
	store_bind_text(s, 2, c->name);
	store_bind_text(s, 3, c->must);
	store_bind_text(s, 4, c->must_not);
	store_bind_text(s, 5, sha);
	return store_step_done(st, s);
}

int store_cases_inherit(struct store *st, const char *child, const char *parent)
{
	static const char sql[] =
		"INSERT INTO ruleset_cases(ruleset, name, must, must_not, pcap) "
		"SELECT ?1, name, must, must_not, pcap FROM ruleset_cases WHERE ruleset = ?2";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	store_bind_text(s, 1, child);
	store_bind_text(s, 2, parent);
	return store_step_done(st, s);
}

void store_cases_free(struct store_case_data *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		json_decref(v[i].must);
		json_decref(v[i].must_not);
		free(v[i].pcap);
	}
	free(v);
}

/* Copies the current row of s (name, must, must_not, data) into c. */
static int read_case(sqlite3_stmt *s, struct store_case_data *c)
{
	const void *blob = sqlite3_column_blob(s, 3);
	size_t n = (size_t)sqlite3_column_bytes(s, 3);

	store_col_text(s, 0, c->name, sizeof(c->name));
	c->must = json_loads((const char *)sqlite3_column_text(s, 1), 0, NULL);
	c->must_not = json_loads((const char *)sqlite3_column_text(s, 2), 0, NULL);
	c->pcap = malloc(n ? n : 1);
	c->pcap_len = n;
	if (!c->must || !c->must_not || !c->pcap)
		return -ENOMEM;
	if (n)
		memcpy(c->pcap, blob, n);
	return 0;
}

int store_cases_load(struct store *st, const char *id, struct store_case_data **out, size_t *n)
{
	static const char sql[] =
		"SELECT c.name, c.must, c.must_not, p.data FROM ruleset_cases c "
		"JOIN case_pcaps p ON p.sha = c.pcap WHERE c.ruleset = ?1 ORDER BY c.name";
	sqlite3_stmt *s = store_stmt(st, sql);
	struct store_case_data *v = NULL;
	size_t k = 0, cap = 0;
	int rc = SQLITE_DONE, err = 0;

	*out = NULL;
	*n = 0;
	if (!s)
		return -EIO;
	store_bind_text(s, 1, id);
	while (!err && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (k == cap) {
			cap = cap ? 2 * cap : 8;
			struct store_case_data *nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				err = -ENOMEM;
				break;
			}
			v = nv;
		}
		memset(&v[k], 0, sizeof(v[k]));
		err = read_case(s, &v[k++]);
	}
	if (!err && rc != SQLITE_DONE)
		err = store_err(st, rc);
	sqlite3_reset(s);
	if (err) {
		store_cases_free(v, k);
		return err;
	}
	*out = v;
	*n = k;
	return 0;
}
