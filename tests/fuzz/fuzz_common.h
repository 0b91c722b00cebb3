/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by the ipump fuzzers (ipump_ioctl_fuzz.c, ipump_nl_fuzz.c) and the
 * soak helper: a seeded RNG, per-operation statistics in shared memory,
 * minimal raw generic netlink (no libnl), simulated cards in slots that a
 * remover thread takes away and makes again, and the consistency check of
 * every card's audit-log stream against what the fuzzer was told.
 *
 * The consistency model (Documentation/userspace-api/ipump.rst, "Event
 * types"; Documentation/safety/therapy-engine.rst):
 *  - each card instance has a reader opened right after the card went live,
 *    mask all-pass; its records have strictly increasing sequence numbers
 *    without a gap, except where an explicit OVERFLOW record names the gap
 *    exactly (the gap is then fetched from the log dump while the card
 *    lives), and it ends with CARD_REMOVED (value[0] its own seq), then
 *    ENODEV;
 *  - every accepted state-changing request has its record (programme set
 *    <-> PROGRAMME_SET with the returned generation, start <-> STARTED with
 *    the generation given, ...), and every refusal the core judged has a
 *    REQUEST_REFUSED or BOLUS_DENIED record with the same errno;
 *  - per channel, STATE_CHANGED records chain (previous = last new state),
 *    the generations of PROGRAMME_SET and RATE_CHANGED count 1, 2, 3 ...,
 *    and the final status shows the last state and generation;
 *  - PCA rules hold on the record timestamps (virtual clock): two PCA starts
 *    are at least the lockout apart, and no start exceeds the hourly count.
 */
#ifndef IPUMP_FUZZ_COMMON_H
#define IPUMP_FUZZ_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sys/syscall.h>

#include <linux/capability.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/ipump.h>

#include "../ipump_test_lib.h"

#define FZ_FN		static __attribute__((unused))
#define FZ_NERR		140		/* errno values counted one by one */
#define FZ_MAX_SLOTS	16
#define FZ_MAX_INSTS	256
#define FZ_EV_PER_READ	64
#define FZ_HOUR_NS	(3600ULL * 1000000000ULL)

static const char *fz_prog = "fuzz";
static int fz_verbose;

#define fz_log(...)	do { if (fz_verbose) { printf(__VA_ARGS__); fflush(stdout); } } while (0)

/* ---- seeded RNG: splitmix64 ---------------------------------------------- */

struct fz_rng {
	uint64_t s;
};

FZ_FN uint64_t fz_next(struct fz_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

FZ_FN uint64_t fz_below(struct fz_rng *r, uint64_t n)
{
	return n ? fz_next(r) % n : 0;
}

/* uniform in [lo, hi] */
FZ_FN uint64_t fz_range(struct fz_rng *r, uint64_t lo, uint64_t hi)
{
	if (hi <= lo)
		return lo;
	if (hi - lo == UINT64_MAX)
		return fz_next(r);
	return lo + fz_below(r, hi - lo + 1);
}

FZ_FN bool fz_pct(struct fz_rng *r, unsigned int pct)
{
	return fz_below(r, 100) < pct;
}

/*
 * A value at or around @limit for a field of @bits (32 or 64): 0, 1,
 * limit - 1, limit, limit + 1, the type's max - 1, max, (u64 fields) the
 * u32 max + 1, or a random one below the limit.
 */
FZ_FN uint64_t fz_around(struct fz_rng *r, uint64_t limit, int bits)
{
	uint64_t max = bits == 32 ? UINT32_MAX : UINT64_MAX, v;

	switch (fz_below(r, bits == 32 ? 9 : 11)) {
	case 0: v = 0; break;
	case 1: v = 1; break;
	case 2: v = limit - 1; break;
	case 3: v = limit; break;
	case 4: v = limit + 1; break;
	case 5: v = max - 1; break;
	case 6: v = max; break;
	case 7: v = fz_range(r, 1, limit ? limit : 1); break;
	case 8: v = limit / 2; break;
	case 9: v = (uint64_t)UINT32_MAX + 1; break;
	default: v = UINT32_MAX; break;
	}
	return v & max;
}

/* ---- statistics, in memory shared with forked workers --------------------- */

/*
 * @need: 1: the run fails unless some calls were accepted (a category
 * whose calls are all refused proves nothing); -1: the run fails if any
 * call was accepted (unknown ioctl numbers); 0: either.
 */
struct fz_opdef {
	const char *name;
	int need;
};

struct fz_opstat {
	uint64_t calls;
	uint64_t accepted;
	uint64_t refused[FZ_NERR];	/* by errno; FZ_NERR-1: any larger */
};

struct fz_shared {
	pthread_mutex_t lock;		/* process-shared: slots */
	volatile int go;
	volatile int stop;
	uint64_t calls_done;		/* atomic */
	uint64_t calls_budget;
	uint64_t problems;		/* atomic: inconsistencies seen by workers */
	uint32_t inst_seq;
	struct fz_slot {
		uint32_t inst;		/* instance id, > 0 */
		int live;
		int dying;		/* being removed: no new requests */
		char name[32];		/* configfs/debugfs name */
		char dev[64];		/* /dev/ipumpN */
		unsigned int num;	/* N */
		unsigned int nch;
	} slot[FZ_MAX_SLOTS];
	unsigned int nslots;
	/* expectations: what accepted or refused requests must have logged */
	uint64_t nexp, maxexp;
	uint64_t nprog, maxprog;
	struct fz_opstat ops[];
};

/* An accepted or refused request that must have left a record. */
enum fz_xkind {
	X_PROG_SET,		/* key: the generation returned */
	X_CLEAR,		/* PROGRAMME_SET route 0 */
	X_TITRATE,		/* RATE_CHANGED, key: generation returned */
	X_START,		/* STARTED, key: generation given */
	X_RESUME,		/* RESUMED, key: generation given */
	X_STOP,			/* STOPPED cause COMMAND */
	X_PAUSE,		/* PAUSED cause COMMAND */
	X_DEMAND,		/* BOLUS_STARTED of a console PCA demand */
	X_CLIN,			/* BOLUS_STARTED of a clinician bolus, key vol<<32|rate */
	X_CANCEL,		/* BOLUS_CANCELLED cause COMMAND */
	X_AUDIO,		/* AUDIO_PAUSED, key: ms */
	X_ACQUIRE,		/* LEASE_ACQUIRED (unless a renewal), key: period */
	X_RELEASE,		/* LEASE_RELEASED */
	X_TAKEOVER,		/* LEASE_TAKEN_OVER, key: period */
	X_LIMITS,		/* HARD_LIMITS_SET, key: min rate */
	X_REFUSED,		/* REQUEST_REFUSED / console BOLUS_DENIED, key: errno */
	X_MAYBE_REFUSED,	/* may have one (EIO: a state refusal in fault is
				 * logged, a failed register access is not) */
	X_CANCEL_EXTRA,		/* may have logged a BOLUS_CANCELLED by command */
	X_NKINDS
};

static const char *const fz_xname[X_NKINDS] = {
	"programme-set", "clear", "titrate", "start", "resume", "stop",
	"pause", "pca-demand", "clinician-bolus", "bolus-cancel",
	"audio-pause", "lease-acquire", "lease-release", "lease-takeover",
	"hard-limits", "refusal", "maybe-refusal", "maybe-cancel",
};

struct fz_expect {
	uint32_t inst;
	uint8_t ch;
	uint8_t kind;
	uint16_t pad;
	uint64_t key;
};

/* An accepted programme, for the PCA rule checks (by generation). */
struct fz_progrec {
	uint32_t inst;
	uint8_t ch;
	uint8_t pca;
	uint16_t pad;
	uint64_t gen;
	uint32_t lockout_ms;
	uint32_t per_hour;
	uint32_t bolus_volume;
	uint32_t bolus_rate;
};

static struct fz_shared *fz_sh;
/* refusal records keyed by errno * 256 + reason (netlink knows the reason) */
static bool fz_key_reason;
static struct fz_expect *fz_exp;
static struct fz_progrec *fz_progs;
static const struct fz_opdef *fz_ops;
static unsigned int fz_nops;

FZ_FN void *fz_shmem(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	return p;
}

FZ_FN void fz_shared_init(const struct fz_opdef *ops, unsigned int nops,
			  uint64_t budget)
{
	pthread_mutexattr_t a;

	fz_ops = ops;
	fz_nops = nops;
	fz_sh = fz_shmem(sizeof(*fz_sh) + nops * sizeof(struct fz_opstat));
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&fz_sh->lock, &a);
	fz_sh->calls_budget = budget;
	/* every call can expect at most two records of its own */
	fz_sh->maxexp = 2 * budget + 1024;
	fz_sh->maxprog = budget + 1024;
	fz_exp = fz_shmem(fz_sh->maxexp * sizeof(*fz_exp));
	fz_progs = fz_shmem(fz_sh->maxprog * sizeof(*fz_progs));
}

FZ_FN void fz_count(unsigned int op, int err)
{
	struct fz_opstat *s = &fz_sh->ops[op];

	__atomic_add_fetch(&s->calls, 1, __ATOMIC_RELAXED);
	if (!err)
		__atomic_add_fetch(&s->accepted, 1, __ATOMIC_RELAXED);
	else
		__atomic_add_fetch(&s->refused[err < FZ_NERR - 1 && err > 0 ?
					       err : FZ_NERR - 1], 1,
				   __ATOMIC_RELAXED);
}

FZ_FN void fz_problem(const char *fmt, ...)
{
	va_list ap;

	__atomic_add_fetch(&fz_sh->problems, 1, __ATOMIC_RELAXED);
	printf("INCONSISTENT: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

FZ_FN void fz_expect(uint32_t inst, unsigned int ch, enum fz_xkind kind,
		     uint64_t key)
{
	uint64_t i = __atomic_fetch_add(&fz_sh->nexp, 1, __ATOMIC_RELAXED);

	if (i >= fz_sh->maxexp) {
		fz_problem("expectation table full");
		return;
	}
	fz_exp[i] = (struct fz_expect){ .inst = inst, .ch = ch, .kind = kind,
					.key = key };
}

FZ_FN void fz_prog_accepted(uint32_t inst, unsigned int ch, uint64_t gen,
			    const struct ipump_programme *p)
{
	uint64_t i = __atomic_fetch_add(&fz_sh->nprog, 1, __ATOMIC_RELAXED);

	if (i >= fz_sh->maxprog)
		return;
	fz_progs[i] = (struct fz_progrec){
		.inst = inst, .ch = ch, .gen = gen,
		.pca = !!(p->flags & IPUMP_PROG_PCA),
		.lockout_ms = p->lockout_ms,
		.per_hour = p->max_boluses_per_hour,
		.bolus_volume = p->bolus_volume_nl,
		.bolus_rate = p->bolus_rate_nl_per_h,
	};
}

/* Errno names for the statistics. */
FZ_FN const char *fz_errname(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENOTTY: return "ENOTTY";
	case ERANGE: return "ERANGE";
	case ENODATA: return "ENODATA";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ENOBUFS: return "ENOBUFS";
	case EADDRINUSE: return "EADDRINUSE";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ESTALE: return "ESTALE";
	case EDQUOT: return "EDQUOT";
	case EOWNERDEAD: return "EOWNERDEAD";
	case EMSGSIZE: return "EMSGSIZE";
	case EACCES: return "EACCES";
	case ETIME: return "ETIME";
	case EPROTO: return "EPROTO";
	case ENOSPC: return "ENOSPC";
	case EEXIST: return "EEXIST";
	case ENOENT + 1000: return "?";
	default: return NULL;
	}
}

/* Prints the per-operation table; returns the number of failed categories. */
FZ_FN int fz_print_stats(void)
{
	uint64_t tc = 0, ta = 0, tr = 0;
	unsigned int i, e;
	int bad = 0;

	printf("%-26s %9s %9s %9s  refused by errno\n", "operation", "calls",
	       "accepted", "refused");
	for (i = 0; i < fz_nops; i++) {
		struct fz_opstat *s = &fz_sh->ops[i];
		uint64_t ref = s->calls - s->accepted;
		const char *flag = "";

		tc += s->calls;
		ta += s->accepted;
		tr += ref;
		if (fz_ops[i].need > 0 && !s->accepted) {
			flag = "  <-- NO CALL ACCEPTED";
			bad++;
		} else if (fz_ops[i].need < 0 && s->accepted) {
			flag = "  <-- MUST NEVER BE ACCEPTED";
			bad++;
		}
		printf("%-26s %9llu %9llu %9llu ", fz_ops[i].name,
		       (unsigned long long)s->calls,
		       (unsigned long long)s->accepted, (unsigned long long)ref);
		for (e = 1; e < FZ_NERR; e++) {
			const char *n;

			if (!s->refused[e])
				continue;
			n = e == FZ_NERR - 1 ? "other" : fz_errname(e);
			if (n)
				printf(" %s:%llu", n, (unsigned long long)s->refused[e]);
			else
				printf(" E%u:%llu", e, (unsigned long long)s->refused[e]);
		}
		printf("%s\n", flag);
	}
	printf("%s: total calls %llu, accepted %llu, refused %llu\n", fz_prog,
	       (unsigned long long)tc, (unsigned long long)ta,
	       (unsigned long long)tr);
	return bad;
}

/* ---- kernel reports (dmesg) ------------------------------------------------ */

static const char *const fz_report_pat[] = {
	"WARNING:", "BUG:", "Oops", "general protection", "KASAN:", "UBSAN:",
	"possible circular locking", "possible recursive locking",
	"inconsistent lock state", "Invalid wait context",
	"suspicious RCU usage", "bad unlock balance", "held lock freed",
	"sleeping function called from invalid context", "refcount_t:",
	"list_add corruption", "list_del corruption", "ODEBUG:",
	"blocked for more than", "RCU detected stall", "Call Trace:",
};

/* Kernel report lines now in the ring buffer (-1 if it cannot be read). */
FZ_FN int fz_kernel_reports(bool print)
{
	int len = klogctl(10, NULL, 0), n, count = 0;
	char *buf, *line, *save = NULL;
	size_t i;

	if (len <= 0)
		len = 1 << 20;
	buf = malloc(len + 1);
	if (!buf)
		return -1;
	n = klogctl(3, buf, len);
	if (n < 0) {
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		for (i = 0; i < sizeof(fz_report_pat) / sizeof(fz_report_pat[0]); i++) {
			if (strstr(line, fz_report_pat[i])) {
				if (print)
					printf("kernel: %s\n", line);
				count++;
				break;
			}
		}
	}
	free(buf);
	return count;
}

/* ---- raw generic netlink ---------------------------------------------------- */

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

struct fz_nl {
	int fd;
	uint32_t portid;
	uint32_t seq;
	uint16_t family;
	uint32_t mcgrp;
};

struct fz_msg {
	size_t len;
	uint32_t force_len;	/* a header length that lies (0: the real one) */
	union {
		struct nlmsghdr nlh;
		char buf[4096];
	};
};

struct fz_nlres {
	int err;		/* 0 or a positive errno */
	uint32_t reason;	/* extack cookie IPUMP_A_REASON, or ~0 */
	char msg[128];		/* extack message */
	uint64_t gen;		/* reply IPUMP_A_GENERATION, or ~0 */
	uint64_t result_nl;	/* reply IPUMP_A_RESULT_NL */
	int replies;		/* reply messages (not acks) */
};

FZ_FN void fz_msg_init(struct fz_msg *m, uint16_t type, uint16_t flags,
		       uint8_t cmd, uint8_t version)
{
	struct genlmsghdr *g;

	memset(m->buf, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	m->force_len = 0;
	m->nlh.nlmsg_type = type;
	m->nlh.nlmsg_flags = NLM_F_REQUEST | flags;
	g = (struct genlmsghdr *)(m->buf + NLMSG_HDRLEN);
	g->cmd = cmd;
	g->version = version;
	m->len = NLMSG_HDRLEN + GENL_HDRLEN;
}

/* Appends one attribute; its length field may lie (fuzzing). */
FZ_FN int fz_put_raw(struct fz_msg *m, uint16_t type, const void *data,
		     size_t len, int len_delta)
{
	struct nlattr *a;
	size_t total = NLA_ALIGN(NLA_HDRLEN + len);

	if (m->len + total > sizeof(m->buf))
		return -1;
	a = (struct nlattr *)(m->buf + m->len);
	a->nla_type = type;
	a->nla_len = (uint16_t)((int)(NLA_HDRLEN + len) + len_delta);
	if (len)
		memcpy(a + 1, data, len);
	memset((char *)(a + 1) + len, 0, total - NLA_HDRLEN - len);
	m->len += total;
	return 0;
}

FZ_FN int fz_put_u32(struct fz_msg *m, uint16_t type, uint32_t v)
{
	return fz_put_raw(m, type, &v, sizeof(v), 0);
}

FZ_FN int fz_put_u64(struct fz_msg *m, uint16_t type, uint64_t v)
{
	return fz_put_raw(m, type, &v, sizeof(v), 0);
}

FZ_FN size_t fz_nest_start(struct fz_msg *m, uint16_t type)
{
	size_t off = m->len;

	fz_put_raw(m, type, NULL, 0, 0);
	return off;
}

FZ_FN void fz_nest_end(struct fz_msg *m, size_t off)
{
	struct nlattr *a = (struct nlattr *)(m->buf + off);

	a->nla_len = (uint16_t)(m->len - off);
}

FZ_FN int fz_nl_open(struct fz_nl *nl)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	socklen_t sl = sizeof(sa);
	int one = 1, rcv = 1 << 20;

	memset(nl, 0, sizeof(*nl));
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (nl->fd < 0)
		return -errno;
	setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(nl->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(nl->fd, (struct sockaddr *)&sa, &sl)) {
		int e = -errno;

		close(nl->fd);
		nl->fd = -1;
		return e;
	}
	nl->portid = sa.nl_pid;
	nl->seq = (uint32_t)time(NULL);
	return 0;
}

FZ_FN void fz_nl_close(struct fz_nl *nl)
{
	if (nl->fd >= 0)
		close(nl->fd);
	nl->fd = -1;
}

FZ_FN int fz_nl_send(struct fz_nl *nl, struct fz_msg *m)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	m->nlh.nlmsg_len = m->force_len ? m->force_len : (uint32_t)m->len;
	m->nlh.nlmsg_seq = ++nl->seq;
	m->nlh.nlmsg_pid = 0;
	if (sendto(nl->fd, m->buf, m->len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0)
		return -errno;
	return 0;
}

/* Calls @cb for each attribute in [@p, @p + @len). */
#define fz_for_each_attr(a, p, len)						\
	for (a = (struct nlattr *)(p);						\
	     (char *)(a) + NLA_HDRLEN <= (char *)(p) + (len) &&			\
	     a->nla_len >= NLA_HDRLEN &&					\
	     (char *)(a) + a->nla_len <= (char *)(p) + (len);			\
	     a = (struct nlattr *)((char *)(a) + NLA_ALIGN(a->nla_len)))

FZ_FN uint64_t fz_attr_uint(const struct nlattr *a)
{
	uint64_t v = 0;

	if (a->nla_len == NLA_HDRLEN + 8)
		memcpy(&v, a + 1, 8);
	else if (a->nla_len == NLA_HDRLEN + 4)
		v = *(const uint32_t *)(a + 1);
	else if (a->nla_len == NLA_HDRLEN + 2)
		v = *(const uint16_t *)(a + 1);
	return v;
}

typedef void (*fz_nl_cb)(void *priv, const struct nlmsghdr *nlh);

/*
 * Receives the answer to the request with sequence number nl->seq: reply
 * messages go to @cb, the error or ack ends a do request, NLMSG_DONE a dump.
 */
FZ_FN int fz_nl_recv(struct fz_nl *nl, struct fz_nlres *res, fz_nl_cb cb,
		     void *priv, int timeout_ms)
{
	static __thread char buf[65536];
	struct pollfd pfd = { .fd = nl->fd, .events = POLLIN };
	struct nlmsghdr *nlh;
	ssize_t n;

	memset(res, 0, sizeof(*res));
	res->reason = ~0U;
	res->gen = ~0ULL;
	for (;;) {
		int pr = poll(&pfd, 1, timeout_ms);

		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return -errno;
		if (!pr)
			return -ETIME;	/* no answer (ETIMEDOUT is a refusal) */
		n = recv(nl->fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, (size_t)n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_seq != nl->seq)
				continue;	/* a late answer to an earlier request */
			if (nlh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nlh);
				size_t off = sizeof(*e);
				struct nlattr *a;
				size_t tl;

				res->err = -e->error;
				if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
					off += e->msg.nlmsg_len - NLMSG_HDRLEN;
				if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) ||
				    NLMSG_HDRLEN + off > nlh->nlmsg_len)
					return res->err ? -res->err : 0;
				tl = nlh->nlmsg_len - NLMSG_HDRLEN - off;
				fz_for_each_attr(a, (char *)e + off, tl) {
					if (a->nla_type == NLMSGERR_ATTR_MSG)
						snprintf(res->msg, sizeof(res->msg), "%.*s",
							 (int)(a->nla_len - NLA_HDRLEN),
							 (char *)(a + 1));
					if (a->nla_type == NLMSGERR_ATTR_COOKIE) {
						struct nlattr *c;

						fz_for_each_attr(c, a + 1, a->nla_len - NLA_HDRLEN)
							if (c->nla_type == IPUMP_A_REASON)
								res->reason = (uint32_t)fz_attr_uint(c);
					}
				}
				return res->err ? -res->err : 0;
			}
			res->replies++;
			if (cb)
				cb(priv, nlh);
			if (nlh->nlmsg_type >= NLMSG_MIN_TYPE) {
				struct nlattr *a;

				fz_for_each_attr(a, (char *)NLMSG_DATA(nlh) + GENL_HDRLEN,
						 nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN) {
					if ((a->nla_type & NLA_TYPE_MASK) == IPUMP_A_GENERATION)
						res->gen = fz_attr_uint(a);
					if ((a->nla_type & NLA_TYPE_MASK) == IPUMP_A_RESULT_NL)
						res->result_nl = fz_attr_uint(a);
				}
			}
		}
	}
}

