/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shipper: the output thread's side (ship_enqueue: convert, spool) and
 * the shipper thread (read the spool from its ack position, POST, ack on a
 * 2xx, otherwise back off and resend the same batch; heartbeats).
 */
#include "ship.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vlog.h"

#ifdef NDEBUG
#define SHIP_VALIDATE_READS false
#else
#define SHIP_VALIDATE_READS true   /* debug builds check every spooled record is JSON */
#endif

#define HB_FINAL_TIMEOUT_MS 2000u

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

struct ship {
	struct spool *sp;
	char *sensor, *sensor_json, *version, *ca_file;
	char *url_ingest, *url_hb;
	uint32_t batch, retry_min_ms, retry_max_ms, timeout_ms;
	double hb_period;                /* < 0: none */
	ship_counters_fn counters;
	void *counters_arg;
	ship_hb_fill_fn hb_fill;
	ship_hb_answer_fn hb_answer;
	void *hb_arg;

	pthread_mutex_t mu;
	pthread_cond_t cv;               /* CLOCK_MONOTONIC */
	/* under mu */
	char *ruleset;
	bool started, stopping, joined, kick, hb_now;
	bool curl_global;                /* curl_global_init() done */
	double deadline;                 /* drain until (monotonic s) once stopping */
	struct ship_stats st;

	/* shipper thread only */
	pthread_t thr;
	CURL *curl;
	struct curl_slist *hdrs;
	struct spool_batch rb;
	struct sbuf body, resp;
	char curl_err[CURL_ERROR_SIZE];
	bool final_hb;

	/* producer (ship_enqueue) only */
	struct spool_rec *recs;
	char **texts;
	size_t cap;
};

/* The shipper's own counters in the heartbeat, next to the engine's. */
#define SHIP_CTR_TABLE(X) \
	X(spooled,    "control.spooled",      "alerts stored in the spool") \
	X(unconverted,"control.unconverted",  "alert lines that could not be converted to ALERT (not spooled)") \
	X(sent,       "control.sent",         "alerts posted to the control plane, resends included") \
	X(acked,      "control.acked",        "alerts acknowledged by the control plane") \
	X(duplicates, "control.duplicates",   "acknowledged alerts the control plane already had (resends)") \
	X(retries,    "control.retries",      "failed ingest requests, each retried after a backoff") \
	X(rejected,   "control.rejected",     "spooled records that were not JSON objects, skipped")

/* strerror() may use a shared buffer; the shipper and output threads both
 * report errors. */
static const char *errstr(int e, char *buf, size_t len)
{
	return strerror_r(e, buf, len);   /* the GNU version (_GNU_SOURCE) */
}

static double dmin(double a, double b)
{
	return a < b ? a : b;
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 4096;
		while (nc < b->len + n + 1)
			nc *= 2;
		char *np = realloc(b->p, nc);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_lit(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void set_error(struct ship *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct ship *sh, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&sh->mu);
	va_start(ap, fmt);
	vsnprintf(sh->st.last_error, sizeof(sh->st.last_error), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&sh->mu);
}

/* ---- HTTP ---- */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sbuf *b = arg;
	size_t len = size * n;

	if (b->len < 4096)   /* keep the start: the error message or the counts */
		sb_add(b, p, len < 4096 - b->len ? len : 4096 - b->len);
	return len;
}

/* Aborts a request once a stop's drain time is over (never the final
 * heartbeat, which has its own short timeout). */
static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct ship *sh = arg;
	bool abort_now;

	(void)dt, (void)dn, (void)ut, (void)un;
	if (sh->final_hb)
		return 0;
	pthread_mutex_lock(&sh->mu);
	abort_now = sh->stopping && mono() >= sh->deadline;
	pthread_mutex_unlock(&sh->mu);
	return abort_now;
}

/* POSTs BODY; the HTTP status, or 0 with *ERR set on a transport error.
 * The answer's start is in sh->resp. */
