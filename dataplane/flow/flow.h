/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-worker flow table: bounded, preallocated, no locks (a worker owns its
 * table and every flow in it).  Flows are bidirectional; the key is the
 * normalised 5-tuple plus the outer VLAN id and the tunnel id.
 *
 * Time is packet time: timeouts fire from the timestamps of the packets the
 * worker sees, so a capture file replays the same way every time and with
 * any number of workers.  A flow ends when
 *  - a packet arrives later than its idle timeout (lazily, at lookup), or
 *    flow_table_expire() finds it idle (reason "timeout");
 *  - the table is full and it is the least recently used (reason "forced");
 *  - input ends: flow_table_flush() (reason "shutdown", or "timeout" if it
 *    had been idle longer than its timeout by the end of input).
 * A flow older than the active timeout has its record cut (reason "active")
 * and goes on with fresh counters and the same flow id.
 */
#ifndef VIGIL_FLOW_H
#define VIGIL_FLOW_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "ctr.h"
#include "pkt.h"

/* Protocol groups and state classes that select a timeout. */
enum flow_pg { FLOW_PG_TCP, FLOW_PG_UDP, FLOW_PG_ICMP, FLOW_PG_OTHER, FLOW_PG__N };
enum flow_st { FLOW_ST_NEW, FLOW_ST_ESTABLISHED, FLOW_ST_CLOSED, FLOW_ST__N };

enum flow_tcp_state {
	FLOW_TCP_NONE, FLOW_TCP_SYN_SENT, FLOW_TCP_SYN_RECV, FLOW_TCP_ESTABLISHED,
	FLOW_TCP_FIN_WAIT, FLOW_TCP_CLOSING, FLOW_TCP_CLOSED,
};

enum flow_end_reason { FLOW_END_TIMEOUT, FLOW_END_FORCED, FLOW_END_SHUTDOWN, FLOW_END_ACTIVE };

/* 44 bytes, no padding: compared with memcmp. */
struct flow_key {
	uint8_t addr[2][16];      /* [0] is the lower (address, port) endpoint */
	uint16_t port[2];
	uint8_t proto;
	uint8_t ipver;
	uint16_t vlan;            /* outermost VLAN id, 0 if none */
	uint32_t tunnel_id;       /* VXLAN VNI / GRE key / ERSPAN session, 0 if none */
};

#define FLOW_NIL UINT32_MAX

/* struct flow.fl: facts about the whole flow, not one record of it. */
enum {
	FLOW_F_CLIENT_LO = 1u << 0,   /* the client is key.addr[0] */
	FLOW_F_SEEN_TS = 1u << 1,     /* a packet to the server was seen */
	FLOW_F_SEEN_TC = 1u << 2,     /* a packet to the client was seen */
	FLOW_F_FIN_TS = 1u << 3,      /* the client sent FIN */
	FLOW_F_FIN_TC = 1u << 4,      /* the server sent FIN */
	FLOW_F_MIDSTREAM = 1u << 5,   /* TCP picked up without its handshake */
	FLOW_F_PASS = 1u << 6,        /* a pass rule matched: no more inspection */
	FLOW_F_DROP = 1u << 7,        /* a drop/reject rule matched (inline mode drops the rest) */
};

struct flow {
	struct flow_key key;
	uint32_t hash;
	uint32_t hnext;           /* bucket chain / free list */
	uint32_t lru_prev, lru_next;
	uint32_t pkts[2];         /* [0] to server, [1] to client */
	uint32_t xs;              /* inspection state slot + 1 (0: none): the worker's, zeroed at creation */
	uint64_t bytes[2];
	uint64_t first_ns, last_ns;   /* this record's first/last packet */
	uint64_t created_ns;      /* first packet of the flow: names the flow */
	uint8_t fl;               /* FLOW_F_*: survive active-timeout cuts */
	uint8_t state;            /* enum flow_st */
	uint8_t tcp_state;        /* enum flow_tcp_state */
	uint8_t tcp_flags[2];     /* flags seen in this record [to server, to client] */
	uint8_t cls;              /* LRU class = pg * FLOW_ST__N + state; 0xff when free */
	uint8_t icmp_type, icmp_code;   /* of the first packet (ICMP flows) */
};

struct flow_table_cfg {
	uint32_t max_flows;
	uint32_t seed;                                  /* bucket hash seed */
	uint64_t timeout_ns[FLOW_PG__N][FLOW_ST__N];    /* idle timeouts */
	uint64_t active_ns;                             /* 0 = no active timeout */
	uint32_t frag_trackers;                         /* fragment -> ports map slots */
	uint64_t frag_timeout_ns;
};

/* Called for each ended flow record, from the owning worker's thread. */
typedef void (*flow_emit_fn)(void *arg, const struct flow *f, enum flow_end_reason r);

/* Called by flow_table_expire for an idle flow about to time out: true
 * keeps it for another idle period (its packets went where the table does
 * not see them, e.g. bypassed in XDP; the callback folds their counts into
 * the flow).  Owning worker's thread. */
typedef bool (*flow_keep_fn)(void *arg, struct flow *f, uint64_t now_ns);

struct flow_table;

int flow_table_create(struct flow_table **out, const struct flow_table_cfg *cfg,
		      struct ctr_block *ctr, flow_emit_fn emit, void *emit_arg);
void flow_table_destroy(struct flow_table *ft);
void flow_table_set_keep(struct flow_table *ft, flow_keep_fn keep, void *arg);

/*
 * Account one decoded IP packet.  Returns its flow (valid until the next
 * call) and sets *toserver, or NULL if it could not be given a flow (counted).
 */
struct flow *flow_table_update(struct flow_table *ft, const struct pkt *p, int *toserver);

#define FLOW_BURST_MAX 64

/*
 * The same for n packets (n <= FLOW_BURST_MAX for the fast path), in order:
 * hashes them all and prefetches buckets and flows before touching any, to
 * overlap the cache misses.  out[i]/toserver[i] as flow_table_update().
 */
void flow_table_update_burst(struct flow_table *ft, const struct pkt *pk, unsigned n,
			     struct flow **out, int *toserver);

/* Called right after packet i of a burst is accounted to f (NULL: no flow),
 * before the next packet is: f and its state are exactly as of packet i. */
typedef void (*flow_pkt_fn)(void *arg, unsigned i, struct flow *f, int toserver);

/* flow_table_update_burst(), calling cb for each packet in order. */
void flow_table_update_burst_cb(struct flow_table *ft, const struct pkt *pk, unsigned n,
				flow_pkt_fn cb, void *arg);

/* The live flow of an unfragmented packet, without accounting it (a
 * reassembled datagram whose fragments were accounted); NULL if none. */
struct flow *flow_table_find(struct flow_table *ft, const struct pkt *p, int *toserver);

/* End up to budget flows idle at packet time now_ns; returns how many. */
unsigned flow_table_expire(struct flow_table *ft, uint64_t now_ns, unsigned budget);

/* End every live flow; end_ns is the last packet time of the whole input. */
void flow_table_flush(struct flow_table *ft, uint64_t end_ns);

uint32_t flow_table_live(const struct flow_table *ft);
/* Bytes of table memory (flows, buckets, fragment trackers). */
size_t flow_table_memory(const struct flow_table *ft);

/* Deterministic 53-bit id of a flow (key + creation time). */
uint64_t flow_id(const struct flow *f);

const char *flow_state_name(enum flow_st st);
const char *flow_tcp_state_name(enum flow_tcp_state st);
const char *flow_reason_name(enum flow_end_reason r);

#endif