struct fz_family_ans {
	uint16_t id;
	uint32_t mcgrp;
};

FZ_FN void fz_family_cb(void *priv, const struct nlmsghdr *nlh)
{
	struct fz_family_ans *ans = priv;
	struct nlattr *a, *g, *ga;
	size_t len = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;

	fz_for_each_attr(a, (char *)NLMSG_DATA(nlh) + GENL_HDRLEN, len) {
		if (a->nla_type == CTRL_ATTR_FAMILY_ID)
			ans->id = (uint16_t)fz_attr_uint(a);
		if ((a->nla_type & NLA_TYPE_MASK) != CTRL_ATTR_MCAST_GROUPS)
			continue;
		fz_for_each_attr(g, a + 1, a->nla_len - NLA_HDRLEN) {
			uint32_t id = 0;
			bool monitor = false;

			fz_for_each_attr(ga, g + 1, g->nla_len - NLA_HDRLEN) {
				if (ga->nla_type == CTRL_ATTR_MCAST_GRP_ID)
					id = (uint32_t)fz_attr_uint(ga);
				if (ga->nla_type == CTRL_ATTR_MCAST_GRP_NAME &&
				    !strcmp((char *)(ga + 1), IPUMP_GENL_MCGRP_MONITOR))
					monitor = true;
			}
			if (monitor)
				ans->mcgrp = id;
		}
	}
}

