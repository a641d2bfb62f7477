/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The validation worker: one thread, a FIFO of version ids, one
 * validation at a time.
 *
 * A job takes the store lock only to read the version (text, cases, the
 * deployed baseline) and to write the result, never while a tool runs, so
 * the API keeps answering during a validation.  Its files live in a
 * scratch directory under work_dir, removed afterwards (and, left over by
 * a crash, at the next start).  The result is written only if the job ran
 * to its end: a job a shutdown killed leaves the version "validating",
 * and the next start queues it again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rules_priv.h"

struct rules_validator {
	struct rules_validate_cfg cfg;
	pthread_t thr;
	bool started;
	pthread_mutex_t mu;            /* queue, stop, child */
	pthread_cond_t cond;           /* work queued, or stop */
	bool stop;
	pid_t child;                   /* the running tool, -1: none */
	char (*queue)[STORE_ID_HEX + 1];
	size_t nq, capq;
	uint64_t seq;                  /* scratch directory names */
	atomic_uint_fast64_t passed, failed, queued;
};

/* --- scratch directories --------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void rm_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Jobs a crash left behind. */
static void rm_stale_jobs(const char *work_dir)
{
	char path[PATH_MAX];
	DIR *d = opendir(work_dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "job-", 4) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", work_dir, e->d_name);
		rm_tree(path);
	}
	closedir(d);
}

static int write_file(const char *dir, const char *name, const void *data, size_t n)
{
	char path[PATH_MAX + 64];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	for (const char *p = data; n > 0;) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err = w < 0 ? -errno : -EIO;
			break;
		}
		p += w;
		n -= (size_t)w;
	}
	if (close(fd) != 0 && !err)
		err = -errno;
	return err;
}

/* --- one job ------------------------------------------------------------ */

/* Reads what the job needs (store lock held briefly) and writes it into
 * its directory: the rules, the baseline's rules, the cases' captures. */
static int job_prepare(struct rules_validator *v, struct rules_job *j, const char *id)
{
	char *text = NULL, *base = NULL, base_id[STORE_ID_HEX + 1], name[32];
	size_t len = 0, blen = 0;
	int err;

	store_lock(v->cfg.store);
	err = store_ruleset_content(v->cfg.store, id, &text, &len);
	if (!err)
		err = store_cases_load(v->cfg.store, id, &j->cases, &j->ncases);
	if (!err && v->cfg.reference_pcap && store_last_deployed(v->cfg.store, base_id) == 0)
		err = store_ruleset_content(v->cfg.store, base_id, &base, &blen);
	store_unlock(v->cfg.store);
	if (!err && mkdir(j->dir, 0700) != 0)
		err = -errno;
	if (!err)
		err = write_file(j->dir, RULES_FILE, text, len);
	if (!err && base) {
		err = write_file(j->dir, "baseline.rules", base, blen);
		j->baseline = !err;
	}
	for (size_t k = 0; !err && k < j->ncases; k++) {
		snprintf(name, sizeof(name), "case-%zu.pcap", k);
		err = write_file(j->dir, name, j->cases[k].pcap, j->cases[k].pcap_len);
	}
	free(text);
	free(base);
	return err;
}

static void rfc3339(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The four steps into a VALIDATION object; NULL if a stop voided it. */
static json_t *job_run(struct rules_validator *v, struct rules_job *j)
{
	json_t *(*const steps[])(struct rules_job *) = {
		rules_step_compile, rules_step_lint, rules_step_regression, rules_step_performance,
	};
	json_t *arr = json_array(), *o;
	char ts[32];
	bool ok = true;

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]) && !j->stopped; i++) {
		json_t *s = steps[i](j);
		ok = ok && json_is_true(json_object_get(s, "ok"));
		json_array_append_new(arr, s);
	}
	if (j->stopped) {
		json_decref(arr);
		return NULL;
	}
	rfc3339(v->cfg.now(v->cfg.now_arg), ts, sizeof(ts));
	o = json_pack("{s:b, s:s, s:o}", "ok", ok, "ts", ts, "steps", arr);
	return o;
}

