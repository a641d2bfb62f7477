/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vigil-xdp: attach vigil's XDP program to an interface and work its maps
 * (blocklist, flow bypass, counters) from the shell.  See tools/README.md.
 *
 * Exit status: 0 done, 1 it failed (the reason on stderr), 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xdp.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

static const char usage_text[] =
	"usage: vigil-xdp attach IFACE [--mode tap|inline] [--skb|--drv] [--no-xsk]\n"
	"       vigil-xdp detach IFACE\n"
	"       vigil-xdp status IFACE [--json]\n"
	"       vigil-xdp config IFACE [--mode tap|inline] [--xsk|--no-xsk]\n"
	"       vigil-xdp block IFACE add PREFIX [--for DURATION]\n"
	"       vigil-xdp block IFACE del PREFIX\n"
	"       vigil-xdp block IFACE list [--json]\n"
	"       vigil-xdp block IFACE expire\n"
	"       vigil-xdp bypass IFACE list [--json]\n"
	"       vigil-xdp bypass IFACE reap [--json]\n"
	"  --mode tap|inline  tap (default): blocklisted packets are tagged, bypassed flows dropped;\n"
	"                     inline: blocklisted packets are dropped, bypassed flows go to the kernel\n"
	"  --skb, --drv       generic or native XDP (default: native where the driver has it)\n"
	"  --no-xsk, --xsk    pass packets to the kernel instead of the AF_XDP sockets (or back)\n"
	"  --for DURATION     block for this long (e.g. 30s, 10m, 2h, 1d; default: until removed)\n"
	"  --json             machine-readable output\n"
	"PREFIX is an IPv4 or IPv6 address or prefix (192.0.2.0/24, 2001:db8::/32).\n";

struct opts {
	const char *mode;
	enum xdp_hook hook;
	int xsk;                   /* -1 not given, 0 --no-xsk, 1 --xsk */
	const char *for_dur;
	bool json;
};

static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "vigil-xdp: %s\n", why);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

static int fail(const char *msg)
{
	fprintf(stderr, "vigil-xdp: %s\n", msg);
	return EXIT_RUNTIME;
}

/* "90", "90s", "500ms", "10m", "2h", "1d" -> ns; false if invalid or 0. */
static bool parse_duration(const char *s, uint64_t *ns)
{
	static const struct { const char *unit; uint64_t ns; } units[] = {
		{ "", 1000000000ull }, { "s", 1000000000ull }, { "ms", 1000000ull },
		{ "m", 60000000000ull }, { "h", 3600000000000ull }, { "d", 86400000000000ull },
	};
	uint64_t v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].unit))
			continue;
		if (v == 0 || v > UINT64_MAX / units[i].ns)
			return false;
		*ns = v * units[i].ns;
		return true;
	}
	return false;
}

