// SPDX-License-Identifier: GPL-2.0-only
/*
 * A bounded, seeded fuzzer for /dev/ipumpN (Documentation/userspace-api/
 * ipump-cdev.rst), run as root on simulated cards in virtual time.
 *
 *   ipump_ioctl_fuzz [--seed N] [--calls N] [--cards N] [--threads N]
 *                    [--procs N] [--removals N] [--no-io-faults] [-v]
 *
 * Workers (threads of this process and forked processes, each with its own
 * open files) make --calls operations in all on --cards simulated cards:
 *  - random known ioctls with struct contents at and around every limit
 *    (the default hard limits of Documentation/safety/therapy-rules.rst,
 *    0, 1, max - 1, max, max + 1, U32_MAX, U64_MAX), random reserved and
 *    padding bits, random channels;
 *  - random ioctl numbers (unknown ones, known numbers with another size
 *    or direction) and bad argument pointers, which must all be refused;
 *  - random sequences of valid console commands (lease, programme with the
 *    current generation, start, boluses, titrate, pause, resume, stop,
 *    acknowledge, audio pause), so that every operation is also accepted;
 *  - virtual time advanced through debugfs and the simulator's fault knobs
 *    (occlusions, air, door, reservoir, stall, watchdog, register
 *    failures, battery, handset presses);
 *  - read()/poll() on the workers' own files, files closed and reopened
 *    (which loses their leases);
 *  - and a remover thread that takes cards away (configfs live = 0, or
 *    rmdir at once) while the workers are in ioctl()s and two readers per
 *    card block in poll() and read(), then makes them again.
 * The seed fixes every worker's choices; the interleaving is the
 * scheduler's. Two targeted probes follow on cards of their own: PCA
 * demands racing a thread that advances the clock (the lockout must run
 * from the logged bolus start; --race-rounds N, 0 to skip), and a
 * titration the card fails (it must change nothing, or log the change);
 * --no-probes skips both.
 *
 * Then it checks each card's audit-log stream (fuzz_common.h): sequence
 * numbers, every accepted change and every refusal against its record,
 * the state chain, generations and final status, the PCA lockout and
 * hourly count on the record timestamps; that the driver's object counters
 * are back to 0 and the kernel logged no report. It prints calls, accepted
 * and refused (by errno) per operation and exits 1 on any inconsistency or
 * when a category that must be accepted sometimes never was.
 */
#include "fuzz_common.h"

enum {
	OP_CARD_INFO, OP_STATUS, OP_EVENT_MASK, OP_SET_PROG, OP_GET_PROG,
	OP_TITRATE, OP_START, OP_STOP, OP_PAUSE, OP_RESUME, OP_CLEAR, OP_BOLUS,
	OP_BOLUS_CANCEL, OP_ACK, OP_AUDIO_PAUSE, OP_ACQUIRE, OP_RENEW,
	OP_RELEASE, OP_TAKEOVER, OP_SET_LIMITS, OP_GET_LIMITS,
	OP_BAD_NUMBER, OP_BAD_POINTER, OP_READ, OP_POLL, OP_ADVANCE,
	OP_FAULT, OP_REOPEN, OP_REMOVE, OP_RECREATE, OP_PROBE_LOCKOUT,
	OP_PROBE_TITRATE, NOPS
};

static const struct fz_opdef ops[NOPS] = {
	[OP_CARD_INFO] = { "GET_CARD_INFO", 1 },
	[OP_STATUS] = { "GET_CHANNEL_STATUS", 1 },
	[OP_EVENT_MASK] = { "SET_EVENT_MASK", 1 },
	[OP_SET_PROG] = { "SET_PROGRAMME", 1 },
	[OP_GET_PROG] = { "GET_PROGRAMME", 1 },
	[OP_TITRATE] = { "TITRATE", 1 },
	[OP_START] = { "START", 1 },
	[OP_STOP] = { "STOP", 1 },
	[OP_PAUSE] = { "PAUSE", 1 },
	[OP_RESUME] = { "RESUME", 1 },
	[OP_CLEAR] = { "CLEAR", 1 },
	[OP_BOLUS] = { "BOLUS", 1 },
	[OP_BOLUS_CANCEL] = { "BOLUS_CANCEL", 1 },
	[OP_ACK] = { "ACK", 1 },
	[OP_AUDIO_PAUSE] = { "AUDIO_PAUSE", 1 },
	[OP_ACQUIRE] = { "LEASE_ACQUIRE", 1 },
	[OP_RENEW] = { "LEASE_RENEW", 1 },
	[OP_RELEASE] = { "LEASE_RELEASE", 1 },
	[OP_TAKEOVER] = { "LEASE_TAKEOVER", 1 },
	[OP_SET_LIMITS] = { "SET_HARD_LIMITS", 1 },
	[OP_GET_LIMITS] = { "GET_HARD_LIMITS", 1 },
	[OP_BAD_NUMBER] = { "ioctl-unknown-or-bad-size", -1 },
	[OP_BAD_POINTER] = { "ioctl-bad-pointer", -1 },
	[OP_READ] = { "read", 1 },
	[OP_POLL] = { "poll", 1 },
	[OP_ADVANCE] = { "debugfs-advance_ms", 1 },
	[OP_FAULT] = { "debugfs-fault-knob", 1 },
	[OP_REOPEN] = { "close+open", 1 },
	[OP_REMOVE] = { "card-remove-mid-stream", 1 },
	[OP_RECREATE] = { "card-recreate", 1 },
	[OP_PROBE_LOCKOUT] = { "probe: demand racing advance", 0 },
	[OP_PROBE_TITRATE] = { "probe: titrate, card fails", 0 },
};

/* the known ioctls, by op */
static const unsigned long cmd_of[] = {
	[OP_CARD_INFO] = IPUMP_IOC_GET_CARD_INFO,
	[OP_STATUS] = IPUMP_IOC_GET_CHANNEL_STATUS,
	[OP_EVENT_MASK] = IPUMP_IOC_SET_EVENT_MASK,
	[OP_SET_PROG] = IPUMP_IOC_SET_PROGRAMME,
	[OP_GET_PROG] = IPUMP_IOC_GET_PROGRAMME,
	[OP_TITRATE] = IPUMP_IOC_TITRATE,
	[OP_START] = IPUMP_IOC_START,
	[OP_STOP] = IPUMP_IOC_STOP,
	[OP_PAUSE] = IPUMP_IOC_PAUSE,
	[OP_RESUME] = IPUMP_IOC_RESUME,
	[OP_CLEAR] = IPUMP_IOC_CLEAR,
	[OP_BOLUS] = IPUMP_IOC_BOLUS,
	[OP_BOLUS_CANCEL] = IPUMP_IOC_BOLUS_CANCEL,
	[OP_ACK] = IPUMP_IOC_ACK,
	[OP_AUDIO_PAUSE] = IPUMP_IOC_AUDIO_PAUSE,
	[OP_ACQUIRE] = IPUMP_IOC_LEASE_ACQUIRE,
	[OP_RENEW] = IPUMP_IOC_LEASE_RENEW,
	[OP_RELEASE] = IPUMP_IOC_LEASE_RELEASE,
	[OP_TAKEOVER] = IPUMP_IOC_LEASE_TAKEOVER,
	[OP_SET_LIMITS] = IPUMP_IOC_SET_HARD_LIMITS,
	[OP_GET_LIMITS] = IPUMP_IOC_GET_HARD_LIMITS,
};
#define NKNOWN	(OP_GET_LIMITS + 1)

