/* SPDX-License-Identifier: BSD-3-Clause */
#include "vigil_reload.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "vigil_rules.h"
#include "vlog.h"

#define DIAG_MAX 50        /* diagnostics in an answer */
#define CMD_MAX 4096

struct vigil_reload {
	struct vigil_reload_cfg c;
	char *rules;               /* the rules file in use */
	char *ruleset;             /* its version id */
	uint64_t rules_loaded;
	unsigned reloads, failures;
	/* under mu: what the heartbeats report, and the control plane's wish */
	pthread_mutex_t mu;
	char *hb_ruleset;          /* = ruleset, for the shipper thread */
	uint64_t load_loaded, load_skipped;
	char *load_error;          /* the last failure, NULL after a success */
	char *want_id, *want_engine, *want_url;   /* pending fetch */
	char *tried_engine;        /* last engine id fetched, and when */
	double tried_at;
	int pipe[2];               /* [0] polled by the thread; 's': SIGHUP, 'q': stop */
	int lfd;                   /* the command socket, or -1 */
	char *sock_path;
	char *rules_dir_copy;
	pthread_t thr;
	bool started;
};

static int g_sig_fd = -1;      /* the running reloader's pipe, for the signal handler */

void vigil_reload_signal(void)
{
	int fd = g_sig_fd;

	if (fd >= 0) {
		ssize_t n = write(fd, "s", 1);   /* full pipe: a reload is already pending */
		(void)n;
	}
}

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static json_t *fail(const char *msg)
{
	json_t *o = json_object();

	json_object_set_new(o, "ok", json_false());
	json_object_set_new(o, "error", json_string(msg));
	return o;
}

static void set_str(char **dst, const char *v)
{
	char *n = v ? strdup(v) : NULL;

	free(*dst);
	*dst = n;
}

/* What the next heartbeat reports about the last load. */
static void note_load(struct vigil_reload *r, const char *error, json_t *rep)
{
	pthread_mutex_lock(&r->mu);
	set_str(&r->load_error, error);
	if (!error) {
		r->load_loaded = (uint64_t)json_integer_value(json_object_get(rep, "loaded"));
		r->load_skipped = (uint64_t)json_integer_value(json_object_get(rep, "skipped"));
		set_str(&r->hb_ruleset, r->ruleset);
	}
	pthread_mutex_unlock(&r->mu);
	vigil_ship_heartbeat_soon(r->c.ship);
}

/* Loads PATH and switches to it; the answer object. */
static json_t *do_reload(struct vigil_reload *r, const char *path, bool strict)
{
	struct detect_engine *de = NULL;
	struct pipeline_reload_stats st;
	json_t *rep = NULL, *o;
	char err[1024] = "";
	double t0 = mono_ms();
	int rc;

	vlog_notice("reload: loading %s%s", path, strict ? " (strict)" : "");
	rc = vigil_rules_load(r->c.cfg, path, strict, NULL, r->c.fbreg, &rep, &de, err, sizeof(err));
	double t1 = mono_ms();
	if (rc) {
		r->failures++;
		vlog_err("reload refused, ruleset %s stays in use: %s", r->ruleset, err[0] ? err : strerror(-rc));
		json_decref(rep);
		note_load(r, err[0] ? err : strerror(-rc), NULL);
		return fail(err[0] ? err : strerror(-rc));
	}
	struct detect_engine_stats ds;
	detect_engine_get_stats(de, &ds);
	char *id = strdup(detect_engine_version(de));   /* DE is the pipeline's from here */
	rc = pipeline_reload(r->c.ctl, de, &st);
	double t2 = mono_ms();
	if (rc || !id) {
		r->failures++;
		free(id);
		json_decref(rep);
		const char *why = rc == -ESRCH ? "the pipeline is not running" : "out of memory";
		vlog_err("reload refused, ruleset %s stays in use: %s", r->ruleset, why);
		note_load(r, why, NULL);
		return fail(why);
	}
	free(r->ruleset);
	r->ruleset = id;
	if (strcmp(r->rules, path)) {
		char *p = strdup(path);
		if (p) {
			free(r->rules);
			r->rules = p;
		}
	}
	r->rules_loaded = ds.rules;
	r->reloads++;
	vigil_ship_set_ruleset(r->c.ship, id);
	note_load(r, NULL, rep);
	vlog_notice("reload: ruleset %s in use (%u rules); compiled in %.0f ms, switched in %.1f ms", id,
		    ds.rules, t1 - t0, t2 - t1);

	o = json_object();
	json_object_set_new(o, "ok", json_true());
	json_object_set_new(o, "ruleset", json_string(id));
	json_object_set_new(o, "rules", json_integer(ds.rules));
	json_object_set(o, "loaded", json_object_get(rep, "loaded"));
	json_object_set(o, "skipped", json_object_get(rep, "skipped"));
	json_t *d = json_object_get(rep, "diagnostics"), *out = json_array();
	for (size_t i = 0; i < json_array_size(d) && i < DIAG_MAX; i++)
		json_array_append(out, json_array_get(d, i));
	json_object_set_new(o, "diagnostics", out);
	json_t *ms = json_object();
	json_object_set_new(ms, "compile", json_real(t1 - t0));
	json_object_set_new(ms, "switch", json_real(st.publish_to_retire_ms));
	json_object_set_new(o, "ms", ms);
	json_object_set_new(o, "workers_switched", json_integer(st.workers_switched));
	json_decref(rep);
	return o;
}