/* Resolves the "ipump" family (and its monitor group) on @nl. */
FZ_FN int fz_nl_resolve(struct fz_nl *nl)
{
	struct fz_family_ans ans = { 0 };
	struct fz_nlres res;
	struct fz_msg m;
	int ret;

	fz_msg_init(&m, GENL_ID_CTRL, NLM_F_ACK, CTRL_CMD_GETFAMILY, 1);
	fz_put_raw(&m, CTRL_ATTR_FAMILY_NAME, IPUMP_GENL_NAME,
		   sizeof(IPUMP_GENL_NAME), 0);
	ret = fz_nl_send(nl, &m);
	if (!ret)
		ret = fz_nl_recv(nl, &res, fz_family_cb, &ans, 5000);
	if (ret)
		return ret;
	if (!ans.id)
		return -ENOENT;
	nl->family = ans.id;
	nl->mcgrp = ans.mcgrp;
	return 0;
}

/* A do request: send @m with NLM_F_ACK and wait for the answer. */
FZ_FN int fz_nl_do(struct fz_nl *nl, struct fz_msg *m, struct fz_nlres *res)
{
	int ret;

	m->nlh.nlmsg_flags |= NLM_F_ACK;
	ret = fz_nl_send(nl, m);
	if (ret) {
		memset(res, 0, sizeof(*res));
		res->err = -ret;
		return ret;
	}
	ret = fz_nl_recv(nl, res, NULL, NULL, 30000);
	if (ret == -ETIME)
		res->err = ETIME;
	return ret;
}

/* Parses an IPUMP_A_EVENT nest into @ev. */
FZ_FN void fz_parse_event(const struct nlattr *nest, struct ipump_event *ev)
{
	struct nlattr *a;

	memset(ev, 0, sizeof(*ev));
	fz_for_each_attr(a, nest + 1, nest->nla_len - NLA_HDRLEN) {
		uint64_t v = fz_attr_uint(a);

		switch (a->nla_type & NLA_TYPE_MASK) {
		case IPUMP_A_EV_SEQ: ev->seq = v; break;
		case IPUMP_A_EV_TIMESTAMP_NS: ev->timestamp_ns = v; break;
		case IPUMP_A_EV_CARD: ev->card = (uint32_t)v; break;
		case IPUMP_A_EV_TYPE: ev->type = (uint16_t)v; break;
		case IPUMP_A_EV_CHANNEL: ev->channel = (uint8_t)v; break;
		case IPUMP_A_EV_PRIORITY: ev->priority = (uint8_t)v; break;
		case IPUMP_A_EV_VALUE0: ev->value[0] = v; break;
		case IPUMP_A_EV_VALUE1: ev->value[1] = v; break;
		case IPUMP_A_EV_VALUE2: ev->value[2] = v; break;
		case IPUMP_A_EV_VALUE3: ev->value[3] = v; break;
		case IPUMP_A_EV_FLAGS: ev->flags = (uint32_t)v; break;
		default: break;
		}
	}
}

struct fz_evvec {
	struct ipump_event *ev;
	size_t n, cap;
};

FZ_FN void fz_evvec_push(struct fz_evvec *v, const struct ipump_event *ev)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 1024;
		v->ev = realloc(v->ev, v->cap * sizeof(*v->ev));
		if (!v->ev) {
			perror("realloc");
			exit(2);
		}
	}
	v->ev[v->n++] = *ev;
}

FZ_FN void fz_logdump_cb(void *priv, const struct nlmsghdr *nlh)
{
	struct fz_evvec *v = priv;
	struct ipump_event ev;
	struct nlattr *a;

	fz_for_each_attr(a, (char *)NLMSG_DATA(nlh) + GENL_HDRLEN,
			 nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN) {
		if ((a->nla_type & NLA_TYPE_MASK) != IPUMP_A_EVENT)
			continue;
		fz_parse_event(a, &ev);
		fz_evvec_push(v, &ev);
	}
}

/* LOG_GET dump of card @card from @from: every record into @v. */
FZ_FN int fz_nl_log_dump(struct fz_nl *nl, unsigned int card, uint64_t from,
			 struct fz_evvec *v)
{
	struct fz_nlres res;
	struct fz_msg m;
	int ret;

	fz_msg_init(&m, nl->family, NLM_F_DUMP, IPUMP_CMD_LOG_GET,
		    IPUMP_GENL_VERSION);
	fz_put_u32(&m, IPUMP_A_CARD_ID, card);
	if (from)
		fz_put_u64(&m, IPUMP_A_LOG_FROM_SEQ, from);
	ret = fz_nl_send(nl, &m);
	if (ret)
		return ret;
	return fz_nl_recv(nl, &res, fz_logdump_cb, v, 30000);
}

/* ---- event streams: a reader per card instance ---------------------------- */