static unsigned int opt_threads = 3, opt_procs = 2, opt_cards = 2;
static unsigned int opt_removals = ~0U;
static bool opt_io_faults = true;
static unsigned int opt_race_rounds = 40;
static bool opt_probes = true;

struct wslot {
	int fd;
	uint32_t inst;
	unsigned int nch, num;
	char name[32];
	bool rw;
	uint64_t last_seq;
};

struct worker {
	unsigned int idx;
	struct fz_rng rng;
	bool sysadmin;
	struct wslot ws[FZ_MAX_SLOTS];
	unsigned int slot, ch;
	char *hole;		/* the last 16 bytes of a page before an unmapped one */
	unsigned char junk[4096] __attribute__((aligned(8)));
};

/* ---- files on the slots' cards ---- */

static void ws_close(struct wslot *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->inst = 0;
}

/* An open file on the slot's live card (reopened after a removal). */
static struct wslot *ws_get(struct worker *w, unsigned int slot, int want_rw)
{
	struct wslot *s = &w->ws[slot];
	struct fz_slot *sl = &fz_sh->slot[slot];
	int rw;

	pthread_mutex_lock(&fz_sh->lock);
	if (!sl->live) {
		pthread_mutex_unlock(&fz_sh->lock);
		return NULL;
	}
	if (s->fd >= 0 && s->inst == sl->inst && (want_rw < 0 || s->rw == !!want_rw)) {
		pthread_mutex_unlock(&fz_sh->lock);
		return s;
	}
	ws_close(s);
	rw = want_rw < 0 ? fz_pct(&w->rng, 85) : want_rw;
	/* under the lock: the remover marks a slot dead before removing it */
	s->fd = open(sl->dev, (rw ? O_RDWR : O_RDONLY) | O_NONBLOCK | O_CLOEXEC);
	if (s->fd >= 0) {
		s->inst = sl->inst;
		s->nch = sl->nch;
		s->num = sl->num;
		s->rw = rw;
		s->last_seq = 0;
		snprintf(s->name, sizeof(s->name), "%s", sl->name);
	}
	pthread_mutex_unlock(&fz_sh->lock);
	return s->fd >= 0 ? s : NULL;
}

/* ---- one ioctl with its bookkeeping ---- */

struct call {
	unsigned int op;
	unsigned int ch;
	bool cdev_invalid;	/* a field the character device itself refuses */
	bool core_invalid;	/* a value the core refuses (and logs) */
	void *arg;
};

static bool is_query(unsigned int op)
{
	return op == OP_CARD_INFO || op == OP_STATUS || op == OP_EVENT_MASK ||
	       op == OP_GET_PROG || op == OP_GET_LIMITS;
}

/*
 * Whether the core judged (and so logged) a refusal: not for errors of
 * the interface (unknown command, fault, permission on the file, a field
 * the character device refuses, a channel that does not exist, the card
 * gone), not for queries and acknowledgements (nothing to refuse).
 * Returns 1 (logged), 0 (not), -1 (may be: EIO is both a state refusal in
 * fault and a failed register access).
 */
static int refusal_logged(struct worker *w, const struct wslot *s,
			  const struct call *c, int err)
{
	switch (err) {
	case ENOTTY: case EFAULT: case EBADF: case ENODEV: case ENODATA:
		return 0;
	case EIO:
		return is_query(c->op) || c->op == OP_ACK ? 0 : -1;
	default:
		break;
	}
	if (is_query(c->op) || c->op == OP_ACK || c->cdev_invalid)
		return 0;
	if (c->ch >= s->nch)
		return 0;
	if (c->op == OP_SET_LIMITS && err == EPERM && !w->sysadmin)
		return 0;
	return 1;
}

static int do_call(struct worker *w, struct wslot *s, struct call *c)
{
	uint64_t sent = c->op == OP_SET_PROG || c->op == OP_TITRATE ?
			((struct ipump_programme_req *)c->arg)->generation : 0;
	int err = ioctl(s->fd, cmd_of[c->op], c->arg) ? errno : 0;
	uint32_t inst = s->inst;
	int logged;

	fz_count(c->op, err);
	if (err == ENODEV) {
		ws_close(s);
		return err;
	}
	if (!err && c->cdev_invalid)
		fz_problem("%s %s ch %u: a request with a reserved/unused field set was accepted",
			   s->name, ops[c->op].name, c->ch);
	if (!err && c->core_invalid)
		fz_problem("%s %s ch %u: a request with an unknown value was accepted",
			   s->name, ops[c->op].name, c->ch);
	if (!err && c->ch >= s->nch && c->op != OP_CARD_INFO &&
	    c->op != OP_EVENT_MASK &&
	    !(c->op == OP_ACK && c->ch == IPUMP_CHANNEL_NONE))
		fz_problem("%s %s: channel %u of %u accepted", s->name,
			   ops[c->op].name, c->ch, s->nch);
	if (!err && !s->rw && !is_query(c->op))
		fz_problem("%s %s: a change on a read-only file was accepted",
			   s->name, ops[c->op].name);
	if (err) {
		logged = refusal_logged(w, s, c, err);
		if (logged > 0)
			fz_expect(inst, c->ch, X_REFUSED, err);
		else if (logged < 0)
			fz_expect(inst, c->ch, X_MAYBE_REFUSED, err);
		if (err == EIO && (c->op == OP_STOP || c->op == OP_PAUSE ||
				   c->op == OP_BOLUS_CANCEL))
			fz_expect(inst, c->ch, X_CANCEL_EXTRA, 0);
		return err;
	}
	switch (c->op) {
	case OP_CARD_INFO: {
		struct ipump_card_info *i = c->arg;

		if (i->card != s->num || i->num_channels != s->nch ||
		    i->clock != IPUMP_CLOCK_SIMULATED || i->padding ||
		    i->reserved[0] || i->reserved[3])
			fz_problem("%s: card info card %u channels %u clock %u",
				   s->name, i->card, i->num_channels, i->clock);
		break;
	}
	case OP_STATUS: {
		struct ipump_channel_status *st = c->arg;

		if (st->channel != c->ch || st->state > IPUMP_STATE_KVO ||
		    (st->alarms_unacked & ~st->alarms) || st->lease > 3 ||
		    st->padding || st->reserved[0] || st->reserved[3] ||
		    st->priority > IPUMP_PRIO_HIGH)
			fz_problem("%s ch%u: implausible status: state %u alarms %#llx unacked %#llx lease %u",
				   s->name, c->ch, st->state,
				   (unsigned long long)st->alarms,
				   (unsigned long long)st->alarms_unacked, st->lease);
		break;
	}
	case OP_SET_PROG:
	case OP_TITRATE: {
		struct ipump_programme_req *r = c->arg;

		if (r->generation != sent + 1)
			fz_problem("%s ch%u: %s based on generation %llu returned %llu",
				   s->name, c->ch, ops[c->op].name,
				   (unsigned long long)sent,
				   (unsigned long long)r->generation);
		fz_expect(inst, c->ch, c->op == OP_SET_PROG ? X_PROG_SET : X_TITRATE,
			  r->generation);
		fz_prog_accepted(inst, c->ch, r->generation, &r->programme);
		break;
	}
	case OP_CLEAR:
		fz_expect(inst, c->ch, X_CLEAR, 0);
		break;
	case OP_START:
	case OP_RESUME: {
		struct ipump_channel_cmd *cmd = c->arg;

		fz_expect(inst, c->ch, c->op == OP_START ? X_START : X_RESUME,
			  cmd->generation);
		break;
	}
	case OP_STOP:
		fz_expect(inst, c->ch, X_STOP, 0);
		break;
	case OP_PAUSE:
		fz_expect(inst, c->ch, X_PAUSE, 0);
		break;
	case OP_BOLUS: {
		struct ipump_bolus_req *b = c->arg;

		if (b->kind == IPUMP_BOLUS_DEMAND)
			fz_expect(inst, c->ch, X_DEMAND, 0);
		else
			fz_expect(inst, c->ch, X_CLIN,
				  (uint64_t)b->volume_nl << 32 | b->rate_nl_per_h);
		break;
	}
	case OP_BOLUS_CANCEL:
		fz_expect(inst, c->ch, X_CANCEL, 0);
		break;
	case OP_AUDIO_PAUSE: {
		struct ipump_channel_cmd *cmd = c->arg;

		fz_expect(inst, c->ch, X_AUDIO, cmd->value);
		break;
	}
	case OP_ACQUIRE:
	case OP_TAKEOVER: {
		struct ipump_channel_cmd *cmd = c->arg;

		fz_expect(inst, c->ch, c->op == OP_ACQUIRE ? X_ACQUIRE : X_TAKEOVER,
			  cmd->value);
		break;
	}
	case OP_RELEASE:
		fz_expect(inst, c->ch, X_RELEASE, 0);
		break;
	case OP_SET_LIMITS: {
		struct ipump_limits_req *l = c->arg;

		fz_expect(inst, c->ch, X_LIMITS, l->limits.min_rate_nl_per_h);
		break;
	}
	default:
		break;
	}
	return 0;
}

