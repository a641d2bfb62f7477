/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libpcap source: capture files (pcap/pcapng, read with nanosecond
 * timestamps) and live interfaces.  Packets are copied into a burst buffer
 * owned by the source, because libpcap reuses its own buffer on each read.
 */
#include "io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ck_pr.h>
#include <pcap/pcap.h>

#include "vlog.h"

struct io_pcap {
	struct io_source src;
	pcap_t *pc;
	uint8_t *buf;             /* burst buffer */
	size_t buf_size;
	uint64_t file_size;
	int eof;
	int stop;
	uint64_t errors;
};

static struct io_pcap *io_pcap_of(struct io_source *s)
{
	return (struct io_pcap *)s;
}

static uint16_t io_pcap_rx_burst(struct io_source *s, uint16_t q, struct io_pkt *pkts, uint16_t n)
{
	struct io_pcap *ip = io_pcap_of(s);
	size_t used = 0;
	uint16_t got = 0;

	(void)q;
	if (ip->eof)
		return 0;
	while (got < n) {
		struct pcap_pkthdr *h;
		const u_char *d;

		if (ck_pr_load_int(&ip->stop)) {
			ip->eof = 1;
			break;
		}
		int rc = pcap_next_ex(ip->pc, &h, &d);
		if (rc == 0)
			break;   /* live: read timeout, deliver what we have */
		if (rc == PCAP_ERROR_BREAK) {
			ip->eof = 1;
			break;
		}
		if (rc < 0) {
			vlog_err("%s: read error: %s (treating as end of input)", s->desc,
				 pcap_geterr(ip->pc));
			ip->errors++;
			ip->eof = 1;
			break;
		}
		if (used + h->caplen > ip->buf_size) {
			if (got)
				break;   /* hand over what we have first */
			/* A single huge packet: grow (caplen is bounded by the snaplen). */
			uint8_t *nb = realloc(ip->buf, h->caplen);
			if (!nb) {
				ip->errors++;
				continue;
			}
			ip->buf = nb;
			ip->buf_size = h->caplen;
		}
		memcpy(ip->buf + used, d, h->caplen);
		pkts[got] = (struct io_pkt){
			.data = ip->buf + used,
			.len = h->caplen,
			.ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ULL + (uint64_t)h->ts.tv_usec,
		};
		used += h->caplen;
		got++;
		/* a packet that does not fit is read on the next call: stop early */
		if (used + 65536 > ip->buf_size)
			break;
	}
	return got;
}

static bool io_pcap_eof(struct io_source *s, uint16_t q)
{
	(void)q;
	return io_pcap_of(s)->eof;
}

static void io_pcap_progress(struct io_source *s, struct io_progress *p)
{
	struct io_pcap *ip = io_pcap_of(s);
	FILE *f = s->live ? NULL : pcap_file(ip->pc);
	long pos = f ? ftell(f) : -1;

	p->done = pos > 0 ? (uint64_t)pos : 0;
	p->total = ip->file_size;
}

static uint64_t io_pcap_drops(struct io_source *s)
{
	struct io_pcap *ip = io_pcap_of(s);
	struct pcap_stat st;

	if (!s->live || pcap_stats(ip->pc, &st) != 0)
		return 0;
	return (uint64_t)st.ps_drop + st.ps_ifdrop;
}

static void io_pcap_destroy(struct io_source *s)
{
	struct io_pcap *ip = io_pcap_of(s);

	if (ip->pc)
		pcap_close(ip->pc);
	free(ip->buf);
	free(ip);
}

static const struct io_source_ops io_pcap_ops = {
	.rx_burst = io_pcap_rx_burst,
	.eof = io_pcap_eof,
	.progress = io_pcap_progress,
	.drops = io_pcap_drops,
	.destroy = io_pcap_destroy,
};

static struct io_pcap *io_pcap_alloc(void)
{
	struct io_pcap *ip = calloc(1, sizeof(*ip));

	if (!ip)
		return NULL;
	ip->buf_size = 1u << 20;   /* room for a burst of jumbo frames */
	ip->buf = malloc(ip->buf_size);
	if (!ip->buf) {
		free(ip);
		return NULL;
	}
	ip->src.ops = &io_pcap_ops;
	ip->src.nb_queues = 1;
	return ip;
}

int io_pcap_file_create(struct io_source **out, const char *path, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct io_pcap *ip = io_pcap_alloc();
	struct stat st;

	if (!ip)
		return -ENOMEM;
	ip->pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!ip->pc) {
		snprintf(err, errlen, "%s: cannot open capture: %s", path, ebuf);
		io_pcap_destroy(&ip->src);
		return -EINVAL;
	}
	if (stat(path, &st) == 0)
		ip->file_size = (uint64_t)st.st_size;
	ip->src.linktype = pcap_datalink(ip->pc);
	ip->src.live = false;
	snprintf(ip->src.desc, sizeof(ip->src.desc), "pcap file %s", path);
	*out = &ip->src;
	return 0;
}

int io_pcap_live_create(struct io_source **out, const char *iface, const char *bpf,
			uint32_t buffer_bytes, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct io_pcap *ip = io_pcap_alloc();
	int rc = -EINVAL;

	if (!ip)
		return -ENOMEM;
	ip->pc = pcap_create(iface, ebuf);
	if (!ip->pc) {
		snprintf(err, errlen, "%s: %s", iface, ebuf);
		goto fail;
	}
	pcap_set_snaplen(ip->pc, 65535);
	pcap_set_promisc(ip->pc, 1);
	pcap_set_timeout(ip->pc, 100);
	pcap_set_immediate_mode(ip->pc, 0);
	if (buffer_bytes)
		pcap_set_buffer_size(ip->pc, (int)buffer_bytes);
	pcap_set_tstamp_precision(ip->pc, PCAP_TSTAMP_PRECISION_NANO);
	int a = pcap_activate(ip->pc);
	if (a < 0) {
		snprintf(err, errlen, "%s: cannot capture: %s", iface, pcap_geterr(ip->pc));
		goto fail;
	}
	if (bpf && *bpf) {
		struct bpf_program prog;
		if (pcap_compile(ip->pc, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0 ||
		    pcap_setfilter(ip->pc, &prog) != 0) {
			snprintf(err, errlen, "%s: bad filter '%s': %s", iface, bpf, pcap_geterr(ip->pc));
			goto fail;
		}
		pcap_freecode(&prog);
	}
	ip->src.linktype = pcap_datalink(ip->pc);
	ip->src.live = true;
	snprintf(ip->src.desc, sizeof(ip->src.desc), "pcap interface %s", iface);
	*out = &ip->src;
	return 0;
fail:
	io_pcap_destroy(&ip->src);
	return rc;
}

void io_pcap_stop(struct io_source *s)
{
	struct io_pcap *ip = io_pcap_of(s);

	ck_pr_store_int(&ip->stop, 1);
	if (s->live)
		pcap_breakloop(ip->pc);
}
