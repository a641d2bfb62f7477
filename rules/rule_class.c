/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Classification table: classtype name -> description and priority, from a
 * classification.config file or built in (Suricata's standard set).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rule_priv.h"

static const struct rule_class builtin[] = {
	{ "not-suspicious", "Not Suspicious Traffic", 3 },
	{ "unknown", "Unknown Traffic", 3 },
	{ "bad-unknown", "Potentially Bad Traffic", 2 },
	{ "attempted-recon", "Attempted Information Leak", 2 },
	{ "successful-recon-limited", "Information Leak", 2 },
	{ "successful-recon-largescale", "Large Scale Information Leak", 2 },
	{ "attempted-dos", "Attempted Denial of Service", 2 },
	{ "successful-dos", "Denial of Service", 2 },
	{ "attempted-user", "Attempted User Privilege Gain", 1 },
	{ "unsuccessful-user", "Unsuccessful User Privilege Gain", 1 },
	{ "successful-user", "Successful User Privilege Gain", 1 },
	{ "attempted-admin", "Attempted Administrator Privilege Gain", 1 },
	{ "successful-admin", "Successful Administrator Privilege Gain", 1 },
	{ "rpc-portmap-decode", "Decode of an RPC Query", 2 },
	{ "shellcode-detect", "Executable code was detected", 1 },
	{ "string-detect", "A suspicious string was detected", 3 },
	{ "suspicious-filename-detect", "A suspicious filename was detected", 2 },
	{ "suspicious-login", "An attempted login using a suspicious username was detected", 2 },
	{ "system-call-detect", "A system call was detected", 2 },
	{ "tcp-connection", "A TCP connection was detected", 4 },
	{ "trojan-activity", "A Network Trojan was detected", 1 },
	{ "unusual-client-port-connection", "A client was using an unusual port", 2 },
	{ "network-scan", "Detection of a Network Scan", 3 },
	{ "denial-of-service", "Detection of a Denial of Service Attack", 2 },
	{ "non-standard-protocol", "Detection of a non-standard protocol or event", 2 },
	{ "protocol-command-decode", "Generic Protocol Command Decode", 3 },
	{ "web-application-activity", "access to a potentially vulnerable web application", 2 },
	{ "web-application-attack", "Web Application Attack", 1 },
	{ "misc-activity", "Misc activity", 3 },
	{ "misc-attack", "Misc Attack", 2 },
	{ "icmp-event", "Generic ICMP event", 3 },
	{ "inappropriate-content", "Inappropriate Content was Detected", 1 },
	{ "policy-violation", "Potential Corporate Privacy Violation", 1 },
	{ "default-login-attempt", "Attempt to login by a default username and password", 2 },
	{ "targeted-activity", "Targeted Malicious Activity was Detected", 1 },
	{ "exploit-kit", "Exploit Kit Activity Detected", 1 },
	{ "external-ip-check", "Device Retrieving External IP Address Detected", 2 },
	{ "domain-c2", "Domain Observed Used for C2 Detected", 1 },
	{ "pup-activity", "Possibly Unwanted Program Detected", 2 },
	{ "credential-theft", "Successful Credential Theft Detected", 1 },
	{ "social-engineering", "Possible Social Engineering Attempted", 2 },
	{ "coin-mining", "Crypto Currency Mining Activity Detected", 2 },
	{ "command-and-control", "Malware Command and Control Activity Detected", 1 },
};
#define NBUILTIN (sizeof(builtin) / sizeof(builtin[0]))

struct rule_classes {
	struct rule_class *c;
	size_t n, cap;
	struct rule_arena arena;   /* the strings */
};

const struct rule_class *rule_class_find_builtin(const char *name)
{
	for (size_t i = 0; i < NBUILTIN; i++)
		if (strcasecmp(builtin[i].name, name) == 0)
			return &builtin[i];
	return NULL;
}

const struct rule_class *rule_classes_find(const struct rule_classes *c, const char *name)
{
	if (!c)
		return rule_class_find_builtin(name);
	for (size_t i = 0; i < c->n; i++)
		if (strcasecmp(c->c[i].name, name) == 0)
			return &c->c[i];
	return NULL;
}

size_t rule_classes_count(const struct rule_classes *c)
{
	return c ? c->n : NBUILTIN;
}

/* Adds or (same name: Suricata keeps the last) replaces a class. */
static int classes_add(struct rule_classes *c, const char *name, size_t nlen, const char *desc,
		       size_t dlen, uint8_t prio)
{
	struct rule_class *e = NULL;
	char *nm = rule_arena_strndup(&c->arena, name, nlen);
	char *ds = rule_arena_strndup(&c->arena, desc, dlen);

	if (!nm || !ds)
		return -ENOMEM;
	for (size_t i = 0; i < nlen; i++)
		if (nm[i] >= 'A' && nm[i] <= 'Z')
			nm[i] = (char)(nm[i] - 'A' + 'a');
	for (size_t i = 0; i < c->n && !e; i++)
		if (strcmp(c->c[i].name, nm) == 0)
			e = &c->c[i];
	if (!e) {
		if (c->n == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 64;
			struct rule_class *nc = realloc(c->c, cap * sizeof(*nc));

			if (!nc)
				return -ENOMEM;
			c->c = nc;
			c->cap = cap;
		}
		e = &c->c[c->n++];
	}
	e->name = nm;
	e->desc = ds;
	e->priority = prio;
	return 0;
}

int rule_classes_create_default(struct rule_classes **out)
{
	struct rule_classes *c = calloc(1, sizeof(*c));
	int rc = 0;

	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < NBUILTIN && rc == 0; i++)
		rc = classes_add(c, builtin[i].name, strlen(builtin[i].name), builtin[i].desc,
				 strlen(builtin[i].desc), builtin[i].priority);
	if (rc) {
		rule_classes_destroy(c);
		c = NULL;
	}
	*out = c;
	return rc;
}