static json_t *status(struct vigil_reload *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "ok", json_true());
	json_object_set_new(o, "rules_file", json_string(r->rules));
	json_object_set_new(o, "ruleset", json_string(r->ruleset));
	json_object_set_new(o, "rules", json_integer((json_int_t)r->rules_loaded));
	json_object_set_new(o, "reloads", json_integer(r->reloads));
	json_object_set_new(o, "failed_reloads", json_integer(r->failures));
	return o;
}

/* One command line -> one answer. */
static json_t *command(struct vigil_reload *r, char *line)
{
	char *save = NULL, *w = strtok_r(line, " \t\r\n", &save);

	if (!w)
		return fail("empty command; try 'reload [strict] [PATH]' or 'status'");
	if (!strcmp(w, "status"))
		return status(r);
	if (strcmp(w, "reload"))
		return fail("unknown command; try 'reload [strict] [PATH]' or 'status'");
	bool strict = r->c.strict;
	const char *path = NULL;
	while ((w = strtok_r(NULL, " \t\r\n", &save))) {
		if (!strcmp(w, "strict"))
			strict = true;
		else if (!path)
			path = w;
		else
			return fail("reload: too many arguments");
	}
	/* a copy: do_reload may replace r->rules */
	char *p = strdup(path ? path : r->rules);
	if (!p)
		return fail("out of memory");
	json_t *o = do_reload(r, p, strict);
	free(p);
	return o;
}

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
	return fwrite(p, sz, n, arg) == n ? n * sz : 0;
}

/* GET control_url + URL into PATH (through a temporary file, synced, then
 * renamed: a crash never leaves half a ruleset under the final name). */
static int fetch(struct vigil_reload *r, const char *url, const char *path, char *err, size_t errlen)
{
	char tmp[4200], full[4096], auth[600];
	size_t bl = strlen(r->c.control_url);
	long code = 0;
	int rc = -EIO;

	while (bl && r->c.control_url[bl - 1] == '/')
		bl--;
	snprintf(full, sizeof(full), "%.*s%s", (int)bl, r->c.control_url, url);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", r->c.token);
	FILE *f = fopen(tmp, "w");
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, auth);
	if (!f || !c || !h) {
		snprintf(err, errlen, "cannot write %.300s: %s", tmp, f ? "out of memory" : strerror(errno));
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, full);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)256 << 20);
	CURLcode cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (cc != CURLE_OK || code != 200) {
		if (cc != CURLE_OK)
			snprintf(err, errlen, "fetching %.300s: %s", full, curl_easy_strerror(cc));
		else
			snprintf(err, errlen, "fetching %.300s: HTTP %ld", full, code);
		goto out;
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		snprintf(err, errlen, "writing %.300s: %s", tmp, strerror(errno));
		goto out;
	}
	fclose(f);
	f = NULL;
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "rename %.300s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (f) {
		fclose(f);
		unlink(tmp);
	}
	curl_slist_free_all(h);
	if (c)
		curl_easy_cleanup(c);
	return rc;
}