/* ---- request builders ---- */

static int chcmd(struct worker *w, struct wslot *s, unsigned int op,
		 unsigned int ch, uint32_t value, uint64_t gen)
{
	struct ipump_channel_cmd cmd = { .channel = ch, .value = value,
					 .generation = gen };
	struct call c = { .op = op, .ch = ch, .arg = &cmd };

	(void)w;
	return do_call(w, s, &c);
}

static int get_status(struct worker *w, struct wslot *s, unsigned int ch,
		      struct ipump_channel_status *st)
{
	struct call c = { .op = OP_STATUS, .ch = ch, .arg = st };

	memset(st, 0, sizeof(*st));
	st->channel = ch;
	return do_call(w, s, &c);
}

static int get_limits(struct worker *w, struct wslot *s, unsigned int ch,
		      struct ipump_hard_limits *l)
{
	struct ipump_limits_req r = { .channel = ch };
	struct call c = { .op = OP_GET_LIMITS, .ch = ch, .arg = &r };
	int err = do_call(w, s, &c);

	*l = err ? ipt_default_limits : r.limits;
	return err;
}

/* A random channel: mostly valid, sometimes the first invalid or far off. */
static unsigned int rnd_ch(struct worker *w, unsigned int nch)
{
	static const unsigned int odd[] = { 8, 9, 254, IPUMP_CHANNEL_NONE, 256,
					    0x7fffffff, UINT32_MAX };

	if (fz_pct(&w->rng, 88))
		return (unsigned int)fz_below(&w->rng, nch);
	if (fz_pct(&w->rng, 40))
		return nch;
	return odd[fz_below(&w->rng, sizeof(odd) / sizeof(odd[0]))];
}

/* One known ioctl with fuzzed contents. */
static void fuzz_known(struct worker *w, struct wslot *s)
{
	struct fz_rng *r = &w->rng;
	unsigned int op = (unsigned int)fz_below(r, NKNOWN);
	unsigned int ch = rnd_ch(w, s->nch);
	union {
		struct ipump_card_info info;
		struct ipump_channel_status st;
		struct ipump_event_mask mask;
		struct ipump_programme_req prog;
		struct ipump_channel_cmd cmd;
		struct ipump_bolus_req bolus;
		struct ipump_limits_req lim;
		unsigned char raw[256];
	} u;
	struct call c = { .op = op, .ch = ch, .arg = &u };
	struct ipump_hard_limits l = ipt_default_limits;
	bool reserved = fz_pct(r, 8);

	memset(&u, 0, sizeof(u));
	switch (op) {
	case OP_CARD_INFO:
		if (reserved)
			u.info.reserved[fz_below(r, 4)] = fz_next(r);	/* output only */
		break;
	case OP_STATUS:
		u.st.channel = ch;
		if (reserved) {
			if (fz_pct(r, 50))
				u.st.padding = (uint32_t)fz_next(r) | 1;
			else
				u.st.reserved[fz_below(r, 4)] = fz_next(r) | 1;
			c.cdev_invalid = true;
		}
		if (fz_pct(r, 20))
			u.st.state = (uint32_t)fz_next(r);	/* output fields: ignored */
		break;
	case OP_EVENT_MASK:
		u.mask.types = fz_pct(r, 50) ? fz_next(r) : fz_next(r) & 0x0ffffffeULL;
		u.mask.min_priority = (uint32_t)fz_below(r, 6);
		if (reserved) {
			u.mask.reserved[fz_below(r, 2)] = fz_next(r) | 1;
			c.cdev_invalid = true;
		}
		break;
	case OP_SET_PROG:
	case OP_TITRATE:
	case OP_GET_PROG:
		u.prog.channel = ch;
		valid_prog(r, &l, &u.prog.programme);
		mutate_prog(r, &l, &u.prog.programme);
		u.prog.generation = fz_pct(r, 70) ? fz_below(r, 8) :
				    fz_around(r, 1, 64);
		if (reserved) {
			if (fz_pct(r, 50))
				u.prog.padding = (uint32_t)fz_next(r) | 1;
			else
				u.prog.reserved[fz_below(r, 2)] = fz_next(r) | 1;
			c.cdev_invalid = true;
		}
		break;
	case OP_BOLUS:
		u.bolus.channel = ch;
		u.bolus.kind = fz_pct(r, 85) ? (uint32_t)fz_below(r, 2) :
			       (uint32_t)fz_around(r, 1, 32);
		if (u.bolus.kind > IPUMP_BOLUS_CLINICIAN)
			c.core_invalid = true;	/* refused by the core, logged */
		if (u.bolus.kind != IPUMP_BOLUS_DEMAND || fz_pct(r, 10)) {
			u.bolus.volume_nl = (uint32_t)fz_around(r, l.max_bolus_volume_nl, 32);
			u.bolus.rate_nl_per_h = (uint32_t)fz_around(r, fz_pct(r, 50) ?
				l.max_bolus_rate_nl_per_h : l.min_rate_nl_per_h, 32);
		}
		if (reserved) {
			u.bolus.reserved[fz_below(r, 2)] = fz_next(r) | 1;
			c.cdev_invalid = true;
		}
		break;
	case OP_SET_LIMITS:
	case OP_GET_LIMITS:
		u.lim.channel = ch;
		u.lim.limits = l;
		mutate_limits(r, &u.lim.limits);
		if (reserved) {
			if (fz_pct(r, 50))
				u.lim.padding = (uint32_t)fz_next(r) | 1;
			else
				u.lim.reserved[fz_below(r, 2)] = fz_next(r) | 1;
			c.cdev_invalid = true;
		}
		break;
	default: {	/* struct ipump_channel_cmd */
		bool uses_value = op == OP_AUDIO_PAUSE || op == OP_ACQUIRE ||
				  op == OP_TAKEOVER;
		bool uses_gen = op == OP_START || op == OP_RESUME || op == OP_CLEAR;

		u.cmd.channel = ch;
		if (op == OP_AUDIO_PAUSE)
			u.cmd.value = (uint32_t)fz_around(r, 120000, 32);
		else if (op == OP_ACQUIRE || op == OP_TAKEOVER)
			u.cmd.value = (uint32_t)fz_around(r, fz_pct(r, 50) ? 100 : 60000, 32);
		else if (fz_pct(r, 10))
			u.cmd.value = (uint32_t)fz_next(r) | 1;
		if (uses_gen || fz_pct(r, 10))
			u.cmd.generation = fz_pct(r, 70) ? fz_below(r, 6) : fz_around(r, 1, 64);
		if ((!uses_value && u.cmd.value) || (!uses_gen && u.cmd.generation))
			c.cdev_invalid = true;
		if (reserved) {
			if (fz_pct(r, 50))
				u.cmd.result = fz_next(r) | 1;
			else
				u.cmd.reserved[fz_below(r, 2)] = fz_next(r) | 1;
			c.cdev_invalid = true;
		}
		break;
	}
	}
	do_call(w, s, &c);
}