struct fz_stream {
	int fd;
	pthread_mutex_t lock;
	struct fz_evvec v;
	bool ended;		/* read() said ENODEV */
	int err;		/* another read() error */
	bool blocking;		/* a blocking read() loop, not poll() */
	uint64_t wrong_poll;	/* poll results that broke the rules */
	pthread_t thr;
	volatile bool stop;
};

/* Reads what is queued (non-blocking fd): records appended, or -errno. */
FZ_FN int fz_stream_drain(struct fz_stream *s)
{
	struct ipump_event buf[FZ_EV_PER_READ];
	ssize_t r;
	int total = 0, i;

	pthread_mutex_lock(&s->lock);
	while (!s->ended) {
		r = read(s->fd, buf, sizeof(buf));
		if (r < 0) {
			if (errno == ENODEV)
				s->ended = true;
			else if (errno != EAGAIN && errno != EINTR)
				s->err = errno;
			break;
		}
		if (r == 0 || r % sizeof(buf[0])) {
			s->err = EPROTO;
			break;
		}
		for (i = 0; i < r / (ssize_t)sizeof(buf[0]); i++)
			fz_evvec_push(&s->v, &buf[i]);
		total += r / (ssize_t)sizeof(buf[0]);
	}
	pthread_mutex_unlock(&s->lock);
	return total;
}

FZ_FN void fz_rt_self(int prio)
{
	struct sched_param sp = { .sched_priority = prio };

	/* a reader that wakes first cannot fall behind; best effort */
	pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
}

/* The collector: blocks in poll(), reads everything, until the card ends. */
FZ_FN void *fz_stream_thread(void *arg)
{
	struct fz_stream *s = arg;
	struct pollfd p = { .fd = s->fd, .events = POLLIN | POLLPRI };

	fz_rt_self(20);
	while (!s->ended && !s->err) {
		int r = poll(&p, 1, 200);

		if (r < 0 && errno != EINTR) {
			s->err = errno;
			break;
		}
		if (r > 0 && (p.revents & (POLLHUP | POLLERR))) {
			/* only after CARD_REMOVED was taken: read must say ENODEV */
			fz_stream_drain(s);
			if (!s->ended) {
				pthread_mutex_lock(&s->lock);
				if (!s->v.n ||
				    s->v.ev[s->v.n - 1].type != IPUMP_EVENT_CARD_REMOVED)
					s->wrong_poll++;
				pthread_mutex_unlock(&s->lock);
				fz_stream_drain(s);
			}
			continue;
		}
		fz_stream_drain(s);
		if (s->stop)
			break;
	}
	return NULL;
}

/* A second reader that blocks in read() itself. */
FZ_FN void *fz_blocking_thread(void *arg)
{
	struct fz_stream *s = arg;
	struct ipump_event buf[FZ_EV_PER_READ];
	ssize_t r;
	int i;

	fz_rt_self(19);
	while (!s->stop) {
		r = read(s->fd, buf, sizeof(buf));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			pthread_mutex_lock(&s->lock);
			if (errno == ENODEV)
				s->ended = true;
			else
				s->err = errno;
			pthread_mutex_unlock(&s->lock);
			break;
		}
		pthread_mutex_lock(&s->lock);
		if (r == 0 || r % sizeof(buf[0]))
			s->err = EPROTO;
		for (i = 0; i < r / (ssize_t)sizeof(buf[0]); i++)
			fz_evvec_push(&s->v, &buf[i]);
		pthread_mutex_unlock(&s->lock);
		if (s->err)
			break;
	}
	return NULL;
}

FZ_FN int fz_stream_open(struct fz_stream *s, const char *dev, bool blocking)
{
	struct ipump_event_mask m = {
		.types = ~0ULL, .min_priority = IPUMP_PRIO_INFO,
	};
	uint64_t all = 0;
	int t;

	for (t = 1; t < IPUMP_EVENT_TYPE_COUNT; t++)
		all |= IPUMP_EVENT_BIT(t);
	m.types = all;
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->blocking = blocking;
	s->fd = open(dev, O_RDONLY | O_CLOEXEC | (blocking ? 0 : O_NONBLOCK));
	if (s->fd < 0)
		return -errno;
	if (ioctl(s->fd, IPUMP_IOC_SET_EVENT_MASK, &m)) {
		int e = -errno;

		close(s->fd);
		return e;
	}
	if (pthread_create(&s->thr, NULL, blocking ? fz_blocking_thread :
			   fz_stream_thread, s)) {
		close(s->fd);
		return -EAGAIN;
	}
	return 0;
}

/* Waits for the reader to end (card removed) or stops it. */
FZ_FN void fz_stream_finish(struct fz_stream *s, int wait_ms)
{
	int waited = 0;

	while (!s->ended && !s->err && waited < wait_ms) {
		usleep(10000);
		waited += 10;
	}
	s->stop = true;
	if (!s->ended && !s->err && s->blocking)
		pthread_kill(s->thr, SIGUSR1);	/* interrupt the read() */
	pthread_join(s->thr, NULL);
	if (!s->blocking)
		fz_stream_drain(s);
	close(s->fd);
	s->fd = -1;
}

/* ---- card instances ---------------------------------------------------------- */

struct fz_inst {
	uint32_t id;
	unsigned int slot;
	struct ipt_card card;
	unsigned int nch;
	struct fz_stream main;		/* poll()ing collector */
	struct fz_stream blk;		/* blocking read() */
	bool removed;
	bool final_ok;			/* final status read */
	struct ipump_channel_status final[IPUMP_MAX_CHANNELS];
	uint64_t final_gen[IPUMP_MAX_CHANNELS];
	struct fz_evvec dump;		/* LOG_GET before removal */
	bool dumped;
};

static struct fz_inst fz_inst[FZ_MAX_INSTS];
static unsigned int fz_ninst;

FZ_FN void fz_sigusr1(int sig)
{
	(void)sig;
}

/*
 * Makes a card for slot @slot with @nch channels and its two readers, and
 * publishes it in the slot. Main process only.
 */
FZ_FN int fz_card_new(unsigned int slot, unsigned int nch, const char *tag)
{
	struct ipt_card card;
	struct fz_inst *in;
	char prefix[24];
	int ret;

	if (fz_ninst >= FZ_MAX_INSTS)
		return -ENOSPC;
	in = &fz_inst[fz_ninst];
	memset(in, 0, sizeof(*in));
	snprintf(prefix, sizeof(prefix), "%s%u_%u_", tag, slot, fz_ninst);
	ret = ipt_card_create(&card, prefix, nch);
	if (ret)
		return ret;
	in->card = card;
	in->nch = nch;
	in->slot = slot;
	ret = fz_stream_open(&in->main, in->card.dev, false);
	if (!ret)
		ret = fz_stream_open(&in->blk, in->card.dev, true);
	if (ret) {
		ipt_card_destroy(&in->card);
		return ret;
	}
	pthread_mutex_lock(&fz_sh->lock);
	in->id = ++fz_sh->inst_seq;
	fz_sh->slot[slot].inst = in->id;
	snprintf(fz_sh->slot[slot].name, sizeof(fz_sh->slot[slot].name), "%s",
		 in->card.name);
	snprintf(fz_sh->slot[slot].dev, sizeof(fz_sh->slot[slot].dev), "%s",
		 in->card.dev);
	fz_sh->slot[slot].num = in->card.num;
	fz_sh->slot[slot].nch = nch;
	fz_sh->slot[slot].live = 1;
	fz_sh->slot[slot].dying = 0;
	pthread_mutex_unlock(&fz_sh->lock);
	fz_ninst++;
	fz_log("card %s (%s, %u channels) is instance %u of slot %u\n",
	       in->card.name, in->card.dev, nch, in->id, slot);
	return 0;
}

FZ_FN struct fz_inst *fz_inst_by_id(uint32_t id)
{
	unsigned int i;

	for (i = 0; i < fz_ninst; i++)
		if (fz_inst[i].id == id)
			return &fz_inst[i];
	return NULL;
}

/* The live instance of a slot (main process). */
FZ_FN struct fz_inst *fz_slot_inst(unsigned int slot)
{
	uint32_t id;

	pthread_mutex_lock(&fz_sh->lock);
	id = fz_sh->slot[slot].live ? fz_sh->slot[slot].inst : 0;
	pthread_mutex_unlock(&fz_sh->lock);
	return id ? fz_inst_by_id(id) : NULL;
}

/*
 * Removes the slot's card while workers use it: dumps its log first (to
 * fill any gap a reader overflow leaves), then live = 0 (or rmdir at once)
 * with the workers' calls in flight and both readers blocked, then marks
 * the slot dead and waits for both readers to see CARD_REMOVED and ENODEV.
 */
FZ_FN int fz_card_remove(unsigned int slot, bool by_rmdir, struct fz_nl *nl)
{
	struct fz_inst *in = fz_slot_inst(slot);
	char path[160];
	int ret = 0;

	if (!in)
		return -ENOENT;
	if (nl && nl->fd >= 0 && !in->dumped) {
		in->dump.n = 0;
		in->dumped = !fz_nl_log_dump(nl, in->card.num, 1, &in->dump);
	}
	if (by_rmdir) {
		snprintf(path, sizeof(path), IPT_CFS "%s", in->card.name);
		if (rmdir(path))
			ret = -errno;
	} else {
		ret = ipt_card_destroy(&in->card);
	}
	if (by_rmdir && !ret)
		in->card.live = 0;
	/* only now: until here the workers keep calling into the card */
	pthread_mutex_lock(&fz_sh->lock);
	fz_sh->slot[slot].live = 0;
	pthread_mutex_unlock(&fz_sh->lock);
	in->removed = true;
	fz_stream_finish(&in->main, 20000);
	fz_stream_finish(&in->blk, 20000);
	if (!in->main.ended)
		fz_problem("card %s: the poll()ing reader did not end with ENODEV (err %d)",
			   in->card.name, in->main.err);
	if (!in->blk.ended)
		fz_problem("card %s: the blocked reader did not end with ENODEV (err %d)",
			   in->card.name, in->blk.err);
	if (in->main.wrong_poll)
		fz_problem("card %s: poll() said POLLHUP before CARD_REMOVED was read",
			   in->card.name);
	if (by_rmdir && !ret) {
		snprintf(path, sizeof(path), IPT_CFS "%s", in->card.name);
		if (!access(path, F_OK))
			ret = -EEXIST;
	}
	return ret;
}

