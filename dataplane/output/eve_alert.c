/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EVE "alert" records, in Suricata's schema (so suricata-verify style checks
 * run on vigil's output unchanged), plus alert.ruleset: the version id of
 * the ruleset that raised it.
 */
#include "eve.h"

#include <nettle/base64.h>

static const char *linktype_name(unsigned lt)
{
	switch (lt) {
	case 0: return "NULL";
	case 1: return "EN10MB";
	case 9: return "PPP";
	case 12: case 14: case 101: return "RAW";
	case 104: return "C_HDLC";
	case 108: return "LOOP";
	case 113: return "LINUX_SLL";
	case 228: return "IPv4";
	case 229: return "IPv6";
	case 276: return "LINUX_SLL2";
	default: return "UNKNOWN";
	}
}

static void kb64(struct jbuf *b, const char *key, const uint8_t *p, uint32_t n)
{
	size_t need = BASE64_ENCODE_RAW_LENGTH(n);

	jb_key(b, key);
	if (!jb_reserve(b, need + 2))
		return;
	b->p[b->len++] = '"';
	base64_encode_raw(b->p + b->len, n, p);
	b->len += need;
	b->p[b->len++] = '"';
}

static void kprintable(struct jbuf *b, const char *key, const uint8_t *p, uint32_t n)
{
	jb_key(b, key);
	jb_raw(b, "\"", 1);
	for (uint32_t i = 0; i < n; i++) {
		char c = (char)p[i];
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', c };
			jb_raw(b, e, 2);
		} else if (p[i] >= 0x20 && p[i] < 0x7f) {
			jb_raw(b, &c, 1);
		} else if (c == '\n') {
			jb_raw(b, "\\n", 2);
		} else if (c == '\r') {
			jb_raw(b, "\\r", 2);
		} else {
			jb_raw(b, ".", 1);
		}
	}
	jb_raw(b, "\"", 1);
}

bool eve_format_alert(struct jbuf *b, const struct out_alert *a, const struct eve_rule_info *ri,
		      const uint8_t *bytes, uint32_t nbytes, uint16_t seed)
{
	char ts[64], ip[64], pb[8], cid[64];
	bool ports = a->proto == 6 || a->proto == 17 || a->proto == 132;
	uint32_t plen = a->payload_len < nbytes ? a->payload_len : nbytes;
	uint32_t klen = nbytes - plen;

	jb_reset(b);
	jb_open(b, NULL);
	eve_format_ts(a->ts_ns, ts, sizeof(ts));
	jb_kstr(b, "timestamp", ts);
	if (a->flags & OUT_ALERT_F_FLOW)
		jb_ku64(b, "flow_id", a->flow_id);
	if (a->pcap_cnt)
		jb_ku64(b, "pcap_cnt", a->pcap_cnt);
	jb_kstr(b, "event_type", "alert");
	if (a->vlan) {
		char v[16];
		int n = snprintf(v, sizeof(v), "[%u]", a->vlan);
		jb_key(b, "vlan");
		jb_raw(b, v, (size_t)n);
	}
	eve_addr_str(a->src, a->ipver, ip, sizeof(ip));
	jb_kstr(b, "src_ip", ip);
	if (ports)
		jb_ku64(b, "src_port", a->sport);
	eve_addr_str(a->dst, a->ipver, ip, sizeof(ip));
	jb_kstr(b, "dest_ip", ip);
	if (ports)
		jb_ku64(b, "dest_port", a->dport);
	jb_ku64(b, "ip_v", a->ipver);
	jb_kstr(b, "proto", eve_proto_name(a->proto, pb, sizeof(pb)));
	if (a->proto == 1 || a->proto == 58) {
		jb_ku64(b, "icmp_type", a->icmp_type);
		jb_ku64(b, "icmp_code", a->icmp_code);
	}
	jb_kstr(b, "pkt_src", "wire/pcap");
	{
		struct out_flow f = { 0 };
		memcpy(f.src, a->src, 16);
		memcpy(f.dst, a->dst, 16);
		f.sport = a->sport;
		f.dport = a->dport;
		f.proto = a->proto;
		f.ipver = a->ipver;
		f.icmp_type = a->icmp_type;
		f.icmp_code = a->icmp_code;
		eve_community_id(&f, seed, cid, sizeof(cid));
		jb_kstr(b, "community_id", cid);
	}
	jb_open(b, "alert");
	jb_kstr(b, "action", "allowed");
	jb_ku64(b, "gid", ri->gid);
	jb_ku64(b, "signature_id", ri->sid);
	jb_ku64(b, "rev", ri->rev);
	jb_kstr(b, "signature", ri->msg);
	jb_kstr(b, "category", ri->category ? ri->category : "");
	jb_ku64(b, "severity", ri->priority);
	jb_kstr(b, "ruleset", ri->ruleset);
	if (ri->rule_action)
		jb_kstr(b, "rule_action", ri->rule_action);
	jb_close(b);
	if (a->flags & OUT_ALERT_F_FLOW) {
		bool tc = a->flags & OUT_ALERT_F_TOCLIENT;
		jb_kstr(b, "direction", tc ? "to_client" : "to_server");
		jb_open(b, "flow");
		jb_ku64(b, "pkts_toserver", a->pkts_ts);
		jb_ku64(b, "pkts_toclient", a->pkts_tc);
		jb_ku64(b, "bytes_toserver", a->bytes_ts);
		jb_ku64(b, "bytes_toclient", a->bytes_tc);
		eve_format_ts(a->flow_start_ns, ts, sizeof(ts));
		jb_kstr(b, "start", ts);
		eve_addr_str(tc ? a->dst : a->src, a->ipver, ip, sizeof(ip));
		jb_kstr(b, "src_ip", ip);
		eve_addr_str(tc ? a->src : a->dst, a->ipver, ip, sizeof(ip));
		jb_kstr(b, "dest_ip", ip);
		if (ports) {
			jb_ku64(b, "src_port", tc ? a->dport : a->sport);
			jb_ku64(b, "dest_port", tc ? a->sport : a->dport);
		}
		jb_close(b);
	}
	if (plen) {
		kb64(b, "payload", bytes, plen);
		kprintable(b, "payload_printable", bytes, plen);
	}
	jb_ku64(b, "stream", (a->flags & OUT_ALERT_F_STREAM) ? 1 : 0);
	if (!(a->flags & OUT_ALERT_F_NO_PACKET) && klen) {
		kb64(b, "packet", bytes + plen, klen);
		jb_open(b, "packet_info");
		jb_ku64(b, "linktype", a->linktype);
		jb_kstr(b, "linktype_name", linktype_name(a->linktype));
		jb_close(b);
	}
	jb_close(b);
	return !b->oom;
}
