/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Users, API tokens (only their SHA-256 is stored) and the append-only
 * audit log.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <nettle/base64.h>
#include <nettle/sha2.h>

#include "store_priv.h"

int store_user_add(struct store *st, const char *name, const char *role, int64_t now)
{
	static const char sql[] = "INSERT INTO users(name, role, created_at) VALUES(?1, ?2, ?3)";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	store_bind_text(s, 1, name);
	store_bind_text(s, 2, role);
	sqlite3_bind_int64(s, 3, now);
	return store_step_done(st, s);
}

int store_user_role(struct store *st, const char *name, char *role, size_t rolelen)
{
	static const char sql[] = "SELECT role FROM users WHERE name = ?1";
	sqlite3_stmt *s = store_stmt(st, sql);
	int rc;

	if (!s)
		return -EIO;
	store_bind_text(s, 1, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		store_col_text(s, 0, role, rolelen);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : store_err(st, rc);
}

int store_user_count(struct store *st, int64_t *out)
{
	return store_scalar(st, "SELECT count(*) FROM users", out);
}

int store_users_json(struct store *st, json_t **out)
{
	static const char sql[] =
		"SELECT name, role, " STORE_RFC3339("created_at") " AS created_at, "
		"(SELECT count(*) FROM tokens t WHERE t.user_id = u.id AND t.revoked_at IS NULL) "
		"AS tokens FROM users u ORDER BY name";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	return store_rows_json(st, s, 0, false, out);
}

int store_token_generate(char out[STORE_TOKEN_LEN + 1])
{
	uint8_t raw[32];
	char b64[64];
	struct base64_encode_ctx ctx;
	size_t n = 0;

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -EIO;
	base64url_encode_init(&ctx);
	n = base64_encode_update(&ctx, b64, sizeof(raw), raw);
	n += base64_encode_final(&ctx, b64 + n);
	/* base64url without padding: 43 characters for 32 bytes */
	while (n > 0 && b64[n - 1] == '=')
		n--;
	if (n != 43)
		return -EIO;
	memcpy(out, STORE_TOKEN_PREFIX, 4);
	memcpy(out + 4, b64, n);
	out[4 + n] = '\0';
	return 0;
}

void store_token_hash(const char *token, size_t len, uint8_t out[STORE_HASH_LEN])
{
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, len, (const uint8_t *)token);
	sha256_digest(&ctx, SHA256_DIGEST_SIZE, out);
}

int store_token_add(struct store *st, const char *user, const uint8_t hash[STORE_HASH_LEN],
		    int64_t now, int64_t *id)
{
	static const char sql[] =
		"INSERT INTO tokens(user_id, hash, created_at) "
		"SELECT id, ?2, ?3 FROM users WHERE name = ?1";
	sqlite3_stmt *s = store_stmt(st, sql);
	int err;

	if (!s)
		return -EIO;
	store_bind_text(s, 1, user);
	sqlite3_bind_blob(s, 2, hash, STORE_HASH_LEN, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 3, now);
	err = store_step_done(st, s);
	if (err)
		return err;
	if (sqlite3_changes(st->db) != 1)
		return -ENOENT;
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

/* Found through the unique index on the hash (the secret is the token, and
 * an attacker cannot steer its hash, so an indexed lookup leaks nothing
 * useful); the stored hash is compared again in constant time. */
int store_token_lookup(struct store *st, const uint8_t hash[STORE_HASH_LEN], char *user,
		       size_t userlen, char *role, size_t rolelen)
{
	static const char sql[] =
		"SELECT t.hash, u.name, u.role FROM tokens t JOIN users u ON u.id = t.user_id "
		"WHERE t.hash = ?1 AND t.revoked_at IS NULL";
	sqlite3_stmt *s = store_stmt(st, sql);
	int rc, err = -ENOENT;

	if (!s)
		return -EIO;
	sqlite3_bind_blob(s, 1, hash, STORE_HASH_LEN, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(s, 0) == STORE_HASH_LEN) {
		const uint8_t *h = sqlite3_column_blob(s, 0);
		uint8_t diff = 0;
		for (int i = 0; i < STORE_HASH_LEN; i++)
			diff |= (uint8_t)(h[i] ^ hash[i]);
		if (diff == 0) {
			store_col_text(s, 1, user, userlen);
			store_col_text(s, 2, role, rolelen);
			err = 0;
		}
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		err = store_err(st, rc);
	}
	sqlite3_reset(s);
	return err;
}

int store_token_revoke(struct store *st, int64_t id, int64_t now)
{
	static const char sql[] = "SELECT revoked_at FROM tokens WHERE id = ?1";
	static const char upd[] = "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1";
	sqlite3_stmt *s = store_stmt(st, sql);
	int rc;
	bool revoked;

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	revoked = rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL;
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return store_err(st, rc);
	if (revoked)
		return -EALREADY;
	s = store_stmt(st, upd);
	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now);
	return store_step_done(st, s);
}

int store_audit_add(struct store *st, int64_t ts, const char *user, const char *action,
		    const char *object, const char *detail)
{
	static const char sql[] =
		"INSERT INTO audit(ts, user, action, object, detail) VALUES(?1, ?2, ?3, ?4, ?5)";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, ts);
	store_bind_text(s, 2, user);
	store_bind_text(s, 3, action);
	store_bind_text(s, 4, object);
	store_bind_text(s, 5, detail);
	return store_step_done(st, s);
}

int store_audit_json(struct store *st, int64_t limit, json_t **out)
{
	static const char sql[] =
		"SELECT id, " STORE_RFC3339("ts") " AS ts, user, action, object, detail FROM audit "
		"ORDER BY id DESC LIMIT ?1";
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, limit);
	return store_rows_json(st, s, 0, false, out);
}