/* A command number that is not one of the driver's, or a bad pointer. */
static void fuzz_number(struct worker *w, struct wslot *s)
{
	struct fz_rng *r = &w->rng;
	unsigned long cmd;
	unsigned int i, k;
	int err;

	do {
		k = (unsigned int)fz_below(r, NKNOWN);
		switch (fz_below(r, 5)) {
		case 0:	/* a known number with another size */
			cmd = _IOC(_IOC_DIR(cmd_of[k]), IPUMP_IOC_MAGIC, _IOC_NR(cmd_of[k]),
				   (_IOC_SIZE(cmd_of[k]) + (fz_pct(r, 50) ? 8 : -8)) & 0x3fff);
			break;
		case 1:	/* ... with another direction */
			cmd = _IOC(fz_below(r, 4), IPUMP_IOC_MAGIC, _IOC_NR(cmd_of[k]),
				   _IOC_SIZE(cmd_of[k]));
			break;
		case 2:	/* an unused number of the range */
			cmd = _IOC(fz_below(r, 4), IPUMP_IOC_MAGIC, fz_range(r, 0x15, 0xff),
				   fz_below(r, 300));
			break;
		case 3:	/* another magic */
			cmd = _IOC(_IOC_DIR(cmd_of[k]), fz_below(r, 256), _IOC_NR(cmd_of[k]),
				   _IOC_SIZE(cmd_of[k]));
			break;
		default:
			cmd = (unsigned long)(uint32_t)fz_next(r);
			break;
		}
		for (i = 0; i < NKNOWN && cmd_of[i] != cmd; i++)
			;
	} while (i < NKNOWN);
	for (i = 0; i < sizeof(w->junk); i++)
		w->junk[i] = (unsigned char)fz_next(r);
	err = ioctl(s->fd, cmd, w->junk) ? errno : 0;
	fz_count(OP_BAD_NUMBER, err);
	if (err == ENODEV)
		ws_close(s);
	else if (err != ENOTTY)
		fz_problem("%s: unknown ioctl %#lx answered %s instead of ENOTTY",
			   s->name, cmd, err ? strerror(err) : "success");
}

static void fuzz_pointer(struct worker *w, struct wslot *s)
{
	static void *const bad[] = { NULL, (void *)1, (void *)-4096L,
				     (void *)0xffff800000000000UL };
	unsigned int k = (unsigned int)fz_below(&w->rng, NKNOWN);
	void *p = fz_pct(&w->rng, 50) ? w->hole :
		  bad[fz_below(&w->rng, sizeof(bad) / sizeof(bad[0]))];
	int err;

	/* a valid channel 0 in the part that is readable */
	if (p == w->hole)
		memset(w->hole, 0, 16);
	err = ioctl(s->fd, cmd_of[k], p) ? errno : 0;
	fz_count(OP_BAD_POINTER, err);
	if (err == ENODEV)
		ws_close(s);
	else if (err != EFAULT && !(err == EBADF && !s->rw) &&
		 !(err == EPERM && k == OP_SET_LIMITS && !w->sysadmin))
		fz_problem("%s: %s with a bad pointer answered %s", s->name,
			   ops[k].name, err ? strerror(err) : "success");
}

static void fuzz_read(struct worker *w, struct wslot *s)
{
	static const size_t sizes[] = { 0, 1, 63, 64, 65, 128, 640, 4096 };
	size_t n = sizes[fz_below(&w->rng, sizeof(sizes) / sizeof(sizes[0]))];
	struct ipump_event *ev = (struct ipump_event *)w->junk;
	ssize_t r = read(s->fd, w->junk, n);
	int err = r < 0 ? errno : 0;
	ssize_t i;

	fz_count(OP_READ, r > 0 ? 0 : r == 0 ? ENODATA : err);
	if (err == ENODEV) {
		ws_close(s);
		return;
	}
	if (r < 0 && ((n < sizeof(*ev) && err != EINVAL) ||
		      (n >= sizeof(*ev) && err != EAGAIN)))
		fz_problem("%s: read(%zu) answered %s", s->name, n, strerror(err));
	if (r > 0 && (r % (ssize_t)sizeof(*ev) || (size_t)r > n))
		fz_problem("%s: read(%zu) returned %zd bytes", s->name, n, r);
	for (i = 0; r > 0 && i < r / (ssize_t)sizeof(*ev); i++) {
		if (ev[i].type == IPUMP_EVENT_OVERFLOW) {
			if (ev[i].value[1] <= s->last_seq)
				fz_problem("%s: OVERFLOW from %llu after seq %llu",
					   s->name, (unsigned long long)ev[i].value[1],
					   (unsigned long long)s->last_seq);
			s->last_seq = ev[i].value[2];
			continue;
		}
		if (ev[i].seq <= s->last_seq)
			fz_problem("%s: a reader got seq %llu after %llu", s->name,
				   (unsigned long long)ev[i].seq,
				   (unsigned long long)s->last_seq);
		s->last_seq = ev[i].seq;
	}
}

static void fuzz_poll(struct worker *w, struct wslot *s)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN | POLLPRI | POLLOUT };
	int r = poll(&p, 1, 0);

	(void)w;
	fz_count(OP_POLL, r < 0 ? errno : 0);
	if (r > 0 && (p.revents & ~(POLLIN | POLLRDNORM | POLLPRI | POLLHUP | POLLERR)))
		fz_problem("%s: poll revents %#x", s->name, p.revents);
}

