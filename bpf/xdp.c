/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Loader and map access for vigil's XDP program (see xdp.h).  libbpf errors
 * are converted here into -errno and a sentence; nothing of libbpf's
 * error conventions leaks to the callers.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "vigil_xdp.skel.h"
#include "xdp.h"

#define BPFFS "/sys/fs/bpf"
#define NEED_ROOT "BPF needs root (CAP_BPF, CAP_NET_ADMIN)"

enum { M_COUNTERS, M_BLOCK_V4, M_BLOCK_V6, M_BYPASS, M_CONFIG, M_XSKS, M__N };

/* The maps, and what they must look like for this build to use them. */
static const struct map_desc {
	const char *name;
	uint32_t type, key_size, value_size;
} map_desc[M__N] = {
	[M_COUNTERS] = { VIGIL_MAP_COUNTERS, BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32), sizeof(struct vigil_ctr_val) },
	[M_BLOCK_V4] = { VIGIL_MAP_BLOCK_V4, BPF_MAP_TYPE_LPM_TRIE, sizeof(struct vigil_lpm_v4), sizeof(struct vigil_block_val) },
	[M_BLOCK_V6] = { VIGIL_MAP_BLOCK_V6, BPF_MAP_TYPE_LPM_TRIE, sizeof(struct vigil_lpm_v6), sizeof(struct vigil_block_val) },
	[M_BYPASS] = { VIGIL_MAP_BYPASS, BPF_MAP_TYPE_LRU_HASH, sizeof(struct vigil_flow_key), sizeof(struct vigil_bypass_val) },
	[M_CONFIG] = { VIGIL_MAP_CONFIG, BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(struct vigil_config) },
	[M_XSKS] = { VIGIL_MAP_XSKS, BPF_MAP_TYPE_XSKMAP, sizeof(__u32), sizeof(__u32) },
};

static const struct { const char *name, *help; } ctr_desc[VIGIL_CTR_MAX] = {
	[VIGIL_CTR_RX] = { "rx", "packets the program saw" },
	[VIGIL_CTR_PARSE_ERROR] = { "parse_error", "truncated or malformed headers (passed on)" },
	[VIGIL_CTR_NON_IP] = { "non_ip", "neither IPv4 nor IPv6 (ARP, MPLS, ...)" },
	[VIGIL_CTR_BLOCK_DROPPED] = { "block_dropped", "blocklisted, dropped (inline mode)" },
	[VIGIL_CTR_BLOCK_TAGGED] = { "block_tagged", "blocklisted, tagged and handed on (tap mode)" },
	[VIGIL_CTR_BYPASS_DROPPED] = { "bypass_dropped", "bypassed flow, dropped before user space (tap mode)" },
	[VIGIL_CTR_BYPASS_PASSED] = { "bypass_passed", "bypassed flow, passed to the kernel (inline mode)" },
	[VIGIL_CTR_TO_XSK] = { "to_xsk", "redirected to the AF_XDP socket of the queue" },
	[VIGIL_CTR_TO_KERNEL] = { "to_kernel", "passed to the kernel" },
};

struct xdp_handle {
	int fd[M__N];
	char iface[IF_NAMESIZE];
	uint32_t prog_id;
	const char *hook;
	bool pinned;
	int ncpus;
	char err[256];
};

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int herr(struct xdp_handle *h, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int herr(struct xdp_handle *h, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->err, sizeof(h->err), fmt, ap);
	va_end(ap);
	return rc;
}

/* errno as a sentence, naming the privileges when they are what is missing. */
static const char *why(int e)
{
	e = e < 0 ? -e : e;
	if (e == EPERM || e == EACCES)
		return NEED_ROOT;
	return strerror(e);
}

const char *xdp_counter_name(enum vigil_ctr i)
{
	return (unsigned)i < VIGIL_CTR_MAX ? ctr_desc[i].name : "?";
}

const char *xdp_counter_help(enum vigil_ctr i)
{
	return (unsigned)i < VIGIL_CTR_MAX ? ctr_desc[i].help : "?";
}

uint64_t xdp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *xdp_errmsg(const struct xdp_handle *h)
{
	return h ? h->err : "";
}

