/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers of the control-plane unit tests: a scratch directory for the
 * SQLite files (removed at exit) and alert builders.
 */
#ifndef VIGIL_CTL_TEST_H
#define VIGIL_CTL_TEST_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

static char tmp_dir[256];

static void tmp_cleanup(void)
{
	DIR *d = opendir(tmp_dir);
	struct dirent *e;
	char p[512];

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmp_dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(tmp_dir);
}

/* A fresh database path in the scratch directory. */
static const char *tmp_db(const char *name)
{
	static char p[512];

	if (!tmp_dir[0]) {
		snprintf(tmp_dir, sizeof(tmp_dir), "%s/vigil-ctl-XXXXXX",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (!mkdtemp(tmp_dir)) {
			perror("mkdtemp");
			exit(1);
		}
		atexit(tmp_cleanup);
	}
	snprintf(p, sizeof(p), "%s/%s", tmp_dir, name);
	return p;
}

/* An alert with the given id, sid, addresses, time and severity; category
 * and signature set by the caller when needed.  The strings of id live in
 * a ring of buffers so a few alerts can be alive at once. */
static inline struct store_alert mk_alert(const char *id, int64_t sid, const char *src, const char *dst,
				   int64_t ts_epoch, int64_t severity)
{
	static char ids[8][64], tss[8][32];
	static unsigned k;
	struct store_alert a;
	time_t t = (time_t)ts_epoch;
	struct tm tm;

	k = (k + 1) % 8;
	snprintf(ids[k], sizeof(ids[k]), "%s", id);
	gmtime_r(&t, &tm);
	strftime(tss[k], sizeof(tss[k]), "%Y-%m-%dT%H:%M:%SZ", &tm);
	memset(&a, 0, sizeof(a));
	a.id = ids[k];
	a.sensor = "s1";
	a.ts = tss[k];
	a.ts_epoch = ts_epoch;
	a.sid = sid;
	a.gid = 1;
	a.rev = 1;
	a.signature = "TEST signature";
	a.category = "Misc activity";
	a.severity = severity;
	a.action = "allowed";
	a.src_ip = src;
	a.dest_ip = dst;
	a.src_port = 1234;
	a.dest_port = 80;
	a.proto = "TCP";
	a.flow_id = -1;
	return a;
}

/* A flow record with the given id, sensor, flow id and end time (it
 * started 10 s earlier), TCP 192.0.2.1:40000 -> 10.0.0.1:80, 3/2 packets,
 * 300/200 bytes, "closed"/"timeout".  Strings as in mk_alert(). */
static inline struct store_flow mk_flow(const char *id, const char *sensor, int64_t flow_id, int64_t end_epoch)
{
	static char ids[8][64], starts[8][32], ends[8][32];
	static unsigned k;
	struct store_flow f;
	time_t t0 = (time_t)(end_epoch - 10), t1 = (time_t)end_epoch;
	struct tm tm;

	k = (k + 1) % 8;
	snprintf(ids[k], sizeof(ids[k]), "%s", id);
	gmtime_r(&t0, &tm);
	strftime(starts[k], sizeof(starts[k]), "%Y-%m-%dT%H:%M:%SZ", &tm);
	gmtime_r(&t1, &tm);
	strftime(ends[k], sizeof(ends[k]), "%Y-%m-%dT%H:%M:%SZ", &tm);
	memset(&f, 0, sizeof(f));
	f.id = ids[k];
	f.sensor = sensor;
	f.flow_id = flow_id;
	f.start = starts[k];
	f.start_epoch = end_epoch - 10;
	f.end = ends[k];
	f.end_epoch = end_epoch;
	f.src_ip = "192.0.2.1";
	f.src_port = 40000;
	f.dest_ip = "10.0.0.1";
	f.dest_port = 80;
	f.proto = "TCP";
	f.pkts_toserver = 3;
	f.pkts_toclient = 2;
	f.bytes_toserver = 300;
	f.bytes_toclient = 200;
	f.state = "closed";
	f.reason = "timeout";
	return f;
}

#endif