/* ---- the consistency check ---------------------------------------------------- */

struct fz_u64vec {
	uint64_t *v;
	size_t n, cap;
};

FZ_FN void fz_u64_push(struct fz_u64vec *x, uint64_t val)
{
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 64;
		x->v = realloc(x->v, x->cap * sizeof(*x->v));
		if (!x->v)
			exit(2);
	}
	x->v[x->n++] = val;
}

FZ_FN int fz_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* 0: equal multisets; 1: @rec is a sub-multiset of @exp; -1 otherwise. */
FZ_FN int fz_multiset_cmp(struct fz_u64vec *exp, struct fz_u64vec *rec,
			   uint64_t *first_diff)
{
	size_t i = 0, j = 0;

	qsort(exp->v, exp->n, sizeof(uint64_t), fz_u64_cmp);
	qsort(rec->v, rec->n, sizeof(uint64_t), fz_u64_cmp);
	while (i < exp->n && j < rec->n) {
		if (exp->v[i] == rec->v[j]) {
			i++;
			j++;
		} else if (exp->v[i] < rec->v[j]) {
			i++;	/* expected, not recorded */
		} else {
			*first_diff = rec->v[j];
			return -1;	/* recorded, never expected */
		}
	}
	if (j < rec->n) {
		*first_diff = rec->v[j];
		return -1;
	}
	if (exp->n == rec->n)
		return 0;
	*first_diff = exp->n ? exp->v[0] : 0;
	return 1;
}

/* Like fz_multiset_cmp(), records may also match @maybe (at most once). */
FZ_FN int fz_match_maybe(struct fz_u64vec *exp, struct fz_u64vec *maybe,
			  struct fz_u64vec *rec, uint64_t *first_diff)
{
	size_t i = 0, j = 0, m = 0, used = 0;

	qsort(exp->v, exp->n, sizeof(uint64_t), fz_u64_cmp);
	qsort(maybe->v, maybe->n, sizeof(uint64_t), fz_u64_cmp);
	qsort(rec->v, rec->n, sizeof(uint64_t), fz_u64_cmp);
	for (j = 0; j < rec->n; j++) {
		uint64_t r = rec->v[j];

		while (i < exp->n && exp->v[i] < r)
			i++;	/* expected, not recorded */
		if (i < exp->n && exp->v[i] == r) {
			i++;
			used++;
			continue;
		}
		while (m < maybe->n && maybe->v[m] < r)
			m++;
		if (m < maybe->n && maybe->v[m] == r) {
			m++;
			continue;
		}
		*first_diff = r;
		return -1;
	}
	if (used == exp->n)
		return 0;
	*first_diff = 0;
	for (i = 0, j = 0; i < exp->n; i++) {
		while (j < rec->n && rec->v[j] < exp->v[i])
			j++;
		if (j < rec->n && rec->v[j] == exp->v[i]) {
			j++;
			continue;
		}
		*first_diff = exp->v[i];
		break;
	}
	return 1;
}

FZ_FN const struct fz_progrec *fz_find_prog(uint32_t inst, unsigned int ch,
					     uint64_t gen)
{
	uint64_t i, n = fz_sh->nprog < fz_sh->maxprog ? fz_sh->nprog : fz_sh->maxprog;

	for (i = 0; i < n; i++)
		if (fz_progs[i].inst == inst && fz_progs[i].ch == ch &&
		    fz_progs[i].gen == gen)
			return &fz_progs[i];
	return NULL;
}

FZ_FN bool fz_ev_same(const struct ipump_event *a, const struct ipump_event *b)
{
	return a->seq == b->seq && a->timestamp_ns == b->timestamp_ns &&
	       a->card == b->card && a->type == b->type &&
	       a->channel == b->channel && a->priority == b->priority &&
	       !memcmp(a->value, b->value, sizeof(a->value)) &&
	       a->flags == b->flags;
}