/* The ruleset the control plane wants, if any is pending. */
static void fetch_wanted(struct vigil_reload *r)
{
	char *id, *engine, *url, path[4096], err[600];

	pthread_mutex_lock(&r->mu);
	id = r->want_id;
	engine = r->want_engine;
	url = r->want_url;
	r->want_id = r->want_engine = r->want_url = NULL;
	pthread_mutex_unlock(&r->mu);
	if (!id || !engine || !url || !strcmp(engine, r->ruleset))
		goto out;
	for (const char *p = id; *p; p++)   /* it names a file: hex only */
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')) || p - id >= 64) {
			note_load(r, "the control plane named a ruleset id that is not hex", NULL);
			goto out;
		}
	snprintf(path, sizeof(path), "%s/%s.rules", r->c.rules_dir, id);
	vlog_notice("control plane: ruleset version %.16s (engine %s) wanted; fetching", id, engine);
	if (fetch(r, url, path, err, sizeof(err)) != 0) {
		vlog_err("control plane: %s; ruleset %s stays in use", err, r->ruleset);
		note_load(r, err, NULL);
		goto out;
	}
	json_t *a = do_reload(r, path, r->c.strict);
	if (json_is_true(json_object_get(a, "ok")) && strcmp(r->ruleset, engine))
		vlog_warn("control plane: version %.16s loaded as engine %s, expected %s", id, r->ruleset,
			  engine);
	json_decref(a);
out:
	free(id);
	free(engine);
	free(url);
}

void vigil_reload_want(struct vigil_reload *r, const char *id, const char *engine_id, const char *url)
{
	struct timespec ts;
	bool go;

	if (!r || !id || !engine_id || !url || !r->c.control_url)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	pthread_mutex_lock(&r->mu);
	/* the same wish again soon after a try: it is in progress or failed
	 * (and reported); try again after 5 s */
	go = strcmp(engine_id, r->hb_ruleset ? r->hb_ruleset : "") &&
	     (!r->tried_engine || strcmp(r->tried_engine, engine_id) || now - r->tried_at >= 5.0);
	if (go) {
		set_str(&r->want_id, id);
		set_str(&r->want_engine, engine_id);
		set_str(&r->want_url, url);
		set_str(&r->tried_engine, engine_id);
		r->tried_at = now;
	}
	pthread_mutex_unlock(&r->mu);
	if (go) {
		ssize_t n = write(r->pipe[1], "f", 1);
		(void)n;
	}
}

void vigil_reload_fill(struct vigil_reload *r, json_t *hb)
{
	if (!r)
		return;
	json_t *load = json_object();
	pthread_mutex_lock(&r->mu);
	json_object_set_new(load, "loaded", json_integer((json_int_t)r->load_loaded));
	json_object_set_new(load, "skipped", json_integer((json_int_t)r->load_skipped));
	json_object_set_new(load, "error", r->load_error ? json_string(r->load_error) : json_null());
	if (r->hb_ruleset)
		json_object_set_new(hb, "ruleset", json_string(r->hb_ruleset));
	pthread_mutex_unlock(&r->mu);
	json_object_set_new(hb, "load", load);
}

static void serve_client(struct vigil_reload *r, int fd)
{
	struct timeval tv = { 2, 0 };
	char buf[CMD_MAX + 1];
	size_t n = 0;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (n < CMD_MAX && !memchr(buf, '\n', n)) {
		ssize_t k = read(fd, buf + n, CMD_MAX - n);
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	json_t *o = n == CMD_MAX ? fail("command too long") : command(r, buf);
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s) {
		size_t len = strlen(s), off = 0;
		s[len] = '\n';   /* json_dumps' NUL becomes the line end */
		while (off <= len) {
			ssize_t k = send(fd, s + off, len + 1 - off, MSG_NOSIGNAL);
			if (k <= 0)
				break;
			off += (size_t)k;
		}
		free(s);
	}
	close(fd);
}

