/* SPDX-License-Identifier: BSD-3-Clause */
#include "summary.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>

/* 1234567 -> "1,234,567" */
static const char *grp(uint64_t v, char *buf, size_t len)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v), o = 0;

	for (int i = 0; i < n && (size_t)o + 2 < len; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = 0;
	return buf;
}

static void row(FILE *f, const char *name, uint64_t v)
{
	char b[32];

	fprintf(f, "  %-34s %18s\n", name, grp(v, b, sizeof(b)));
}

static void endpoint(const uint8_t *a, uint8_t ipver, uint16_t port, uint8_t proto, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(ipver == 4 ? AF_INET : AF_INET6, a, ip, sizeof(ip));
	if (proto == 6 || proto == 17)
		snprintf(buf, len, ipver == 6 ? "[%s]:%u" : "%s:%u", ip, port);
	else
		snprintf(buf, len, "%s", ip);
}

void summary_print(FILE *f, const char *input, const char *eve_path, const struct pipeline_result *r)
{
	const uint64_t *v = r->total.v;
	char b[32], b2[32];
	double span = r->last_ns > r->first_ns ? (double)(r->last_ns - r->first_ns) / 1e9 : 0;
	double pps = r->wall_s > 0 ? (double)v[CTR_CAP_PKTS] / r->wall_s : 0;
	double bps = r->wall_s > 0 ? (double)v[CTR_CAP_BYTES] * 8 / r->wall_s : 0;

	fprintf(f, "\nvigil summary\n");
	fprintf(f, "  %-34s %s\n", "input", input);
	fprintf(f, "  %-34s %u worker(s), %s\n", "pipeline", r->workers,
		r->direct ? "each polling its own queue" : "software dispatch by ip-pair hash");
	fprintf(f, "  %-34s %.3f s wall, %.3f s of packet time (set-up %.3f s)\n", "time", r->wall_s,
		span, r->setup_s);
	fprintf(f, "  %-34s %.3f Mpps, %.3f Gbit/s\n", "rate", pps / 1e6, bps / 1e9);
	if (eve_path)
		fprintf(f, "  %-34s %s\n", "EVE output", eve_path);

	fprintf(f, "\ntraffic\n");
	row(f, "packets", v[CTR_CAP_PKTS]);
	row(f, "bytes", v[CTR_CAP_BYTES]);
	row(f, "IPv4 / IPv6 layers", v[CTR_IPV4] + v[CTR_IPV6]);
	fprintf(f, "  %-34s %18s / %s\n", "  TCP / UDP", grp(v[CTR_TCP], b, sizeof(b)), grp(v[CTR_UDP], b2, sizeof(b2)));
	row(f, "  ICMP + ICMPv6", v[CTR_ICMPV4] + v[CTR_ICMPV6]);
	row(f, "VLAN-tagged frames", v[CTR_VLAN] + v[CTR_VLAN_QINQ]);
	row(f, "tunnelled (VXLAN/GRE/ERSPAN)", v[CTR_VXLAN] + v[CTR_GRE] + v[CTR_ERSPAN]);
	row(f, "IP fragments", v[CTR_IPV4_FRAG] + v[CTR_IPV6_FRAG]);
	row(f, "non-IP frames", v[CTR_NON_IP]);
	if (v[CTR_BAD_CSUM])
		row(f, "bad checksums", v[CTR_BAD_CSUM]);

	fprintf(f, "\nflows\n");
	row(f, "flow records written", r->eve.flows);
	fprintf(f, "  %-34s %s tcp, %s udp, %" PRIu64 " icmp, %" PRIu64 " other\n", "  by protocol",
		grp(r->eve.flows_by_proto[0], b, sizeof(b)), grp(r->eve.flows_by_proto[1], b2, sizeof(b2)),
		r->eve.flows_by_proto[2], r->eve.flows_by_proto[3]);
	row(f, "flows created", v[CTR_FLOW_CREATED]);
	row(f, "ended by idle timeout", v[CTR_FLOW_TIMEOUT]);
	row(f, "ended at end of input", v[CTR_FLOW_SHUTDOWN]);
	row(f, "evicted (table full)", v[CTR_FLOW_EVICTED]);
	row(f, "records cut by active timeout", v[CTR_FLOW_ACTIVE]);
	fprintf(f, "  %-34s %s bytes for %s flows (%.1f bytes/flow)\n", "flow table memory",
		grp(r->flow_memuse, b, sizeof(b)), grp(r->flow_capacity, b2, sizeof(b2)),
		r->flow_capacity ? (double)r->flow_memuse / (double)r->flow_capacity : 0);

	fprintf(f, "\nmalformed packets (skipped)\n");
	row(f, "total", v[CTR_INVALID]);
	for (int i = 0; i < CTR__COUNT; i++)
		if (!strncmp(ctr_name((enum ctr_id)i), "decoder.event.", 14) && v[i])
			row(f, ctr_name((enum ctr_id)i) + 14, v[i]);

	fprintf(f, "\nloss\n");
	row(f, "capture drops (kernel/NIC)", v[CTR_CAP_KERNEL_DROP]);
	row(f, "dispatch drops (worker behind)", v[CTR_CAP_DISPATCH_DROP]);
	row(f, "output drops (writer behind)", v[CTR_OUT_RING_DROP]);
	row(f, "flows without a table slot", v[CTR_FLOW_NOFLOW]);
	row(f, "orphan fragments", v[CTR_FLOW_FRAG_ORPHAN]);

	fprintf(f, "\ndetection\n");
	if (!r->rules_loaded) {
		fprintf(f, "  %-34s %18s\n", "alerts", "0 (no rules loaded)");
	} else {
		row(f, "rules loaded", r->rules_loaded);
		row(f, "alerts written", r->eve.alerts);
		row(f, "suppressed (threshold)", r->eve.alerts_suppressed);
		row(f, "flows marked for drop", v[CTR_DETECT_DROP_FLOWS]);
		row(f, "TCP sessions reassembled", v[CTR_STREAM_SESSIONS]);
		row(f, "stream bytes inspected", v[CTR_STREAM_BYTES]);
		row(f, "stream gaps / depth reached", v[CTR_STREAM_GAP] + v[CTR_STREAM_DEPTH]);
		row(f, "sessions without state (full)", v[CTR_STREAM_NO_SESSION]);
		row(f, "datagrams defragmented", v[CTR_DEFRAG_REASSEMBLED]);
		if (r->reloads) {
			row(f, "ruleset reloads", r->reloads);
			row(f, "longest burst with a switch (us)", r->switch_burst_max_ns / 1000);
			row(f, "longest burst (us)", r->burst_max_ns / 1000);
		}
		if (r->eve.nsigs) {
			fprintf(f, "\n  %8s  %-10s %s\n", "alerts", "sid", "signature");
			for (unsigned i = 0; i < r->eve.nsigs; i++)
				fprintf(f, "  %8llu  %u:%-8u %s\n", (unsigned long long)r->eve.sigs[i].n,
					r->eve.sigs[i].gid, r->eve.sigs[i].sid, r->eve.sigs[i].msg);
		}
	}

	if (r->eve.ntop) {
		struct out_flow top[EVE_TOP_FLOWS];
		unsigned n = r->eve.ntop;
		memcpy(top, r->eve.top, sizeof(top[0]) * n);
		for (unsigned i = 1; i < n; i++)   /* largest first */
			for (unsigned j = i; j > 0 && top[j].bytes_ts + top[j].bytes_tc >
						       top[j - 1].bytes_ts + top[j - 1].bytes_tc; j--) {
				struct out_flow t = top[j];
				top[j] = top[j - 1];
				top[j - 1] = t;
			}
		fprintf(f, "\ntop flows by bytes\n  %-5s %-42s %-42s %10s %14s\n", "proto", "client", "server",
			"packets", "bytes");
		for (unsigned i = 0; i < n; i++) {
			char s[64], d[64];
			endpoint(top[i].src, top[i].ipver, top[i].sport, top[i].proto, s, sizeof(s));
			endpoint(top[i].dst, top[i].ipver, top[i].dport, top[i].proto, d, sizeof(d));
			fprintf(f, "  %-5u %-42s %-42s %10" PRIu64 " %14s\n", top[i].proto, s, d,
				(uint64_t)top[i].pkts_ts + top[i].pkts_tc,
				grp(top[i].bytes_ts + top[i].bytes_tc, b, sizeof(b)));
		}
	}
	fprintf(f, "\n");
}
