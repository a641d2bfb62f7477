/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * notify: the queue and the worker thread.
 *
 * Every delivery (one event for one target) is on n->live from notify_event()
 * until its outcome has been reported.  Its first delivery per (target name,
 * incident) is the head of a chain; later ones wait on chain_next and enter
 * the schedule only when the one before is done, so a target sees each
 * incident's events in order.  Heads wait in a binary heap ordered by
 * (next attempt time, queue order).  The worker pops the due ones: syslog
 * is sent at once; HTTP goes to the target's easy handle, one transfer per
 * target at a time (later due ones wait in the target's ready FIFO), all
 * targets' transfers running together on one curl multi handle, so a slow
 * target never holds back another.  curl_multi_poll() is the only sleep;
 * notify_event() and notify_destroy() interrupt it with curl_multi_wakeup().
 *
 * Locking: n->lock guards the heap, n->live, chains, pending, counters,
 * the target array and target reference counts.  Target fields marked
 * "worker" and a delivery's state, tries, status and error are touched by the
 * worker thread only.  Callbacks run without the lock.
 */
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "notify.h"
#include "notify_int.h"

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "dev"
#endif

#define BACKOFF_MAX_S 3600.0        /* longest wait between two tries */
#define POLL_MAX_S 10               /* longest sleep of the worker without a wakeup */
#define ERR_MAX 256                 /* a result's error text */
#define RESP_MAX 128                /* start of an HTTP answer kept for the error text */

struct ntarget {
	unsigned refs;              /* the target array's + one per delivery; under lock */
	char *name, *url, *routing_key;
	enum notify_type type;
	int min_severity;
	char host[256], port[8];    /* syslog */
	/* worker */
	CURL *easy;                 /* HTTP: created at the first transfer */
	char errbuf[CURL_ERROR_SIZE];
	bool busy;                  /* a transfer of this target is running */
	struct delivery *ready_head, *ready_tail;
	int fd;                     /* syslog: connected UDP socket or -1 */
};

enum dstate { D_CHAINED, D_SCHEDULED, D_READY, D_INFLIGHT };

struct delivery {
	struct delivery *prev, *next;       /* n->live */
	struct delivery *chain_next;        /* the same incident's next event for this target */
	struct delivery *ready_next;        /* worker: due list, then the target's ready FIFO */
	struct ntarget *t;
	double next_at;                     /* monotonic */
	uint64_t seq;                       /* queue order: ties in the heap */
	int64_t incident_id;
	enum notify_event_kind ev;
	enum dstate state;
	unsigned tries;
	int http_status;
	char *body;
	size_t len;
	size_t resp_len;
	char resp[RESP_MAX];
	char err[ERR_MAX];
};

struct notify {
	pthread_mutex_t lock;
	pthread_cond_t idle;                /* pending dropped to 0 */
	pthread_t thread;
	CURLM *multi;
	struct curl_slist *headers;
	notify_result_fn fn;
	void *fn_arg;
	unsigned max_tries;
	double backoff_s, timeout_s;
	size_t queue_max;
	char source[256];                   /* PagerDuty payload.source */
	char syslog_host[256];              /* the same as an RFC 5424 HOSTNAME */
	/* under lock */
	struct ntarget **targets;
	size_t ntargets;
	struct delivery **heap;
	size_t heap_len, heap_cap;          /* heap_cap >= pending, so pushes never fail */
	struct delivery *live_head, *live_tail;
	size_t pending;                     /* deliveries queued and not yet reported */
	uint64_t seq;
	bool stop;
	struct notify_stats st;
};

enum outcome { OUT_OK, OUT_RETRY, OUT_FAIL };

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- types */

static const char *const type_names[] = {
	[NOTIFY_WEBHOOK] = "webhook",
	[NOTIFY_PAGERDUTY] = "pagerduty",
	[NOTIFY_SYSLOG] = "syslog",
};

int notify_type_parse(const char *s, enum notify_type *out)
{
	for (size_t i = 0; s && i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		if (strcmp(s, type_names[i]) == 0) {
			*out = (enum notify_type)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *notify_type_name(enum notify_type type)
{
	return (unsigned)type < sizeof(type_names) / sizeof(type_names[0]) ? type_names[type] : NULL;
}

/* ----------------------------------------------------------------- heap */

static bool heap_before(const struct delivery *a, const struct delivery *b)
{
	return a->next_at < b->next_at || (a->next_at == b->next_at && a->seq < b->seq);
}

static void heap_push(struct notify *n, struct delivery *d)
{
	size_t i = n->heap_len++;

	while (i > 0) {
		size_t up = (i - 1) / 2;
		if (!heap_before(d, n->heap[up]))
			break;
		n->heap[i] = n->heap[up];
		i = up;
	}
	n->heap[i] = d;
}

static struct delivery *heap_pop(struct notify *n)
{
	struct delivery *top = n->heap[0], *last = n->heap[--n->heap_len];
	size_t i = 0, len = n->heap_len;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= len)
			break;
		if (c + 1 < len && heap_before(n->heap[c + 1], n->heap[c]))
			c++;
		if (!heap_before(n->heap[c], last))
			break;
		n->heap[i] = n->heap[c];
		i = c;
	}
	if (len)
		n->heap[i] = last;
	return top;
}

/* -------------------------------------------------------------- targets */

static void target_free(struct ntarget *t)
{
	if (t->easy)
		curl_easy_cleanup(t->easy);
	if (t->fd >= 0)
		close(t->fd);
	free(t->name);
	free(t->url);
	free(t->routing_key);
	free(t);
}

/* under lock (or once the worker has stopped) */
static void target_put(struct ntarget *t)
{
	if (--t->refs == 0)
		target_free(t);
}

static bool http_url_ok(const char *url)
{
	CURLU *u;
	char *scheme = NULL;
	bool ok = false;

	if (!url || !(u = curl_url()))
		return false;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK)
		ok = strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0;
	curl_free(scheme);
	curl_url_cleanup(u);
	return ok;
}

int notify_target_check(const struct notify_target *t, const char **why)
{
	char host[256], port[8];
	const char *w = NULL;

	if (!t->name || !*t->name)
		w = "name: missing";
	else if (!notify_type_name(t->type))
		w = "type: unknown";
	else if ((t->type == NOTIFY_WEBHOOK || (t->type == NOTIFY_PAGERDUTY && t->url && *t->url)) &&
		 !http_url_ok(t->url))
		w = "url: not an http(s) URL";
	else if (t->type == NOTIFY_PAGERDUTY && (!t->routing_key || !*t->routing_key))
		w = "routing_key: missing";
	else if (t->type == NOTIFY_SYSLOG &&
		 notify_syslog_url_parse(t->url, host, sizeof(host), port, sizeof(port)))
		w = "url: expected udp://HOST[:PORT] (PORT 1 to 65535)";
	if (why)
		*why = w;
	return w ? -EINVAL : 0;
}

static int target_new(const struct notify_target *src, struct ntarget **out)
{
	struct ntarget *t;
	const char *url = src->url;

	if (notify_target_check(src, NULL))
		return -EINVAL;
	if (src->type == NOTIFY_PAGERDUTY && (!url || !*url))
		url = NOTIFY_PAGERDUTY_URL;
	if (!(t = calloc(1, sizeof(*t))))
		return -ENOMEM;
	t->refs = 1;
	t->fd = -1;
	t->type = src->type;
	t->min_severity = src->min_severity;
	if (src->type == NOTIFY_SYSLOG &&
	    notify_syslog_url_parse(url, t->host, sizeof(t->host), t->port, sizeof(t->port))) {
		target_free(t);
		return -EINVAL;
	}
	t->name = strdup(src->name);
	t->url = strdup(url);
	t->routing_key = strdup(src->routing_key ? src->routing_key : "");
	if (!t->name || !t->url || !t->routing_key) {
		target_free(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

int notify_set_targets(struct notify *n, const struct notify_target *t, size_t nt)
{
	struct ntarget **nv = NULL, **old;
	size_t i, j, nold;
	int rc = 0;

	if (!n || (nt && !t))
		return -EINVAL;
	for (i = 0; i < nt; i++)
		for (j = 0; j < i; j++)
			if (t[i].name && t[j].name && strcmp(t[i].name, t[j].name) == 0)
				return -EINVAL;
	if (nt && !(nv = calloc(nt, sizeof(*nv))))
		return -ENOMEM;
	for (i = 0; i < nt; i++) {
		if ((rc = target_new(&t[i], &nv[i])))
			goto fail;
	}
	pthread_mutex_lock(&n->lock);
	old = n->targets;
	nold = n->ntargets;
	n->targets = nv;
	n->ntargets = nt;
	for (i = 0; i < nold; i++)
		target_put(old[i]);
	pthread_mutex_unlock(&n->lock);
	free(old);
	return 0;
fail:
	while (i-- > 0)
		target_free(nv[i]);
	free(nv);
	return rc;
}

/* ---------------------------------------------------------------- queue */

static void live_unlink(struct notify *n, struct delivery *d)
{
	if (d->prev)
		d->prev->next = d->next;
	else
		n->live_head = d->next;
	if (d->next)
		d->next->prev = d->prev;
	else
		n->live_tail = d->prev;
	d->prev = d->next = NULL;
}

static void live_append(struct notify *n, struct delivery *d)
{
	d->prev = n->live_tail;
	d->next = NULL;
	if (n->live_tail)
		n->live_tail->next = d;
	else
		n->live_head = d;
	n->live_tail = d;
}

/* The last queued delivery of the same target name and incident, if one is
 * still pending: the new one waits behind it.  Newest first, so the usual
 * case (none, or a recent one) is short. */
static struct delivery *chain_tail(struct notify *n, const struct ntarget *t, int64_t id)
{
	for (struct delivery *d = n->live_tail; d; d = d->prev)
		if (d->incident_id == id && (d->t == t || strcmp(d->t->name, t->name) == 0))
			return d->chain_next ? NULL : d;
	return NULL;
}

static void delivery_free(struct delivery *d)
{
	free(d->body);
	free(d);
}

static bool admits(const struct ntarget *t, json_int_t sev)
{
	return t->min_severity <= 0 || sev <= t->min_severity;
}

int notify_event(struct notify *n, const char *event, const json_t *incident)
{
	enum notify_event_kind ev;
	const json_t *jid, *jsev, *jkey;
	struct ntarget **match = NULL;
	struct delivery **ds = NULL;
	size_t k = 0, i;
	double now_wall = wall_now(), now = mono_now();
	int rc = 0;

	if (!n || notify_event_parse(event, &ev) || !json_is_object(incident))
		return -EINVAL;
	jid = json_object_get(incident, "id");
	jsev = json_object_get(incident, "severity");
	jkey = json_object_get(incident, "key");
	if (!json_is_integer(jid) || !json_is_integer(jsev) || !json_is_string(jkey) ||
	    json_string_length(jkey) == 0)
		return -EINVAL;
	json_int_t sev = json_integer_value(jsev);

	/* pick the targets (holding a reference) and refuse early if it cannot fit */
	pthread_mutex_lock(&n->lock);
	if (n->stop) {
		/* a result callback while notify_destroy() drains the queue */
		pthread_mutex_unlock(&n->lock);
		return -ESHUTDOWN;
	}
	for (i = 0; i < n->ntargets; i++)
		k += admits(n->targets[i], sev);
	if (k == 0) {
		pthread_mutex_unlock(&n->lock);
		return 0;
	}
	if (n->pending + k > n->queue_max) {
		n->st.refused += k;
		pthread_mutex_unlock(&n->lock);
		return -ENOSPC;
	}
	if (!(match = calloc(k, sizeof(*match)))) {
		pthread_mutex_unlock(&n->lock);
		return -ENOMEM;
	}
	for (i = 0, k = 0; i < n->ntargets; i++) {
		if (admits(n->targets[i], sev)) {
			match[k++] = n->targets[i];
			n->targets[i]->refs++;
		}
	}
	pthread_mutex_unlock(&n->lock);

	/* build the messages without the lock */
	if (!(ds = calloc(k, sizeof(*ds)))) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < k; i++) {
		struct delivery *d = calloc(1, sizeof(*d));
		struct ntarget *t = match[i];

		if (!d) {
			rc = -ENOMEM;
			goto out;
		}
		ds[i] = d;
		d->t = t;
		d->ev = ev;
		d->incident_id = json_integer_value(jid);
		switch (t->type) {
		case NOTIFY_WEBHOOK:
			d->body = notify_fmt_webhook(incident, notify_event_name(ev), t->name, &d->len);
			break;
		case NOTIFY_PAGERDUTY:
			d->body = notify_fmt_pagerduty(incident, ev, t->routing_key, n->source, now_wall, &d->len);
			break;
		case NOTIFY_SYSLOG:
			d->body = notify_fmt_syslog(incident, ev, n->syslog_host, now_wall, &d->len);
			break;
		}
		if (!d->body) {
			rc = -ENOMEM;
			goto out;
		}
	}

	pthread_mutex_lock(&n->lock);
	if (n->stop) {
		rc = -ESHUTDOWN;
	} else if (n->pending + k > n->queue_max) {
		n->st.refused += k;
		rc = -ENOSPC;
	} else if (n->heap_cap < n->pending + k) {
		size_t cap = n->heap_cap ? n->heap_cap : 64;
		while (cap < n->pending + k)
			cap *= 2;
		struct delivery **h = realloc(n->heap, cap * sizeof(*h));
		if (h) {
			n->heap = h;
			n->heap_cap = cap;
		} else {
			rc = -ENOMEM;
		}
	}
	if (rc == 0) {
		for (i = 0; i < k; i++) {
			struct delivery *d = ds[i], *tail = chain_tail(n, d->t, d->incident_id);

			d->seq = n->seq++;
			if (tail) {
				tail->chain_next = d;
				d->state = D_CHAINED;
			} else {
				d->state = D_SCHEDULED;
				d->next_at = now;
				heap_push(n, d);
			}
			live_append(n, d);
			ds[i] = NULL;
		}
		n->pending += k;
		n->st.queued += k;
	}
	pthread_mutex_unlock(&n->lock);
	if (rc == 0)
		curl_multi_wakeup(n->multi);
out:
	if (rc) {
		pthread_mutex_lock(&n->lock);
		for (i = 0; i < k; i++) {
			if (ds && ds[i])
				delivery_free(ds[i]);
			target_put(match[i]);
		}
		pthread_mutex_unlock(&n->lock);
	}
	free(ds);
	free(match);
	return rc;
}

void notify_flush(struct notify *n, double max_wait_s)
{
	struct timespec dl;
	double end;

	if (!n)
		return;
	if (!(max_wait_s >= 0))
		max_wait_s = 0;
	if (max_wait_s > 1e6)
		max_wait_s = 1e6;
	end = mono_now() + max_wait_s;
	dl.tv_sec = (time_t)end;
	dl.tv_nsec = (long)((end - (double)dl.tv_sec) * 1e9);
	pthread_mutex_lock(&n->lock);
	while (n->pending && pthread_cond_timedwait(&n->idle, &n->lock, &dl) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&n->lock);
}

void notify_get_stats(const struct notify *n, struct notify_stats *st)
{
	/* the lock is not part of the notifier's observable state */
	struct notify *m = (struct notify *)n;

	pthread_mutex_lock(&m->lock);
	*st = m->st;
	pthread_mutex_unlock(&m->lock);
}

/* --------------------------------------------------------------- worker */

static void report(struct notify *n, struct delivery *d, bool delivered)
{
	struct notify_result r = {
		.target = d->t->name,
		.event = notify_event_name(d->ev),
		.incident_id = d->incident_id,
		.delivered = delivered,
		.tries = d->tries,
		.http_status = d->http_status,
		.error = delivered ? NULL : d->err,
		.ts = wall_now(),
	};

	if (n->fn)
		n->fn(n->fn_arg, &r);
}

/* The last step of a delivery: report it, let the next event of its chain go,
 * drop it.  Worker thread, lock not held. */
static void settle(struct notify *n, struct delivery *d, bool delivered)
{
	pthread_mutex_lock(&n->lock);
	if (delivered)
		n->st.delivered++;
	else
		n->st.failed++;
	live_unlink(n, d);
	if (d->chain_next) {
		struct delivery *s = d->chain_next;
		s->state = D_SCHEDULED;
		s->next_at = mono_now();
		heap_push(n, s);
		d->chain_next = NULL;
	}
	pthread_mutex_unlock(&n->lock);

	report(n, d, delivered);

	pthread_mutex_lock(&n->lock);
	target_put(d->t);
	if (--n->pending == 0)
		pthread_cond_broadcast(&n->idle);
	pthread_mutex_unlock(&n->lock);
	delivery_free(d);
}

static void finish(struct notify *n, struct delivery *d, enum outcome o)
{
	if (o == OUT_RETRY) {
		pthread_mutex_lock(&n->lock);
		if (d->tries < n->max_tries && !n->stop) {
			double delay = ldexp(n->backoff_s, (int)(d->tries < 64 ? d->tries - 1 : 63));
			d->state = D_SCHEDULED;
			d->next_at = mono_now() + (delay < BACKOFF_MAX_S ? delay : BACKOFF_MAX_S);
			heap_push(n, d);
			pthread_mutex_unlock(&n->lock);
			return;
		}
		pthread_mutex_unlock(&n->lock);
	}
	settle(n, d, o == OUT_OK);
}

static void count_try(struct notify *n, struct delivery *d)
{
	if (d->tries++ > 0) {
		pthread_mutex_lock(&n->lock);
		n->st.retried++;
		pthread_mutex_unlock(&n->lock);
	}
	d->http_status = 0;
	d->err[0] = 0;
}

/* One RFC 5424 datagram.  A refusal (ICMP port unreachable) that arrives
 * while send() runs, as it does on a local network, shows in SO_ERROR right
 * after; one that arrives later fails the next send to this target, which is
 * then retried. */
static enum outcome syslog_send(struct ntarget *t, struct delivery *d)
{
	int e = 0;
	socklen_t el = sizeof(e);

	if (t->fd < 0) {
		struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV }, *res, *ai;
		int rc = getaddrinfo(t->host, t->port, &hints, &res);

		if (rc) {
			snprintf(d->err, sizeof(d->err), "syslog: resolve %.150s: %s", t->host, gai_strerror(rc));
			return OUT_RETRY;
		}
		for (ai = res; ai; ai = ai->ai_next) {
			int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
			if (fd < 0) {
				e = errno;
				continue;
			}
			if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
				t->fd = fd;
				break;
			}
			e = errno;
			close(fd);
		}
		freeaddrinfo(res);
		if (t->fd < 0) {
			snprintf(d->err, sizeof(d->err), "syslog: connect %.150s:%s: %s", t->host, t->port, strerror(e));
			return OUT_RETRY;
		}
	}
	if (send(t->fd, d->body, d->len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		e = errno;
		snprintf(d->err, sizeof(d->err), "syslog: send: %s", strerror(e));
		if (e != ECONNREFUSED && e != EAGAIN) {
			close(t->fd);       /* resolve and connect again next time */
			t->fd = -1;
		}
		return OUT_RETRY;
	}
	if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e) {
		snprintf(d->err, sizeof(d->err), "syslog: send: %s", strerror(e));
		return OUT_RETRY;
	}
	return OUT_OK;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct delivery *d = arg;
	size_t len = size * nmemb, room = sizeof(d->resp) - 1 - d->resp_len;

	if (room) {
		size_t c = len < room ? len : room;
		memcpy(d->resp + d->resp_len, p, c);
		d->resp_len += c;
		d->resp[d->resp_len] = 0;
	}
	return len;
}

static int easy_setup(struct notify *n, struct ntarget *t)
{
	CURL *e = curl_easy_init();
	long ms = (long)ceil(n->timeout_s * 1000);

	if (!e)
		return -ENOMEM;
	if (curl_easy_setopt(e, CURLOPT_URL, t->url) ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") ||
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, n->headers) ||
	    curl_easy_setopt(e, CURLOPT_USERAGENT, "vigil-control/" VIGIL_VERSION) ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(e, CURLOPT_POST, 1L) ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms) ||
	    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ms) ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) ||
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf)) {
		curl_easy_cleanup(e);
		return -EINVAL;
	}
	t->easy = e;
	return 0;
}

