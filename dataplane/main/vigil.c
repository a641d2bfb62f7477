/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vigil: the engine's command line.  Parses options (Suricata's where the
 * concept is the same), loads the configuration, opens the packet source,
 * runs the pipeline and prints the summary.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "io.h"
#include "pipeline.h"
#include "summary.h"
#include "vigil_reload.h"
#include "vigil_rules.h"
#include "vigil_schema.h"
#include "vigil_ship.h"
#ifdef VIGIL_HAVE_XDP
#include "vigil_xdp.h"
#endif
#include "vlog.h"

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "0.1.0"
#endif

enum {
	OPT_DPDK = 256, OPT_SET, OPT_HELP_CONFIG, OPT_WORKERS, OPT_SYSLOG, OPT_NO_PROGRESS,
	OPT_PROGRESS, OPT_RULES_REPORT, OPT_STRICT_RULES,
};

static const struct option long_opts[] = {
	{ "dpdk", no_argument, NULL, OPT_DPDK },
	{ "set", required_argument, NULL, OPT_SET },
	{ "help-config", no_argument, NULL, OPT_HELP_CONFIG },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "syslog", no_argument, NULL, OPT_SYSLOG },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "rules-report", required_argument, NULL, OPT_RULES_REPORT },
	{ "strict-rules", no_argument, NULL, OPT_STRICT_RULES },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"vigil %s - network packet and flow inspection engine\n"
		"\n"
		"usage: vigil [options] -r CAPTURE\n"
		"       vigil [options] -i IFACE\n"
		"       vigil [options] --dpdk [-- EAL-ARGS...]\n"
		"\n"
		"input (exactly one):\n"
		"  -r CAPTURE        read a pcap/pcapng capture file (offline; packet time drives timeouts)\n"
		"  -i IFACE          capture live from IFACE with libpcap\n"
		"  --dpdk            capture from every DPDK port; EAL arguments follow '--', e.g.\n"
		"                    vigil --dpdk -l out -- --no-huge --no-pci --vdev=net_pcap0,rx_pcap=F\n"
		"\n"
		"options:\n"
		"  -c FILE           YAML configuration (see vigil.yaml; --help-config lists every key)\n"
		"  --set KEY=VALUE   override one configuration key (repeatable), e.g. --set flow.max-flows=100000\n"
		"  -l DIR            log directory: eve.json is appended there (default: default-log-dir)\n"
		"  -k all|none       checksum validation (default: checksum-validation)\n"
		"  -S RULES          rules file (Suricata/Snort syntax); skipped rules are logged with\n"
		"                    file:line:col and the rest loads\n"
		"  --strict-rules    refuse to start if any rule is skipped\n"
		"  --rules-report F  write the rule load report (loaded, skipped, why) to F as JSON\n"
		"  --workers N       worker threads (default: threading.workers)\n"
		"  -T                test the configuration and exit (-v also prints every key)\n"
		"  -v                more log output (repeat for debug)\n"
		"  -q                only errors\n"
		"  --syslog          log to syslog instead of stderr\n"
		"  --progress        always show the progress line; --no-progress never\n"
		"  --help-config     list every configuration key with its default and meaning\n"
		"  -V, --version     print the version\n"
		"  -h, --help        this help\n"
		"\n"
		"exit status: 0 done, 1 runtime error, 2 usage or configuration error\n",
		VIGIL_VERSION);
}

static struct io_source *g_src;
static int g_src_is_dpdk;

static void on_sighup(int sig)
{
	(void)sig;
	vigil_reload_signal();
}

static void on_signal(int sig)
{
	(void)sig;
	if (!g_src)
		return;
	if (g_src_is_dpdk)
		io_dpdk_stop(g_src);
	else
		io_pcap_stop(g_src);
}

static uint32_t pow2_at_least(uint64_t v)
{
	uint32_t p = 1;

	while (p < v && p < (1u << 31))
		p <<= 1;
	return p;
}

static uint64_t random_seed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)getpid() ^ (uint64_t)ts.tv_sec;
}

