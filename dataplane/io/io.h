/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet input: one burst API for every source (libpcap files and
 * interfaces, DPDK ethdev ports).
 *
 * A source has nb_queues receive queues.  rx_burst(q) may be called by one
 * thread per queue.  A packet's data stays valid until the next rx_burst on
 * the same queue, or until it is released, whichever comes first; a caller
 * that keeps packets longer copies them.
 */
#ifndef VIGIL_IO_H
#define VIGIL_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IO_BURST 32

enum { IO_PKT_F_HASH = 1 };   /* hash holds a NIC RSS hash */

struct io_pkt {
	const uint8_t *data;
	uint32_t len;             /* captured length */
	uint32_t hash;
	uint64_t ts_ns;           /* packet time, ns since the epoch */
	uint16_t port;
	uint16_t flags;
	void *priv;               /* source's handle (DPDK mbuf) */
};

struct io_progress {
	uint64_t done, total;     /* bytes of the capture file read / its size; 0 total if unknown */
};

struct io_source;

struct io_source_ops {
	uint16_t (*rx_burst)(struct io_source *s, uint16_t q, struct io_pkt *pkts, uint16_t n);
	void (*release)(struct io_source *s, uint16_t q, struct io_pkt *pkts, uint16_t n);
	/* True once queue q will deliver nothing more (end of file). */
	bool (*eof)(struct io_source *s, uint16_t q);
	void (*progress)(struct io_source *s, struct io_progress *p);
	/* Packets the kernel/NIC dropped before we saw them. */
	uint64_t (*drops)(struct io_source *s);
	/* Optional: called by each thread that will call rx_burst/release. */
	void (*thread_init)(struct io_source *s);
	void (*thread_fini)(struct io_source *s);
	void (*destroy)(struct io_source *s);
};

struct io_source {
	const struct io_source_ops *ops;
	uint16_t nb_queues;
	int linktype;             /* enum pkt_link */
	bool live;                /* live traffic: drop rather than wait when behind */
	bool rss;                 /* queues are split by a symmetric ip-pair hash in the NIC */
	char desc[160];
};

static inline uint16_t io_rx_burst(struct io_source *s, uint16_t q, struct io_pkt *p, uint16_t n)
{
	return s->ops->rx_burst(s, q, p, n);
}

static inline void io_release(struct io_source *s, uint16_t q, struct io_pkt *p, uint16_t n)
{
	if (s->ops->release)
		s->ops->release(s, q, p, n);
}

static inline bool io_eof(struct io_source *s, uint16_t q)
{
	return s->ops->eof(s, q);
}

static inline void io_thread_init(struct io_source *s)
{
	if (s->ops->thread_init)
		s->ops->thread_init(s);
}

static inline void io_thread_fini(struct io_source *s)
{
	if (s->ops->thread_fini)
		s->ops->thread_fini(s);
}

void io_destroy(struct io_source *s);
void io_progress(struct io_source *s, struct io_progress *p);
uint64_t io_drops(struct io_source *s);

/* libpcap: a capture file (pcap or pcapng), one queue. */
int io_pcap_file_create(struct io_source **out, const char *path, char *err, size_t errlen);
/* libpcap: a live interface, one queue; bpf may be NULL. */
int io_pcap_live_create(struct io_source **out, const char *iface, const char *bpf,
			uint32_t buffer_bytes, char *err, size_t errlen);
/* Stop a live source: rx_burst returns 0 and eof() turns true.  Async-signal-safe. */
void io_pcap_stop(struct io_source *s);

struct io_dpdk_cfg {
	uint16_t want_queues;     /* workers: RSS queues wanted per port */
	uint32_t mbufs;           /* mbufs in the pool */
	uint16_t rx_desc;         /* RX descriptors per queue */
	uint64_t idle_exit_ns;    /* end of input after this long without packets; 0 = never;
				     UINT64_MAX = auto (1 s when every port is a net_pcap vdev) */
};

/* DPDK: initialises the EAL with eal_argv (argv[0] included), then every
 * available port.  nb_queues is want_queues if all ports can spread them by
 * a symmetric RSS hash, else 1. */
int io_dpdk_create(struct io_source **out, int eal_argc, char **eal_argv,
		   const struct io_dpdk_cfg *cfg, char *err, size_t errlen);
void io_dpdk_stop(struct io_source *s);

#endif
