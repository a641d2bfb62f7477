/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the configuration store.
 *
 * Input: YAML, optionally followed by a NUL byte and newline-separated
 * "KEY=VALUE" overrides for cfg_set() (a NUL can never be valid YAML, so the
 * split costs the YAML side nothing).  Every accepted config is read back
 * through every getter, cfg_foreach() and cfg_dump().
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

static const struct cfg_key schema[] = {
	{ .name = "vars.address-groups.*", .type = CFG_T_LIST, .help = "address groups" },
	{ .name = "vars.port-groups.*", .type = CFG_T_LIST, .help = "port groups" },
	{ .name = "capture.source", .type = CFG_T_ENUM, .def = "pcap", .enum_vals = "pcap|dpdk|file" },
	{ .name = "capture.interfaces", .type = CFG_T_LIST, .def = "[eth0]" },
	{ .name = "capture.snaplen", .type = CFG_T_SIZE, .def = "65535", .min = 64, .max = 262144 },
	{ .name = "capture.promisc", .type = CFG_T_BOOL, .def = "yes" },
	{ .name = "capture.bpf-filter", .type = CFG_T_STRING },
	{ .name = "dpdk.queues", .type = CFG_T_U64, .def = "1", .min = 1, .max = 128 },
	{ .name = "dpdk.idle-exit", .type = CFG_T_DURATION, .def = "0" },
	{ .name = "flow.max-flows", .type = CFG_T_U64, .def = "65536", .min = 1024, .max = 1u << 30 },
	{ .name = "flow.hash-seed", .type = CFG_T_U64 },
	{ .name = "flow.memcap", .type = CFG_T_SIZE, .def = "128mb", .min = 1u << 20 },
	{ .name = "flow.timeouts.tcp.established", .type = CFG_T_DURATION, .def = "1h", .min = 1000, .max = 86400000 },
	{ .name = "flow.timeouts.udp.established", .type = CFG_T_DURATION, .def = "300s" },
	{ .name = "outputs.eve.enabled", .type = CFG_T_BOOL, .def = "yes" },
	{ .name = "outputs.eve.filename", .type = CFG_T_STRING, .def = "eve.json" },
	{ .name = "outputs.eve.types", .type = CFG_T_LIST, .def = "[flow, stats]" },
	{ .name = "logging.level", .type = CFG_T_ENUM, .def = "notice", .enum_vals = "error|warn|notice|info|debug" },
	{ .name = "stats.interval", .type = CFG_T_DURATION, .def = "8s", .min = 1000 },
};
#define NKEYS (sizeof(schema) / sizeof(schema[0]))

static void visit(const char *key, const char *value, void *arg)
{
	const struct cfg *c = arg;
	const char *const *items;
	size_t n;

	if (strncmp(key, "vars.", 5) != 0)
		return;
	n = cfg_get_list(c, key, &items);
	for (size_t i = 0; i < n; i++)
		if (!items[i][0] || !value)
			abort();   /* list items are never empty */
	if (!cfg_is_set(c, key) || !cfg_origin(c, key))
		abort();
}

static void read_back(const struct cfg *c)
{
	static FILE *sink;
	const char *const *items;
	volatile uint64_t acc = 0;

	for (size_t i = 0; i < NKEYS; i++) {
		const char *k = schema[i].name;

		if (strchr(k, '*'))
			continue;
		switch (schema[i].type) {
		case CFG_T_BOOL: acc += cfg_get_bool(c, k); break;
		case CFG_T_U64: acc += cfg_get_u64(c, k); break;
		case CFG_T_DURATION: acc += cfg_get_duration_ms(c, k); break;
		case CFG_T_SIZE: acc += cfg_get_size(c, k); break;
		case CFG_T_ENUM: acc += (uint64_t)cfg_get_enum(c, k); break;
		case CFG_T_LIST: acc += cfg_get_list(c, k, &items); break;
		case CFG_T_STRING: break;
		}
		acc += cfg_get_str(c, k) != NULL;
		acc += cfg_is_set(c, k);
		acc += strlen(cfg_origin(c, k));
	}
	cfg_foreach(c, NULL, visit, (void *)c);
	cfg_foreach(c, "vars.address-groups", visit, (void *)c);
	if (!sink)
		sink = fopen("/dev/null", "w");
	if (sink)
		cfg_dump(c, sink);
	(void)acc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t ylen = nul ? (size_t)(nul - data) : size;
	struct cfg *c = NULL;
	char err[256];
	int rc;

	rc = cfg_create_from_buffer(&c, schema, NKEYS, "fuzz.yaml", data, ylen, err, sizeof(err));
	if (rc) {
		if (c || !memchr(err, '\0', sizeof(err)) || !err[0])
			abort();   /* failure leaves no store and always explains itself */
		return 0;
	}
	if (nul) {
		/* overrides: one per line after the NUL */
		size_t rest = size - ylen - 1;
		char *sets = malloc(rest + 1);

		if (sets) {
			memcpy(sets, nul + 1, rest);
			sets[rest] = '\0';
			for (char *line = sets, *next; line; line = next) {
				next = strchr(line, '\n');
				if (next)
					*next++ = '\0';
				rc = cfg_set(c, line, err, sizeof(err));
				if (rc && strncmp(err, "--set: ", 7) != 0)
					abort();
			}
			free(sets);
		}
	}
	read_back(c);
	cfg_destroy(c);
	return 0;
}