static void http_start(struct notify *n, struct delivery *d)
{
	struct ntarget *t = d->t;

	count_try(n, d);
	d->resp_len = 0;
	d->resp[0] = 0;
	t->errbuf[0] = 0;
	if (!t->easy && easy_setup(n, t)) {
		snprintf(d->err, sizeof(d->err), "libcurl: cannot create a handle");
		finish(n, d, OUT_RETRY);
		return;
	}
	curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, d->body);
	curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)d->len);
	curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, d);
	curl_easy_setopt(t->easy, CURLOPT_PRIVATE, d);
	if (curl_multi_add_handle(n->multi, t->easy) != CURLM_OK) {
		snprintf(d->err, sizeof(d->err), "libcurl: cannot start the transfer");
		finish(n, d, OUT_RETRY);
		return;
	}
	t->busy = true;
	d->state = D_INFLIGHT;
}

static void dispatch(struct notify *n, struct delivery *d)
{
	struct ntarget *t = d->t;

	if (t->type == NOTIFY_SYSLOG) {
		count_try(n, d);
		finish(n, d, syslog_send(t, d));
		return;
	}
	if (t->busy) {
		d->ready_next = NULL;
		if (t->ready_tail)
			t->ready_tail->ready_next = d;
		else
			t->ready_head = d;
		t->ready_tail = d;
		return;
	}
	http_start(n, d);
}

