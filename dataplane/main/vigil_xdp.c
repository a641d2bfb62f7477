/* SPDX-License-Identifier: BSD-3-Clause */
#include "vigil_xdp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "vlog.h"
#include "xdp.h"

struct vigil_xdp {
	char iface[IF_NAMESIZE];
	struct xdp_handle *collect;   /* the output thread's */
	struct xdp_handle *sync;      /* the shipper thread's */
	struct pipeline_bypass ops;
};

/* ---- bypass: one handle per worker ---- */

static void *worker_open(void *arg, uint16_t worker)
{
	struct vigil_xdp *x = arg;
	struct xdp_handle *h = NULL;
	char err[256];

	if (xdp_open(x->iface, &h, err, sizeof(err)) != 0) {
		vlog_warn("xdp: worker %u: %s; its flows are not bypassed", worker, err);
		return NULL;
	}
	return h;
}

static void worker_close(void *ctx)
{
	xdp_close(ctx);
}

/* The XDP key of F; returns the key index of the flow's client. */
static unsigned key_of(const struct flow *f, struct vigil_flow_key *k)
{
	int fam = f->key.ipver == 4 ? 4 : 6;
	unsigned a0 = xdp_flow_key_make(k, fam, f->key.addr[0], f->key.port[0], f->key.addr[1],
					f->key.port[1], f->key.proto, f->key.vlan);

	return (f->fl & FLOW_F_CLIENT_LO) ? a0 : !a0;
}

static bool add(void *ctx, const struct flow *f)
{
	struct vigil_flow_key k;

	if (f->key.tunnel_id)   /* XDP sees the outer headers: not this flow's */
		return false;
	if (f->key.proto != 6 && f->key.proto != 17)
		return false;
	key_of(f, &k);
	return xdp_bypass_add(ctx, &k, 0) == 0;
}

static uint64_t fold(void *ctx, struct flow *f, bool rearm, uint64_t *bytes)
{
	struct vigil_flow_key k;
	struct vigil_bypass_val v;
	unsigned c = key_of(f, &k);

	if (xdp_bypass_take(ctx, &k, &v) != 0)
		return 0;   /* evicted from the LRU map, or never added */
	uint64_t n = v.pkts[0] + v.pkts[1];
	uint64_t ts = f->pkts[0] + v.pkts[c], tc = f->pkts[1] + v.pkts[!c];
	f->pkts[0] = ts > UINT32_MAX ? UINT32_MAX : (uint32_t)ts;
	f->pkts[1] = tc > UINT32_MAX ? UINT32_MAX : (uint32_t)tc;
	f->bytes[0] += v.bytes[c];
	f->bytes[1] += v.bytes[!c];
	f->tcp_flags[0] |= v.tcp_flags[c];
	f->tcp_flags[1] |= v.tcp_flags[!c];
	*bytes = v.bytes[0] + v.bytes[1];
	if (rearm && n)
		xdp_bypass_add(ctx, &k, 0);   /* failing: the flow's later packets reach user space */
	return n;
}

/* ---- counters ---- */

static void extra_counters(void *arg, struct ctr_block *sum)
{
	static const enum ctr_id map[VIGIL_CTR_MAX] = {
		[VIGIL_CTR_RX] = CTR_XDP_RX,
		[VIGIL_CTR_PARSE_ERROR] = CTR_XDP_PARSE_ERR,
		[VIGIL_CTR_NON_IP] = CTR_XDP_NON_IP,
		[VIGIL_CTR_BLOCK_DROPPED] = CTR_XDP_BLOCK_DROP,
		[VIGIL_CTR_BLOCK_TAGGED] = CTR_XDP_BLOCK_TAG,
		[VIGIL_CTR_BYPASS_DROPPED] = CTR_XDP_BYPASS_DROP,
		[VIGIL_CTR_BYPASS_PASSED] = CTR_XDP_BYPASS_PASS,
		[VIGIL_CTR_TO_XSK] = CTR_XDP_TO_XSK,
		[VIGIL_CTR_TO_KERNEL] = CTR_XDP_TO_KERNEL,
	};
	struct vigil_xdp *x = arg;
	struct xdp_counters c;

	if (xdp_counters(x->collect, &c) != 0)
		return;
	for (int i = 0; i < VIGIL_CTR_MAX; i++)
		sum->v[map[i]] = c.c[i].packets;   /* the program's totals, since it was loaded */
	sum->v[CTR_XDP_BYTES] = c.c[VIGIL_CTR_RX].bytes;
	xdp_block_expire(x->collect, xdp_now_ns());   /* the program ignores them; tidy up */
}

/* ---- the control plane's blocklist ---- */

struct have {
	struct xdp_block_entry *e;
	size_t n, cap;
};