FZ_FN const struct ipump_event *fz_dump_find(const struct fz_evvec *d,
					      uint64_t seq)
{
	size_t lo = 0, hi = d->n;

	while (lo < hi) {	/* the dump is in sequence order */
		size_t mid = (lo + hi) / 2;

		if (!d->ev[mid].seq || d->ev[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < d->n && d->ev[lo].seq == seq ? &d->ev[lo] : NULL;
}

/*
 * The stream of one instance, with the gaps an OVERFLOW record announced
 * (and the records before the reader opened) filled from the log dump.
 * Returns the number of problems; *@partial when a gap could not be filled.
 */
FZ_FN int fz_full_stream(struct fz_inst *in, struct fz_evvec *out,
			  bool *partial)
{
	struct fz_stream *s = &in->main;
	const struct ipump_event *d;
	uint64_t last = 0, q;
	int problems = 0;
	size_t i;

	*partial = false;
	for (i = 0; i < s->v.n; i++) {
		const struct ipump_event *e = &s->v.ev[i];

		if (e->type == IPUMP_EVENT_OVERFLOW) {
			if (e->seq || e->value[1] != last + 1 ||
			    e->value[2] < e->value[1] ||
			    e->value[0] != e->value[2] - e->value[1] + 1 ||
			    e->priority != IPUMP_PRIO_HIGH) {
				fz_problem("%s: OVERFLOW record (seq %llu lost %llu first %llu last %llu) does not name the gap after seq %llu",
					   in->card.name, (unsigned long long)e->seq,
					   (unsigned long long)e->value[0],
					   (unsigned long long)e->value[1],
					   (unsigned long long)e->value[2],
					   (unsigned long long)last);
				problems++;
			}
			for (q = e->value[1]; q <= e->value[2] && q > last; q++) {
				d = in->dumped ? fz_dump_find(&in->dump, q) : NULL;
				if (!d) {
					if (!*partial)
						printf("%s: records %llu..%llu lost to a reader overflow; the log dump (%s, %zu records from %llu) does not hold seq %llu\n",
						       in->card.name,
						       (unsigned long long)e->value[1],
						       (unsigned long long)e->value[2],
						       in->dumped ? "taken" : "none",
						       in->dump.n, in->dump.n ?
						       (unsigned long long)in->dump.ev[0].seq : 0ULL,
						       (unsigned long long)q);
					*partial = true;
					continue;
				}
				fz_evvec_push(out, d);
			}
			if (e->value[2] > last)
				last = e->value[2];
			continue;
		}
		if (!last) {
			/* records before the reader existed: the log dump has them */
			for (q = 1; q < e->seq; q++) {
				d = in->dumped ? fz_dump_find(&in->dump, q) : NULL;
				if (d)
					fz_evvec_push(out, d);
				else if (q > 1 || in->dumped)
					*partial = true;
			}
		} else if (e->seq != last + 1) {
			fz_problem("%s: sequence gap without OVERFLOW: %llu after %llu (record type %u)",
				   in->card.name, (unsigned long long)e->seq,
				   (unsigned long long)last, e->type);
			problems++;
		}
		if (in->dumped && (d = fz_dump_find(&in->dump, e->seq)) &&
		    !fz_ev_same(d, e)) {
			fz_problem("%s: seq %llu differs between the reader and the log dump",
				   in->card.name, (unsigned long long)e->seq);
			problems++;
		}
		last = e->seq;
		fz_evvec_push(out, e);
	}
	return problems;
}

/* Per-record rules that need no history. */
FZ_FN int fz_check_record(struct fz_inst *in, const struct ipump_event *e,
			   uint64_t *last_ts)
{
	int p = 0;

	if (e->card != in->card.num || !e->type ||
	    e->type >= IPUMP_EVENT_TYPE_COUNT ||
	    (e->channel >= in->nch && e->channel != IPUMP_CHANNEL_NONE) ||
	    e->priority > IPUMP_PRIO_HIGH || e->padding ||
	    (e->flags & ~(uint32_t)(IPUMP_EVENT_F_HANDSET | IPUMP_EVENT_F_CONSOLE |
				    IPUMP_EVENT_F_ROUNDED))) {
		fz_problem("%s: malformed record seq %llu: card %u type %u channel %u priority %u flags %#x",
			   in->card.name, (unsigned long long)e->seq, e->card,
			   e->type, e->channel, e->priority, e->flags);
		p++;
	}
	if (e->timestamp_ns < *last_ts) {
		fz_problem("%s: seq %llu (type %u) goes back in time: %llu ns after %llu ns",
			   in->card.name, (unsigned long long)e->seq, e->type,
			   (unsigned long long)e->timestamp_ns,
			   (unsigned long long)*last_ts);
		p++;
	}
	*last_ts = e->timestamp_ns;
	return p;
}

struct fz_chk_ch {
	struct fz_u64vec exp[X_NKINDS], rec[X_NKINDS];
	uint64_t cancel_extra;		/* stops and pauses that may cancel */
	int state;
	uint64_t gen;			/* last generation logged */
	bool have_prog;
	const struct fz_progrec *prog;	/* the programme in effect, if known */
	bool prog_unknown;
	uint64_t pca_ts[64];		/* PCA starts, for the rules */
	unsigned int npca;
	bool gap_nonpca;		/* a non-PCA programme since the last start */
	uint64_t last_pca_ts;
	uint32_t last_pca_lockout;
	bool have_last_pca;
	uint64_t pca_starts, clin_starts;
};

/* The BOLUS_REQUESTED record a BOLUS_STARTED names (by seq). */
FZ_FN const struct ipump_event *fz_find_seq(const struct fz_evvec *v,
					     size_t upto, uint64_t seq)
{
	size_t i = upto;

	while (i--) {
		if (v->ev[i].seq == seq)
			return &v->ev[i];
		if (v->ev[i].seq && v->ev[i].seq < seq)
			break;
	}
	return NULL;
}

/*
 * Checks one instance; @status_ok: in->final[] holds the status read after
 * the workers stopped. Returns the number of problems.
 */
FZ_FN int fz_check_inst(struct fz_inst *in)
{
	struct fz_chk_ch *cc = calloc(IPUMP_MAX_CHANNELS, sizeof(*cc));
	struct fz_u64vec clin_sigs[IPUMP_MAX_CHANNELS];
	struct fz_evvec all = { 0 };
	uint64_t last_ts = 0, i, nexp, diff = 0;
	bool partial = false;
	int problems, k, r;
	unsigned int ch;

	memset(clin_sigs, 0, sizeof(clin_sigs));
	problems = fz_full_stream(in, &all, &partial);

	/* the end of the stream */
	if (in->removed) {
		const struct ipump_event *e = all.n ? &all.ev[all.n - 1] : NULL;

		if (!e || e->type != IPUMP_EVENT_CARD_REMOVED ||
		    e->value[0] != e->seq || e->priority != IPUMP_PRIO_HIGH) {
			fz_problem("%s: the stream does not end with CARD_REMOVED naming its own seq",
				   in->card.name);
			problems++;
		}
		if (!in->main.ended) {
			fz_problem("%s: read() did not end with ENODEV", in->card.name);
			problems++;
		}
	}
	if (in->main.err || in->blk.err) {
		fz_problem("%s: reader error %d / %d", in->card.name,
			   in->main.err, in->blk.err);
		problems++;
	}
	/* the blocking reader saw the same numbers */
	for (i = 0; i < in->blk.v.n; i++) {
		const struct ipump_event *b = &in->blk.v.ev[i], *m;
		size_t lo = 0, hi = all.n;

		if (!b->seq)
			continue;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (all.ev[mid].seq < b->seq)
				lo = mid + 1;
			else
				hi = mid;
		}
		m = lo < all.n && all.ev[lo].seq == b->seq ? &all.ev[lo] : NULL;
		if (m && !fz_ev_same(m, b)) {
			fz_problem("%s: seq %llu differs between two readers",
				   in->card.name, (unsigned long long)b->seq);
			problems++;
			break;
		}
		if (i && in->blk.v.ev[i - 1].seq && b->seq <= in->blk.v.ev[i - 1].seq) {
			fz_problem("%s: second reader: seq %llu after %llu",
				   in->card.name, (unsigned long long)b->seq,
				   (unsigned long long)in->blk.v.ev[i - 1].seq);
			problems++;
			break;
		}
	}

	/* what the requests expect */
	nexp = fz_sh->nexp < fz_sh->maxexp ? fz_sh->nexp : fz_sh->maxexp;
	for (i = 0; i < nexp; i++) {
		const struct fz_expect *x = &fz_exp[i];

		if (x->inst != in->id || x->ch >= IPUMP_MAX_CHANNELS)
			continue;
		fz_u64_push(&cc[x->ch].exp[x->kind], x->key);
		if (x->kind == X_STOP || x->kind == X_PAUSE ||
		    x->kind == X_CANCEL_EXTRA)
			cc[x->ch].cancel_extra++;
		if (x->kind == X_CLIN)
			fz_u64_push(&clin_sigs[x->ch], x->key);
	}
	for (ch = 0; ch < IPUMP_MAX_CHANNELS; ch++)
		cc[ch].state = IPUMP_STATE_IDLE;

	/* what the stream holds */
	for (i = 0; i < all.n; i++) {
		const struct ipump_event *e = &all.ev[i], *req;
		struct fz_chk_ch *c;

		problems += fz_check_record(in, e, &last_ts);
		if (e->type == IPUMP_EVENT_CARD_REMOVED && i != all.n - 1) {
			fz_problem("%s: CARD_REMOVED is not the last record", in->card.name);
			problems++;
		}
		if (e->channel >= in->nch)
			continue;
		c = &cc[e->channel];
		switch (e->type) {
		case IPUMP_EVENT_PROGRAMME_SET:
		case IPUMP_EVENT_RATE_CHANGED:
			if (e->value[0] != c->gen + 1) {
				fz_problem("%s ch%u: seq %llu logs generation %llu after %llu",
					   in->card.name, e->channel,
					   (unsigned long long)e->seq,
					   (unsigned long long)e->value[0],
					   (unsigned long long)c->gen);
				problems++;
			}
			c->gen = e->value[0];
			if (e->type == IPUMP_EVENT_RATE_CHANGED)
				fz_u64_push(&c->rec[X_TITRATE], e->value[0]);
			else if (e->value[2])
				fz_u64_push(&c->rec[X_PROG_SET], e->value[0]);
			else
				fz_u64_push(&c->rec[X_CLEAR], 0);
			c->have_prog = e->type == IPUMP_EVENT_RATE_CHANGED || e->value[2];
			c->prog = c->have_prog ? fz_find_prog(in->id, e->channel, c->gen) : NULL;
			c->prog_unknown = c->have_prog && !c->prog;
			if (!c->prog || !c->prog->pca)
				c->gap_nonpca = true;
			break;
		case IPUMP_EVENT_STARTED:
			fz_u64_push(&c->rec[X_START], e->value[0]);
			break;
		case IPUMP_EVENT_RESUMED:
			fz_u64_push(&c->rec[X_RESUME], e->value[0]);
			break;
		case IPUMP_EVENT_STOPPED:
			if (e->value[0] == IPUMP_CAUSE_COMMAND)
				fz_u64_push(&c->rec[X_STOP], 0);
			break;
		case IPUMP_EVENT_PAUSED:
			if (e->value[0] == IPUMP_CAUSE_COMMAND)
				fz_u64_push(&c->rec[X_PAUSE], 0);
			break;
		case IPUMP_EVENT_BOLUS_CANCELLED:
			if (e->value[1] == IPUMP_CAUSE_COMMAND)
				fz_u64_push(&c->rec[X_CANCEL], 0);
			break;
		case IPUMP_EVENT_AUDIO_PAUSED:
			fz_u64_push(&c->rec[X_AUDIO], e->value[0]);
			break;
		case IPUMP_EVENT_LEASE_ACQUIRED:
			fz_u64_push(&c->rec[X_ACQUIRE], e->value[1]);
			break;
		case IPUMP_EVENT_LEASE_RELEASED:
			fz_u64_push(&c->rec[X_RELEASE], 0);
			break;
		case IPUMP_EVENT_LEASE_TAKEN_OVER:
			fz_u64_push(&c->rec[X_TAKEOVER], e->value[2]);
			break;
		case IPUMP_EVENT_HARD_LIMITS_SET:
			fz_u64_push(&c->rec[X_LIMITS], e->value[0]);
			break;
		case IPUMP_EVENT_REQUEST_REFUSED:
			fz_u64_push(&c->rec[X_REFUSED], fz_key_reason ?
				    e->value[0] * 256 + e->value[1] : e->value[0]);
			break;
		case IPUMP_EVENT_BOLUS_DENIED:
			req = fz_find_seq(&all, i, e->value[0]);
			if (!req || req->type != IPUMP_EVENT_BOLUS_REQUESTED) {
				if (!partial) {
					fz_problem("%s ch%u: BOLUS_DENIED seq %llu names no BOLUS_REQUESTED",
						   in->card.name, e->channel,
						   (unsigned long long)e->seq);
					problems++;
				}
				break;
			}
			if (req->flags & IPUMP_EVENT_F_CONSOLE)
				fz_u64_push(&c->rec[X_REFUSED], fz_key_reason ?
					    e->value[1] * 256 + e->value[2] :
					    e->value[1]);
			break;
		case IPUMP_EVENT_BOLUS_STARTED: {
			uint64_t sig;
			bool clin = false, pca;
			size_t q;

			req = fz_find_seq(&all, i, e->value[0]);
			if (!req || req->type != IPUMP_EVENT_BOLUS_REQUESTED) {
				if (!partial) {
					fz_problem("%s ch%u: BOLUS_STARTED seq %llu names no BOLUS_REQUESTED",
						   in->card.name, e->channel,
						   (unsigned long long)e->seq);
					problems++;
				}
				break;
			}
			sig = req->value[0] << 32 | (req->value[1] & 0xffffffffULL);
			for (q = 0; q < clin_sigs[e->channel].n; q++)
				if (clin_sigs[e->channel].v[q] == sig)
					clin = true;
			/* a console start matching both kinds: either record */
			pca = req->flags & IPUMP_EVENT_F_HANDSET;
			if (req->flags & IPUMP_EVENT_F_CONSOLE) {
				bool prog_match = c->prog && c->prog->pca &&
					c->prog->bolus_volume == req->value[0] &&
					c->prog->bolus_rate == req->value[1];

				if (clin && !prog_match) {
					fz_u64_push(&c->rec[X_CLIN], sig);
				} else if (prog_match && !clin) {
					fz_u64_push(&c->rec[X_DEMAND], 0);
					pca = true;
				} else if (!clin && !prog_match && !c->prog_unknown) {
					fz_problem("%s ch%u: BOLUS_STARTED seq %llu (%llu nL at %llu nL/h) matches no request",
						   in->card.name, e->channel,
						   (unsigned long long)e->seq,
						   (unsigned long long)req->value[0],
						   (unsigned long long)req->value[1]);
					problems++;
				} else {
					/* ambiguous: count it as the rarer kind's */
					c->clin_starts++;
				}
			}
			if (!pca || !c->prog)
				break;
			/* PCA rules, on the card clock of the records */
			if (c->have_last_pca && !c->gap_nonpca &&
			    e->timestamp_ns - c->last_pca_ts <
			    (uint64_t)c->last_pca_lockout * 1000000ULL) {
				fz_problem("%s ch%u: PCA bolus seq %llu started %llu ms after the previous one, inside its %u ms lockout",
					   in->card.name, e->channel,
					   (unsigned long long)e->seq,
					   (unsigned long long)((e->timestamp_ns - c->last_pca_ts) / 1000000ULL),
					   c->last_pca_lockout);
				problems++;
			}
			{
				unsigned int n = 0, j, kept = c->npca < 64 ? c->npca : 64;

				for (j = 0; j < kept; j++)
					if (c->pca_ts[j] + FZ_HOUR_NS > e->timestamp_ns)
						n++;
				if (n >= c->prog->per_hour) {
					fz_problem("%s ch%u: PCA bolus seq %llu is the %u. in the rolling hour, limit %u",
						   in->card.name, e->channel,
						   (unsigned long long)e->seq, n + 1,
						   c->prog->per_hour);
					problems++;
				}
				c->pca_ts[c->npca++ % 64] = e->timestamp_ns;
			}
			c->have_last_pca = true;
			c->gap_nonpca = false;
			c->last_pca_ts = e->timestamp_ns;
			c->last_pca_lockout = c->prog->lockout_ms;
			break;
		}
		case IPUMP_EVENT_STATE_CHANGED:
			if ((int)e->value[1] != c->state) {
				fz_problem("%s ch%u: STATE_CHANGED seq %llu from %llu, but the last state logged was %d",
					   in->card.name, e->channel,
					   (unsigned long long)e->seq,
					   (unsigned long long)e->value[1], c->state);
				problems++;
			}
			c->state = (int)e->value[0];
			break;
		default:
			break;
		}
	}

	/* requests against records, per channel and kind */
	for (ch = 0; ch < in->nch; ch++) {
		struct fz_chk_ch *c = &cc[ch];

		for (k = 0; k < X_NKINDS; k++) {
			if (k == X_CANCEL) {
				if (c->rec[k].n < c->exp[k].n ||
				    c->rec[k].n > c->exp[k].n + c->cancel_extra) {
					if (!partial || c->rec[k].n > c->exp[k].n + c->cancel_extra) {
						fz_problem("%s ch%u: %zu bolus cancels accepted, %zu BOLUS_CANCELLED by command logged (stops/pauses %llu)",
							   in->card.name, ch, c->exp[k].n,
							   c->rec[k].n,
							   (unsigned long long)c->cancel_extra);
						problems++;
					}
				}
				continue;
			}
			if (k == X_DEMAND || k == X_CLIN || k == X_MAYBE_REFUSED ||
			    k == X_CANCEL_EXTRA) {
				/* ambiguous starts may belong to either */
				continue;
			}
			if (k == X_REFUSED)
				r = fz_match_maybe(&c->exp[k], &c->exp[X_MAYBE_REFUSED],
						   &c->rec[k], &diff);
			else
				r = fz_multiset_cmp(&c->exp[k], &c->rec[k], &diff);
			/* a lease acquire by its holder is a renewal: no record */
			if (r == 0 || (r == 1 && (k == X_ACQUIRE || partial)))
				continue;
			fz_problem("%s ch%u: %s: %zu accepted/expected, %zu logged (%s value %llu)",
				   in->card.name, ch, fz_xname[k], c->exp[k].n,
				   c->rec[k].n, r < 0 ? "unexpected logged" :
				   "missing", (unsigned long long)diff);
			problems++;
		}
		/* boluses: demands and clinician boluses together */
		{
			size_t e_n = c->exp[X_DEMAND].n + c->exp[X_CLIN].n;
			size_t r_n = c->rec[X_DEMAND].n + c->rec[X_CLIN].n + c->clin_starts;

			if (e_n != r_n && !(partial && r_n < e_n)) {
				fz_problem("%s ch%u: %zu console boluses accepted, %zu console BOLUS_STARTED logged",
					   in->card.name, ch, e_n, r_n);
				problems++;
			}
		}
		if (in->final_ok) {
			if ((int)in->final[ch].state != c->state) {
				fz_problem("%s ch%u: final state %u, last STATE_CHANGED says %d",
					   in->card.name, ch, in->final[ch].state, c->state);
				problems++;
			}
			if (in->final[ch].generation != c->gen && !partial) {
				fz_problem("%s ch%u: final generation %llu, last logged %llu",
					   in->card.name, ch,
					   (unsigned long long)in->final[ch].generation,
					   (unsigned long long)c->gen);
				problems++;
			}
		}
		for (k = 0; k < X_NKINDS; k++) {
			free(c->exp[k].v);
			free(c->rec[k].v);
		}
		free(clin_sigs[ch].v);
	}
	if (partial)
		printf("%s: note: reader overflowed and the log no longer held the gap; request/record counts checked as upper bounds\n",
		       in->card.name);
	printf("%s: %zu records checked (%zu read, %zu from the log dump)%s\n",
	       in->card.name, all.n, in->main.v.n, all.n > in->main.v.n ?
	       all.n - in->main.v.n : 0, problems ? "" : ", consistent");
	free(all.ev);
	free(cc);
	return problems;
}

/* Reads "key value" lines of an objects file; returns the sum of values. */
FZ_FN long fz_objects_sum(const char *path, char *text, size_t len)
{
	char line[128];
	long sum = 0, v;
	size_t used = 0;
	FILE *f = fopen(path, "r");

	if (text && len)
		text[0] = '\0';
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char key[64];

		if (sscanf(line, "%63s %ld", key, &v) == 2)
			sum += v;
		if (text && used < len) {
			line[strcspn(line, "\n")] = ' ';
			used += snprintf(text + used, len - used, "%s", line);
		}
	}
	fclose(f);
	return sum;
}

FZ_FN uint64_t fz_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

FZ_FN int fz_drop_sys_admin(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	d[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
	if (syscall(SYS_capset, &h, d))
		return -errno;
	return 0;
}


/* ---- generators shared by the fuzzers ---------------------------------------- */


FZ_FN uint32_t min32(uint64_t a, uint64_t b)
{
	return (uint32_t)(a < b ? a : b);
}

/* A programme the hard limits accept (usually). */
FZ_FN void valid_prog(struct fz_rng *r, const struct ipump_hard_limits *l,
		       struct ipump_programme *p)
{
	bool spinal, pca;
	uint32_t hi;

	memset(p, 0, sizeof(*p));
	p->route = (uint32_t)fz_range(r, IPUMP_ROUTE_INTRAVENOUS,
				      IPUMP_ROUTE_INTRATHECAL);
	spinal = p->route >= IPUMP_ROUTE_EPIDURAL;
	pca = fz_pct(r, 45);
	hi = min32(l->max_rate_nl_per_h, 5000000);
	if (pca && fz_pct(r, 25))
		p->basal_rate_nl_per_h = 0;
	else if (fz_pct(r, 10))
		p->basal_rate_nl_per_h = fz_pct(r, 50) ? l->min_rate_nl_per_h : hi;
	else
		p->basal_rate_nl_per_h = (uint32_t)fz_range(r, l->min_rate_nl_per_h, hi);
	if (l->max_kvo_rate_nl_per_h >= l->min_rate_nl_per_h && fz_pct(r, 55) &&
	    (!spinal || fz_pct(r, 40))) {
		hi = p->basal_rate_nl_per_h ?
		     min32(p->basal_rate_nl_per_h, l->max_kvo_rate_nl_per_h) :
		     l->max_kvo_rate_nl_per_h;
		if (hi >= l->min_rate_nl_per_h) {
			p->kvo_rate_nl_per_h = (uint32_t)fz_range(r, l->min_rate_nl_per_h, hi);
			if (spinal)
				p->flags |= IPUMP_PROG_SPINAL_KVO;
		}
	}
	if (fz_pct(r, 50))
		p->flags |= IPUMP_PROG_VTBI_UNLIMITED;
	else
		p->vtbi_nl = fz_range(r, 1, l->max_vtbi_nl < 50000000 ?
				      l->max_vtbi_nl : 50000000);
	if (pca) {
		p->flags |= IPUMP_PROG_PCA;
		p->bolus_volume_nl = (uint32_t)fz_range(r, 1,
			min32(l->max_bolus_volume_nl, l->max_dose_1h_nl / 4));
		p->bolus_rate_nl_per_h = (uint32_t)fz_range(r, l->min_rate_nl_per_h,
							    l->max_bolus_rate_nl_per_h);
		p->lockout_ms = fz_pct(r, 50) ? l->min_lockout_ms :
			(uint32_t)fz_range(r, l->min_lockout_ms,
					   min32(IPUMP_MAX_LOCKOUT_MS, 7200000));
		p->max_boluses_per_hour = (uint32_t)fz_range(r, 1, l->max_boluses_per_hour);
	}
	p->max_dose_1h_nl = l->max_dose_1h_nl;
	p->max_dose_4h_nl = l->max_dose_4h_nl;
	switch (fz_below(r, 3)) {
	case 1:
		if (p->kvo_rate_nl_per_h)
			p->lease_loss_mode = IPUMP_LEASE_LOSS_KVO;
		break;
	case 2:
		if (p->basal_rate_nl_per_h)
			p->lease_loss_mode = IPUMP_LEASE_LOSS_CONTINUE_BASAL;
		break;
	default:
		break;
	}
}

/* A value of a u32 field: valid, or at/around its limit. */
FZ_FN uint32_t mut32(struct fz_rng *r, uint32_t v, uint64_t limit)
{
	return fz_pct(r, 50) ? v : (uint32_t)fz_around(r, limit, 32);
}

FZ_FN uint64_t mut64(struct fz_rng *r, uint64_t v, uint64_t limit)
{
	return fz_pct(r, 50) ? v : fz_around(r, limit, 64);
}

FZ_FN void mutate_prog(struct fz_rng *r, const struct ipump_hard_limits *l,
			struct ipump_programme *p)
{
	unsigned int n = (unsigned int)fz_range(r, 1, 4);

	while (n--) {
		switch (fz_below(r, 15)) {
		case 0: p->route = (uint32_t)fz_around(r, IPUMP_ROUTE_INTRATHECAL, 32); break;
		case 1: p->flags = fz_pct(r, 50) ? (uint32_t)fz_next(r) :
				   (uint32_t)fz_below(r, 16); break;
		case 2: p->basal_rate_nl_per_h = mut32(r, p->basal_rate_nl_per_h,
				fz_pct(r, 50) ? l->max_rate_nl_per_h : l->min_rate_nl_per_h); break;
		case 3: p->kvo_rate_nl_per_h = mut32(r, p->kvo_rate_nl_per_h,
				l->max_kvo_rate_nl_per_h); break;
		case 4: p->vtbi_nl = mut64(r, p->vtbi_nl, l->max_vtbi_nl); break;
		case 5: p->bolus_volume_nl = mut32(r, p->bolus_volume_nl,
				l->max_bolus_volume_nl); break;
		case 6: p->bolus_rate_nl_per_h = mut32(r, p->bolus_rate_nl_per_h,
				l->max_bolus_rate_nl_per_h); break;
		case 7: p->lockout_ms = mut32(r, p->lockout_ms, fz_pct(r, 50) ?
				l->min_lockout_ms : IPUMP_MAX_LOCKOUT_MS); break;
		case 8: p->max_boluses_per_hour = mut32(r, p->max_boluses_per_hour,
				fz_pct(r, 50) ? l->max_boluses_per_hour :
				IPUMP_MAX_BOLUSES_PER_HOUR); break;
		case 9: p->max_dose_1h_nl = mut64(r, p->max_dose_1h_nl, l->max_dose_1h_nl); break;
		case 10: p->max_dose_4h_nl = mut64(r, p->max_dose_4h_nl, l->max_dose_4h_nl); break;
		case 11: p->lease_loss_mode = (uint32_t)fz_around(r, 2, 32); break;
		case 12: p->padding = (uint32_t)fz_next(r) | 1; break;
		case 13: p->reserved[fz_below(r, 8)] = (uint32_t)fz_next(r) | 1; break;
		default: p->max_dose_4h_nl = p->max_dose_1h_nl - fz_below(r, 2); break;
		}
	}
}

FZ_FN void mutate_limits(struct fz_rng *r, struct ipump_hard_limits *l)
{
	unsigned int n = (unsigned int)fz_range(r, 1, 3);

	while (n--) {
		switch (fz_below(r, 17)) {
		case 0: l->min_rate_nl_per_h = (uint32_t)fz_around(r, ipt_default_limits.min_rate_nl_per_h, 32); break;
		case 1: l->max_rate_nl_per_h = (uint32_t)fz_around(r, ipt_default_limits.max_rate_nl_per_h, 32); break;
		case 2: l->max_kvo_rate_nl_per_h = (uint32_t)fz_around(r, l->max_rate_nl_per_h, 32); break;
		case 3: l->max_bolus_volume_nl = (uint32_t)fz_around(r, ipt_default_limits.max_bolus_volume_nl, 32); break;
		case 4: l->max_bolus_rate_nl_per_h = (uint32_t)fz_around(r, ipt_default_limits.max_bolus_rate_nl_per_h, 32); break;
		case 5: l->min_lockout_ms = (uint32_t)fz_around(r, fz_pct(r, 50) ? IPUMP_MAX_LOCKOUT_MS : 1, 32); break;
		case 6: l->max_vtbi_nl = fz_around(r, ipt_default_limits.max_vtbi_nl, 64); break;
		case 7: l->max_dose_1h_nl = fz_around(r, ipt_default_limits.max_dose_1h_nl, 64); break;
		case 8: l->max_dose_4h_nl = fz_around(r, l->max_dose_1h_nl, 64); break;
		case 9: l->max_boluses_per_hour = (uint32_t)fz_around(r, IPUMP_MAX_BOLUSES_PER_HOUR, 32); break;
		case 10: l->air_bubble_nl = (uint32_t)fz_around(r, ipt_default_limits.air_bubble_nl, 32); break;
		case 11: l->air_accum_nl = (uint32_t)fz_around(r, ipt_default_limits.air_accum_nl, 32); break;
		case 12: l->over_infusion_pct = (uint32_t)fz_around(r, 100, 32); break;
		case 13: l->under_infusion_pct = (uint32_t)fz_around(r, 99, 32); break;
		case 14: l->stall_ms = (uint32_t)fz_around(r, ipt_default_limits.stall_ms, 32); break;
		case 15: l->reserved[fz_below(r, 6)] = (uint32_t)fz_next(r) | 1; break;
		default: l->min_rate_nl_per_h = 1; l->max_kvo_rate_nl_per_h = 1; break;
		}
	}
}

struct knobdef {
	const char *name;
	bool card;
	long long v[6];		/* the first ones are the harmless ones */
};

static const struct knobdef knobs[] __attribute__((unused)) = {
	{ "occlusion_down", false, { 0, 0, 0, 1, 1, 0 } },
	{ "occlusion_up", false, { 0, 0, 0, 1, 0, 0 } },
	{ "air_bubble_nl", false, { 0, 0, 30000, 250000, 250000, 199999 } },
	{ "door_open", false, { 0, 0, 0, 1, 0, 0 } },
	{ "reservoir_nl", false, { 20000000, 20000000, 2000000, 1000, 0, 20000000 } },
	{ "stall", false, { 0, 0, 0, 1, 0, 0 } },
	{ "stall_silent", false, { 0, 0, 0, 0, 1, 0 } },
	{ "speed_error_pct", false, { 0, 0, -20, 15, 100, -100 } },
	{ "free_flow_nl_per_h", false, { 0, 0, 0, 0, 500000, 0 } },
	{ "handset_press", false, { 1, 1, 2, 3, 20, 1 } },
	{ "io_fail_every", true, { 0, 0, 0, 50, 17, 3 } },
	{ "wdt_expire", true, { 1, 1, 1, 1, 1, 1 } },
	{ "mains", true, { 1, 1, 1, 0, 0, 1 } },
	{ "battery_minutes", true, { 240, 240, 20, 14, 4, 0 } },
};

FZ_FN uint32_t lease_period(struct fz_rng *r)
{
	static const uint32_t p[] = { 60000, 60000, 60000, 30000, 5000, 1000, 100 };

	return p[fz_below(r, sizeof(p) / sizeof(p[0]))];
}

/*
 * The end of a fuzzer run: the object counters back to 0, the statistics,
 * the kernel's reports since @reports0, and the verdict line. Returns the
 * exit status (1 on any problem, category never accepted or report).
 */
FZ_FN int fz_verdict(int reports0, uint64_t seed)
{
	int problems, reports, bad;
	char text[256];

	usleep(200000);
	if (fz_objects_sum("/sys/kernel/debug/ipump/objects", text, sizeof(text)))
		fz_problem("the core's object counters are not back to 0: %s", text);
	printf("ipump objects after the run: %s\n", text);
	if (fz_objects_sum("/sys/kernel/debug/ipump_sim/objects", text, sizeof(text)))
		fz_problem("the simulator's object counters are not back to 0: %s", text);
	printf("ipump_sim objects after the run: %s\n", text);

	bad = fz_print_stats();
	reports = fz_kernel_reports(false);
	if (reports >= 0 && reports0 >= 0) {
		reports -= reports0;
		printf("%s: kernel reports during the run: %d\n", fz_prog, reports);
		if (reports > 0)
			fz_kernel_reports(true);
	} else {
		printf("%s: kernel reports: cannot read the kernel log\n", fz_prog);
		reports = 0;
	}
	problems = (int)fz_sh->problems;
	printf("%s: %d inconsistencies, %d categories never accepted (or wrongly accepted), seed %llu\n",
	       fz_prog, problems, bad, (unsigned long long)seed);
	printf("%s: %s\n", fz_prog, problems || bad || reports > 0 ? "FAIL" : "PASS");
	return problems || bad || reports > 0 ? 1 : 0;
}

#endif /* IPUMP_FUZZ_COMMON_H */
