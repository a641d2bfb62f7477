/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Running vigil and vigil-lint for a validation: posix_spawn (never a
 * shell: the arguments are paths the daemon made), output to files in the
 * scratch directory, a deadline, and a way for the daemon's shutdown to
 * kill the child at once.
 *
 * The daemon blocks SIGTERM and SIGINT in every thread and ignores
 * SIGPIPE; a child must not inherit that (vigil stops on SIGTERM), so the
 * mask is emptied and those signals get their default action.  It must
 * not inherit the daemon's sockets or database either: every descriptor
 * past stderr is closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rules.h"

#define OUT_MAX (256u << 10)       /* what is kept of a tool's stdout or stderr */
#define POLL_S 0.02                /* how often a running child is checked */

extern char **environ;

double rules_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The first OUT_MAX bytes of a file (malloc'd, NUL-terminated; "" if it
 * cannot be read). */
static char *slurp_head(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(OUT_MAX + 1);
	size_t n = 0;

	if (buf && f)
		n = fread(buf, 1, OUT_MAX, f);
	if (buf)
		buf[n] = '\0';
	if (f)
		fclose(f);
	return buf;
}

static int setup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at, const char *cwd,
		 const char *out, const char *err)
{
	sigset_t none, dfl;
	int rc;

	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGPIPE);
	if ((rc = posix_spawnattr_setsigmask(at, &none)) ||
	    (rc = posix_spawnattr_setsigdefault(at, &dfl)) ||
	    (rc = posix_spawnattr_setflags(at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) ||
	    (rc = posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0)) ||
	    (rc = posix_spawn_file_actions_addopen(fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600)) ||
	    (rc = posix_spawn_file_actions_addopen(fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600)) ||
	    (rc = posix_spawn_file_actions_addclosefrom_np(fa, 3)) ||
	    (rc = posix_spawn_file_actions_addchdir_np(fa, cwd)))
		return -rc;
	return 0;
}

/* Waits until pid has exited, the deadline passes or a stop comes,
 * killing it in the last two cases; it is left a zombie (not reaped), so
 * its pid cannot be reused while a stop may still kill it. */
static void wait_child(pid_t pid, double deadline, const struct rules_run_ctl *ctl,
		       struct rules_run_result *res)
{
	siginfo_t si;

	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
			return;
		bool stop, late = rules_mono_s() >= deadline;
		pthread_mutex_lock(ctl->mu);
		stop = *ctl->stop;
		if (!stop && !late) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += (long)(POLL_S * 1e9);
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(ctl->cond, ctl->mu, &ts);
		}
		pthread_mutex_unlock(ctl->mu);
		if (stop || late) {
			kill(pid, SIGKILL);
			res->stopped = stop;
			res->timed_out = !stop;
			while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
				;
			return;
		}
	}
}

int rules_run(const char *const *argv, const char *cwd, double deadline,
	      const struct rules_run_ctl *ctl, struct rules_run_result *res, char *msg, size_t msglen)
{
	char out[4096], err[4096];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	pid_t pid = -1;
	int rc, ws = 0;

	memset(res, 0, sizeof(*res));
	snprintf(out, sizeof(out), "%s/.stdout", cwd);
	snprintf(err, sizeof(err), "%s/.stderr", cwd);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	rc = setup(&fa, &at, cwd, out, err);
	pthread_mutex_lock(ctl->mu);
	if (!rc && *ctl->stop)
		rc = -ECANCELED;
	/* published under the lock, so a stop either sees the pid or comes first */
	if (!rc) {
		rc = -(strchr(argv[0], '/') ? posix_spawn : posix_spawnp)(&pid, argv[0], &fa, &at,
								       (char *const *)argv, environ);
		*ctl->pid = rc ? -1 : pid;
	}
	pthread_mutex_unlock(ctl->mu);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc) {
		snprintf(msg, msglen, "cannot run %s: %s", argv[0], strerror(-rc));
		return rc;
	}
	wait_child(pid, deadline, ctl, res);
	pthread_mutex_lock(ctl->mu);
	*ctl->pid = -1;
	/* a stop may have killed it before we saw the stop: void either way */
	if (*ctl->stop)
		res->stopped = true;
	pthread_mutex_unlock(ctl->mu);
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	res->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : 255;
	res->out = slurp_head(out);
	res->err = slurp_head(err);
	unlink(out);
	unlink(err);
	if (!res->out || !res->err) {
		rules_run_result_fini(res);
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

void rules_run_result_fini(struct rules_run_result *res)
{
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
}