/* Parse "auto", "never" or a duration for dpdk.idle-exit. */
static int parse_idle_exit(const char *s, uint64_t *ns)
{
	char *end;
	double v;

	if (!strcmp(s, "auto")) {
		*ns = UINT64_MAX;
		return 0;
	}
	if (!strcmp(s, "never") || !strcmp(s, "0")) {
		*ns = 0;
		return 0;
	}
	v = strtod(s, &end);
	if (end == s || v < 0)
		return -EINVAL;
	if (!strcmp(end, "ms"))
		v /= 1000;
	else if (*end && strcmp(end, "s"))
		return -EINVAL;
	*ns = (uint64_t)(v * 1e9);
	return 0;
}

static void fill_flow_cfg(const struct cfg *c, struct flow_table_cfg *f)
{
	static const char *const pg[] = { "tcp", "udp", "icmp", "default" };
	static const char *const st[] = { "new", "established", "closed" };
	char key[96];

	f->max_flows = (uint32_t)cfg_get_u64(c, "flow.max-flows");
	f->seed = (uint32_t)cfg_get_u64(c, "flow.hash-seed");
	if (!f->seed)
		f->seed = (uint32_t)random_seed() | 1;
	f->active_ns = cfg_get_duration_ms(c, "flow.active-timeout") * 1000000ULL;
	f->frag_trackers = (uint32_t)cfg_get_u64(c, "flow.frag-trackers");
	f->frag_timeout_ns = cfg_get_duration_ms(c, "flow.frag-timeout") * 1000000ULL;
	for (int p = 0; p < FLOW_PG__N; p++)
		for (int s = 0; s < FLOW_ST__N; s++) {
			snprintf(key, sizeof(key), "flow.timeouts.%s.%s", pg[p], st[s]);
			f->timeout_ns[p][s] = cfg_get_duration_ms(c, key) * 1000000ULL;
		}
}