static enum outcome http_outcome(struct ntarget *t, struct delivery *d, CURLcode rc)
{
	long code = 0;

	if (rc != CURLE_OK) {
		snprintf(d->err, sizeof(d->err), "%s", t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
		switch (rc) {
		case CURLE_UNSUPPORTED_PROTOCOL:
		case CURLE_URL_MALFORMAT:
		case CURLE_NOT_BUILT_IN:
		case CURLE_BAD_FUNCTION_ARGUMENT:
		case CURLE_UNKNOWN_OPTION:
			return OUT_FAIL;
		default:
			return OUT_RETRY;
		}
	}
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
	d->http_status = (int)code;
	if (code >= 200 && code <= 299)
		return OUT_OK;
	/* the answer's start helps (PagerDuty says what is wrong); one line of it */
	for (size_t i = 0; i < d->resp_len; i++)
		if ((unsigned char)d->resp[i] < 0x20)
			d->resp[i] = ' ';
	snprintf(d->err, sizeof(d->err), "HTTP %ld%s%s", code, d->resp_len ? ": " : "", d->resp);
	return code == 408 || code == 429 || code >= 500 ? OUT_RETRY : OUT_FAIL;
}

/* Start the target's waiting transfers until one runs.  The deliveries in
 * the FIFO hold references to t; once the last is taken, t is not touched. */
static void start_ready(struct notify *n, struct ntarget *t)
{
	struct delivery *d;

	while (!t->busy && (d = t->ready_head)) {
		t->ready_head = d->ready_next;
		if (!t->ready_head)
			t->ready_tail = NULL;
		d->ready_next = NULL;
		bool last = !t->ready_head;
		http_start(n, d);
		if (last)
			break;
	}
}

static void reap(struct notify *n)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(n->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		CURL *e = m->easy_handle;
		CURLcode rc = m->data.result;
		char *priv = NULL;

		curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
		curl_multi_remove_handle(n->multi, e);
		struct delivery *d = (struct delivery *)priv;
		struct ntarget *t = d->t;
		t->busy = false;
		enum outcome o = http_outcome(t, d, rc);
		/* settling d may drop the last reference to t unless a waiting
		 * delivery still holds one */
		bool more = t->ready_head != NULL;
		finish(n, d, o);
		if (more)
			start_ready(n, t);
	}
}