static void *reload_thread(void *arg)
{
	struct vigil_reload *r = arg;

	for (;;) {
		struct pollfd pf[2] = { { r->pipe[0], POLLIN, 0 }, { r->lfd, POLLIN, 0 } };
		if (poll(pf, r->lfd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			vlog_err("reload: poll: %s", strerror(errno));
			return NULL;
		}
		if (pf[0].revents & POLLIN) {
			char cmds[64];
			ssize_t k = read(r->pipe[0], cmds, sizeof(cmds));
			bool sig = false, want = false;
			for (ssize_t i = 0; i < k; i++) {
				if (cmds[i] == 'q')
					return NULL;
				sig = sig || cmds[i] == 's';
				want = want || cmds[i] == 'f';
			}
			if (want)
				fetch_wanted(r);
			if (sig) {   /* several SIGHUPs at once: one reload */
				char *p = strdup(r->rules);
				if (p)
					json_decref(do_reload(r, p, r->c.strict));
				free(p);
			}
		}
		if (r->lfd >= 0 && (pf[1].revents & POLLIN)) {
			int fd = accept4(r->lfd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				serve_client(r, fd);
		}
	}
}

static int listen_unix(struct vigil_reload *r, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat st;

	if (strlen(path) >= sizeof(a.sun_path)) {
		snprintf(err, errlen, "unix-command: socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);   /* left by a previous run */
	r->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (r->lfd < 0 || bind(r->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || chmod(path, 0600) != 0 ||
	    listen(r->lfd, 8) != 0) {
		int e = errno;
		snprintf(err, errlen, "unix-command: %s: %s", path, strerror(e));
		return -e;
	}
	r->sock_path = strdup(path);
	return 0;
}

int vigil_reload_start(struct vigil_reload **out, const struct vigil_reload_cfg *c, char *err,
		       size_t errlen)
{
	struct vigil_reload *r = calloc(1, sizeof(*r));
	int rc;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->c = *c;
	r->c.rules_dir = NULL;   /* copied below: the caller's buffer may not outlive us */
	r->lfd = -1;
	r->pipe[0] = r->pipe[1] = -1;
	r->rules = strdup(c->rules);
	r->ruleset = strdup(c->ruleset);
	r->rules_loaded = c->rules_loaded;
	pthread_mutex_init(&r->mu, NULL);
	r->hb_ruleset = strdup(c->ruleset);
	r->load_loaded = c->rules_loaded;
	r->load_skipped = c->rules_skipped;
	if (c->rules_dir && !(r->rules_dir_copy = strdup(c->rules_dir))) {
		rc = -ENOMEM;
		goto fail;
	}
	r->c.rules_dir = r->rules_dir_copy;
	if (c->rules_dir && mkdir(c->rules_dir, 0700) != 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "cannot create %s: %s", c->rules_dir, strerror(errno));
		goto fail;
	}
	if (!r->rules || !r->ruleset || !r->hb_ruleset) {
		rc = -ENOMEM;
		goto fail;
	}
	if (pipe2(r->pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		rc = -errno;
		snprintf(err, errlen, "reload: pipe: %s", strerror(errno));
		goto fail;
	}
	if (c->socket && (rc = listen_unix(r, c->socket, err, errlen)))
		goto fail;
	rc = -pthread_create(&r->thr, NULL, reload_thread, r);
	if (rc) {
		snprintf(err, errlen, "reload: cannot start its thread: %s", strerror(-rc));
		goto fail;
	}
	r->started = true;
	g_sig_fd = r->pipe[1];
	if (r->sock_path)
		vlog_info("unix-command: listening on %s", r->sock_path);
	*out = r;
	return 0;
fail:
	vigil_reload_stop(r);
	return rc;
}

void vigil_reload_stop(struct vigil_reload *r)
{
	if (!r)
		return;
	g_sig_fd = -1;
	if (r->started) {
		ssize_t n = write(r->pipe[1], "q", 1);
		(void)n;
		pthread_join(r->thr, NULL);
	}
	if (r->lfd >= 0)
		close(r->lfd);
	if (r->sock_path)
		unlink(r->sock_path);
	for (int i = 0; i < 2; i++)
		if (r->pipe[i] >= 0)
			close(r->pipe[i]);
	free(r->sock_path);
	free(r->rules_dir_copy);
	free(r->rules);
	free(r->ruleset);
	free(r->hb_ruleset);
	free(r->load_error);
	free(r->want_id);
	free(r->want_engine);
	free(r->want_url);
	free(r->tried_engine);
	pthread_mutex_destroy(&r->mu);
	free(r);
}