/* A name we may put in a path: what the kernel accepts as a device name. */
static bool valid_iface(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n >= IF_NAMESIZE || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || *s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

/* ---- libbpf's messages: keep the first warning as the detail of an error */

static char lb_first[256];

static int lb_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	if (getenv("VIGIL_XDP_VERBOSE"))
		return vfprintf(stderr, fmt, ap);
	if (!lb_first[0]) {
		vsnprintf(lb_first, sizeof(lb_first), fmt, ap);
		lb_first[strcspn(lb_first, "\n")] = '\0';
	}
	return 0;
}

/* ---- pins */

static void pin_path(char *buf, size_t len, const char *iface, const char *name)
{
	if (name)
		snprintf(buf, len, "%s/%s/%s", XDP_PIN_ROOT, iface, name);
	else
		snprintf(buf, len, "%s/%s", XDP_PIN_ROOT, iface);
}

static int make_dir(const char *path)
{
	return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -errno;
}

static int ensure_bpffs(void)
{
	struct statfs st;
	int rc;

	if (statfs(BPFFS, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	rc = make_dir(BPFFS);
	if (rc)
		return rc;
	if (mount("bpf", BPFFS, "bpf", 0, "mode=0700"))
		return -errno;
	return 0;
}

static void unpin(const char *iface)
{
	char path[128];

	for (int i = 0; i < M__N; i++) {
		pin_path(path, sizeof(path), iface, map_desc[i].name);
		unlink(path);
	}
	pin_path(path, sizeof(path), iface, NULL);
	rmdir(path);
	rmdir(XDP_PIN_ROOT);   /* only if no other interface is pinned */
}

static int pin(struct bpf_object *obj, const char *iface, char *err, size_t errlen)
{
	char path[128];
	int rc = ensure_bpffs();

	if (rc) {
		seterr(err, errlen, "pinning the maps: cannot mount bpffs at %s: %s", BPFFS, why(rc));
		return rc;
	}
	unpin(iface);   /* stale pins of a program that is gone */
	snprintf(path, sizeof(path), "%s", XDP_PIN_ROOT);
	rc = make_dir(path);
	if (rc == 0) {
		pin_path(path, sizeof(path), iface, NULL);
		rc = make_dir(path);
	}
	if (rc) {
		seterr(err, errlen, "pinning the maps: mkdir %s: %s", path, strerror(-rc));
		return rc;
	}
	for (int i = 0; i < M__N; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(obj, map_desc[i].name);

		pin_path(path, sizeof(path), iface, map_desc[i].name);
		if (!m || bpf_obj_pin(bpf_map__fd(m), path)) {
			rc = m ? -errno : -ENOENT;
			seterr(err, errlen, "pinning the maps: %s: %s", path, strerror(-rc));
			unpin(iface);
			return rc;
		}
	}
	return 0;
}

/* ---- attach / detach */

/* The name of program id into buf; -errno if it cannot be read. */
static int prog_name(uint32_t id, char *buf, size_t len)
{
	struct bpf_prog_info info;
	__u32 ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id), rc = 0;

	buf[0] = '\0';
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		rc = -errno;
	else
		snprintf(buf, len, "%s", info.name);
	close(fd);
	return rc;
}

/* vigil's program among those attached to ifindex: its id and hook. */
struct attached {
	uint32_t vigil_id, other_id;   /* other_id: a program that is not ours */
	char other_name[BPF_OBJ_NAME_LEN];
	__u32 flags;                   /* XDP_FLAGS_*_MODE of vigil's */
	const char *hook;
};

static bool is_perm(int rc)
{
	return rc == -EPERM || rc == -EACCES;
}

static int query(int ifindex, struct attached *a)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	const struct { __u32 *id; __u32 flags; const char *hook; } hooks[] = {
		{ &q.drv_prog_id, XDP_FLAGS_DRV_MODE, "drv" },
		{ &q.skb_prog_id, XDP_FLAGS_SKB_MODE, "skb" },
		{ &q.hw_prog_id, XDP_FLAGS_HW_MODE, "hw" },
	};
	int rc;

	memset(a, 0, sizeof(*a));
	a->hook = "";
	rc = bpf_xdp_query(ifindex, 0, &q);
	if (rc)
		return rc;
	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		char name[BPF_OBJ_NAME_LEN];
		__u32 id = *hooks[i].id;

		if (!id)
			continue;
		rc = prog_name(id, name, sizeof(name));
		if (is_perm(rc))
			return rc;   /* anyone may see the id, only root the program */
		if (!a->vigil_id && !strcmp(name, VIGIL_PROG_NAME)) {
			a->vigil_id = id;
			a->flags = hooks[i].flags;
			a->hook = hooks[i].hook;
		} else if (!a->other_id) {
			a->other_id = id;
			snprintf(a->other_name, sizeof(a->other_name), "%s", name);
		}
	}
	return 0;
}

