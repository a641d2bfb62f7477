/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vigil-control: the control-plane daemon.
 *
 *   vigil-control serve --db FILE [--listen HOST:PORT] [--config FILE]
 *       [--clock-file FILE] [--tls-cert F --tls-key F] [bounds...]
 *   vigil-control init --db FILE [--admin NAME]
 *
 * Threads: main (waits for SIGTERM/SIGINT), libmicrohttpd's polling thread
 * (requests), the timer (every tick_interval_s, 1 s, of real time:
 * escalation and blind spots at the daemon's clock, which --clock-file may
 * drive; 0 turns it off, leaving POST /api/v1/tick), and the notifier's
 * worker (control/notify: deliveries and their retries), and the ruleset
 * validation worker (control/rules: vigil and vigil-lint runs).  Both
 * signals stop the timer, then the validation worker (killing a running
 * tool), then the notifier, then the server, then close the database.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "api_parse.h"
#include "ctl_config.h"
#include "notify.h"

/* --- the clock -------------------------------------------------------- */

struct clock_src {
	const char *file;              /* NULL: the real clock */
	atomic_int_fast64_t last;      /* the last good reading of file */
	atomic_bool warned;
};

/* Reads "decimal seconds since the epoch" from the file. */
static int clock_read(const char *file, int64_t *out)
{
	char buf[64], *end;
	FILE *f = fopen(file, "r");
	size_t n;
	double v;

	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	v = strtod(buf, &end);
	while (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t')
		end++;
	if (end == buf || *end || !isfinite(v) || v < 0 || v > 1e12)
		return -EINVAL;
	*out = (int64_t)floor(v);
	return 0;
}

/* The daemon's "now" (any thread): the clock file's value when given (the
 * last good one if it cannot be read right now), else the real time. */
static int64_t clock_now(void *arg)
{
	struct clock_src *c = arg;
	int64_t v;

	if (!c->file)
		return (int64_t)time(NULL);
	if (clock_read(c->file, &v) == 0) {
		atomic_store(&c->last, v);
		atomic_store(&c->warned, false);
		return v;
	}
	if (!atomic_exchange(&c->warned, true))
		fprintf(stderr, "vigil-control: cannot read the clock file %s; keeping %" PRId64 "\n",
			c->file, (int64_t)atomic_load(&c->last));
	return atomic_load(&c->last);
}

/* --- notification ----------------------------------------------------- */

/*
 * The link between the API and the notifier.  Events come through the
 * incident sink and target changes through the API's targets hook, both on
 * threads that hold the store lock; results come back on the notifier's
 * thread through api_notify_result(), which takes that lock.  n is read
 * and cleared under the store lock, so once notifier_stop() has cleared it
 * no request or tick can reach the notifier, and it can be destroyed while
 * the server still runs.
 */
struct notifier {
	struct notify *n;              /* under the store lock; NULL once stopping */
	struct store *st;
	struct api_server *srv;        /* set before the first event (cmd_serve) */
};

/* A stored target as the notifier wants it; -EINVAL for an unknown type. */
static int target_conv(const struct store_target *s, struct notify_target *t)
{
	enum notify_type type;

	if (notify_type_parse(s->type, &type) != 0)
		return -EINVAL;
	t->name = s->name;
	t->type = type;
	t->url = s->url;
	t->routing_key = s->routing_key;
	/* the store keeps "every severity" as < 0, the notifier as <= 0 */
	t->min_severity = s->min_severity > 0 && s->min_severity <= INT_MAX ? (int)s->min_severity : 0;
	return 0;
}

/* Hands the usable ones of t to the notifier; a target it refuses (only
 * possible for one stored by an older version: PUT checks them) is left
 * out and logged rather than costing every other target. */
static void notifier_set(struct notifier *nf, const struct store_target *t, size_t n)
{
	struct notify_target *v = calloc(n ? n : 1, sizeof(*v));
	size_t k = 0;
	int err;

	if (!v) {
		fprintf(stderr, "vigil-control: notification targets not applied: out of memory\n");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const char *why = "type: unknown";
		if (target_conv(&t[i], &v[k]) == 0 && notify_target_check(&v[k], &why) == 0)
			k++;
		else
			fprintf(stderr, "vigil-control: notification target %s left out: %s\n", t[i].name, why);
	}
	err = notify_set_targets(nf->n, v, k);
	if (err)
		fprintf(stderr, "vigil-control: notification targets not applied: %s\n", strerror(-err));
	free(v);
}

/* The API's targets hook: check before PUT stores, apply after it commits. */
static int targets_check(void *arg, const struct store_target *t, size_t n, char *msg, size_t len)
{
	struct notify_target nt;

	(void)arg;
	for (size_t i = 0; i < n; i++) {
		const char *why = "type: unknown";
		if (target_conv(&t[i], &nt) != 0 || notify_target_check(&nt, &why) != 0) {
			snprintf(msg, len, "[%zu].%s", i, why);
			return -EINVAL;
		}
	}
	return 0;
}

static void targets_apply(void *arg, const struct store_target *t, size_t n)
{
	struct notifier *nf = arg;

	if (nf->n)
		notifier_set(nf, t, n);
}

/* The targets in the database, at start. */
static int notifier_load(struct notifier *nf)
{
	json_t *arr = NULL, *o;
	struct store_target *v;
	size_t i;
	int err = store_targets_json(nf->st, &arr);

	if (err)
		return err;
	v = calloc(json_array_size(arr) ? json_array_size(arr) : 1, sizeof(*v));
	if (!v) {
		json_decref(arr);
		return -ENOMEM;
	}
	json_array_foreach(arr, i, o) {
		json_t *min = json_object_get(o, "min_severity");
		v[i].name = json_string_value(json_object_get(o, "name"));
		v[i].type = json_string_value(json_object_get(o, "type"));
		v[i].url = json_string_value(json_object_get(o, "url"));
		v[i].routing_key = json_string_value(json_object_get(o, "routing_key"));
		v[i].min_severity = json_is_integer(min) ? json_integer_value(min) : -1;
		if (!v[i].name || !v[i].type)
			v[i].name = v[i].type = "?";
	}
	notifier_set(nf, v, json_array_size(arr));
	free(v);
	json_decref(arr);
	return 0;
}

/* Records an outcome the notifier did not report (the event was never
 * queued); the caller holds the store lock. */
static void notifier_record_locked(struct notifier *nf, const struct incident_event *ev, const char *why)
{
	int err = store_begin(nf->st);

	if (!err)
		err = incident_notified(nf->st, ev->incident_id, ev->event, "-", false, why, ev->ts);
	if (!err)
		err = store_commit(nf->st);
	if (err) {
		store_rollback(nf->st);
		fprintf(stderr, "vigil-control: notify: cannot record it: %s\n", strerror(-err));
	}
}

/* The incident sink (store lock held): queue, never block. */
static void notifier_on_event(void *arg, const struct incident_event *ev)
{
	struct notifier *nf = arg;
	char why[128];
	int err = nf->n ? notify_event(nf->n, ev->event, ev->incident) : -ESHUTDOWN;

	if (!err)
		return;
	snprintf(why, sizeof(why), "not queued: %s",
		 err == -ENOSPC ? "the notification queue is full" :
		 err == -ESHUTDOWN ? "shutting down" : strerror(-err));
	fprintf(stderr, "vigil-control: notify: %s of incident %lld %s\n", ev->event,
		(long long)ev->incident_id, why);
	/* on the incident too: a responder must see that nobody was told */
	notifier_record_locked(nf, ev, why);
}

/* The notifier's result callback (its thread, no lock held). */
static void notifier_on_result(void *arg, const struct notify_result *r)
{
	struct notifier *nf = arg;
	char why[400];
	int err;

	if (r->delivered && r->tries > 1)
		snprintf(why, sizeof(why), "on try %u", r->tries);
	else if (r->delivered)
		why[0] = '\0';
	else if (r->tries)
		snprintf(why, sizeof(why), "%.300s (%u %s)", r->error ? r->error : "failed", r->tries,
			 r->tries == 1 ? "try" : "tries");
	else
		snprintf(why, sizeof(why), "%.300s", r->error ? r->error : "failed");
	if (!r->delivered)
		fprintf(stderr, "vigil-control: notify: %s of incident %lld to %s failed: %s\n", r->event,
			(long long)r->incident_id, r->target, why);
	if (!nf->srv)
		return;
	err = api_notify_result(nf->srv, r->incident_id, r->event, r->target, r->delivered,
				why[0] ? why : NULL);
	if (err)
		fprintf(stderr, "vigil-control: notify: cannot record %s of incident %lld to %s: %s\n",
			r->event, (long long)r->incident_id, r->target, strerror(-err));
}

/* Creates the notifier and gives it the stored targets. */
static int notifier_start(struct notifier *nf, struct store *st, const struct notify_cfg *cfg)
{
	int err;

	nf->st = st;
	err = notify_create(&nf->n, cfg, notifier_on_result, nf);
	if (err) {
		fprintf(stderr, "vigil-control: cannot start the notifier: %s\n", strerror(-err));
		return err;
	}
	store_lock(st);
	err = notifier_load(nf);
	store_unlock(st);
	if (err)
		fprintf(stderr, "vigil-control: cannot load the notification targets: %s\n", strerror(-err));
	return err;
}

/* Detaches the notifier from the API, then destroys it: what is still
 * pending is reported as not delivered, through the server, which must
 * outlive this. */
static void notifier_stop(struct notifier *nf)
{
	struct notify *n;

	if (!nf->st)
		return;
	store_lock(nf->st);
	n = nf->n;
	nf->n = NULL;
	store_unlock(nf->st);
	notify_destroy(n);
}

/* --- the timer -------------------------------------------------------- */

struct timer {
	struct api_server *srv;
	int64_t interval_s;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
};

static void *timer_main(void *arg)
{
	struct timer *t = arg;
	struct timespec ts;

	pthread_mutex_lock(&t->lock);
	while (!t->stop) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += t->interval_s;
		pthread_cond_timedwait(&t->cond, &t->lock, &ts);
		if (t->stop)
			break;
		pthread_mutex_unlock(&t->lock);
		int err = api_tick(t->srv, NULL, NULL);
		if (err)
			fprintf(stderr, "vigil-control: evaluation failed: %s\n", strerror(-err));
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

/* --- the validation worker's tools -------------------------------------- */

/* An executable file? */
static bool runnable(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && access(path, X_OK) == 0;
}

/* path made absolute against our working directory: the tools run in
 * their own scratch directories.  Malloc'd. */
static char *absolute(const char *path)
{
	char cwd[PATH_MAX], *out = NULL;

	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return strdup(path);
	return asprintf(&out, "%s/%s", cwd, path) < 0 ? NULL : out;
}

/* A tool of the validation: the setting if given; else rel from our own
 * binary's directory (the meson build tree: control/main/vigil-control
 * next to dataplane/ and tools/); else the first `name` in $PATH; else
 * `name` itself (the validation then says it cannot run it).  Malloc'd. */
static char *find_tool(const char *setting, const char *rel, const char *name)
{
	char self[PATH_MAX], path[2 * PATH_MAX], *dir;
	const char *env = getenv("PATH");
	ssize_t n;

	if (setting && *setting)
		return strchr(setting, '/') ? absolute(setting) : strdup(setting);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		dir = strrchr(self, '/');
		if (dir) {
			*dir = '\0';
			snprintf(path, sizeof(path), "%s/%s", self, rel);
			if (runnable(path))
				return realpath(path, NULL);
		}
	}
	for (const char *p = env; p && *p;) {
		size_t len = strcspn(p, ":");
		snprintf(path, sizeof(path), "%.*s/%s", (int)(len ? len : 1), len ? p : ".", name);
		if (runnable(path))
			return strdup(path);
		p += len;
		if (*p == ':')
			p++;
	}
	return strdup(name);
}

/* The worker's settings completed with the defaults (the tools, work_dir
 * next to the database), paths made absolute; the strings in *own are the
 * caller's to free. */
static int rules_cfg_complete(struct rules_validate_cfg *rc, const char *db, char *own[4])
{
	char *work = NULL;

	own[0] = find_tool(rc->vigil_path, "../../dataplane/main/vigil", "vigil");
	own[1] = find_tool(rc->lint_path, "../../tools/vigil-lint", "vigil-lint");
	if (rc->work_dir && *rc->work_dir)
		own[2] = absolute(rc->work_dir);
	else if (asprintf(&work, "%s.work", db) >= 0)
		own[2] = absolute(work);
	free(work);
	if (rc->reference_pcap && *rc->reference_pcap)
		own[3] = absolute(rc->reference_pcap);
	if (!own[0] || !own[1] || !own[2] || (rc->reference_pcap && *rc->reference_pcap && !own[3]))
		return -ENOMEM;
	rc->vigil_path = own[0];
	rc->lint_path = own[1];
	rc->work_dir = own[2];
	rc->reference_pcap = own[3];
	fprintf(stderr, "vigil-control: validating rulesets with %s and %s in %s\n", rc->vigil_path,
		rc->lint_path, rc->work_dir);
	return 0;
}

/* --- commands --------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigil-control serve --db FILE [--listen HOST:PORT] [--config FILE]\n"
		"                           [--clock-file FILE] [--tls-cert FILE --tls-key FILE]\n"
		"                           [--max-body BYTES] [--max-ingest-body BYTES]\n"
		"                           [--max-limit N] [--heartbeat-period S] [--window S]\n"
		"       vigil-control init --db FILE [--admin NAME]\n"
		"       vigil-control --help | --version\n"
		"\n"
		"serve: the control-plane daemon (HTTP API on 127.0.0.1:8470 by default).\n"
		"  --config FILE      JSON object of settings (see control/main/README.md);\n"
		"                     options given on the command line win\n"
		"  --clock-file FILE  read \"now\" (seconds since the epoch) from FILE (tests)\n"
		"init: create the database and its first admin user (default \"admin\"); prints\n"
		"  the admin's API token once on stdout.  Refuses if users exist.\n");
}

static int cmd_init(const char *db, const char *admin)
{
	struct store *st = NULL;
	char tok[STORE_TOKEN_LEN + 1], object[STORE_NAME_MAX + 8];
	uint8_t hash[STORE_HASH_LEN];
	int64_t users = 0, id = 0, now = (int64_t)time(NULL);
	int err;

	if (!api_name_valid(admin) || strcmp(admin, "system") == 0) {
		fprintf(stderr, "vigil-control: --admin %s: must be 1 to 64 of A-Z a-z 0-9 . _ - "
			"(and not \"system\")\n", admin);
		return 2;
	}
	err = store_open(db, &st);
	if (err) {
		fprintf(stderr, "vigil-control: %s: cannot open the database: %s\n", db, strerror(-err));
		return 1;
	}
	err = store_user_count(st, &users);
	if (!err && users > 0) {
		fprintf(stderr, "vigil-control: %s already has users; init refused\n", db);
		store_close(st);
		return 1;
	}
	if (!err)
		err = store_token_generate(tok);
	if (!err) {
		store_token_hash(tok, strlen(tok), hash);
		snprintf(object, sizeof(object), "user:%s", admin);
		err = store_begin(st);
	}
	if (!err)
		err = store_user_add(st, admin, "admin", now);
	if (!err)
		err = store_token_add(st, admin, hash, now, &id);
	if (!err)
		err = store_audit_add(st, now, "system", "user.add", object, "admin (init)");
	if (!err)
		err = store_commit(st);
	if (err) {
		store_rollback(st);
		store_close(st);
		fprintf(stderr, "vigil-control: init failed: %s\n", strerror(-err));
		return 1;
	}
	store_close(st);
	printf("%s\n", tok);
	return 0;
}

static int cmd_serve(const char *db, struct ctl_settings *settings, const char *clock_file)
{
	struct api_config *cfg = &settings->api;
	struct clock_src clk = { .file = clock_file };
	struct timer tm = { .stop = false };
	struct notifier nf = { .n = NULL };
	struct store *st = NULL;
	struct api_server *srv = NULL;
	struct rules_validator *val = NULL;
	char *own[4] = { NULL, NULL, NULL, NULL };
	pthread_condattr_t ca;
	pthread_t timer_thr;
	sigset_t sigs;
	int sig, err, rc = 1;
	int64_t v;

	/* block the stop signals in every thread we start; main waits for them */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (clock_file) {
		err = clock_read(clock_file, &v);
		if (err) {
			fprintf(stderr, "vigil-control: --clock-file %s: %s\n", clock_file,
				err == -EINVAL ? "expected decimal seconds since the epoch" : strerror(-err));
			return 2;
		}
		atomic_store(&clk.last, v);
	}
	err = store_open(db, &st);
	if (err) {
		fprintf(stderr, "vigil-control: %s: cannot open the database: %s\n", db, strerror(-err));
		goto out;
	}
	cfg->store = st;
	cfg->now = clock_now;
	cfg->now_arg = &clk;
	settings->rules.store = st;
	settings->rules.now = clock_now;
	settings->rules.now_arg = &clk;
	err = rules_cfg_complete(&settings->rules, db, own);
	if (!err)
		err = rules_validator_create(&settings->rules, &val);
	if (err) {
		fprintf(stderr, "vigil-control: cannot start the validation worker: %s\n", strerror(-err));
		goto out;
	}
	cfg->validator = val;
	err = notifier_start(&nf, st, &settings->notify);
	if (err) {
		rc = err == -EINVAL ? 2 : 1;
		goto out;
	}
	cfg->sink.on_event = notifier_on_event;
	cfg->sink.arg = &nf;
	cfg->targets.check = targets_check;
	cfg->targets.apply = targets_apply;
	cfg->targets.arg = &nf;
	/* Requests run with the store lock: holding it until nf.srv is set
	 * means no event is queued, so no result comes back, before the
	 * result callback has the server to record it through. */
	store_lock(st);
	err = api_server_create(cfg, &srv);
	nf.srv = srv;
	store_unlock(st);
	if (err) {
		rc = err == -EINVAL ? 2 : 1;
		goto out;
	}
	printf("vigil-control: listening on %s://%.*s:%u\n", cfg->tls_cert ? "https" : "http",
	       (int)(strrchr(cfg->listen, ':') - cfg->listen), cfg->listen, api_server_port(srv));
	fflush(stdout);

	tm.srv = srv;
	tm.interval_s = settings->tick_interval_s;
	pthread_mutex_init(&tm.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&tm.cond, &ca);
	pthread_condattr_destroy(&ca);
	if (tm.interval_s > 0 && pthread_create(&timer_thr, NULL, timer_main, &tm) != 0) {
		fprintf(stderr, "vigil-control: cannot start the timer thread\n");
		goto out_timer;
	}

	sigwait(&sigs, &sig);
	fprintf(stderr, "vigil-control: %s, shutting down\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	rc = 0;
	if (tm.interval_s > 0) {
		pthread_mutex_lock(&tm.lock);
		tm.stop = true;
		pthread_cond_signal(&tm.cond);
		pthread_mutex_unlock(&tm.lock);
		pthread_join(timer_thr, NULL);
	}
out_timer:
	pthread_cond_destroy(&tm.cond);
	pthread_mutex_destroy(&tm.lock);
out:
	/* the validation worker first (a running tool is killed; the version
	 * stays "validating" for the next start), then the notifier: its
	 * last results are recorded through the server and the store */
	rules_validator_stop(val);
	notifier_stop(&nf);
	api_server_destroy(srv);
	rules_validator_destroy(val);
	store_close(st);
	for (int i = 0; i < 4; i++)
		free(own[i]);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "config", required_argument, NULL, 'c' },
		{ "clock-file", required_argument, NULL, 'k' },
		{ "tls-cert", required_argument, NULL, 'C' },
		{ "tls-key", required_argument, NULL, 'K' },
		{ "admin", required_argument, NULL, 'a' },
		{ "max-body", required_argument, NULL, 'b' },
		{ "max-ingest-body", required_argument, NULL, 'B' },
		{ "max-limit", required_argument, NULL, 'm' },
		{ "heartbeat-period", required_argument, NULL, 'p' },
		{ "window", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_overrides ov = { 0 };
	struct ctl_settings cfg;
	json_t *keep = NULL;
	const char *cmd, *db = NULL, *admin = "admin", *config = NULL, *clock_file = NULL;
	int c;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("vigil-control %s\n", VIGIL_VERSION);
		return 0;
	}
	if (argc < 2 || (strcmp(argv[1], "serve") != 0 && strcmp(argv[1], "init") != 0)) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'a': admin = optarg; break;
		case 'c': config = optarg; break;
		case 'k': clock_file = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("vigil-control %s\n", VIGIL_VERSION); return 0;
		default:
			if (ctl_override_opt(&ov, c, optarg) == 0)
				break;
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vigil-control: unexpected argument %s\n", argv[optind]);
		return 2;
	}
	if (!db) {
		fprintf(stderr, "vigil-control %s: --db FILE is required\n", cmd);
		return 2;
	}
	if (strcmp(cmd, "init") == 0)
		return cmd_init(db, admin);
	ctl_settings_default(&cfg);
	if (config && ctl_config_load(config, &cfg, &keep) != 0)
		return 2;
	if (ctl_overrides_apply(&ov, &cfg) != 0) {
		json_decref(keep);
		return 2;
	}
	c = cmd_serve(db, &cfg, clock_file);
	json_decref(keep);
	return c;
}
