/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK ethdev source.  Every available port is configured with the same
 * number of RX queues: as many as there are workers when the PMD can spread
 * them with a symmetric RSS hash on the IP pair, else one (and the pipeline
 * dispatches in software).  Queue q of the source is queue q of every port,
 * polled round-robin.
 *
 * Packet time: the PMD's RX timestamp where it gives one in a known unit
 * (net_pcap: the capture file's microseconds), else the wall clock read
 * once per burst.
 */
#include "io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ck_pr.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "vlog.h"

#define IO_DPDK_MAX_QUEUES 64
#define IO_DPDK_SCRATCH (16u * 1024)   /* per-packet room when linearising */

struct io_dpdk_queue {
	uint64_t last_rx_tsc;
	uint16_t next_port;
	int eof;
	uint8_t *scratch;         /* IO_BURST x IO_DPDK_SCRATCH, for multi-segment mbufs */
} __attribute__((aligned(64)));

struct io_dpdk {
	struct io_source src;
	struct rte_mempool *mp;
	uint16_t ports[RTE_MAX_ETHPORTS];
	bool port_ts_us[RTE_MAX_ETHPORTS];   /* timestamp dynfield in microseconds */
	uint16_t nb_ports;
	int ts_off;
	uint64_t ts_flag;
	uint64_t idle_tsc;        /* 0 = never end */
	int stop;
	struct io_dpdk_queue q[IO_DPDK_MAX_QUEUES];
};

/* Symmetric Toeplitz key: both directions of an address pair hash alike. */
static uint8_t sym_rss_key[40] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

static struct io_dpdk *io_dpdk_of(struct io_source *s)
{
	return (struct io_dpdk *)s;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint16_t io_dpdk_rx_burst(struct io_source *s, uint16_t qi, struct io_pkt *pkts, uint16_t n)
{
	struct io_dpdk *d = io_dpdk_of(s);
	struct io_dpdk_queue *q = &d->q[qi];
	struct rte_mbuf *m[IO_BURST];
	uint16_t got = 0;

	if (n > IO_BURST)
		n = IO_BURST;
	if (q->eof)
		return 0;
	if (ck_pr_load_int(&d->stop)) {
		q->eof = 1;
		return 0;
	}
	for (uint16_t tries = 0; tries < d->nb_ports && got == 0; tries++) {
		uint16_t port = d->ports[q->next_port];
		q->next_port = (uint16_t)((q->next_port + 1) % d->nb_ports);
		got = rte_eth_rx_burst(port, qi, m, n);
	}
	uint64_t now = rte_rdtsc();
	if (got == 0) {
		if (d->idle_tsc && q->last_rx_tsc && now - q->last_rx_tsc > d->idle_tsc)
			q->eof = 1;
		if (d->idle_tsc && !q->last_rx_tsc)
			q->last_rx_tsc = now;   /* start the idle clock at the first poll */
		return 0;
	}
	q->last_rx_tsc = now;

	uint64_t wall = 0;
	for (uint16_t i = 0; i < got; i++) {
		struct rte_mbuf *mb = m[i];
		struct io_pkt *p = &pkts[i];

		p->priv = mb;
		p->port = mb->port;
		p->len = rte_pktmbuf_pkt_len(mb);
		p->flags = 0;
		p->hash = 0;
		if (mb->ol_flags & RTE_MBUF_F_RX_RSS_HASH) {
			p->hash = mb->hash.rss;
			p->flags |= IO_PKT_F_HASH;
		}
		if (d->ts_off >= 0 && (mb->ol_flags & d->ts_flag) && d->port_ts_us[mb->port]) {
			p->ts_ns = *RTE_MBUF_DYNFIELD(mb, d->ts_off, rte_mbuf_timestamp_t *) * 1000ULL;
		} else {
			if (!wall)
				wall = wall_ns();
			p->ts_ns = wall;
		}
		if (mb->nb_segs == 1) {
			p->data = rte_pktmbuf_mtod(mb, const uint8_t *);
			continue;
		}
		/* chained mbufs (jumbo frames): copy into this queue's scratch */
		if (!q->scratch)
			q->scratch = malloc((size_t)IO_BURST * IO_DPDK_SCRATCH);
		uint32_t len = p->len < IO_DPDK_SCRATCH ? p->len : IO_DPDK_SCRATCH;
		uint8_t *dst = q->scratch ? q->scratch + (size_t)i * IO_DPDK_SCRATCH : NULL;
		const void *src = dst ? rte_pktmbuf_read(mb, 0, len, dst) : NULL;
		p->data = src ? src : rte_pktmbuf_mtod(mb, const uint8_t *);
		p->len = src ? len : rte_pktmbuf_data_len(mb);
	}
	return got;
}

static void io_dpdk_release(struct io_source *s, uint16_t q, struct io_pkt *pkts, uint16_t n)
{
	(void)s;
	(void)q;
	for (uint16_t i = 0; i < n; i++)
		rte_pktmbuf_free((struct rte_mbuf *)pkts[i].priv);
}

static bool io_dpdk_eof(struct io_source *s, uint16_t q)
{
	return io_dpdk_of(s)->q[q].eof;
}

static uint64_t io_dpdk_drops(struct io_source *s)
{
	struct io_dpdk *d = io_dpdk_of(s);
	uint64_t drops = 0;

	for (uint16_t i = 0; i < d->nb_ports; i++) {
		struct rte_eth_stats st;
		if (rte_eth_stats_get(d->ports[i], &st) == 0)
			drops += st.imissed + st.rx_nombuf;
	}
	return drops;
}

static void io_dpdk_destroy(struct io_source *s)
{
	struct io_dpdk *d = io_dpdk_of(s);

	for (uint16_t i = 0; i < d->nb_ports; i++) {
		rte_eth_dev_stop(d->ports[i]);
		rte_eth_dev_close(d->ports[i]);
	}
	for (int i = 0; i < IO_DPDK_MAX_QUEUES; i++)
		free(d->q[i].scratch);
	rte_mempool_free(d->mp);
	free(d);
	rte_eal_cleanup();
}

/* Our worker threads are plain pthreads: registering them gives them an
 * lcore id, so mbuf frees go through the mempool's per-lcore cache. */
static void io_dpdk_thread_init(struct io_source *s)
{
	(void)s;
	if (rte_lcore_id() == LCORE_ID_ANY && rte_thread_register() != 0)
		vlog_debug("DPDK: thread not registered (%s); mempool cache unused",
			   rte_strerror(rte_errno));
}

static void io_dpdk_thread_fini(struct io_source *s)
{
	(void)s;
	if (rte_lcore_id() != LCORE_ID_ANY && rte_lcore_id() != rte_get_main_lcore())
		rte_thread_unregister();
}

static const struct io_source_ops io_dpdk_ops = {
	.thread_init = io_dpdk_thread_init,
	.thread_fini = io_dpdk_thread_fini,
	.rx_burst = io_dpdk_rx_burst,
	.release = io_dpdk_release,
	.eof = io_dpdk_eof,
	.drops = io_dpdk_drops,
	.destroy = io_dpdk_destroy,
};

static bool port_can_rss(uint16_t port, uint16_t nq, uint64_t *hf)
{
	struct rte_eth_dev_info di;

	if (rte_eth_dev_info_get(port, &di) != 0)
		return false;
	*hf = di.flow_type_rss_offloads & RTE_ETH_RSS_IP;
	return nq > 1 && di.max_rx_queues >= nq && *hf && di.hash_key_size == sizeof(sym_rss_key);
}

static int port_setup(struct io_dpdk *d, uint16_t port, uint16_t nq, bool rss, uint64_t hf,
		      uint16_t rx_desc, char *err, size_t errlen)
{
	struct rte_eth_dev_info di;
	struct rte_eth_conf conf;
	int rc;

	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_info_get(port, &di);
	if (rc)
		goto fail;
	if (rss) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = sym_rss_key;
		conf.rx_adv_conf.rss_conf.rss_key_len = sizeof(sym_rss_key);
		conf.rx_adv_conf.rss_conf.rss_hf = hf;
	}
	if (di.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
	if (di.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	d->port_ts_us[port] = strcmp(di.driver_name, "net_pcap") == 0;
	rc = rte_eth_dev_configure(port, nq, di.max_tx_queues ? 1 : 0, &conf);
	if (rc)
		goto fail;
	for (uint16_t q = 0; q < nq; q++) {
		rc = rte_eth_rx_queue_setup(port, q, rx_desc, (unsigned)rte_eth_dev_socket_id(port),
					    NULL, d->mp);
		if (rc)
			goto fail;
	}
	if (di.max_tx_queues) {
		rc = rte_eth_tx_queue_setup(port, 0, 64, (unsigned)rte_eth_dev_socket_id(port), NULL);
		if (rc)
			goto fail;
	}
	rte_eth_promiscuous_enable(port);   /* a tap sees everyone's traffic */
	rc = rte_eth_dev_start(port);
	if (rc)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "DPDK port %u: setup failed: %s", port, rte_strerror(-rc));
	return rc < 0 ? rc : -EIO;
}

int io_dpdk_create(struct io_source **out, int eal_argc, char **eal_argv,
		   const struct io_dpdk_cfg *cfg, char *err, size_t errlen)
{
	struct io_dpdk *d;
	uint16_t port, nq;
	bool rss = true, all_pcap = true;
	uint64_t hf = 0;
	int rc;

	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		snprintf(err, errlen, "DPDK EAL initialisation failed: %s", rte_strerror(rte_errno));
		return -EINVAL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		rte_eal_cleanup();
		return -ENOMEM;
	}
	d->src.ops = &io_dpdk_ops;
	d->src.linktype = 1;   /* Ethernet */
	d->src.live = true;
	d->ts_off = -1;

	RTE_ETH_FOREACH_DEV(port) {
		if (d->nb_ports < RTE_MAX_ETHPORTS)
			d->ports[d->nb_ports++] = port;
	}
	if (d->nb_ports == 0) {
		snprintf(err, errlen, "DPDK: no ports available (give a PCI device or --vdev after --)");
		rc = -ENODEV;
		goto fail;
	}
	nq = cfg->want_queues ? cfg->want_queues : 1;
	if (nq > IO_DPDK_MAX_QUEUES)
		nq = IO_DPDK_MAX_QUEUES;
	for (uint16_t i = 0; i < d->nb_ports; i++) {
		uint64_t h;
		struct rte_eth_dev_info di;
		if (!port_can_rss(d->ports[i], nq, &h))
			rss = false;
		else
			hf = h;
		if (rte_eth_dev_info_get(d->ports[i], &di) != 0 || strcmp(di.driver_name, "net_pcap"))
			all_pcap = false;
	}
	if (!rss)
		nq = 1;
	d->mp = rte_pktmbuf_pool_create("vigil_rx", cfg->mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					(int)rte_socket_id());
	if (!d->mp) {
		snprintf(err, errlen, "DPDK: cannot create mbuf pool of %u: %s", cfg->mbufs,
			 rte_strerror(rte_errno));
		rc = -ENOMEM;
		goto fail;
	}
	for (uint16_t i = 0; i < d->nb_ports; i++) {
		rc = port_setup(d, d->ports[i], nq, rss && nq > 1, hf, cfg->rx_desc, err, errlen);
		if (rc)
			goto fail;
	}
	if (rte_mbuf_dyn_rx_timestamp_register(&d->ts_off, &d->ts_flag) != 0)
		d->ts_off = -1;

	if (cfg->idle_exit_ns == UINT64_MAX)
		d->idle_tsc = all_pcap ? rte_get_tsc_hz() : 0;
	else
		d->idle_tsc = cfg->idle_exit_ns ? (uint64_t)((double)cfg->idle_exit_ns * 1e-9 *
							     (double)rte_get_tsc_hz()) : 0;
	d->src.nb_queues = nq;
	d->src.rss = rss && nq > 1;
	d->src.live = !all_pcap;
	snprintf(d->src.desc, sizeof(d->src.desc), "DPDK %u port(s), %u queue(s)%s", d->nb_ports, nq,
		 d->src.rss ? " with symmetric RSS" : "");
	*out = &d->src;
	return 0;
fail:
	for (uint16_t i = 0; i < d->nb_ports; i++)
		rte_eth_dev_close(d->ports[i]);
	rte_mempool_free(d->mp);
	free(d);
	rte_eal_cleanup();
	return rc;
}


void io_dpdk_stop(struct io_source *s)
{
	ck_pr_store_int(&io_dpdk_of(s)->stop, 1);
}