int xdp_attach(const char *iface, enum vigil_mode mode, enum xdp_hook hook, bool xsk,
	       char *err, size_t errlen)
{
	struct vigil_config cfg = { .mode = mode, .xsk = xsk, .version = VIGIL_CONFIG_VERSION };
	__u32 flags = XDP_FLAGS_UPDATE_IF_NOEXIST, zero = 0;
	libbpf_print_fn_t old_print;
	struct vigil_xdp *skel = NULL;
	int ifindex, rc;

	if (!valid_iface(iface)) {
		seterr(err, errlen, "attaching to '%s': not an interface name", iface ? iface : "");
		return -EINVAL;
	}
	if ((mode != VIGIL_MODE_TAP && mode != VIGIL_MODE_INLINE) ||
	    (hook != XDP_HOOK_AUTO && hook != XDP_HOOK_SKB && hook != XDP_HOOK_DRV)) {
		seterr(err, errlen, "attaching to %s: invalid mode or hook", iface);
		return -EINVAL;
	}
	ifindex = (int)if_nametoindex(iface);
	if (!ifindex) {
		rc = -errno;
		seterr(err, errlen, "attaching to %s: %s", iface, strerror(-rc));
		return rc;
	}
	lb_first[0] = '\0';
	old_print = libbpf_set_print(lb_print);
	skel = vigil_xdp__open();
	if (!skel) {
		rc = -errno;
		seterr(err, errlen, "opening the XDP program: %s", why(rc));
		goto out;
	}
	rc = vigil_xdp__load(skel);
	if (rc) {
		if (is_perm(rc) || !lb_first[0])
			seterr(err, errlen, "loading the XDP program: %s", why(rc));
		else
			seterr(err, errlen, "loading the XDP program: %s (%s)", why(rc), lb_first);
		goto out;
	}
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.vigil_config), &zero, &cfg, BPF_ANY)) {
		rc = -errno;
		seterr(err, errlen, "configuring the XDP program: %s", why(rc));
		goto out;
	}
	if (hook == XDP_HOOK_SKB)
		flags |= XDP_FLAGS_SKB_MODE;
	else if (hook == XDP_HOOK_DRV)
		flags |= XDP_FLAGS_DRV_MODE;
	rc = bpf_xdp_attach(ifindex, bpf_program__fd(skel->progs.vigil_xdp), flags, NULL);
	if (rc) {
		struct attached a;

		if ((rc == -EBUSY || rc == -EEXIST) && query(ifindex, &a) == 0 && (a.vigil_id || a.other_id))
			seterr(err, errlen, "attaching to %s: it already has an XDP program (id %u, '%s'); "
			       "detach it first", iface, a.vigil_id ? a.vigil_id : a.other_id,
			       a.vigil_id ? VIGIL_PROG_NAME : a.other_name);
		else if (rc == -EOPNOTSUPP && hook == XDP_HOOK_DRV)
			seterr(err, errlen, "attaching to %s: its driver has no native XDP (generic mode works "
			       "everywhere: --skb)", iface);
		else
			seterr(err, errlen, "attaching to %s: %s", iface, why(rc));
		goto out;
	}
	rc = pin(skel->obj, iface, err, errlen);
	if (rc) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = bpf_program__fd(skel->progs.vigil_xdp));

		bpf_xdp_detach(ifindex, (flags & XDP_FLAGS_MODES) | XDP_FLAGS_REPLACE, &o);
	}
out:
	vigil_xdp__destroy(skel);   /* the attachment keeps the program and its maps */
	libbpf_set_print(old_print);
	return rc;
}