static void fmt_left(char *buf, size_t len, uint64_t expires_ns, uint64_t now)
{
	uint64_t s;

	if (!expires_ns) {
		snprintf(buf, len, "never");
		return;
	}
	if (now >= expires_ns) {
		snprintf(buf, len, "expired");
		return;
	}
	s = (expires_ns - now + 999999999u) / 1000000000u;
	if (s >= 86400)
		snprintf(buf, len, "in %llud%02lluh", (unsigned long long)(s / 86400), (unsigned long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(buf, len, "in %lluh%02llum", (unsigned long long)(s / 3600), (unsigned long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(buf, len, "in %llum%02llus", (unsigned long long)(s / 60), (unsigned long long)(s % 60));
	else
		snprintf(buf, len, "in %llus", (unsigned long long)s);
}

/* Seconds left as JSON: null for never, 0 when expired. */
static json_t *json_left(uint64_t expires_ns, uint64_t now)
{
	if (!expires_ns)
		return json_null();
	return json_real(now >= expires_ns ? 0.0 : (double)(expires_ns - now) / 1e9);
}

static int print_json(json_t *j)
{
	int rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	json_decref(j);
	putchar('\n');
	return rc ? EXIT_RUNTIME : 0;
}

/* ---- attach, detach, config, status */

static int parse_mode(const char *s, enum vigil_mode *m)
{
	if (!strcmp(s, "tap"))
		*m = VIGIL_MODE_TAP;
	else if (!strcmp(s, "inline"))
		*m = VIGIL_MODE_INLINE;
	else
		return -1;
	return 0;
}

static int cmd_attach(const char *iface, const struct opts *o)
{
	enum vigil_mode mode = VIGIL_MODE_TAP;
	char err[256];

	if (o->mode && parse_mode(o->mode, &mode))
		return usage("--mode: tap or inline");
	if (xdp_attach(iface, mode, o->hook, o->xsk != 0, err, sizeof(err)))
		return fail(err);
	printf("attached vigil's XDP program to %s (mode %s, xsk %s)\n", iface,
	       mode == VIGIL_MODE_INLINE ? "inline" : "tap", o->xsk != 0 ? "on" : "off");
	return 0;
}

static int cmd_detach(const char *iface)
{
	char err[256];

	if (xdp_detach(iface, err, sizeof(err)))
		return fail(err);
	printf("detached vigil's XDP program from %s\n", iface);
	return 0;
}

static int cmd_config(struct xdp_handle *h, const struct opts *o)
{
	struct xdp_info info;
	enum vigil_mode mode;

	if (xdp_info(h, &info))
		return fail(xdp_errmsg(h));
	mode = info.mode;
	if (o->mode && parse_mode(o->mode, &mode))
		return usage("--mode: tap or inline");
	if (xdp_set_config(h, mode, o->xsk < 0 ? info.xsk : o->xsk == 1))
		return fail(xdp_errmsg(h));
	printf("%s: mode %s, xsk %s\n", info.iface, mode == VIGIL_MODE_INLINE ? "inline" : "tap",
	       (o->xsk < 0 ? info.xsk : o->xsk == 1) ? "on" : "off");
	return 0;
}

static const char *hook_desc(const char *hook)
{
	if (!strcmp(hook, "skb"))
		return "generic (skb)";
	if (!strcmp(hook, "drv"))
		return "native (drv)";
	if (!strcmp(hook, "hw"))
		return "offloaded (hw)";
	return "unknown";
}

static int cmd_status(struct xdp_handle *h, const struct opts *o)
{
	struct xdp_counters c;
	struct xdp_info info;

	if (xdp_info(h, &info) || xdp_counters(h, &c))
		return fail(xdp_errmsg(h));
	if (o->json) {
		json_t *j = json_object(), *ctr = json_object();

		json_object_set_new(j, "iface", json_string(info.iface));
		json_object_set_new(j, "prog_id", json_integer(info.prog_id));
		json_object_set_new(j, "hook", info.hook[0] ? json_string(info.hook) : json_null());
		json_object_set_new(j, "mode", json_string(info.mode == VIGIL_MODE_INLINE ? "inline" : "tap"));
		json_object_set_new(j, "xsk", json_boolean(info.xsk));
		json_object_set_new(j, "configured", json_boolean(info.configured));
		json_object_set_new(j, "pinned", json_boolean(info.pinned));
		for (int i = 0; i < VIGIL_CTR_MAX; i++) {
			json_t *v = json_object();

			json_object_set_new(v, "packets", json_integer((json_int_t)c.c[i].packets));
			json_object_set_new(v, "bytes", json_integer((json_int_t)c.c[i].bytes));
			json_object_set_new(ctr, xdp_counter_name((enum vigil_ctr)i), v);
		}
		json_object_set_new(j, "counters", ctr);
		return print_json(j);
	}
	if (info.prog_id)
		printf("%s: vigil XDP program %u, %s hook\n", info.iface, info.prog_id, hook_desc(info.hook));
	else
		printf("%s: vigil XDP program (not visible from this network namespace)\n", info.iface);
	printf("mode %s, xsk %s%s\n", info.mode == VIGIL_MODE_INLINE ? "inline" : "tap", info.xsk ? "on" : "off",
	       info.configured ? "" : " (defaults: the program was loaded without vigil's loader)");
	if (info.pinned)
		printf("maps pinned under %s/%s\n", XDP_PIN_ROOT, info.iface);
	else
		printf("maps found through the program (not pinned)\n");
	printf("\n%-16s %14s %16s\n", "counter", "packets", "bytes");
	for (int i = 0; i < VIGIL_CTR_MAX; i++)
		printf("%-16s %14llu %16llu   %s\n", xdp_counter_name((enum vigil_ctr)i),
		       (unsigned long long)c.c[i].packets, (unsigned long long)c.c[i].bytes,
		       xdp_counter_help((enum vigil_ctr)i));
	return 0;
}

/* ---- block */

struct list_ctx {
	json_t *arr;
	uint64_t now;
};

static void block_print(const struct xdp_block_entry *e, void *arg)
{
	struct list_ctx *l = arg;
	char pfx[XDP_PREFIX_STRLEN], left[32];

	xdp_prefix_format(&e->prefix, pfx, sizeof(pfx));
	if (l->arr) {
		json_t *j = json_object();

		json_object_set_new(j, "prefix", json_string(pfx));
		json_object_set_new(j, "hits", json_integer((json_int_t)e->hits));
		json_object_set_new(j, "expires_ns", json_integer((json_int_t)e->expires_ns));
		json_object_set_new(j, "expires_in_s", json_left(e->expires_ns, l->now));
		json_array_append_new(l->arr, j);
		return;
	}
	fmt_left(left, sizeof(left), e->expires_ns, l->now);
	printf("%-44s %12llu  %s\n", pfx, (unsigned long long)e->hits, left);
}

static int cmd_block(struct xdp_handle *h, const char *sub, const char *arg, const struct opts *o)
{
	if (!strcmp(sub, "add")) {
		uint64_t dur = 0;

		if (o->for_dur && !parse_duration(o->for_dur, &dur))
			return usage("--for: a duration such as 30s, 10m, 2h or 1d");
		if (xdp_block_add(h, arg, dur))
			return fail(xdp_errmsg(h));
		printf("blocked %s %s%s\n", arg, o->for_dur ? "for " : "until removed", o->for_dur ? o->for_dur : "");
		return 0;
	}
	if (!strcmp(sub, "del")) {
		if (xdp_block_del(h, arg))
			return fail(xdp_errmsg(h));
		printf("unblocked %s\n", arg);
		return 0;
	}
	if (!strcmp(sub, "expire")) {
		int n = xdp_block_expire(h, xdp_now_ns());

		if (n < 0)
			return fail(xdp_errmsg(h));
		printf("removed %d expired entr%s\n", n, n == 1 ? "y" : "ies");
		return 0;
	}
	/* list */
	struct list_ctx l = { .arr = o->json ? json_array() : NULL, .now = xdp_now_ns() };
	int n;

	if (!o->json)
		printf("%-44s %12s  %s\n", "prefix", "hits", "expires");
	n = xdp_block_list(h, block_print, &l);
	if (n < 0) {
		json_decref(l.arr);
		return fail(xdp_errmsg(h));
	}
	if (o->json)
		return print_json(l.arr);
	printf("%d entr%s\n", n, n == 1 ? "y" : "ies");
	return 0;
}

/* ---- bypass */

static void addr_str(const uint8_t a[16], char *buf, size_t len)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (!memcmp(a, mapped, sizeof(mapped)))
		inet_ntop(AF_INET, a + 12, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, a, buf, (socklen_t)len);
}

static const char *proto_name(uint8_t p, char *buf, size_t len)
{
	switch (p) {
	case 1: return "icmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 58: return "ipv6-icmp";
	default: snprintf(buf, len, "%u", p); return buf;
	}
}

static void bypass_print(const struct vigil_flow_key *k, const struct vigil_bypass_val *v, void *arg)
{
	struct list_ctx *l = arg;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], pn[8], left[32];

	addr_str(k->addr[0], a, sizeof(a));
	addr_str(k->addr[1], b, sizeof(b));
	if (l->arr) {
		json_t *j = json_object();

		json_object_set_new(j, "proto", json_integer(k->proto));
		json_object_set_new(j, "ip", json_pack("[s,s]", a, b));
		json_object_set_new(j, "port", json_pack("[i,i]", k->port[0], k->port[1]));
		json_object_set_new(j, "vlan", json_integer(k->vlan));
		json_object_set_new(j, "until_ns", json_integer((json_int_t)v->until_ns));
		json_object_set_new(j, "expires_in_s", json_left(v->until_ns, l->now));
		json_object_set_new(j, "pkts", json_pack("[I,I]", (json_int_t)v->pkts[0], (json_int_t)v->pkts[1]));
		json_object_set_new(j, "bytes", json_pack("[I,I]", (json_int_t)v->bytes[0], (json_int_t)v->bytes[1]));
		json_object_set_new(j, "tcp_flags", json_pack("[i,i]", v->tcp_flags[0], v->tcp_flags[1]));
		json_array_append_new(l->arr, j);
		return;
	}
	fmt_left(left, sizeof(left), v->until_ns, l->now);
	printf("%-9s %s:%u <-> %s:%u vlan %u  pkts %llu/%llu  bytes %llu/%llu  expires %s\n",
	       proto_name(k->proto, pn, sizeof(pn)), a, k->port[0], b, k->port[1], k->vlan,
	       (unsigned long long)v->pkts[0], (unsigned long long)v->pkts[1],
	       (unsigned long long)v->bytes[0], (unsigned long long)v->bytes[1], left);
}

static int cmd_bypass(struct xdp_handle *h, const char *sub, const struct opts *o)
{
	struct list_ctx l = { .arr = o->json ? json_array() : NULL, .now = xdp_now_ns() };
	int n;

	if (!strcmp(sub, "reap"))
		n = xdp_bypass_reap(h, l.now, bypass_print, &l);
	else
		n = xdp_bypass_list(h, bypass_print, &l);
	if (n < 0) {
		json_decref(l.arr);
		return fail(xdp_errmsg(h));
	}
	if (o->json)
		return print_json(l.arr);
	printf("%d flow%s%s\n", n, n == 1 ? "" : "s", !strcmp(sub, "reap") ? " reaped" : "");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "skb", no_argument, NULL, 'S' },
		{ "drv", no_argument, NULL, 'D' },
		{ "xsk", no_argument, NULL, 'x' },
		{ "no-xsk", no_argument, NULL, 'X' },
		{ "for", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .hook = XDP_HOOK_AUTO, .xsk = -1 };
	bool hook_set = false;
	const char *cmd, *iface, *sub = NULL, *arg = NULL;
	struct xdp_handle *h = NULL;
	char err[256];
	int opt, npos, rc;

	while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (opt) {
		case 'm': o.mode = optarg; break;
		case 'S':
		case 'D':
			if (hook_set)
				return usage("--skb and --drv: one or the other");
			o.hook = opt == 'S' ? XDP_HOOK_SKB : XDP_HOOK_DRV;
			hook_set = true;
			break;
		case 'x': o.xsk = 1; break;
		case 'X': o.xsk = 0; break;
		case 'f': o.for_dur = optarg; break;
		case 'j': o.json = true; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: return usage(NULL);
		}
	}
	npos = argc - optind;
	if (npos < 2)
		return usage(npos == 0 ? NULL : "missing IFACE");
	cmd = argv[optind];
	iface = argv[optind + 1];
	if (npos > 2)
		sub = argv[optind + 2];
	if (npos > 3)
		arg = argv[optind + 3];

	/* which options and arguments each command takes */
	bool is_block = !strcmp(cmd, "block"), is_bypass = !strcmp(cmd, "bypass");
	bool is_attach = !strcmp(cmd, "attach"), is_config = !strcmp(cmd, "config");
	bool is_list = sub && (!strcmp(sub, "list") || (is_bypass && !strcmp(sub, "reap")));
	if (!is_attach && !is_config && !is_block && !is_bypass && strcmp(cmd, "detach") && strcmp(cmd, "status"))
		return usage("unknown command");
	if (is_block) {
		bool takes_arg = sub && (!strcmp(sub, "add") || !strcmp(sub, "del"));
		if (!sub || (!takes_arg && strcmp(sub, "list") && strcmp(sub, "expire")))
			return usage("block: add, del, list or expire");
		if (npos != (takes_arg ? 4 : 3))
			return usage(takes_arg ? "block add/del: one PREFIX" : "block list/expire: no more arguments");
		if (o.for_dur && strcmp(sub, "add"))
			return usage("--for goes with block add");
	} else if (is_bypass) {
		if (!sub || (strcmp(sub, "list") && strcmp(sub, "reap")))
			return usage("bypass: list or reap");
		if (npos != 3)
			return usage("bypass list/reap: no more arguments");
	} else if (npos != 2) {
		return usage("too many arguments");
	}
	if (o.for_dur && !is_block)
		return usage("--for goes with block add");
	if (o.mode && !is_attach && !is_config)
		return usage("--mode goes with attach or config");
	if (hook_set && !is_attach)
		return usage("--skb/--drv go with attach");
	if (o.xsk >= 0 && !is_attach && !is_config)
		return usage("--xsk/--no-xsk go with attach or config");
	if (o.json && strcmp(cmd, "status") && !is_list)
		return usage("--json goes with status and the lists");

	if (is_attach) {
		if (o.xsk < 0)
			o.xsk = 1;
		return cmd_attach(iface, &o);
	}
	if (!strcmp(cmd, "detach"))
		return cmd_detach(iface);
	if (is_block && arg) {
		struct xdp_prefix p;

		if (xdp_prefix_parse(arg, &p, err, sizeof(err)))
			return usage(err);
	}
	if (o.for_dur) {
		uint64_t ns;

		if (!parse_duration(o.for_dur, &ns))
			return usage("--for: a duration such as 30s, 10m, 2h or 1d");
	}
	if (xdp_open(iface, &h, err, sizeof(err)))
		return fail(err);
	if (is_config)
		rc = cmd_config(h, &o);
	else if (is_block)
		rc = cmd_block(h, sub, arg, &o);
	else if (is_bypass)
		rc = cmd_bypass(h, sub, &o);
	else
		rc = cmd_status(h, &o);
	xdp_close(h);
	return rc;
}