/* Stop: abort transfers, report everything still pending as not delivered. */
static void drain(struct notify *n)
{
	struct delivery *d, *list;

	pthread_mutex_lock(&n->lock);
	list = n->live_head;
	n->live_head = n->live_tail = NULL;
	n->heap_len = 0;
	pthread_mutex_unlock(&n->lock);
	for (d = list; d; d = d->next) {
		if (d->state == D_INFLIGHT)
			curl_multi_remove_handle(n->multi, d->t->easy);
		d->t->busy = false;
		d->t->ready_head = d->t->ready_tail = NULL;
	}
	while ((d = list)) {
		list = d->next;
		char last[ERR_MAX];
		snprintf(last, sizeof(last), "%s", d->err);
		if (d->state == D_INFLIGHT)
			snprintf(d->err, sizeof(d->err), "shut down during an attempt");
		else if (last[0])
			snprintf(d->err, sizeof(d->err), "shut down before delivery; last error: %.200s", last);
		else
			snprintf(d->err, sizeof(d->err), "shut down before delivery");
		pthread_mutex_lock(&n->lock);
		n->st.failed++;
		pthread_mutex_unlock(&n->lock);
		report(n, d, false);
		pthread_mutex_lock(&n->lock);
		target_put(d->t);
		if (--n->pending == 0)
			pthread_cond_broadcast(&n->idle);
		pthread_mutex_unlock(&n->lock);
		delivery_free(d);
	}
}