int xdp_detach(const char *iface, char *err, size_t errlen)
{
	struct attached a;
	int ifindex, fd, rc;

	if (!valid_iface(iface)) {
		seterr(err, errlen, "detaching from '%s': not an interface name", iface ? iface : "");
		return -EINVAL;
	}
	ifindex = (int)if_nametoindex(iface);
	if (!ifindex) {
		/* its pins, if any, may be those of a namesake in another namespace */
		rc = -errno;
		seterr(err, errlen, "detaching from %s: %s", iface, strerror(-rc));
		return rc;
	}
	rc = query(ifindex, &a);
	if (rc) {
		seterr(err, errlen, "detaching from %s: %s", iface, why(rc));
		return rc;
	}
	if (!a.vigil_id) {
		if (a.other_id) {
			seterr(err, errlen, "detaching from %s: its XDP program (id %u, '%s') is not vigil's; "
			       "leaving it", iface, a.other_id, a.other_name);
			return -EBUSY;
		}
		unpin(iface);
		seterr(err, errlen, "detaching from %s: no XDP program is attached", iface);
		return -ENOENT;
	}
	fd = bpf_prog_get_fd_by_id(a.vigil_id);
	if (fd < 0) {
		rc = -errno;
		seterr(err, errlen, "detaching from %s: %s", iface, why(rc));
		return rc;
	}
	{
		/* only if it is still the program we looked at */
		LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = fd);

		rc = bpf_xdp_detach(ifindex, a.flags | XDP_FLAGS_REPLACE, &o);
	}
	close(fd);
	if (rc) {
		seterr(err, errlen, "detaching from %s: %s", iface, why(rc));
		return rc;
	}
	unpin(iface);
	return 0;
}

/* ---- handles */

static struct xdp_handle *handle_new(void)
{
	struct xdp_handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	for (int i = 0; i < M__N; i++)
		h->fd[i] = -1;
	h->hook = "";
	h->ncpus = libbpf_num_possible_cpus();
	return h;
}

static void close_maps(struct xdp_handle *h)
{
	for (int i = 0; i < M__N; i++) {
		if (h->fd[i] >= 0)
			close(h->fd[i]);
		h->fd[i] = -1;
	}
}

void xdp_close(struct xdp_handle *h)
{
	if (!h)
		return;
	close_maps(h);
	free(h);
}

static int map_info(int fd, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, len);
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

/* Every map present and shaped as this build expects (xsks_map may lack). */
static int check_maps(struct xdp_handle *h, const char *what, char *err, size_t errlen)
{
	if (h->ncpus <= 0) {
		seterr(err, errlen, "%s: cannot count the possible CPUs", what);
		return -EINVAL;
	}
	for (int i = 0; i < M__N; i++) {
		const struct map_desc *d = &map_desc[i];
		struct bpf_map_info info;
		int rc;

		if (h->fd[i] < 0) {
			if (i == M_XSKS)
				continue;
			seterr(err, errlen, "%s: map %s not found (not vigil's program?)", what, d->name);
			return -ENOENT;
		}
		rc = map_info(h->fd[i], &info);
		if (rc) {
			seterr(err, errlen, "%s: map %s: %s", what, d->name, why(rc));
			return rc;
		}
		if (info.type != d->type || info.key_size != d->key_size || info.value_size != d->value_size) {
			seterr(err, errlen, "%s: map %s has type %u, key %u and value %u bytes; this build "
			       "expects %u, %u and %u (a different vigil version?)", what, d->name, info.type,
			       info.key_size, info.value_size, d->type, d->key_size, d->value_size);
			return -EPROTO;
		}
	}
	return 0;
}

int xdp_open_object(struct bpf_object *obj, struct xdp_handle **out, char *err, size_t errlen)
{
	struct xdp_handle *h = handle_new();
	int rc;

	*out = NULL;
	if (!h) {
		seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (int i = 0; i < M__N; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(obj, map_desc[i].name);

		if (m && bpf_map__fd(m) >= 0)
			h->fd[i] = fcntl(bpf_map__fd(m), F_DUPFD_CLOEXEC, 0);
	}
	rc = check_maps(h, "opening the object's maps", err, errlen);
	if (rc) {
		xdp_close(h);
		return rc;
	}
	*out = h;
	return 0;
}

static int open_pins(struct xdp_handle *h)
{
	char path[128];

	for (int i = 0; i < M__N; i++) {
		pin_path(path, sizeof(path), h->iface, map_desc[i].name);
		h->fd[i] = bpf_obj_get(path);
		if (h->fd[i] < 0 && i != M_XSKS) {
			close_maps(h);
			return -ENOENT;
		}
	}
	return 0;
}

/* The map ids of program id (malloc'd), their number in *n. */
static int prog_map_ids(uint32_t id, __u32 **ids, __u32 *n)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id), rc = 0;

	*ids = NULL;
	*n = 0;
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		rc = -errno;
		goto out;
	}
	*n = info.nr_map_ids;
	*ids = calloc(*n ? *n : 1, sizeof(**ids));
	if (!*ids) {
		rc = -ENOMEM;
		goto out;
	}
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = *n;
	info.map_ids = (__u64)(uintptr_t)*ids;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		rc = -errno;
		goto out;
	}
	if (info.nr_map_ids < *n)
		*n = info.nr_map_ids;