static void collect_entry(const struct xdp_block_entry *e, void *arg)
{
	struct have *h = arg;

	if (h->n == h->cap) {
		size_t nc = h->cap ? h->cap * 2 : 64;
		struct xdp_block_entry *ne = realloc(h->e, nc * sizeof(*ne));
		if (!ne)
			return;
		h->e = ne;
		h->cap = nc;
	}
	h->e[h->n++] = *e;
}

void vigil_xdp_blocklist(void *arg, json_t *entries)
{
	struct vigil_xdp *x = arg;
	struct have cur = { 0 };
	uint64_t now = xdp_now_ns();
	size_t i;
	json_t *e;

	if (!x || !json_is_array(entries))
		return;
	xdp_block_list(x->sync, collect_entry, &cur);
	bool *wanted = calloc(cur.n + 1, sizeof(*wanted));
	if (!wanted) {
		free(cur.e);
		return;
	}
	json_array_foreach(entries, i, e) {
		const char *s = json_string_value(json_object_get(e, "prefix"));
		json_t *ex = json_object_get(e, "expires_in_s");
		struct xdp_prefix p;
		char canon[XDP_PREFIX_STRLEN], err[128];
		if (!s || xdp_prefix_parse(s, &p, err, sizeof(err)) != 0) {
			vlog_warn("xdp: the control plane's blocklist has a bad prefix: %s", s ? err : "(none)");
			continue;
		}
		xdp_prefix_format(&p, canon, sizeof(canon));
		uint64_t dur = json_is_number(ex) && json_number_value(ex) > 0 ?
			       (uint64_t)(json_number_value(ex) * 1e9) : 0;
		bool same = false;
		for (size_t j = 0; j < cur.n; j++) {
			char c2[XDP_PREFIX_STRLEN];
			xdp_prefix_format(&cur.e[j].prefix, c2, sizeof(c2));
			if (strcmp(c2, canon))
				continue;
			wanted[j] = true;
			/* the same expiry within 5 s: leave it (and its hit count) */
			uint64_t want = dur ? now + dur : 0, have = cur.e[j].expires_ns;
			same = (!want && !have) ||
			       (want && have && (want > have ? want - have : have - want) < 5000000000ULL);
		}
		if (!same && xdp_block_add(x->sync, canon, dur) == 0)
			vlog_notice("xdp: blocking %s%s (control plane)", canon, dur ? " for a while" : "");
	}
	for (size_t j = 0; j < cur.n; j++) {
		char c2[XDP_PREFIX_STRLEN];
		if (wanted[j])
			continue;
		xdp_prefix_format(&cur.e[j].prefix, c2, sizeof(c2));
		if (xdp_block_del(x->sync, c2) == 0)
			vlog_notice("xdp: unblocking %s (control plane)", c2);
	}
	free(wanted);
	free(cur.e);
}

/* ---- set-up ---- */

int vigil_xdp_open(struct vigil_xdp **out, const struct cfg *c, struct pipeline_cfg *pc, char *err,
		   size_t errlen)
{
	const char *iface = cfg_get_str(c, "xdp.interface");
	struct vigil_xdp *x;
	int rc;

	*out = NULL;
	if (!iface[0])
		return 0;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	snprintf(x->iface, sizeof(x->iface), "%s", iface);
	if ((rc = xdp_open(iface, &x->collect, err, errlen)) || (rc = xdp_open(iface, &x->sync, err, errlen))) {
		vigil_xdp_close(x);
		return rc;
	}
	enum vigil_mode mode = cfg_get_enum(c, "xdp.mode") == 1 ? VIGIL_MODE_INLINE : VIGIL_MODE_TAP;
	struct xdp_info info;
	if (xdp_info(x->collect, &info) == 0 && (!info.configured || info.mode != mode) &&
	    (rc = xdp_set_config(x->collect, mode, info.configured ? info.xsk : true)) != 0) {
		snprintf(err, errlen, "xdp: %s: cannot set the mode: %s", iface, xdp_errmsg(x->collect));
		vigil_xdp_close(x);
		return rc;
	}
	pc->extra_counters = extra_counters;
	pc->extra_arg = x;
	if (cfg_get_bool(c, "xdp.bypass")) {
		x->ops = (struct pipeline_bypass){
			.worker_open = worker_open, .worker_close = worker_close,
			.add = add, .fold = fold, .arg = x,
		};
		pc->bypass = &x->ops;
	}
	vlog_info("xdp: using vigil's program on %s%s", iface, pc->bypass ? " (flow bypass on)" : "");
	*out = x;
	return 0;
}

void vigil_xdp_close(struct vigil_xdp *x)
{
	if (!x)
		return;
	xdp_close(x->collect);
	xdp_close(x->sync);
	free(x);
}