static long post(struct ship *sh, const char *url, const char *body, size_t len, long timeout_ms,
		 const char **err)
{
	CURLcode rc;
	long code = 0;

	sh->resp.len = 0;
	sh->resp.oom = false;
	if (sh->resp.p)
		sh->resp.p[0] = '\0';
	sh->curl_err[0] = '\0';
	curl_easy_setopt(sh->curl, CURLOPT_URL, url);
	curl_easy_setopt(sh->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(sh->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(sh->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(sh->curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 5000 ? timeout_ms : 5000L);
	rc = curl_easy_perform(sh->curl);
	if (rc != CURLE_OK) {
		*err = sh->curl_err[0] ? sh->curl_err : curl_easy_strerror(rc);
		return 0;
	}
	curl_easy_getinfo(sh->curl, CURLINFO_RESPONSE_CODE, &code);
	*err = NULL;
	return code;
}

static long request_timeout(struct ship *sh, double now)
{
	long t = sh->timeout_ms;

	pthread_mutex_lock(&sh->mu);
	if (sh->stopping) {
		double left = (sh->deadline - now) * 1000.0;
		if (left < t)
			t = left > 100 ? (long)left : 100;
	}
	pthread_mutex_unlock(&sh->mu);
	return t;
}

/* ---- heartbeat ---- */

static void heartbeat(struct ship *sh, long timeout_ms)
{
	json_t *hb = json_object(), *ctr = json_object();
	struct ship_stats st;
	const char *err;
	char *text = NULL;
	long code;

	ship_get_stats(sh, &st);
	if (!hb || !ctr)
		goto out;
	if (sh->counters)
		sh->counters(sh->counters_arg, ctr);
#define SHIP_CTR_SET(f, name, help) json_object_set_new(ctr, name, json_integer((json_int_t)st.f));
	SHIP_CTR_TABLE(SHIP_CTR_SET)
#undef SHIP_CTR_SET
	json_object_set_new(ctr, "control.spool_drops",
			    json_integer((json_int_t)(st.spool.drops + st.spool.io_drops + st.enqueue_errors)));
	json_object_set_new(ctr, "control.spool_backlog_bytes", json_integer((json_int_t)st.spool.backlog_bytes));
	json_object_set_new(ctr, "control.spool_torn", json_integer((json_int_t)st.spool.torn));
	json_object_set_new(ctr, "control.spool_corrupt", json_integer((json_int_t)st.spool.corrupt));
	pthread_mutex_lock(&sh->mu);
	json_object_set_new(hb, "sensor", json_string(sh->sensor));
	/* within the control plane's limits (64 and 128 bytes) */
	json_object_set_new(hb, "version", json_stringn(sh->version, strnlen(sh->version, 64)));
	json_object_set_new(hb, "ruleset", json_stringn(sh->ruleset, strnlen(sh->ruleset, 128)));
	pthread_mutex_unlock(&sh->mu);
	json_object_set(hb, "counters", ctr);
	if (sh->hb_fill)
		sh->hb_fill(sh->hb_arg, hb);
	text = json_dumps(hb, JSON_COMPACT);
	if (!text)
		goto out;
	code = post(sh, sh->url_hb, text, strlen(text), timeout_ms, &err);
	if (code >= 200 && code < 300 && sh->hb_answer && !sh->final_hb && sh->resp.p) {
		json_t *ans = json_loadb(sh->resp.p, sh->resp.len, 0, NULL);
		if (json_is_object(ans))
			sh->hb_answer(sh->hb_arg, ans);
		json_decref(ans);
	}
	pthread_mutex_lock(&sh->mu);
	if (code >= 200 && code < 300) {
		sh->st.heartbeats++;
	} else {
		sh->st.heartbeat_errors++;
		if (code)
			snprintf(sh->st.last_error, sizeof(sh->st.last_error), "heartbeat: HTTP %ld: %.120s",
				 code, sh->resp.p ? sh->resp.p : "");
		else
			snprintf(sh->st.last_error, sizeof(sh->st.last_error), "heartbeat: %s", err);
	}
	pthread_mutex_unlock(&sh->mu);
out:
	free(text);
	json_decref(ctr);
	json_decref(hb);
}

/* ---- ingest ---- */

static bool is_json_object(const char *p, size_t len)
{
	json_t *j = json_loadb(p, len, 0, NULL);
	bool ok = json_is_object(j);

	json_decref(j);
	return ok;
}

/* The ingest body for the batch in sh->rb: ALERT objects in "alerts",
 * FLOW objects in "flows".  Returns how many records it holds (VALIDATE:
 * records that are not JSON objects are left out and counted as
 * rejected). */
static size_t build_body(struct ship *sh, bool validate)
{
	size_t k = 0, bad = 0;

	sh->body.len = 0;
	sh->body.oom = false;
	sb_lit(&sh->body, "{\"sensor\":");
	sb_lit(&sh->body, sh->sensor_json);
	for (int flows = 0; flows < 2; flows++) {
		size_t in = 0;
		sb_lit(&sh->body, flows ? "],\"flows\":[" : ",\"alerts\":[");
		for (size_t i = 0; i < sh->rb.n; i++) {
			const struct spool_rec *r = &sh->rb.recs[i];
			if (ship_is_flow(r->p, r->len) != flows)
				continue;
			if (validate && !is_json_object(r->p, r->len)) {
				bad++;
				continue;
			}
			if (in++)
				sb_add(&sh->body, ",", 1);
			sb_add(&sh->body, r->p, r->len);
		}
		k += in;
	}
	sb_lit(&sh->body, "]}");
	if (bad) {
		pthread_mutex_lock(&sh->mu);
		sh->st.rejected += bad;
		pthread_mutex_unlock(&sh->mu);
		vlog_warn("ship: %zu spooled records are not JSON objects; skipped", bad);
	}
	return k;
}

/* {"accepted": N, "duplicates": N} */
static uint64_t answer_duplicates(const struct ship *sh)
{
	json_t *j = sh->resp.p ? json_loadb(sh->resp.p, sh->resp.len, 0, NULL) : NULL;
	json_int_t d = json_integer_value(json_object_get(j, "duplicates"));

	json_decref(j);
	return d > 0 ? (uint64_t)d : 0;
}

/* Waits until T (monotonic), a change of the stop state, or (ON_DATA) an
 * enqueue. */
static void wait_until(struct ship *sh, double t, bool on_data)
{
	struct timespec ts;
	bool was;

	if (isinf(t))
		t = mono() + 3600;
	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	pthread_mutex_lock(&sh->mu);
	was = sh->stopping;
	while (sh->stopping == was && !(on_data && sh->kick) && mono() < t)
		if (pthread_cond_timedwait(&sh->cv, &sh->mu, &ts) == ETIMEDOUT)
			break;
	if (on_data)
		sh->kick = false;
	pthread_mutex_unlock(&sh->mu);
}

static void *ship_thread(void *arg)
{
	struct ship *sh = arg;
	double next_hb = sh->hb_period > 0 ? mono() : INFINITY, retry_at = 0;
	uint32_t backoff = 0;
	size_t nsend = 0, budget;
	bool have = false, validated = false;

	budget = SHIP_BODY_MAX - 64 - strlen(sh->sensor_json) - sh->batch;
	for (;;) {
		double now = mono(), deadline;
		bool stopping;
		const char *err;

		bool hb_now;
		pthread_mutex_lock(&sh->mu);
		stopping = sh->stopping;
		deadline = sh->deadline;
		hb_now = sh->hb_now;
		sh->hb_now = false;
		pthread_mutex_unlock(&sh->mu);
		if (stopping && now >= deadline)
			break;
		if (!stopping && (now >= next_hb || (hb_now && sh->hb_period > 0))) {
			heartbeat(sh, sh->timeout_ms);
			next_hb = now + sh->hb_period;
			continue;
		}
		if (!have) {
			int r = spool_read(sh->sp, sh->batch, budget, &sh->rb);
			if (r < 0) {
				char eb[64];
				set_error(sh, "spool read: %s", errstr(-r, eb, sizeof(eb)));
				if (stopping)
					break;
				wait_until(sh, dmin(now + 1.0, next_hb), false);
				continue;
			}
			if (r == 0) {
				if (stopping)
					break;   /* drained */
				wait_until(sh, next_hb, true);
				continue;
			}
			validated = SHIP_VALIDATE_READS;
			nsend = build_body(sh, validated);
			if (sh->body.oom) {
				set_error(sh, "out of memory building a batch");
				wait_until(sh, dmin(now + 1.0, next_hb), false);
				continue;
			}
			have = true;
			if (!nsend) {   /* nothing deliverable in it: step over */
				spool_ack(sh->sp, &sh->rb.end);
				have = false;
				continue;
			}
		}
		if (now < retry_at) {
			wait_until(sh, dmin(retry_at, stopping ? deadline : next_hb), false);
			continue;
		}
		long code = post(sh, sh->url_ingest, sh->body.p, sh->body.len, request_timeout(sh, now), &err);
		if (code >= 200 && code < 300) {
			uint64_t dup = answer_duplicates(sh);
			int e = spool_ack(sh->sp, &sh->rb.end);
			char eb[64];
			pthread_mutex_lock(&sh->mu);
			sh->st.posts++;
			sh->st.sent += nsend;
			sh->st.acked += nsend;
			sh->st.duplicates += dup;
			sh->st.backoff_ms = 0;
			if (e) {
				sh->st.ack_errors++;
				snprintf(sh->st.last_error, sizeof(sh->st.last_error), "spool ack: %s",
					 errstr(-e, eb, sizeof(eb)));
			}
			pthread_mutex_unlock(&sh->mu);
			if (backoff)
				vlog_notice("ship: control plane accepting alerts again");
			have = false;
			backoff = 0;
			retry_at = 0;
			continue;
		}
		pthread_mutex_lock(&sh->mu);
		sh->st.posts++;
		sh->st.sent += nsend;
		sh->st.retries++;
		if (code)
			snprintf(sh->st.last_error, sizeof(sh->st.last_error), "ingest: HTTP %ld: %.120s", code,
				 sh->resp.p ? sh->resp.p : "");
		else
			snprintf(sh->st.last_error, sizeof(sh->st.last_error), "ingest: %s", err);
		pthread_mutex_unlock(&sh->mu);
		if (!backoff) {
			if (code)
				vlog_warn("ship: %s: HTTP %ld; retrying with backoff", sh->url_ingest, code);
			else
				vlog_warn("ship: %s: %s; retrying with backoff", sh->url_ingest, err);
		}
		if (code == 400 && !validated) {
			/* Malformed?  A spooled record that is not JSON would block the
			 * queue forever: drop those, resend the rest. */
			validated = true;
			nsend = build_body(sh, true);
			if (!nsend) {
				spool_ack(sh->sp, &sh->rb.end);
				have = false;
			}
		}
		backoff = backoff ? (backoff * 2 < sh->retry_max_ms ? backoff * 2 : sh->retry_max_ms)
				  : sh->retry_min_ms;
		pthread_mutex_lock(&sh->mu);
		sh->st.backoff_ms = backoff;
		pthread_mutex_unlock(&sh->mu);
		retry_at = mono() + backoff / 1000.0;
	}
	if (sh->hb_period > 0) {
		sh->final_hb = true;
		heartbeat(sh, HB_FINAL_TIMEOUT_MS);
	}
	return NULL;
}

/* ---- API ---- */

static char *join_url(const char *base, const char *path)
{
	size_t n = strlen(base);
	char *s;

	while (n && base[n - 1] == '/')
		n--;
	if (asprintf(&s, "%.*s%s", (int)n, base, path) < 0)
		return NULL;
	return s;
}

int ship_create(struct ship **out, const struct ship_cfg *cfg, ship_counters_fn counters,
		void *counters_arg, char *err, size_t errlen)
{
	struct spool_cfg scfg = { 0 };
	struct ship *sh;
	pthread_condattr_t ca;
	char *auth = NULL;
	int rc;

	*out = NULL;
	if (!cfg || !cfg->url || !cfg->token || !cfg->sensor || !*cfg->sensor || !cfg->spool_dir) {
		snprintf(err, errlen, "control: url, token, sensor and spool-dir are required");
		return -EINVAL;
	}
	/* the control plane's rule for names (control/api: api_name_valid) */
	size_t slen = strspn(cfg->sensor, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");
	if (slen > 64 || cfg->sensor[slen]) {
		snprintf(err, errlen, "control: the sensor name must be 1 to 64 of A-Z a-z 0-9 . _ -");
		return -EINVAL;
	}
	for (const char *p = cfg->token; *p; p++) {
		if ((unsigned char)*p < 0x21 || *p == 0x7f) {
			snprintf(err, errlen, "control: the token has a space or control character");
			return -EINVAL;
		}
	}
	json_t *js = json_string(cfg->sensor);
	if (!js)
		return -ENOMEM;
	sh = calloc(1, sizeof(*sh));
	if (!sh) {
		json_decref(js);
		return -ENOMEM;
	}
	sh->sensor_json = json_dumps(js, JSON_ENCODE_ANY);
	json_decref(js);
	sh->batch = cfg->batch ? cfg->batch : SHIP_BATCH_DEFAULT;
	sh->retry_min_ms = cfg->retry_min_ms ? cfg->retry_min_ms : SHIP_RETRY_MIN_MS;
	sh->retry_max_ms = cfg->retry_max_ms ? cfg->retry_max_ms : SHIP_RETRY_MAX_MS;
	if (sh->retry_max_ms < sh->retry_min_ms)
		sh->retry_max_ms = sh->retry_min_ms;
	sh->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : SHIP_TIMEOUT_MS;
	sh->hb_period = cfg->heartbeat_s == 0 ? SHIP_HEARTBEAT_DEFAULT : cfg->heartbeat_s;
	sh->counters = counters;
	sh->counters_arg = counters_arg;
	sh->hb_fill = cfg->hb_fill;
	sh->hb_answer = cfg->hb_answer;
	sh->hb_arg = cfg->hb_arg;
	sh->sensor = strdup(cfg->sensor);
	sh->version = strdup(cfg->version ? cfg->version : "");
	sh->ruleset = strdup(cfg->ruleset ? cfg->ruleset : "");
	sh->ca_file = cfg->ca_file ? strdup(cfg->ca_file) : NULL;
	sh->url_ingest = join_url(cfg->url, "/api/v1/ingest");
	sh->url_hb = join_url(cfg->url, "/api/v1/heartbeat");
	if (asprintf(&auth, "Authorization: Bearer %s", cfg->token) < 0)
		auth = NULL;
	spool_batch_init(&sh->rb);
	if (!sh->sensor_json || !sh->sensor || !sh->version || !sh->ruleset || !sh->url_ingest ||
	    !sh->url_hb || !auth || (cfg->ca_file && !sh->ca_file)) {
		rc = -ENOMEM;
		snprintf(err, errlen, "control: out of memory");
		goto fail;
	}
	if (sh->batch > 100000)
		sh->batch = 100000;
	pthread_mutex_init(&sh->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sh->cv, &ca);
	pthread_condattr_destroy(&ca);

	scfg.dir = cfg->spool_dir;
	scfg.max_bytes = cfg->spool_max;
	scfg.seg_bytes = cfg->spool_seg;
	rc = spool_open(&sh->sp, &scfg);
	if (rc) {
		char eb[64];
		snprintf(err, errlen, "control: spool %s: %s", cfg->spool_dir,
			 rc == -EBUSY ? "in use by another process" :
			 rc == -EINVAL ? "spool-max too small" : errstr(-rc, eb, sizeof(eb)));
		goto fail_sync;
	}
	sh->curl_global = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
	if (!sh->curl_global || !(sh->curl = curl_easy_init())) {
		rc = -ENOMEM;
		snprintf(err, errlen, "control: libcurl initialisation failed");
		goto fail_sync;
	}
	sh->hdrs = curl_slist_append(NULL, auth);
	sh->hdrs = sh->hdrs ? curl_slist_append(sh->hdrs, "Content-Type: application/json") : NULL;
	sh->hdrs = sh->hdrs ? curl_slist_append(sh->hdrs, "Expect:") : NULL;
	if (!sh->hdrs) {
		rc = -ENOMEM;
		snprintf(err, errlen, "control: out of memory");
		goto fail_sync;
	}
	free(auth);
	auth = NULL;
	curl_easy_setopt(sh->curl, CURLOPT_HTTPHEADER, sh->hdrs);
	curl_easy_setopt(sh->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(sh->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(sh->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(sh->curl, CURLOPT_WRITEDATA, &sh->resp);
	curl_easy_setopt(sh->curl, CURLOPT_ERRORBUFFER, sh->curl_err);
	curl_easy_setopt(sh->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(sh->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(sh->curl, CURLOPT_XFERINFODATA, sh);
	curl_easy_setopt(sh->curl, CURLOPT_USERAGENT, "vigil-ship");
	if (sh->ca_file)
		curl_easy_setopt(sh->curl, CURLOPT_CAINFO, sh->ca_file);
	*out = sh;
	return 0;

fail_sync:
	curl_easy_cleanup(sh->curl);
	if (sh->curl_global)
		curl_global_cleanup();
	curl_slist_free_all(sh->hdrs);
	spool_close(sh->sp);
	pthread_cond_destroy(&sh->cv);
	pthread_mutex_destroy(&sh->mu);
fail:
	free(auth);
	spool_batch_fini(&sh->rb);
	free(sh->sensor_json);
	free(sh->sensor);
	free(sh->version);
	free(sh->ruleset);
	free(sh->ca_file);
	free(sh->url_ingest);
	free(sh->url_hb);
	free(sh);
	return rc;
}

int ship_start(struct ship *sh)
{
	int rc;

	pthread_mutex_lock(&sh->mu);
	if (sh->started) {
		pthread_mutex_unlock(&sh->mu);
		return -EALREADY;
	}
	sh->stopping = false;
	rc = pthread_create(&sh->thr, NULL, ship_thread, sh);
	sh->started = rc == 0;
	pthread_mutex_unlock(&sh->mu);
	return -rc;
}

int ship_enqueue(struct ship *sh, const char *const *eve_lines, size_t n)
{
	size_t k = 0, bad = 0, stored = 0, failed = 0;
	uint64_t first;
	int rc;

	if (!n)
		return 0;
	if (n > INT32_MAX)
		n = INT32_MAX;
	if (n > sh->cap) {
		struct spool_rec *nr = realloc(sh->recs, n * sizeof(*nr));
		if (nr)
			sh->recs = nr;
		char **nt = realloc(sh->texts, n * sizeof(*nt));
		if (nt)
			sh->texts = nt;
		if (!nr || !nt) {
			set_error(sh, "enqueue: out of memory");
			failed = n;
			goto count;
		}
		sh->cap = n;
	}
	rc = spool_seq_take(sh->sp, n, &first);
	if (rc) {
		char eb[64];
		set_error(sh, "spool seq: %s", errstr(-rc, eb, sizeof(eb)));
		failed = n;
		goto count;
	}
	for (size_t i = 0; i < n; i++) {
		rc = ship_record_from_eve(eve_lines[i], sh->sensor, first + i, &sh->texts[k]);
		if (rc == -ENOMEM) {
			failed++;
			continue;
		}
		if (rc) {
			bad++;
			continue;
		}
		sh->recs[k].p = sh->texts[k];
		sh->recs[k].len = (uint32_t)strlen(sh->texts[k]);
		k++;
	}
	stored = spool_append_batch(sh->sp, sh->recs, k);
	for (size_t i = 0; i < k; i++)
		free(sh->texts[i]);
count:
	pthread_mutex_lock(&sh->mu);
	sh->st.enqueued += n;
	sh->st.spooled += stored;
	sh->st.unconverted += bad;
	sh->st.enqueue_errors += failed;
	if (stored) {
		sh->kick = true;
		pthread_cond_broadcast(&sh->cv);
	}
	pthread_mutex_unlock(&sh->mu);
	return (int)stored;
}

void ship_heartbeat_soon(struct ship *sh)
{
	pthread_mutex_lock(&sh->mu);
	sh->hb_now = true;
	sh->kick = true;
	pthread_cond_broadcast(&sh->cv);
	pthread_mutex_unlock(&sh->mu);
}

void ship_set_ruleset(struct ship *sh, const char *ruleset)
{
	char *r = strdup(ruleset ? ruleset : "");

	if (!r)
		return;
	pthread_mutex_lock(&sh->mu);
	free(sh->ruleset);
	sh->ruleset = r;
	pthread_mutex_unlock(&sh->mu);
}

void ship_stop(struct ship *sh, double drain_s)
{
	bool join;

	pthread_mutex_lock(&sh->mu);
	join = sh->started && !sh->joined;
	if (join) {
		sh->stopping = true;
		sh->deadline = mono() + (drain_s > 0 ? drain_s : 0);
		sh->joined = true;
		pthread_cond_broadcast(&sh->cv);
	}
	pthread_mutex_unlock(&sh->mu);
	if (join)
		pthread_join(sh->thr, NULL);
}

void ship_destroy(struct ship *sh)
{
	if (!sh)
		return;
	ship_stop(sh, 0);
	spool_close(sh->sp);
	curl_easy_cleanup(sh->curl);
	curl_slist_free_all(sh->hdrs);
	if (sh->curl_global)
		curl_global_cleanup();
	pthread_cond_destroy(&sh->cv);
	pthread_mutex_destroy(&sh->mu);
	spool_batch_fini(&sh->rb);
	free(sh->body.p);
	free(sh->resp.p);
	free(sh->recs);
	free(sh->texts);
	free(sh->sensor_json);
	free(sh->sensor);
	free(sh->version);
	free(sh->ruleset);
	free(sh->ca_file);
	free(sh->url_ingest);
	free(sh->url_hb);
	free(sh);
}

void ship_get_stats(struct ship *sh, struct ship_stats *st)
{
	pthread_mutex_lock(&sh->mu);
	*st = sh->st;
	pthread_mutex_unlock(&sh->mu);
	spool_stats(sh->sp, &st->spool);
}