/* "passed", or "failed: compile, regression". */
static void summary(json_t *val, char *buf, size_t len)
{
	size_t n, i;
	json_t *s;

	if (json_is_true(json_object_get(val, "ok"))) {
		snprintf(buf, len, "passed");
		return;
	}
	n = (size_t)snprintf(buf, len, "failed:");
	json_array_foreach(json_object_get(val, "steps"), i, s) {
		if (!json_is_true(json_object_get(s, "ok")) && n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s %s", n > 7 ? "," : "",
					      json_string_value(json_object_get(s, "name")));
	}
}

/* Stores the result and audits it (by "system"); a version approved by an
 * override meanwhile keeps its status. */
static int job_record(struct rules_validator *v, struct rules_job *j, const char *id, json_t *val)
{
	struct store *st = v->cfg.store;
	struct store_ruleset_info info;
	char object[STORE_ID_HEX + 16], detail[160], *text = json_dumps(val, JSON_COMPACT);
	bool ok = json_is_true(json_object_get(val, "ok"));
	int64_t now = v->cfg.now(v->cfg.now_arg);
	int err = text ? 0 : -ENOMEM;

	summary(val, detail, sizeof(detail));
	snprintf(object, sizeof(object), "ruleset:%s", id);
	store_lock(st);
	if (!err)
		err = store_begin(st);
	if (!err)
		err = store_ruleset_info(st, id, &info);
	if (!err)
		err = store_ruleset_set_validation(st, id,
			strcmp(info.status, "validating") == 0 ? (ok ? "validated" : "validation_failed") : NULL,
			j->compiled ? j->engine_id : NULL, j->compiled ? j->loaded : -1,
			j->compiled ? j->skipped : -1, text);
	if (!err)
		err = store_audit_add(st, now, "system", "ruleset.validate", object, detail);
	if (!err)
		err = store_commit(st);
	if (err)
		store_rollback(st);
	store_unlock(st);
	free(text);
	if (!err)
		atomic_fetch_add(ok ? &v->passed : &v->failed, 1);
	return err;
}

int rules_validate_one(struct rules_validator *v, const char *id)
{
	struct rules_job j = {
		.cfg = &v->cfg,
		.ctl = { &v->mu, &v->cond, &v->stop, &v->child },
		.loaded = -1, .skipped = -1,
	};
	json_t *val = NULL;
	int err;

	pthread_mutex_lock(&v->mu);
	snprintf(j.dir, sizeof(j.dir), "%s/job-%llu", v->cfg.work_dir, (unsigned long long)++v->seq);
	pthread_mutex_unlock(&v->mu);
	j.deadline = rules_mono_s() + (double)v->cfg.timeout_s;
	err = job_prepare(v, &j, id);
	if (!err) {
		val = job_run(v, &j);
		err = val ? job_record(v, &j, id, val) : -ECANCELED;
	} else if (err != -ENOENT) {
		/* not the rules' fault, but the version must not stay validating */
		char ts[32], detail[PATH_MAX + 64];
		rfc3339(v->cfg.now(v->cfg.now_arg), ts, sizeof(ts));
		snprintf(detail, sizeof(detail), "cannot prepare %s: %s", j.dir, strerror(-err));
		val = json_pack("{s:b, s:s, s:[{s:s, s:b, s:s}]}", "ok", 0, "ts", ts, "steps", "name",
				"compile", "ok", 0, "detail", detail);
		err = val ? job_record(v, &j, id, val) : -ENOMEM;
	}
	if (err && err != -ECANCELED)
		fprintf(stderr, "vigil-control: validation of %.16s failed to run: %s\n", id, strerror(-err));
	json_decref(val);
	store_cases_free(j.cases, j.ncases);
	rm_tree(j.dir);
	return err;
}