static int knob(const struct wslot *s, int ch, const char *name, long long v)
{
	char path[192];

	if (ch < 0)
		snprintf(path, sizeof(path), IPT_SIMDBG "%s/%s", s->name, name);
	else
		snprintf(path, sizeof(path), IPT_SIMDBG "%s/ch%d/%s", s->name, ch, name);
	return -ipt_write_ll(path, v);
}

static void do_advance(struct worker *w, struct wslot *s, uint64_t ms)
{
	(void)w;
	fz_count(OP_ADVANCE, knob(s, -1, "advance_ms", (long long)ms));
}

static void fuzz_advance(struct worker *w, struct wslot *s)
{
	static const uint64_t ms[] = { 1, 10, 99, 100, 499, 500, 501, 999, 1000,
				       1001, 2000, 5000, 10000, 30000, 60499,
				       60500, 60501, 120000, 300000, 600000 };
	unsigned int i = (unsigned int)fz_below(&w->rng, sizeof(ms) / sizeof(ms[0]));

	/* long advances are slow under TCG: rarer */
	if (ms[i] > 60000 && fz_pct(&w->rng, 70))
		i = (unsigned int)fz_below(&w->rng, 10);
	do_advance(w, s, ms[i]);
}

static void fuzz_knob(struct worker *w, struct wslot *s)
{
	struct fz_rng *r = &w->rng;
	const struct knobdef *k;
	long long v;

	do {
		k = &knobs[fz_below(r, sizeof(knobs) / sizeof(knobs[0]))];
	} while (!opt_io_faults && !strcmp(k->name, "io_fail_every"));
	v = k->v[fz_pct(r, 60) ? fz_below(r, 3) : fz_range(r, 3, 5)];
	fz_count(OP_FAULT, knob(s, k->card ? -1 : (int)fz_below(r, s->nch),
				k->name, v));
}