static void *worker_main(void *arg)
{
	struct notify *n = arg;

	for (;;) {
		struct delivery *due = NULL, **tail = &due, *d;
		double now, wait = POLL_MAX_S;
		int running;

		pthread_mutex_lock(&n->lock);
		if (n->stop) {
			pthread_mutex_unlock(&n->lock);
			break;
		}
		now = mono_now();
		while (n->heap_len && n->heap[0]->next_at <= now) {
			d = heap_pop(n);
			d->state = D_READY;
			d->ready_next = NULL;
			*tail = d;
			tail = &d->ready_next;
		}
		pthread_mutex_unlock(&n->lock);

		while ((d = due)) {
			due = d->ready_next;
			d->ready_next = NULL;
			dispatch(n, d);
		}
		curl_multi_perform(n->multi, &running);
		reap(n);

		pthread_mutex_lock(&n->lock);
		if (n->heap_len)
			wait = n->heap[0]->next_at - mono_now();
		pthread_mutex_unlock(&n->lock);
		/* rounded up, so a retry never goes before its time.  Every change
		 * that needs the worker wakes it (curl_multi_wakeup), so the cap is
		 * only a safety net; long enough that the tests see a lost wakeup. */
		int ms = wait <= 0 ? 0 : wait >= POLL_MAX_S ? POLL_MAX_S * 1000 : (int)ceil(wait * 1000);
		curl_multi_poll(n->multi, NULL, 0, ms, NULL);
	}
	drain(n);
	return NULL;
}