int main(int argc, char **argv)
{
	const char *rfile = NULL, *iface = NULL, *cfile = NULL, *logdir = NULL, *kopt = NULL,
		   *rules = NULL, *rules_report = NULL;
	int strict_rules = 0;
	struct detect_engine *de = NULL;
	const char **sets = calloc((size_t)argc + 1, sizeof(char *));
	int nsets = 0, verbose = 0, quiet = 0, test_only = 0, use_dpdk = 0, use_syslog = 0;
	int progress_opt = -1;
	long workers_opt = 0;
	struct cfg *cfg = NULL;
	struct io_source *src = NULL;
	struct vigil_ship *ship = NULL;
	struct vigil_reload *reloader = NULL;
	struct pipeline_ctl *ctl = NULL;
	struct detect_fbreg *fbreg = NULL;
#ifdef VIGIL_HAVE_XDP
	struct vigil_xdp *xdp = NULL;
#endif
	char err[1024] = "";
	int rc = 2, opt;

	if (!sets)
		return 1;
	while ((opt = getopt_long(argc, argv, "r:i:c:l:k:S:TvqhV", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'r': rfile = optarg; break;
		case 'i': iface = optarg; break;
		case 'c': cfile = optarg; break;
		case 'l': logdir = optarg; break;
		case 'k': kopt = optarg; break;
		case 'S': rules = optarg; break;
		case 'T': test_only = 1; break;
		case 'v': verbose++; break;
		case 'q': quiet = 1; break;
		case OPT_DPDK: use_dpdk = 1; break;
		case OPT_SET: sets[nsets++] = optarg; break;
		case OPT_SYSLOG: use_syslog = 1; break;
		case OPT_PROGRESS: progress_opt = 1; break;
		case OPT_RULES_REPORT: rules_report = optarg; break;
		case OPT_STRICT_RULES: strict_rules = 1; break;
		case OPT_NO_PROGRESS: progress_opt = 0; break;
		case OPT_WORKERS: {
			char *end;
			workers_opt = strtol(optarg, &end, 10);
			if (*end || workers_opt < 1 || workers_opt > 64) {
				fprintf(stderr, "vigil: --workers: '%s' is not a number from 1 to 64\n", optarg);
				goto out;
			}
			break;
		}
		case OPT_HELP_CONFIG:
			cfg_schema_print(vigil_schema, vigil_schema_len, stdout);
			rc = 0;
			goto out;
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		case 'V':
			printf("vigil %s\n", VIGIL_VERSION);
			rc = 0;
			goto out;
		default:
			fprintf(stderr, "Try 'vigil --help'.\n");
			goto out;
		}
	}

	if (cfg_create(&cfg, vigil_schema, vigil_schema_len, cfile, err, sizeof(err)) != 0) {
		fprintf(stderr, "vigil: configuration refused: %s\n", err);
		goto out;
	}
	for (int i = 0; i < nsets; i++) {
		if (cfg_set(cfg, sets[i], err, sizeof(err)) != 0) {
			fprintf(stderr, "vigil: %s\n", err);
			goto out;
		}
	}
	if (kopt) {
		char kv[64];
		snprintf(kv, sizeof(kv), "checksum-validation=%s", kopt);
		if (cfg_set(cfg, kv, err, sizeof(err)) != 0) {
			fprintf(stderr, "vigil: -k: '%s': expected all or none\n", kopt);
			goto out;
		}
	}
	if (workers_opt) {
		char kv[64];
		snprintf(kv, sizeof(kv), "threading.workers=%ld", workers_opt);
		cfg_set(cfg, kv, err, sizeof(err));
	}

	int lvl = cfg_get_enum(cfg, "logging.level") + verbose;
	vlog_set_level(quiet ? VLOG_ERROR : (enum vlog_level)(lvl > VLOG_DEBUG ? VLOG_DEBUG : lvl));
	if (use_syslog || cfg_get_enum(cfg, "logging.output") == 1)
		vlog_use_syslog("vigil");

	uint64_t idle_exit;
	if (parse_idle_exit(cfg_get_str(cfg, "dpdk.idle-exit"), &idle_exit) != 0) {
		fprintf(stderr, "vigil: %s: dpdk.idle-exit: '%s' is not 'auto', 'never' or a duration\n",
			cfg_origin(cfg, "dpdk.idle-exit"), cfg_get_str(cfg, "dpdk.idle-exit"));
		goto out;
	}
	if (!logdir)
		logdir = cfg_get_str(cfg, "default-log-dir");

	if (rules && detect_fbreg_create(&fbreg) != 0) {
		fprintf(stderr, "vigil: out of memory\n");
		goto out;
	}
	json_t *load_report = NULL;
	if (rules && vigil_rules_load(cfg, rules, strict_rules, rules_report, fbreg, &load_report, &de, err,
				      sizeof(err)) != 0) {
		fprintf(stderr, "vigil: -S %s: %s\n", rules, err);
		goto out;
	}
	uint64_t rules_skipped = (uint64_t)json_integer_value(json_object_get(load_report, "skipped"));
	json_decref(load_report);
	if (test_only) {
		if (verbose)
			cfg_dump(cfg, stdout);
		printf("vigil: configuration %s is valid%s\n", cfile ? cfile : "(defaults)",
		       rules ? " (rules compiled)" : "");
		rc = 0;
		goto out;
	}
	if (!!rfile + !!iface + use_dpdk != 1) {
		fprintf(stderr, "vigil: give exactly one input: -r CAPTURE, -i IFACE or --dpdk\n"
				"Try 'vigil --help'.\n");
		goto out;
	}
	if (!use_dpdk && optind < argc) {
		fprintf(stderr, "vigil: unexpected argument '%s'\n", argv[optind]);
		goto out;
	}

	struct pipeline_cfg pc;
	memset(&pc, 0, sizeof(pc));
	pc.workers = (uint16_t)cfg_get_u64(cfg, "threading.workers");
	fill_flow_cfg(cfg, &pc.flow);
	pc.verify_csum = cfg_get_enum(cfg, "checksum-validation") == 0;
	pc.in_ring = pow2_at_least(cfg_get_u64(cfg, "dispatch.ring-size"));
	pc.arena_bytes = cfg_get_size(cfg, "dispatch.arena-size");
	pc.out_ring = pow2_at_least(cfg_get_u64(cfg, "output.ring-size"));
	pc.dispatch_seed = (uint32_t)cfg_get_u64(cfg, "dispatch.hash-seed");
	int pmode = cfg_get_enum(cfg, "progress");
	pc.progress = progress_opt >= 0 ? progress_opt : pmode == 0 ? isatty(2) : pmode == 1;

	char eve_path[PATH_MAX];
	if (cfg_get_bool(cfg, "outputs.eve-log.enabled")) {
		struct stat st;
		if (stat(logdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
			fprintf(stderr, "vigil: log directory '%s' does not exist\n", logdir);
			goto out;
		}
		snprintf(eve_path, sizeof(eve_path), "%s/%s", logdir,
			 cfg_get_str(cfg, "outputs.eve-log.filename"));
		pc.eve.path = eve_path;
	}
	pc.eve.stats_interval_ns = cfg_get_duration_ms(cfg, "stats.interval") * 1000000ULL;
	pc.eve.community_id_seed = (uint16_t)cfg_get_u64(cfg, "outputs.eve-log.community-id-seed");
	pc.eve.flows = cfg_get_bool(cfg, "outputs.eve-log.types.flow");
	pc.eve.stats = cfg_get_bool(cfg, "outputs.eve-log.types.stats");
	pc.eve.alerts = cfg_get_bool(cfg, "outputs.eve-log.types.alert");
	pc.de = de;
	pc.thresholds = (uint32_t)cfg_get_u64(cfg, "detect.thresholds");
	{
		struct inspect_cfg *ic = &pc.inspect;
		ic->sessions = (uint32_t)cfg_get_u64(cfg, "stream.sessions");
		ic->carry = (uint32_t)cfg_get_size(cfg, "stream.inspect-carry");
		ic->midstream = cfg_get_bool(cfg, "stream.midstream");
		ic->payload_max = (uint32_t)cfg_get_size(cfg, "detect.alert-payload-max");
		ic->packet_max = (uint32_t)cfg_get_size(cfg, "detect.alert-packet-max");
		ic->stream.depth = (uint32_t)cfg_get_size(cfg, "stream.reassembly.depth");
		ic->stream.memcap = cfg_get_size(cfg, "stream.reassembly.memcap");
		ic->stream.max_segs = (uint32_t)cfg_get_u64(cfg, "stream.reassembly.max-segments");
		ic->stream.policy = cfg_get_enum(cfg, "stream.reassembly.policy") == 1 ? STREAM_LAST : STREAM_FIRST;
		ic->defrag.max_trackers = (uint32_t)cfg_get_u64(cfg, "defrag.trackers");
		ic->defrag.memcap = cfg_get_size(cfg, "defrag.memcap");
		ic->defrag.max_frags = (uint32_t)cfg_get_u64(cfg, "defrag.max-frags");
		ic->defrag.timeout_ns = cfg_get_duration_ms(cfg, "defrag.timeout") * 1000000ULL;
		ic->defrag.policy = cfg_get_enum(cfg, "defrag.policy") == 1 ? DEFRAG_LAST : DEFRAG_FIRST;
		ic->defrag.seed = (uint32_t)random_seed();
	}

	rc = 1;
	if (rfile) {
		if (io_pcap_file_create(&src, rfile, err, sizeof(err)) != 0)
			goto fail;
	} else if (iface) {
		if (io_pcap_live_create(&src, iface, cfg_get_str(cfg, "pcap.bpf-filter"),
					(uint32_t)cfg_get_size(cfg, "pcap.buffer-size"), err, sizeof(err)) != 0)
			goto fail;
	} else {
		/* EAL gets argv[0] and everything after "--" */
		int eal_argc = argc - optind + 1;
		char **eal_argv = calloc((size_t)eal_argc + 1, sizeof(char *));
		if (!eal_argv)
			goto fail;
		eal_argv[0] = argv[0];
		for (int i = optind; i < argc; i++)
			eal_argv[i - optind + 1] = argv[i];
		struct io_dpdk_cfg dc = {
			.want_queues = pc.workers,
			.mbufs = (uint32_t)cfg_get_u64(cfg, "dpdk.mbufs"),
			.rx_desc = (uint16_t)cfg_get_u64(cfg, "dpdk.rx-descriptors"),
			.idle_exit_ns = idle_exit,
		};
		int drc = io_dpdk_create(&src, eal_argc, eal_argv, &dc, err, sizeof(err));
		free(eal_argv);
		if (drc != 0)
			goto fail;
		g_src_is_dpdk = 1;
	}
	vlog_info("input: %s, %u worker(s)", src->desc, pc.workers);

	g_src = src;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (vigil_ship_open(&ship, cfg, logdir, VIGIL_VERSION, de ? detect_engine_version(de) : "",
			    err, sizeof(err)) != 0)
		goto fail;
	vigil_ship_attach(ship, &pc.eve);
#ifdef VIGIL_HAVE_XDP
	if (vigil_xdp_open(&xdp, cfg, &pc, err, sizeof(err)) != 0)
		goto fail;
	if (xdp && cfg_get_bool(cfg, "xdp.blocklist"))
		vigil_ship_set_blocklist(ship, vigil_xdp_blocklist, xdp);
#else
	if (cfg_get_str(cfg, "xdp.interface")[0]) {
		snprintf(err, sizeof(err), "xdp.interface: this vigil was built without the XDP program "
			 "(clang and bpftool were missing)");
		goto fail;
	}
#endif

	/* Live reloads (SIGHUP, the command socket) need rules to start from. */
	char sock[PATH_MAX], rules_dir[PATH_MAX];   /* the reloader keeps pointers to both */
	if (de) {
		const char *sn = cfg_get_str(cfg, "unix-command.filename");
		if (sn[0] == '/')
			snprintf(sock, sizeof(sock), "%s", sn);
		else
			snprintf(sock, sizeof(sock), "%s/%s", logdir, sn);
		struct detect_engine_stats ds;
		detect_engine_get_stats(de, &ds);
		if (pipeline_ctl_create(&ctl) != 0)
			goto fail;
		snprintf(rules_dir, sizeof(rules_dir), "%s/rules", ship ? vigil_ship_dir(ship) : ".");
		struct vigil_reload_cfg rc_ = {
			.cfg = cfg, .rules = rules, .strict = strict_rules,
			.ruleset = detect_engine_version(de), .rules_loaded = ds.rules,
			.fbreg = fbreg, .ctl = ctl, .ship = ship,
			.socket = cfg_get_bool(cfg, "unix-command.enabled") ? sock : NULL,
			.rules_skipped = rules_skipped,
			.control_url = ship && cfg_get_bool(cfg, "control.rules") ? cfg_get_str(cfg, "control.url") : NULL,
			.token = vigil_ship_token(ship),
			.rules_dir = ship ? rules_dir : NULL,
		};
		if (vigil_reload_start(&reloader, &rc_, err, sizeof(err)) != 0)
			goto fail;
		vigil_ship_set_reload(ship, reloader);
		pc.ctl = ctl;
		sa.sa_handler = on_sighup;
		sa.sa_flags = SA_RESTART;   /* a reload must not cut a read of the input short */
		sigaction(SIGHUP, &sa, NULL);
	}

	struct pipeline_result res;
	rc = pipeline_run(src, &pc, &res, err, sizeof(err));
	signal(SIGHUP, SIG_IGN);
	vigil_ship_set_reload(ship, NULL);
	vigil_reload_stop(reloader);
	reloader = NULL;
	if (rc != 0) {
		rc = 1;
		goto fail;
	}
	summary_print(stdout, src->desc, pc.eve.path, &res);
	vigil_ship_set_blocklist(ship, NULL, NULL);
	vigil_ship_close(ship, stdout);
	ship = NULL;
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "vigil: %s\n", err[0] ? err : "failed");
out:
	g_src = NULL;
	vigil_ship_set_reload(ship, NULL);
	vigil_ship_set_blocklist(ship, NULL, NULL);
	vigil_reload_stop(reloader);
	pipeline_ctl_destroy(ctl);
	vigil_ship_close(ship, NULL);
#ifdef VIGIL_HAVE_XDP
	vigil_xdp_close(xdp);
#endif
	io_destroy(src);
	detect_engine_destroy(de);
	detect_fbreg_destroy(fbreg);
	cfg_destroy(cfg);
	free(sets);
	return rc;
}