out:
	if (rc) {
		free(*ids);
		*ids = NULL;
	}
	close(fd);
	return rc;
}

/* Do the pinned maps belong to program id (not left over from another)? */
static bool pins_belong(struct xdp_handle *h, uint32_t id)
{
	__u32 *ids, n;
	bool all = true;

	if (prog_map_ids(id, &ids, &n))
		return false;
	for (int i = 0; i < M__N && all; i++) {
		struct bpf_map_info info;
		bool found = false;

		if (h->fd[i] < 0)
			continue;
		if (map_info(h->fd[i], &info))
			all = false;
		for (__u32 j = 0; j < n && !found; j++)
			found = ids[j] == info.id;
		all = all && found;
	}
	free(ids);
	return all;
}

static int open_by_prog(struct xdp_handle *h, uint32_t id)
{
	__u32 *ids, n;
	int rc = prog_map_ids(id, &ids, &n);

	if (rc)
		return rc;
	for (__u32 j = 0; j < n; j++) {
		struct bpf_map_info info;
		int fd = bpf_map_get_fd_by_id(ids[j]);
		bool kept = false;

		if (fd < 0)
			continue;
		if (map_info(fd, &info) == 0)
			for (int i = 0; i < M__N && !kept; i++)
				if (h->fd[i] < 0 && !strcmp(info.name, map_desc[i].name)) {
					h->fd[i] = fd;
					kept = true;
				}
		if (!kept)
			close(fd);
	}
	free(ids);
	return 0;
}