/* --- the worker ------------------------------------------------------------ */

static void *worker(void *arg)
{
	struct rules_validator *v = arg;
	char id[STORE_ID_HEX + 1];

	pthread_mutex_lock(&v->mu);
	for (;;) {
		while (!v->stop && v->nq == 0)
			pthread_cond_wait(&v->cond, &v->mu);
		if (v->stop)
			break;
		memcpy(id, v->queue[0], sizeof(id));
		memmove(v->queue, v->queue + 1, --v->nq * sizeof(v->queue[0]));
		pthread_mutex_unlock(&v->mu);
		rules_validate_one(v, id);
		pthread_mutex_lock(&v->mu);
	}
	pthread_mutex_unlock(&v->mu);
	return NULL;
}

int rules_validator_enqueue(struct rules_validator *v, const char *id)
{
	int err = 0;

	if (strlen(id) != STORE_ID_HEX)
		return -EINVAL;
	pthread_mutex_lock(&v->mu);
	for (size_t i = 0; i < v->nq; i++)
		if (strcmp(v->queue[i], id) == 0)
			goto out;        /* queued already */
	if (v->stop) {
		err = -ESHUTDOWN;
		goto out;
	}
	if (v->nq == v->capq) {
		size_t cap = v->capq ? 2 * v->capq : 16;
		void *q = realloc(v->queue, cap * sizeof(v->queue[0]));
		if (!q) {
			err = -ENOMEM;
			goto out;
		}
		v->queue = q;
		v->capq = cap;
	}
	memcpy(v->queue[v->nq++], id, STORE_ID_HEX + 1);
	atomic_fetch_add(&v->queued, 1);
	pthread_cond_signal(&v->cond);
out:
	pthread_mutex_unlock(&v->mu);
	return err;
}

void rules_validator_get_stats(struct rules_validator *v, struct rules_validator_stats *out)
{
	out->passed = atomic_load(&v->passed);
	out->failed = atomic_load(&v->failed);
	out->queued = atomic_load(&v->queued);
}

static void requeue(void *arg, const char *id)
{
	rules_validator_enqueue(arg, id);
}

int rules_validator_create(const struct rules_validate_cfg *cfg, struct rules_validator **out)
{
	struct rules_validator *v = calloc(1, sizeof(*v));
	int err;

	if (!v)
		return -ENOMEM;
	v->cfg = *cfg;
	v->child = -1;
	pthread_mutex_init(&v->mu, NULL);
	pthread_cond_init(&v->cond, NULL);
	if (mkdir(cfg->work_dir, 0700) != 0 && errno != EEXIST) {
		err = -errno;
		fprintf(stderr, "vigil-control: work_dir %s: %s\n", cfg->work_dir, strerror(errno));
		goto fail;
	}
	rm_stale_jobs(cfg->work_dir);
	store_lock(cfg->store);
	err = store_rulesets_pending(cfg->store, requeue, v);
	store_unlock(cfg->store);
	if (err)
		goto fail;
	err = -pthread_create(&v->thr, NULL, worker, v);
	if (err)
		goto fail;
	v->started = true;
	*out = v;
	return 0;
fail:
	rules_validator_destroy(v);
	return err;
}

void rules_validator_stop(struct rules_validator *v)
{
	if (!v)
		return;
	pthread_mutex_lock(&v->mu);
	v->stop = true;
	if (v->child > 0)
		kill(v->child, SIGKILL);   /* rules_run() reaps it */
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->mu);
	if (v->started) {
		pthread_join(v->thr, NULL);
		v->started = false;
	}
}

void rules_validator_destroy(struct rules_validator *v)
{
	if (!v)
		return;
	rules_validator_stop(v);
	pthread_cond_destroy(&v->cond);
	pthread_mutex_destroy(&v->mu);
	free(v->queue);
	free(v);
}