/* ------------------------------------------------------------ lifecycle */

int notify_create(struct notify **out, const struct notify_cfg *cfg, notify_result_fn fn, void *arg)
{
	static const struct notify_cfg defaults = { 0 };
	struct notify *n;
	pthread_condattr_t ca;
	struct curl_slist *h;
	char host[256] = "";
	int rc;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!cfg)
		cfg = &defaults;
	if (!(cfg->backoff_s >= 0) || !(cfg->timeout_s >= 0) || !isfinite(cfg->backoff_s) ||
	    !isfinite(cfg->timeout_s) || cfg->timeout_s > 86400)
		return -EINVAL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -ENOMEM;
	if (!(n = calloc(1, sizeof(*n)))) {
		curl_global_cleanup();
		return -ENOMEM;
	}
	n->fn = fn;
	n->fn_arg = arg;
	n->max_tries = cfg->max_tries ? cfg->max_tries : 5;
	n->backoff_s = cfg->backoff_s > 0 ? cfg->backoff_s : 1.0;
	n->timeout_s = cfg->timeout_s > 0 ? cfg->timeout_s : 5.0;
	n->queue_max = cfg->queue_max ? cfg->queue_max : 10000;
	if (cfg->source && *cfg->source)
		snprintf(n->source, sizeof(n->source), "%s", cfg->source);
	else if (gethostname(host, sizeof(host) - 1) == 0 && host[0])
		snprintf(n->source, sizeof(n->source), "%s", host);
	else
		snprintf(n->source, sizeof(n->source), "vigil-control");
	notify_syslog_hostname(n->syslog_host, sizeof(n->syslog_host), n->source);

	pthread_mutex_init(&n->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&n->idle, &ca);
	pthread_condattr_destroy(&ca);

	rc = -ENOMEM;
	if (!(n->multi = curl_multi_init()))
		goto fail;
	/* no "Expect: 100-continue" round trip for bodies over 1 KiB */
	if (!(h = curl_slist_append(NULL, "Content-Type: application/json")))
		goto fail;
	n->headers = h;
	if (!(h = curl_slist_append(n->headers, "Expect:")))
		goto fail;
	n->headers = h;
	if ((rc = -pthread_create(&n->thread, NULL, worker_main, n)))
		goto fail;
	*out = n;
	return 0;
fail:
	curl_slist_free_all(n->headers);
	if (n->multi)
		curl_multi_cleanup(n->multi);
	pthread_cond_destroy(&n->idle);
	pthread_mutex_destroy(&n->lock);
	free(n);
	curl_global_cleanup();
	return rc;
}

void notify_destroy(struct notify *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	n->stop = true;
	pthread_mutex_unlock(&n->lock);
	curl_multi_wakeup(n->multi);
	pthread_join(n->thread, NULL);

	for (size_t i = 0; i < n->ntargets; i++)
		target_put(n->targets[i]);
	free(n->targets);
	free(n->heap);
	curl_multi_cleanup(n->multi);
	curl_slist_free_all(n->headers);
	pthread_cond_destroy(&n->idle);
	pthread_mutex_destroy(&n->lock);
	free(n);
	curl_global_cleanup();
}