/* Takes the alarm conditions away on a channel (so that an ack clears). */
static void heal(struct worker *w, struct wslot *s, unsigned int ch)
{
	static const char *const zero[] = { "occlusion_down", "occlusion_up",
		"air_bubble_nl", "door_open", "stall", "stall_silent",
		"free_flow_nl_per_h", "speed_error_pct" };
	unsigned int i;

	for (i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		fz_count(OP_FAULT, knob(s, (int)ch, zero[i], 0));
	fz_count(OP_FAULT, knob(s, (int)ch, "reservoir_nl", 20000000));
	fz_count(OP_FAULT, knob(s, -1, "io_fail_every", 0));
	fz_count(OP_FAULT, knob(s, -1, "mains", 1));
	fz_count(OP_FAULT, knob(s, -1, "battery_minutes", 240));
	(void)w;
}

/* ---- a console: one step of a valid command sequence ---- */

static void console_step(struct worker *w, unsigned int slot)
{
	struct fz_rng *r = &w->rng;
	struct ipump_channel_status st;
	struct ipump_hard_limits l;
	struct wslot *s;
	unsigned int ch;
	int pick;

	s = ws_get(w, slot, 1);
	if (!s)
		return;
	if (w->slot != slot || w->ch >= s->nch || fz_pct(r, 25)) {
		w->slot = slot;
		w->ch = (unsigned int)fz_below(r, s->nch);
	}
	ch = w->ch;
	if (get_status(w, s, ch, &st))
		return;
	if (st.lease == IPUMP_LEASE_FREE && fz_pct(r, 85)) {
		chcmd(w, s, OP_ACQUIRE, ch, lease_period(r), 0);
		return;
	}
	if (st.lease == IPUMP_LEASE_ORPHANED && fz_pct(r, 85)) {
		chcmd(w, s, OP_TAKEOVER, ch, lease_period(r), 0);
		return;
	}
	if (st.lease == IPUMP_LEASE_MINE && fz_pct(r, 12)) {
		chcmd(w, s, fz_pct(r, 80) ? OP_RENEW : OP_RELEASE, ch, 0, 0);
		return;
	}
	pick = (int)fz_below(r, 100);
	switch (st.state) {
	case IPUMP_STATE_IDLE:
	case IPUMP_STATE_PROGRAMMED:
		if (pick < 45 || st.state == IPUMP_STATE_IDLE) {
			struct ipump_programme_req req = { .channel = ch,
							   .generation = st.generation };
			struct call c = { .op = OP_SET_PROG, .ch = ch, .arg = &req };

			if (pick < 60) {
				get_limits(w, s, ch, &l);
				valid_prog(r, &l, &req.programme);
				if (!do_call(w, s, &c) && fz_pct(r, 70))
					chcmd(w, s, OP_START, ch, 0, req.generation);
				return;
			}
		}
		if (pick < 80)
			chcmd(w, s, OP_START, ch, 0, st.generation);
		else if (pick < 88)
			chcmd(w, s, OP_CLEAR, ch, 0, st.generation);
		else if (pick < 94) {
			struct ipump_limits_req lr = { .channel = ch, .limits = ipt_default_limits };
			struct call c = { .op = OP_SET_LIMITS, .ch = ch, .arg = &lr };

			if (fz_pct(r, 30))	/* still valid: tighter, same order */
				lr.limits.max_rate_nl_per_h = 10000000;
			do_call(w, s, &c);
		} else {
			chcmd(w, s, OP_AUDIO_PAUSE, ch, (uint32_t)fz_range(r, 1, 120000), 0);
		}
		return;
	case IPUMP_STATE_RUNNING:
		if (pick < 25) {
			struct ipump_bolus_req b = { .channel = ch };
			struct call c = { .op = OP_BOLUS, .ch = ch, .arg = &b };

			if (fz_pct(r, 50)) {
				get_limits(w, s, ch, &l);
				b.kind = IPUMP_BOLUS_CLINICIAN;
				b.volume_nl = (uint32_t)fz_range(r, 1, l.max_bolus_volume_nl);
				b.rate_nl_per_h = (uint32_t)fz_range(r, l.min_rate_nl_per_h,
								     l.max_bolus_rate_nl_per_h);
			}
			do_call(w, s, &c);
		} else if (pick < 40) {
			struct ipump_programme_req req = { .channel = ch };
			struct call c = { .op = OP_GET_PROG, .ch = ch, .arg = &req };

			if (do_call(w, s, &c))
				return;
			get_limits(w, s, ch, &l);
			req.programme.basal_rate_nl_per_h =
				(uint32_t)fz_range(r, l.min_rate_nl_per_h,
						   min32(l.max_rate_nl_per_h, 5000000));
			if (req.programme.basal_rate_nl_per_h < req.programme.kvo_rate_nl_per_h)
				req.programme.basal_rate_nl_per_h = req.programme.kvo_rate_nl_per_h;
			c.op = OP_TITRATE;
			do_call(w, s, &c);
		} else if (pick < 52) {
			chcmd(w, s, OP_PAUSE, ch, 0, 0);
		} else if (pick < 60) {
			chcmd(w, s, OP_STOP, ch, 0, 0);
		} else if (pick < 70) {
			chcmd(w, s, OP_RENEW, ch, 0, 0);
		} else if (pick < 78) {
			chcmd(w, s, OP_AUDIO_PAUSE, ch, (uint32_t)fz_range(r, 1, 120000), 0);
		} else if (pick < 95) {
			do_advance(w, s, fz_range(r, 100, 30000));
		} else {
			chcmd(w, s, OP_ACK, ch, 0, 0);
		}
		return;
	case IPUMP_STATE_BOLUS:
		if (pick < 30)
			chcmd(w, s, OP_BOLUS_CANCEL, ch, 0, 0);
		else if (pick < 42)
			chcmd(w, s, OP_PAUSE, ch, 0, 0);
		else if (pick < 54)
			chcmd(w, s, OP_STOP, ch, 0, 0);
		else if (pick < 80)
			do_advance(w, s, fz_range(r, 100, 20000));
		else
			chcmd(w, s, OP_RENEW, ch, 0, 0);
		return;
	case IPUMP_STATE_PAUSED:
		if (pick < 55)
			chcmd(w, s, OP_RESUME, ch, 0, st.generation);
		else if (pick < 75)
			chcmd(w, s, OP_STOP, ch, 0, 0);
		else
			chcmd(w, s, OP_RENEW, ch, 0, 0);
		return;
	case IPUMP_STATE_KVO:
		if (pick < 40)
			chcmd(w, s, OP_STOP, ch, 0, 0);
		else if (pick < 60)
			chcmd(w, s, OP_PAUSE, ch, 0, 0);
		else
			do_advance(w, s, fz_range(r, 100, 10000));
		return;
	default:	/* alarm-stopped, fault */
		if (pick < 45)
			heal(w, s, ch);
		if (pick < 85)
			chcmd(w, s, OP_ACK, ch, fz_pct(r, 20) ? IPUMP_CHANNEL_NONE : 0, 0);
		else
			chcmd(w, s, OP_STOP, ch, 0, 0);
		if (pick < 20)
			chcmd(w, s, OP_ACK, IPUMP_CHANNEL_NONE, 0, 0);
		return;
	}
}

/* ---- the worker loop ---- */

static void worker_op(struct worker *w)
{
	struct fz_rng *r = &w->rng;
	unsigned int slot = (unsigned int)fz_below(r, fz_sh->nslots);
	unsigned int pick = (unsigned int)fz_below(r, 100);
	struct wslot *s;

	if (pick < 42) {
		console_step(w, slot);
		return;
	}
	s = ws_get(w, slot, -1);
	if (!s) {
		usleep(1000);	/* the slot's card is being replaced */
		return;
	}
	if (pick < 72)
		fuzz_known(w, s);
	else if (pick < 78)
		fuzz_number(w, s);
	else if (pick < 81)
		fuzz_pointer(w, s);
	else if (pick < 85)
		fuzz_read(w, s);
	else if (pick < 87)
		fuzz_poll(w, s);
	else if (pick < 92)
		fuzz_advance(w, s);
	else if (pick < 98)
		fuzz_knob(w, s);
	else {
		bool rw = fz_pct(r, 80);

		ws_close(s);
		fz_count(OP_REOPEN, ws_get(w, slot, rw) ? 0 : errno ? errno : ENODEV);
	}
}

static void worker_run(struct worker *w)
{
	unsigned int i;
	char *m;

	m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		exit(2);
	munmap(m + 4096, 4096);
	w->hole = m + 4096 - 16;
	for (i = 0; i < FZ_MAX_SLOTS; i++)
		w->ws[i].fd = -1;
	while (!fz_sh->go)
		usleep(1000);
	while (!fz_sh->stop &&
	       __atomic_fetch_add(&fz_sh->calls_done, 1, __ATOMIC_RELAXED) <
	       fz_sh->calls_budget)
		worker_op(w);
	for (i = 0; i < FZ_MAX_SLOTS; i++)
		ws_close(&w->ws[i]);
}

static void *worker_thread(void *arg)
{
	worker_run(arg);
	return NULL;
}

/* ---- the remover ---- */

static void *remover_thread(void *arg)
{
	struct fz_rng r = { .s = (uint64_t)(uintptr_t)arg };
	unsigned int k, slot;
	struct fz_nl nl;
	uint64_t at;
	int err;

	if (fz_nl_open(&nl) || fz_nl_resolve(&nl))
		fz_nl_close(&nl);

	for (k = 0; k < opt_removals && !fz_sh->stop; k++) {
		at = fz_sh->calls_budget * (k + 1) / (opt_removals + 1);
		while (__atomic_load_n(&fz_sh->calls_done, __ATOMIC_RELAXED) < at &&
		       !fz_sh->stop)
			usleep(2000);
		if (fz_sh->stop)
			break;
		slot = (unsigned int)fz_below(&r, fz_sh->nslots);
		err = fz_card_remove(slot, fz_pct(&r, 50), &nl);
		fz_count(OP_REMOVE, err < 0 ? -err : 0);
		err = fz_card_new(slot, (unsigned int)fz_range(&r, 1, 4), "fzi");
		fz_count(OP_RECREATE, err < 0 ? -err : 0);
		if (err)
			fz_problem("recreating the card of slot %u: %s", slot, strerror(-err));
	}
	fz_nl_close(&nl);
	return NULL;
}


static int chcmd_raw(int fd, unsigned long cmd, unsigned int ch, uint32_t value,
		     uint64_t gen)
{
	struct ipump_channel_cmd c = { .channel = ch, .value = value,
				       .generation = gen };

	return ioctl(fd, cmd, &c) ? -errno : 0;
}

static int bolus_raw(int fd, unsigned int ch)
{
	struct ipump_bolus_req b = { .channel = ch, .kind = IPUMP_BOLUS_DEMAND };

	return ioctl(fd, IPUMP_IOC_BOLUS, &b) ? -errno : 0;
}

/* ---- targeted probes on a card of their own ---- */

struct racer {
	struct ipt_card *c;
	volatile int run, stop, idle;
	unsigned int n;
	int fd;
};

/* Holds the card lock often (a status read), as any other console may. */
static void *hammer(void *arg)
{
	struct racer *x = arg;
	struct ipump_channel_status st;

	while (!x->stop) {
		if (!x->run) {
			usleep(200);
			continue;
		}
		ipt_status(x->fd, 0, &st);
	}
	return NULL;
}

static void *advancer(void *arg)
{
	struct racer *x = arg;

	while (!x->stop) {
		if (!x->run) {
			x->idle = 1;
			usleep(200);
			continue;
		}
		x->idle = 0;
		/* varied steps: time moves while a demand waits for the lock */
		ipt_advance(x->c, (x->n++ % 3) ? 50 : 400);
	}
	return NULL;
}

/* The start time of the last BOLUS_STARTED queued on @rd, or ~0. */
static uint64_t last_bolus_start(int rd)
{
	struct ipump_event ev[256];
	uint64_t ts = ~0ULL;
	int n, i;

	while ((n = ipt_read_events(rd, ev, 256)) > 0) {
		for (i = 0; i < n; i++)
			if (ev[i].type == IPUMP_EVENT_BOLUS_STARTED)
				ts = ev[i].timestamp_ns;
		if (n < 256)
			break;
	}
	return ts;
}

/*
 * A PCA demand made while another thread advances the card clock: the
 * lockout must run from the bolus's start (its record's time). The core
 * reads the clock before it takes the card lock (ipump_ch_bolus()), so a
 * demand that waited for the lock while time moved on stores an earlier
 * lockout reference than the start it logs. Each round measures that
 * difference (status lockout_remaining_ms) and, where it is not 0, shows
 * a second demand admitted before the lockout after the first start.
 */
static void probe_lockout(void)
{
	struct ipump_programme_req req = { .channel = 0 };
	struct ipump_channel_status st;
	struct racer x = { 0 };
	struct ipt_card c;
	const uint32_t lockout = 300000;
	unsigned int round, early = 0, admitted_early = 0;
	uint64_t ts1, now, ref_ms, delta, worst = 0;
	pthread_t t, t2;
	int fd, rd, err;

	if (!opt_race_rounds)
		return;
	if (ipt_card_create(&c, "fzrace", 1)) {
		fz_problem("lockout probe: cannot make its card");
		return;
	}
	fd = open(c.dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	rd = open(c.dev, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	req.programme.route = IPUMP_ROUTE_INTRAVENOUS;
	req.programme.flags = IPUMP_PROG_VTBI_UNLIMITED | IPUMP_PROG_PCA;
	req.programme.bolus_volume_nl = 1000;
	req.programme.bolus_rate_nl_per_h = 100000000;	/* done in 36 ms */
	req.programme.lockout_ms = lockout;
	req.programme.max_boluses_per_hour = 12;
	req.programme.max_dose_1h_nl = 30000000;
	req.programme.max_dose_4h_nl = 120000000;
	/*
	 * The advancer may move the card clock past the lease between a
	 * renewal and the demand: continue-basal keeps the channel running
	 * then, and the probe takes the lease over again (below).
	 */
	req.programme.basal_rate_nl_per_h = 100000;
	req.programme.lease_loss_mode = IPUMP_LEASE_LOSS_CONTINUE_BASAL;
	if (fd < 0 || rd < 0 || chcmd_raw(fd, IPUMP_IOC_LEASE_ACQUIRE, 0, 60000, 0) ||
	    ioctl(fd, IPUMP_IOC_SET_PROGRAMME, &req) ||
	    chcmd_raw(fd, IPUMP_IOC_START, 0, 0, req.generation)) {
		fz_problem("lockout probe: setting up: %s", strerror(errno));
		goto out;
	}
	x.c = &c;
	x.fd = rd;
	ipt_advance(&c, 1000);
	pthread_create(&t, NULL, advancer, &x);
	pthread_create(&t2, NULL, hammer, &x);
	for (round = 0; round < opt_race_rounds; round++) {
		last_bolus_start(rd);
		x.run = 1;
		ts1 = ~0ULL;
		do {	/* until a demand is admitted while the clock runs */
			chcmd_raw(fd, IPUMP_IOC_LEASE_RENEW, 0, 0, 0);
			/* no denial records to overflow the reader meanwhile */
			if (!ipt_status(fd, 0, &st) && st.lockout_remaining_ms > 300) {
				err = -EAGAIN;
				usleep(500);
				continue;
			}
			err = bolus_raw(fd, 0);
			now = last_bolus_start(rd);
			if (now != ~0ULL)
				ts1 = now;
		} while (err == -EAGAIN || err == -EBUSY ||
			 (err == -ETIMEDOUT &&
			  !chcmd_raw(fd, IPUMP_IOC_LEASE_TAKEOVER, 0, 60000, 0)));
		x.run = 0;
		while (!x.idle)
			usleep(100);
		fz_count(OP_PROBE_LOCKOUT, -err);
		if (err) {
			fz_problem("lockout probe: demand: %s", strerror(-err));
			break;
		}
		now = last_bolus_start(rd);
		if (now != ~0ULL)
			ts1 = now;
		if (ipt_status(fd, 0, &st) || ts1 == ~0ULL) {
			fz_problem("lockout probe: no BOLUS_STARTED record or status");
			break;
		}
		/* the reference the core stored: now + remaining - lockout */
		now = st.timestamp_ns / IPT_MS_NS;
		ref_ms = now + st.lockout_remaining_ms - lockout;
		delta = ts1 / IPT_MS_NS > ref_ms ? ts1 / IPT_MS_NS - ref_ms : 0;
		if (delta > 1) {	/* 1 ms: rounding of remaining_ms */
			early++;
			if (delta > worst)
				worst = delta;
			/* a second demand, earlier than the lockout after the start */
			if (ts1 / IPT_MS_NS + lockout - 1 > now) {
				uint64_t left = ts1 / IPT_MS_NS + lockout - 1 - now, step;

				while (left) {	/* renewing the lease (60 s) */
					step = left < 30000 ? left : 30000;
					chcmd_raw(fd, IPUMP_IOC_LEASE_RENEW, 0, 0, 0);
					ipt_advance(&c, step);
					left -= step;
				}
				chcmd_raw(fd, IPUMP_IOC_LEASE_RENEW, 0, 0, 0);
				if (!bolus_raw(fd, 0))
					admitted_early++;
			}
		}
		ipt_advance(&c, 1000);
	}
	x.stop = 1;
	pthread_join(t, NULL);
	pthread_join(t2, NULL);
	printf("lockout probe: %u rounds, %u with the lockout reference before the logged bolus start (worst %llu ms early), %u second demands admitted inside the lockout\n",
	       round, early, (unsigned long long)worst, admitted_early);
	if (early)
		fz_problem("lockout probe: PCA lockout measured from a clock read before the card lock (up to %llu ms before the bolus start); %u demands admitted before lockout end",
			   (unsigned long long)worst, admitted_early);
out:
	if (fd >= 0)
		close(fd);
	if (rd >= 0)
		close(rd);
	ipt_card_destroy(&c);
}

/*
 * A titration the card cannot carry out (the rate read back is
 * implausible: a flipped bit, simulator flip_reg_addr) is refused; it must
 * leave the programme and its generation as they were, or log the change.
 */
static void probe_titrate(void)
{
	struct ipump_programme_req req = { .channel = 0 }, got = { .channel = 0 };
	struct ipump_event ev[256];
	struct ipt_card c;
	uint64_t gen;
	int fd, rd, err, n, i, rate_changed = 0;

	if (ipt_card_create(&c, "fztitr", 1))
		return;
	fd = open(c.dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	rd = open(c.dev, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	req.programme.route = IPUMP_ROUTE_INTRAVENOUS;
	req.programme.flags = IPUMP_PROG_VTBI_UNLIMITED;
	req.programme.basal_rate_nl_per_h = 1000000;
	req.programme.max_dose_1h_nl = 30000000;
	req.programme.max_dose_4h_nl = 120000000;
	if (fd < 0 || rd < 0 || chcmd_raw(fd, IPUMP_IOC_LEASE_ACQUIRE, 0, 60000, 0) ||
	    ioctl(fd, IPUMP_IOC_SET_PROGRAMME, &req) ||
	    chcmd_raw(fd, IPUMP_IOC_START, 0, 0, req.generation))
		goto out;
	gen = req.generation;
	ipt_drain_events(rd);
	ipt_knob_set(&c, -1, "flip_mask", 0x40000000);
	ipt_knob_set(&c, -1, "flip_reg_addr", 0x108);	/* ch0 RATE_NL_PER_H */
	req.programme.basal_rate_nl_per_h = 2000000;
	err = ioctl(fd, IPUMP_IOC_TITRATE, &req) ? errno : 0;
	ipt_knob_set(&c, -1, "flip_reg_addr", -1);
	fz_count(OP_PROBE_TITRATE, err);
	ioctl(fd, IPUMP_IOC_GET_PROGRAMME, &got);
	n = ipt_read_events(rd, ev, 256);
	for (i = 0; i < n; i++)
		rate_changed += ev[i].type == IPUMP_EVENT_RATE_CHANGED;
	printf("titrate probe: refused with %s; generation %llu -> %llu, basal %u nL/h, RATE_CHANGED records %d\n",
	       err ? strerror(err) : "success", (unsigned long long)gen,
	       (unsigned long long)got.generation, got.programme.basal_rate_nl_per_h,
	       rate_changed);
	if (err && got.generation != gen && !rate_changed)
		fz_problem("titrate probe: a titration refused with %s changed the programme (generation %llu -> %llu, basal %u nL/h) and logged no RATE_CHANGED",
			   strerror(err), (unsigned long long)gen,
			   (unsigned long long)got.generation,
			   got.programme.basal_rate_nl_per_h);
out:
	if (fd >= 0)
		close(fd);
	if (rd >= 0)
		close(rd);
	ipt_card_destroy(&c);
}

/* ---- main ---- */

static void usage(void)
{
	fprintf(stderr, "usage: ipump_ioctl_fuzz [--seed N] [--calls N] [--cards N] [--threads N]\n"
			"                        [--procs N] [--removals N] [--no-io-faults]\n"
			"                        [--race-rounds N] [--no-probes] [-v]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t seed = 1, calls = 20000, t0;
	pthread_t thr[32], rem;
	struct worker *wk;
	pid_t pids[16];
	int i, reports0, status;
	unsigned int s, nw;
	struct fz_nl nl;

	fz_prog = "ipump_ioctl_fuzz";
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--calls") && i + 1 < argc)
			calls = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--cards") && i + 1 < argc)
			opt_cards = (unsigned int)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			opt_threads = (unsigned int)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--procs") && i + 1 < argc)
			opt_procs = (unsigned int)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--removals") && i + 1 < argc)
			opt_removals = (unsigned int)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--no-io-faults"))
			opt_io_faults = false;
		else if (!strcmp(argv[i], "--no-probes"))
			opt_probes = false;
		else if (!strcmp(argv[i], "--race-rounds") && i + 1 < argc)
			opt_race_rounds = (unsigned int)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "-v"))
			fz_verbose = 1;
		else
			usage();
	}
	if (!opt_cards || opt_cards > FZ_MAX_SLOTS || opt_threads > 32 ||
	    opt_procs > 16 || (!opt_threads && !opt_procs))
		usage();
	if (opt_removals == ~0U)
		opt_removals = (unsigned int)(calls / 4000 + 1);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGUSR1, fz_sigusr1);
	signal(SIGPIPE, SIG_IGN);
	printf("%s: seed %llu, %llu calls, %u cards, %u threads, %u processes, %u removals%s\n",
	       fz_prog, (unsigned long long)seed, (unsigned long long)calls,
	       opt_cards, opt_threads, opt_procs, opt_removals,
	       opt_io_faults ? "" : ", no register faults");
	reports0 = fz_kernel_reports(false);
	fz_shared_init(ops, NOPS, calls);
	fz_sh->nslots = opt_cards;
	{
		struct fz_rng r = { .s = seed };

		for (s = 0; s < opt_cards; s++) {
			int err = fz_card_new(s, (unsigned int)fz_range(&r, 1, 4), "fz");

			if (err) {
				fprintf(stderr, "%s: making a simulated card: %s\n",
					fz_prog, strerror(-err));
				return 2;
			}
		}
	}

	nw = opt_threads + opt_procs;
	wk = fz_shmem(nw * sizeof(*wk));
	for (s = 0; s < nw; s++) {
		wk[s].idx = s;
		wk[s].rng.s = seed * 1000003ULL + s * 7919ULL + 1;
		wk[s].sysadmin = true;
	}
	t0 = fz_now_ms();
	/* forked workers: their own files, one without CAP_SYS_ADMIN */
	for (s = 0; s < opt_procs; s++) {
		struct worker *w = &wk[opt_threads + s];

		pids[s] = fork();
		if (pids[s] < 0) {
			perror("fork");
			return 2;
		}
		if (!pids[s]) {
			if (s == 0 && !fz_drop_sys_admin())
				w->sysadmin = false;
			worker_run(w);
			_exit(0);
		}
	}
	for (s = 0; s < opt_threads; s++)
		pthread_create(&thr[s], NULL, worker_thread, &wk[s]);
	pthread_create(&rem, NULL, remover_thread, (void *)(uintptr_t)(seed ^ 0x5eed));
	fz_sh->go = 1;

	for (s = 0; s < opt_threads; s++)
		pthread_join(thr[s], NULL);
	for (s = 0; s < opt_procs; s++) {
		if (waitpid(pids[s], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			fz_problem("worker process %u ended badly (status %#x)", s, status);
	}
	fz_sh->stop = 1;
	pthread_join(rem, NULL);
	printf("%s: %llu calls in %.1f s; checking\n", fz_prog,
	       (unsigned long long)(fz_sh->calls_done < calls ? fz_sh->calls_done : calls),
	       (fz_now_ms() - t0) / 1000.0);

	/* the final state of every live card, then its log, then remove it */
	if (fz_nl_open(&nl) || fz_nl_resolve(&nl)) {
		fz_problem("cannot reach the ipump netlink family for the log dump");
		nl.fd = -1;
	}
	for (s = 0; s < opt_cards; s++) {
		struct fz_inst *in = fz_slot_inst(s);
		struct wslot ws = { .fd = -1 };
		unsigned int ch;
		int fd;

		if (!in)
			continue;
		snprintf(ws.name, sizeof(ws.name), "%s", in->card.name);
		knob(&ws, -1, "io_fail_every", 0);
		for (ch = 0; ch < in->nch; ch++) {
			fz_stream_drain(&in->main);
			memset(&in->final[ch], 0, sizeof(in->final[ch]));
		}
		fd = open(in->card.dev, O_RDONLY | O_CLOEXEC);
		in->final_ok = fd >= 0;
		for (ch = 0; fd >= 0 && ch < in->nch; ch++) {
			if (ipt_status(fd, ch, &in->final[ch])) {
				fz_problem("%s ch%u: final status: %s", in->card.name, ch,
					   strerror(errno));
				in->final_ok = false;
			}
		}
		if (fd >= 0)
			close(fd);
		if (nl.fd >= 0) {
			int err = fz_nl_log_dump(&nl, in->card.num, 1, &in->dump);

			in->dumped = !err;
			if (err)
				fz_problem("%s: log dump: %s", in->card.name, strerror(-err));
		}
		if (fz_card_remove(s, false, NULL))
			fz_problem("%s: final removal failed", in->card.name);
	}
	fz_nl_close(&nl);
	for (s = 0; s < fz_ninst; s++)
		fz_check_inst(&fz_inst[s]);
	if (opt_probes) {
		probe_lockout();
		probe_titrate();
	}

	return fz_verdict(reports0, seed);
}