static bool sp(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* One line "config classification: name,description,priority": the
 * description may hold commas (the priority follows the last one). */
static int classes_line(struct rule_classes *c, const char *name, unsigned lineno, const char *l,
			size_t n, char *err, size_t errlen)
{
	static const char kw[] = "config";
	static const char kw2[] = "classification";
	size_t i = 0, a, b, last;
	unsigned long prio = 0;

	while (i < n && sp(l[i]))
		i++;
	if (i == n || l[i] == '#')
		return 0;
	if (n - i < sizeof(kw) - 1 || strncmp(l + i, kw, sizeof(kw) - 1) != 0)
		goto bad;
	i += sizeof(kw) - 1;
	while (i < n && sp(l[i]))
		i++;
	if (n - i < sizeof(kw2) - 1 || strncmp(l + i, kw2, sizeof(kw2) - 1) != 0)
		goto bad;
	i += sizeof(kw2) - 1;
	while (i < n && sp(l[i]))
		i++;
	if (i == n || l[i] != ':')
		goto bad;
	i++;
	while (i < n && sp(l[i]))
		i++;
	a = i;
	while (i < n && l[i] != ',')
		i++;
	b = i;
	while (b > a && sp(l[b - 1]))
		b--;
	if (b == a || i == n) {
		snprintf(err, errlen, "%s:%u:%zu: expected 'name,description,priority'", name, lineno,
			 a + 1);
		return -EINVAL;
	}
	for (size_t k = a; k < b; k++) {
		char ch = l[k];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '-' || ch == '_')) {
			snprintf(err, errlen, "%s:%u:%zu: bad classtype name '%.*s'", name, lineno,
				 a + 1, (int)(b - a), l + a);
			return -EINVAL;
		}
	}
	last = n;
	while (last > i && l[last - 1] != ',')
		last--;
	if (last <= i + 1) {
		snprintf(err, errlen, "%s:%u:%zu: missing priority", name, lineno, n + 1);
		return -EINVAL;
	}
	{
		size_t p = last, e = n, ds = i + 1, de = last - 1;

		while (p < e && sp(l[p]))
			p++;
		while (e > p && sp(l[e - 1]))
			e--;
		if (p == e || e - p > 3)
			goto badprio;
		for (size_t k = p; k < e; k++) {
			if (l[k] < '0' || l[k] > '9')
				goto badprio;
			prio = prio * 10 + (unsigned long)(l[k] - '0');
		}
		if (prio == 0 || prio > 255)
			goto badprio;
		while (ds < de && sp(l[ds]))
			ds++;
		while (de > ds && sp(l[de - 1]))
			de--;
		if (classes_add(c, l + a, b - a, l + ds, de - ds, (uint8_t)prio) != 0) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		return 0;
badprio:
		snprintf(err, errlen, "%s:%u:%zu: bad priority '%.*s' (1-255)", name, lineno, p + 1,
			 (int)(e - p), l + p);
		return -EINVAL;
	}
bad:
	snprintf(err, errlen, "%s:%u:%zu: expected 'config classification: name,description,priority'",
		 name, lineno, i + 1);
	return -EINVAL;
}

int rule_classes_load_buffer(struct rule_classes **out, const char *name, const char *buf,
			     size_t len, char *err, size_t errlen)
{
	struct rule_classes *c = calloc(1, sizeof(*c));
	unsigned lineno = 0;
	size_t i = 0;
	int rc = 0;
	char dummy[1];

	*out = NULL;
	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (!c)
		return -ENOMEM;
	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (buf + i)) : len - i;

		lineno++;
		rc = classes_line(c, name, lineno, buf + i, n, err, errlen);
		if (rc)
			break;
		i += n + 1;
	}
	if (rc) {
		rule_classes_destroy(c);
		return rc;
	}
	*out = c;
	return 0;
}

int rule_classes_load(struct rule_classes **out, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, got;
	int rc;

	*out = NULL;
	if (!f) {
		rc = -errno;
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	for (;;) {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap ? cap * 2 : 8192);

			if (!nb) {
				rc = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap = cap ? cap * 2 : 8192;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		rc = -EIO;
		if (err && errlen)
			snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	rc = rule_classes_load_buffer(out, path, buf, len, err, errlen);
out:
	if (rc == -ENOMEM && err && errlen)
		snprintf(err, errlen, "out of memory");
	free(buf);
	fclose(f);
	return rc;
}

void rule_classes_destroy(struct rule_classes *c)
{
	if (!c)
		return;
	free(c->c);
	rule_arena_fini(&c->arena);
	free(c);
}