int xdp_open(const char *iface, struct xdp_handle **out, char *err, size_t errlen)
{
	struct xdp_handle *h;
	struct attached a = { .hook = "" };
	char what[64];
	int ifindex, rc;

	*out = NULL;
	if (!valid_iface(iface)) {
		seterr(err, errlen, "opening '%s': not an interface name", iface ? iface : "");
		return -EINVAL;
	}
	h = handle_new();
	if (!h) {
		seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(h->iface, sizeof(h->iface), "%s", iface);
	snprintf(what, sizeof(what), "opening %s", iface);
	ifindex = (int)if_nametoindex(iface);
	if (ifindex) {
		rc = query(ifindex, &a);
		if (rc) {
			seterr(err, errlen, "%s: %s", what, why(rc));
			goto fail;
		}
	}
	/* the pins, if they are those of the program on the interface */
	if (open_pins(h) == 0) {
		if (!ifindex || (a.vigil_id && pins_belong(h, a.vigil_id)))
			h->pinned = true;
		else
			close_maps(h);   /* stale: left by a program that is gone */
	}
	if (!h->pinned) {
		if (!ifindex) {
			rc = -ENODEV;
			seterr(err, errlen, "%s: %s", what, strerror(ENODEV));
			goto fail;
		}
		if (!a.vigil_id) {
			rc = -ENOENT;
			if (a.other_id)
				seterr(err, errlen, "%s: its XDP program (id %u, '%s') is not vigil's", what,
				       a.other_id, a.other_name);
			else
				seterr(err, errlen, "%s: no XDP program is attached", what);
			goto fail;
		}
		rc = open_by_prog(h, a.vigil_id);
		if (rc) {
			seterr(err, errlen, "%s: program %u: %s", what, a.vigil_id, why(rc));
			goto fail;
		}
	}
	h->prog_id = a.vigil_id;
	h->hook = a.hook;
	rc = check_maps(h, what, err, errlen);
	if (rc)
		goto fail;
	*out = h;
	return 0;
fail:
	xdp_close(h);
	return rc;
}

/* ---- config, counters */

int xdp_info(struct xdp_handle *h, struct xdp_info *info)
{
	struct vigil_config cfg;
	__u32 zero = 0;

	memset(info, 0, sizeof(*info));
	snprintf(info->iface, sizeof(info->iface), "%s", h->iface);
	info->prog_id = h->prog_id;
	info->hook = h->hook;
	info->pinned = h->pinned;
	if (bpf_map_lookup_elem(h->fd[M_CONFIG], &zero, &cfg))
		return herr(h, -errno, "reading %s: %s", VIGIL_MAP_CONFIG, why(errno));
	info->configured = cfg.version == VIGIL_CONFIG_VERSION;
	info->mode = info->configured ? (enum vigil_mode)cfg.mode : VIGIL_MODE_TAP;
	info->xsk = info->configured ? cfg.xsk != 0 : true;
	return 0;
}

int xdp_set_config(struct xdp_handle *h, enum vigil_mode mode, bool xsk)
{
	struct vigil_config cfg = { .mode = mode, .xsk = xsk, .version = VIGIL_CONFIG_VERSION };
	__u32 zero = 0;

	if (mode != VIGIL_MODE_TAP && mode != VIGIL_MODE_INLINE)
		return herr(h, -EINVAL, "mode %d: neither tap nor inline", (int)mode);
	if (bpf_map_update_elem(h->fd[M_CONFIG], &zero, &cfg, BPF_ANY))
		return herr(h, -errno, "writing %s: %s", VIGIL_MAP_CONFIG, why(errno));
	return 0;
}

int xdp_counters(struct xdp_handle *h, struct xdp_counters *sum)
{
	struct vigil_ctr_val *v = calloc((size_t)h->ncpus, sizeof(*v));

	memset(sum, 0, sizeof(*sum));
	if (!v)
		return herr(h, -ENOMEM, "out of memory");
	for (__u32 i = 0; i < VIGIL_CTR_MAX; i++) {
		if (bpf_map_lookup_elem(h->fd[M_COUNTERS], &i, v)) {
			int rc = -errno;

			free(v);
			return herr(h, rc, "reading %s: %s", VIGIL_MAP_COUNTERS, why(rc));
		}
		for (int c = 0; c < h->ncpus; c++) {
			sum->c[i].packets += v[c].packets;
			sum->c[i].bytes += v[c].bytes;
		}
	}
	free(v);
	return 0;
}

/* ---- map walks */

/* Every key of map fd (at most max), malloc'd into *keys. */
static int snapshot_keys(int fd, size_t key_size, size_t max, uint8_t **keys, size_t *n)
{
	uint8_t *k = malloc(key_size * (max + 1));
	size_t cnt = 0;
	int rc;

	*keys = NULL;
	*n = 0;
	if (!k)
		return -ENOMEM;
	while (cnt < max) {
		rc = bpf_map_get_next_key(fd, cnt ? k + (cnt - 1) * key_size : NULL, k + cnt * key_size);
		if (rc == -ENOENT)
			break;
		if (rc) {
			free(k);
			return rc;
		}
		cnt++;
	}
	*keys = k;
	*n = cnt;
	return 0;
}

/* ---- blocklist */

static int block_key(const struct xdp_prefix *p, void *key, int *which)
{
	if (p->family == 4) {
		struct vigil_lpm_v4 *k = key;

		memset(k, 0, sizeof(*k));
		k->prefixlen = p->len;
		memcpy(k->addr, p->addr, 4);
		*which = M_BLOCK_V4;
	} else {
		struct vigil_lpm_v6 *k = key;

		memset(k, 0, sizeof(*k));
		k->prefixlen = p->len;
		memcpy(k->addr, p->addr, 16);
		*which = M_BLOCK_V6;
	}
	return 0;
}

int xdp_block_add(struct xdp_handle *h, const char *prefix, uint64_t duration_ns)
{
	struct vigil_block_val v = { 0 };
	struct vigil_lpm_v6 key;   /* the larger of the two keys */
	struct xdp_prefix p;
	int which, rc;

	rc = xdp_prefix_parse(prefix, &p, h->err, sizeof(h->err));
	if (rc)
		return rc;
	block_key(&p, &key, &which);
	if (duration_ns) {
		uint64_t now = xdp_now_ns();

		v.expires_ns = duration_ns > UINT64_MAX - now ? UINT64_MAX : now + duration_ns;
	}
	if (bpf_map_update_elem(h->fd[which], &key, &v, BPF_ANY)) {
		rc = -errno;
		return herr(h, rc, "adding %s to the blocklist: %s", prefix,
			    rc == -ENOSPC ? "the blocklist is full" : why(rc));
	}
	return 0;
}

int xdp_block_del(struct xdp_handle *h, const char *prefix)
{
	struct vigil_lpm_v6 key;
	struct xdp_prefix p;
	int which, rc;

	rc = xdp_prefix_parse(prefix, &p, h->err, sizeof(h->err));
	if (rc)
		return rc;
	block_key(&p, &key, &which);
	if (bpf_map_delete_elem(h->fd[which], &key)) {
		rc = -errno;
		return herr(h, rc, "removing %s from the blocklist: %s", prefix,
			    rc == -ENOENT ? "not in the blocklist" : why(rc));
	}
	return 0;
}

static int cmp_lpm_v4(const void *a, const void *b)
{
	const struct vigil_lpm_v4 *x = a, *y = b;
	int c = memcmp(x->addr, y->addr, sizeof(x->addr));

	return c ? c : (int)x->prefixlen - (int)y->prefixlen;
}

static int cmp_lpm_v6(const void *a, const void *b)
{
	const struct vigil_lpm_v6 *x = a, *y = b;
	int c = memcmp(x->addr, y->addr, sizeof(x->addr));

	return c ? c : (int)x->prefixlen - (int)y->prefixlen;
}

/* Walks one family's entries (sorted by address): lists them, or, with
 * expire_at, deletes those expired then.  Returns the count. */
static int block_walk(struct xdp_handle *h, int which, uint64_t expire_at,
		      void (*cb)(const struct xdp_block_entry *e, void *arg), void *arg)
{
	size_t ks = map_desc[which].key_size, n;
	uint8_t *keys;
	int rc = snapshot_keys(h->fd[which], ks, VIGIL_BLOCK_MAX, &keys, &n), count = 0;

	if (rc)
		return herr(h, rc, "reading %s: %s", map_desc[which].name, why(rc));
	qsort(keys, n, ks, which == M_BLOCK_V4 ? cmp_lpm_v4 : cmp_lpm_v6);
	for (size_t i = 0; i < n; i++) {
		const void *key = keys + i * ks;
		struct vigil_block_val v;

		if (bpf_map_lookup_elem(h->fd[which], key, &v))
			continue;   /* deleted meanwhile */
		if (expire_at) {
			if (v.expires_ns && expire_at >= v.expires_ns && bpf_map_delete_elem(h->fd[which], key) == 0)
				count++;
			continue;
		}
		if (cb) {
			struct xdp_block_entry e = { .expires_ns = v.expires_ns, .hits = v.hits };

			if (which == M_BLOCK_V4) {
				const struct vigil_lpm_v4 *k = key;

				e.prefix.family = 4;
				e.prefix.len = (uint8_t)k->prefixlen;
				memcpy(e.prefix.addr, k->addr, 4);
			} else {
				const struct vigil_lpm_v6 *k = key;

				e.prefix.family = 6;
				e.prefix.len = (uint8_t)k->prefixlen;
				memcpy(e.prefix.addr, k->addr, 16);
			}
			cb(&e, arg);
		}
		count++;
	}
	free(keys);
	return count;
}

int xdp_block_list(struct xdp_handle *h, void (*cb)(const struct xdp_block_entry *e, void *arg), void *arg)
{
	int n4 = block_walk(h, M_BLOCK_V4, 0, cb, arg), n6;

	if (n4 < 0)
		return n4;
	n6 = block_walk(h, M_BLOCK_V6, 0, cb, arg);
	return n6 < 0 ? n6 : n4 + n6;
}

int xdp_block_expire(struct xdp_handle *h, uint64_t now_ns)
{
	int n4, n6;

	if (!now_ns)
		now_ns = 1;   /* 0 means "list" to block_walk; nothing expires at 0 anyway */
	n4 = block_walk(h, M_BLOCK_V4, now_ns, NULL, NULL);
	if (n4 < 0)
		return n4;
	n6 = block_walk(h, M_BLOCK_V6, now_ns, NULL, NULL);
	return n6 < 0 ? n6 : n4 + n6;
}

/* ---- bypass */

unsigned xdp_flow_key_make(struct vigil_flow_key *k, int family, const void *src, uint16_t sport,
			   const void *dst, uint16_t dport, uint8_t proto, uint16_t vlan)
{
	uint8_t s[16] = { 0 }, d[16] = { 0 };
	int c;
	bool src_lo;

	if (family == 4) {
		s[10] = s[11] = d[10] = d[11] = 0xff;
		memcpy(s + 12, src, 4);
		memcpy(d + 12, dst, 4);
	} else {
		memcpy(s, src, 16);
		memcpy(d, dst, 16);
	}
	c = memcmp(s, d, 16);
	src_lo = c < 0 || (c == 0 && sport <= dport);
	memset(k, 0, sizeof(*k));
	memcpy(k->addr[0], src_lo ? s : d, 16);
	memcpy(k->addr[1], src_lo ? d : s, 16);
	k->port[0] = src_lo ? sport : dport;
	k->port[1] = src_lo ? dport : sport;
	k->proto = proto;
	k->vlan = vlan & 0x0fff;
	return src_lo ? 0 : 1;
}

int xdp_bypass_add(struct xdp_handle *h, const struct vigil_flow_key *k, uint64_t until_ns)
{
	struct vigil_bypass_val v = { .until_ns = until_ns };
	int fd = h->fd[M_BYPASS];

	if (k->pad)
		return herr(h, -EINVAL, "bypass key: pad must be 0");
	for (int tries = 0; tries < 3; tries++) {
		if (bpf_map_update_elem(fd, k, &v, BPF_NOEXIST) == 0)
			return 0;
		if (errno != EEXIST)
			break;
		/* refresh: keep what the kernel counted so far */
		if (bpf_map_lookup_elem(fd, k, &v) == 0) {
			v.until_ns = until_ns;
			if (bpf_map_update_elem(fd, k, &v, BPF_EXIST) == 0)
				return 0;
		}
		if (errno != ENOENT)
			break;
		memset(&v, 0, sizeof(v));   /* gone meanwhile: add it afresh */
		v.until_ns = until_ns;
	}
	return herr(h, -errno, "bypassing a flow: %s", why(errno));
}

int xdp_bypass_take(struct xdp_handle *h, const struct vigil_flow_key *k, struct vigil_bypass_val *counts)
{
	int fd = h->fd[M_BYPASS], rc;

	memset(counts, 0, sizeof(*counts));
	rc = bpf_map_lookup_and_delete_elem(fd, k, counts);
	if (rc == -EINVAL || rc == -ENOTSUP || rc == -EOPNOTSUPP) {
		/* kernels before 5.14: in two steps (a packet in between is not counted) */
		rc = bpf_map_lookup_elem(fd, k, counts);
		if (rc == 0)
			rc = bpf_map_delete_elem(fd, k);
	}
	if (rc)
		return herr(h, rc, "taking back a bypassed flow: %s", rc == -ENOENT ? "not bypassed" : why(rc));
	return 0;
}

/* Walks the bypass entries: all, or with reap_at, takes those expired then. */
static int bypass_walk(struct xdp_handle *h, uint64_t reap_at,
		       void (*cb)(const struct vigil_flow_key *k, const struct vigil_bypass_val *v, void *arg),
		       void *arg)
{
	size_t n;
	uint8_t *keys;
	int rc = snapshot_keys(h->fd[M_BYPASS], sizeof(struct vigil_flow_key), VIGIL_BYPASS_MAX, &keys, &n);
	int count = 0;

	if (rc)
		return herr(h, rc, "reading %s: %s", VIGIL_MAP_BYPASS, why(rc));
	for (size_t i = 0; i < n; i++) {
		const struct vigil_flow_key *k = (const void *)(keys + i * sizeof(*k));
		struct vigil_bypass_val v;

		if (bpf_map_lookup_elem(h->fd[M_BYPASS], k, &v))
			continue;   /* taken or evicted meanwhile */
		if (reap_at) {
			if (!v.until_ns || reap_at < v.until_ns ||
			    bpf_map_lookup_and_delete_elem(h->fd[M_BYPASS], k, &v))
				continue;
		}
		if (cb)
			cb(k, &v, arg);
		count++;
	}
	free(keys);
	return count;
}

int xdp_bypass_reap(struct xdp_handle *h, uint64_t now_ns,
		    void (*cb)(const struct vigil_flow_key *k, const struct vigil_bypass_val *v, void *arg),
		    void *arg)
{
	return bypass_walk(h, now_ns ? now_ns : 1, cb, arg);
}

int xdp_bypass_list(struct xdp_handle *h,
		    void (*cb)(const struct vigil_flow_key *k, const struct vigil_bypass_val *v, void *arg),
		    void *arg)
{
	return bypass_walk(h, 0, cb, arg);
}
