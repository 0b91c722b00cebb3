// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the ipump therapy safety rules (ipump_rules.c).
 *
 * Every refusal is paired with the same request succeeding once its
 * condition is gone, so a rule that refuses everything fails here too.
 */
#include <kunit/test.h>
#include <linux/module.h>

#include "ipump_rules.h"

#define T_MS	NSEC_PER_MSEC
#define T_SEC	NSEC_PER_SEC
#define T_MIN	(60 * NSEC_PER_SEC)
#define T_HOUR	(3600 * NSEC_PER_SEC)

/* ---- lockout and hourly count */

static void lockout_exact(struct kunit *test)
{
	u64 last = 1000 * T_SEC;
	u32 lockout_ms = 600000;

	KUNIT_EXPECT_EQ(test, ipump_lockout_remaining_ns(IPUMP_TIME_NONE, 5, lockout_ms), 0ULL);
	KUNIT_EXPECT_EQ(test, ipump_lockout_remaining_ns(last, last, lockout_ms),
			600000ULL * T_MS);
	/* denied at lockout - 1 ms ... */
	KUNIT_EXPECT_EQ(test, ipump_lockout_remaining_ns(last, last + 599999 * T_MS, lockout_ms),
			1ULL * T_MS);
	KUNIT_EXPECT_EQ(test,
			ipump_lockout_remaining_ns(last, last + 600000 * T_MS - 1, lockout_ms),
			1ULL);
	/* ... accepted at exactly lockout */
	KUNIT_EXPECT_EQ(test, ipump_lockout_remaining_ns(last, last + 600000 * T_MS, lockout_ms),
			0ULL);
	KUNIT_EXPECT_EQ(test, ipump_lockout_remaining_ns(last, last + T_HOUR, lockout_ms), 0ULL);
}

static void lockout_rearm(struct kunit *test)
{
	u64 now = 7200 * T_SEC, ref;

	/* no bolus before: a full new lockout from the change */
	ref = ipump_lockout_rearm(IPUMP_TIME_NONE, 0, now, 600000);
	KUNIT_EXPECT_EQ(test, ref, now);
	KUNIT_EXPECT_EQ(test, ipump_lockout_remaining_ns(ref, now + 599999 * T_MS, 600000),
			1ULL * T_MS);
	KUNIT_EXPECT_EQ(test, ipump_lockout_remaining_ns(ref, now + 600000 * T_MS, 600000), 0ULL);

	/* 2 min left of a 30 min lockout, new lockout 10 min: 10 min */
	ref = ipump_lockout_rearm(now - 28 * T_MIN, 1800000, now, 600000);
	KUNIT_EXPECT_EQ(test, ipump_lockout_remaining_ns(ref, now, 600000), 10ULL * T_MIN);

	/* 20 min left of a 30 min lockout, new lockout 10 min: still 20 min */
	ref = ipump_lockout_rearm(now - 10 * T_MIN, 1800000, now, 600000);
	KUNIT_EXPECT_EQ(test, ipump_lockout_remaining_ns(ref, now, 600000), 20ULL * T_MIN);
	KUNIT_EXPECT_EQ(test, ipump_lockout_remaining_ns(ref, now + 20 * T_MIN - T_MS, 600000),
			1ULL * T_MS);
	KUNIT_EXPECT_EQ(test, ipump_lockout_remaining_ns(ref, now + 20 * T_MIN, 600000), 0ULL);
}

static void bolus_hourly_count(struct kunit *test)
{
	struct ipump_bolus_ring r = {};
	u64 t0 = 10 * T_SEC;
	u32 max_per_hour = 2;

	KUNIT_EXPECT_EQ(test, ipump_bolus_ring_count(&r, t0), 0U);
	ipump_bolus_ring_add(&r, t0);
	ipump_bolus_ring_add(&r, t0 + 20 * T_MIN);
	/* a third demand 30 min in is over the count of 2 ... */
	KUNIT_EXPECT_GE(test, ipump_bolus_ring_count(&r, t0 + 30 * T_MIN), max_per_hour);
	/* ... until the first start leaves (now - 3600 s, now] */
	KUNIT_EXPECT_EQ(test, ipump_bolus_ring_count(&r, t0 + T_HOUR - 1), 2U);
	KUNIT_EXPECT_EQ(test, ipump_bolus_ring_count(&r, t0 + T_HOUR), 1U);
	KUNIT_EXPECT_LT(test, ipump_bolus_ring_count(&r, t0 + T_HOUR), max_per_hour);
	KUNIT_EXPECT_EQ(test, ipump_bolus_ring_count(&r, t0 + 20 * T_MIN + T_HOUR), 0U);
}

static void bolus_ring_bound(struct kunit *test)
{
	struct ipump_bolus_ring r = {};
	u64 t = 5 * T_HOUR;
	int i;

	for (i = 0; i < IPUMP_MAX_BOLUSES_PER_HOUR + 5; i++)
		ipump_bolus_ring_add(&r, t + i * T_SEC);
	KUNIT_EXPECT_EQ(test, r.used, (u32)IPUMP_MAX_BOLUSES_PER_HOUR);
	KUNIT_EXPECT_EQ(test, ipump_bolus_ring_count(&r, t + 100 * T_SEC),
			(u32)IPUMP_MAX_BOLUSES_PER_HOUR);
	/* the 5 oldest were forgotten, the newest 60 start at t + 5 s */
	KUNIT_EXPECT_EQ(test, ipump_bolus_ring_count(&r, t + 5 * T_SEC + T_HOUR), 59U);
}

static struct kunit_case lockout_cases[] = {
	KUNIT_CASE(lockout_exact),
	KUNIT_CASE(lockout_rearm),
	KUNIT_CASE(bolus_hourly_count),
	KUNIT_CASE(bolus_ring_bound),
	{}
};

static struct kunit_suite lockout_suite = {
	.name = "ipump_rules_lockout",
	.test_cases = lockout_cases,
};

/* ---- rolling dose windows */

static void dose_window_edges(struct kunit *test)
{
	struct ipump_dose_window *w = kunit_kzalloc(test, sizeof(*w), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, w);
	ipump_dose_add(w, 30 * T_SEC, 1000);	/* minute 0 */
	KUNIT_EXPECT_EQ(test, ipump_dose_sum(w, 30 * T_SEC, IPUMP_DOSE_WINDOW_1H_MS), 1000ULL);
	/* the partial oldest minute counts whole: until minute 0 + 1 h ends */
	KUNIT_EXPECT_EQ(test, ipump_dose_sum(w, T_HOUR + T_MIN - 1, IPUMP_DOSE_WINDOW_1H_MS),
			1000ULL);
	KUNIT_EXPECT_EQ(test, ipump_dose_sum(w, T_HOUR + T_MIN, IPUMP_DOSE_WINDOW_1H_MS), 0ULL);
	KUNIT_EXPECT_EQ(test, ipump_dose_sum(w, T_HOUR + T_MIN, IPUMP_DOSE_WINDOW_4H_MS), 1000ULL);
	KUNIT_EXPECT_EQ(test, ipump_dose_sum(w, 4 * T_HOUR + T_MIN - 1, IPUMP_DOSE_WINDOW_4H_MS),
			1000ULL);
	KUNIT_EXPECT_EQ(test, ipump_dose_sum(w, 4 * T_HOUR + T_MIN, IPUMP_DOSE_WINDOW_4H_MS), 0ULL);
}

static void dose_window_wrap(struct kunit *test)
{
	struct ipump_dose_window *w = kunit_kzalloc(test, sizeof(*w), GFP_KERNEL);
	u64 t;

	KUNIT_ASSERT_NOT_NULL(test, w);
	/* one add per minute for 10 hours: every bucket is reused */
	for (t = 0; t < 10 * T_HOUR; t += T_MIN)
		ipump_dose_add(w, t, 10);
	t -= T_MIN;	/* the last minute written */
	KUNIT_EXPECT_EQ(test, ipump_dose_sum(w, t, IPUMP_DOSE_WINDOW_1H_MS), 61 * 10ULL);
	KUNIT_EXPECT_EQ(test, ipump_dose_sum(w, t, IPUMP_DOSE_WINDOW_4H_MS), 241 * 10ULL);
	/* a gap longer than the ring clears it */
	t += 5 * T_HOUR;				/* minute 899 */
	ipump_dose_add(w, t, 7);
	KUNIT_EXPECT_EQ(test, ipump_dose_sum(w, t, IPUMP_DOSE_WINDOW_4H_MS), 7ULL);
	/* 240 minutes later minute 899 is still inside the 4-hour window */
	ipump_dose_add(w, t + 240 * T_MIN, 3);
	KUNIT_EXPECT_EQ(test, ipump_dose_sum(w, t + 240 * T_MIN, IPUMP_DOSE_WINDOW_4H_MS), 10ULL);
	KUNIT_EXPECT_EQ(test, ipump_dose_sum(w, t + 241 * T_MIN, IPUMP_DOSE_WINDOW_4H_MS), 3ULL);
	/* minute 1140 reuses minute 899's bucket */
	ipump_dose_add(w, t + 241 * T_MIN, 2);
	KUNIT_EXPECT_EQ(test, ipump_dose_sum(w, t + 241 * T_MIN, IPUMP_DOSE_WINDOW_4H_MS), 5ULL);
	/* a clock that went back counts in the newest minute */
	ipump_dose_add(w, t, 4);
	KUNIT_EXPECT_EQ(test, ipump_dose_sum(w, t + 241 * T_MIN, IPUMP_DOSE_WINDOW_1H_MS), 9ULL);
	KUNIT_EXPECT_EQ(test, ipump_dose_sum(w, t + 241 * T_MIN + T_HOUR, IPUMP_DOSE_WINDOW_1H_MS),
			6ULL);
	/* asked for an earlier time, each valid minute still counts once */
	KUNIT_EXPECT_EQ(test, ipump_dose_sum(w, t - 100 * T_MIN, IPUMP_DOSE_WINDOW_4H_MS), 9ULL);
}

static void dose_limit_pca(struct kunit *test)
{
	struct ipump_dose_window *w = kunit_kzalloc(test, sizeof(*w), GFP_KERNEL);
	u64 t0 = 2 * T_HOUR, lim1 = 5000, lim4 = 12000;

	KUNIT_ASSERT_NOT_NULL(test, w);
	ipump_dose_add(w, t0, 4000);
	/* reaching the limit exactly is allowed, one nL past it is not */
	KUNIT_EXPECT_TRUE(test, ipump_dose_would_exceed(w, t0 + T_MIN, 1001, lim1, lim4));
	KUNIT_EXPECT_FALSE(test, ipump_dose_would_exceed(w, t0 + T_MIN, 1000, lim1, lim4));
	KUNIT_EXPECT_EQ(test, ipump_dose_headroom_nl(w, t0 + T_MIN, lim1, lim4), 1000ULL);
	KUNIT_EXPECT_FALSE(test, ipump_dose_reached(w, t0 + T_MIN, lim1, lim4));
	/* once the 4000 nL leave the 1-hour window the same demand fits */
	KUNIT_EXPECT_TRUE(test, ipump_dose_would_exceed(w, t0 + T_HOUR + T_MIN - 1, 1001,
							lim1, lim4));
	KUNIT_EXPECT_FALSE(test, ipump_dose_would_exceed(w, t0 + T_HOUR + T_MIN, 1001, lim1, lim4));

	/* the 4-hour limit binds after several hours */
	ipump_dose_add(w, t0 + 65 * T_MIN, 4000);
	ipump_dose_add(w, t0 + 130 * T_MIN, 4000);
	KUNIT_EXPECT_EQ(test, ipump_dose_sum(w, t0 + 130 * T_MIN, IPUMP_DOSE_WINDOW_4H_MS),
			12000ULL);
	KUNIT_EXPECT_TRUE(test, ipump_dose_reached(w, t0 + 130 * T_MIN, lim1, lim4));
	KUNIT_EXPECT_EQ(test, ipump_dose_headroom_nl(w, t0 + 130 * T_MIN, lim1, lim4), 0ULL);
	KUNIT_EXPECT_TRUE(test, ipump_dose_would_exceed(w, t0 + 4 * T_HOUR, 1, lim1, lim4));
	KUNIT_EXPECT_FALSE(test, ipump_dose_reached(w, t0 + 4 * T_HOUR + T_MIN, lim1, lim4));
	KUNIT_EXPECT_EQ(test, ipump_dose_headroom_nl(w, t0 + 4 * T_HOUR + T_MIN, lim1, lim4),
			4000ULL);
}

static void dose_volume(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, ipump_volume_nl(1000, T_HOUR), 1000ULL);
	KUNIT_EXPECT_EQ(test, ipump_volume_nl(3600000, T_MS), 1ULL);
	/* rounds up: 1 ns is a whole ms, a fraction of a nL is a whole nL */
	KUNIT_EXPECT_EQ(test, ipump_volume_nl(3600000, 1), 1ULL);
	KUNIT_EXPECT_EQ(test, ipump_volume_nl(1, T_MS), 1ULL);
	KUNIT_EXPECT_EQ(test, ipump_volume_nl(1000000, 61 * T_MIN), 1016667ULL);
	KUNIT_EXPECT_EQ(test, ipump_volume_nl(U32_MAX, 4 * T_HOUR), 4ULL * U32_MAX);
	KUNIT_EXPECT_EQ(test, ipump_volume_nl(0, T_HOUR), 0ULL);
}

static struct kunit_case dose_cases[] = {
	KUNIT_CASE(dose_window_edges),
	KUNIT_CASE(dose_window_wrap),
	KUNIT_CASE(dose_limit_pca),
	KUNIT_CASE(dose_volume),
	{}
};

static struct kunit_suite dose_suite = {
	.name = "ipump_rules_dose",
	.test_cases = dose_cases,
};

/* ---- the state machine */

#define I	IPUMP_STATE_IDLE
#define R	IPUMP_STATE_RUNNING
#define A	IPUMP_STATE_ALARM_STOPPED
#define F	IPUMP_STATE_FAULT
#define P	IPUMP_STATE_PROGRAMMED
#define B	IPUMP_STATE_BOLUS
#define Z	IPUMP_STATE_PAUSED
#define K	IPUMP_STATE_KVO

/*
 * The whole table for an intravenous programme with a KVO rate; the same
 * as Documentation/safety/therapy-state-machine.rst. Columns: states in
 * enum order I R A F P B Z K.
 */
static const int sm_iv_kvo[IPUMP_SM_NR_EVENTS][IPUMP_SM_NR_STATES] = {
	[IPUMP_SM_PROGRAMME] =	{ P, -EBUSY, -EBUSY, -EIO, P, -EBUSY, -EBUSY, -EBUSY },
	[IPUMP_SM_CLEAR] =	{ I, -EBUSY, -EBUSY, -EIO, I, -EBUSY, -EBUSY, -EBUSY },
	[IPUMP_SM_START] =	{ -EINVAL, -EBUSY, -EBUSY, -EIO, R, -EBUSY, -EBUSY, -EBUSY },
	[IPUMP_SM_STOP] =	{ I, P, A, F, P, P, P, P },
	[IPUMP_SM_PAUSE] =	{ -EINVAL, Z, -EINVAL, -EIO, -EINVAL, Z, Z, Z },
	[IPUMP_SM_RESUME] =	{ -EINVAL, -EINVAL, -EBUSY, -EIO, -EINVAL, -EINVAL, R, -EINVAL },
	[IPUMP_SM_TITRATE] =	{ -EINVAL, R, -EBUSY, -EIO, -EINVAL, -EBUSY, Z, -EBUSY },
	[IPUMP_SM_BOLUS_START] = { -EINVAL, B, -EBUSY, -EIO, -EINVAL, -EBUSY, -EBUSY, -EPERM },
	[IPUMP_SM_BOLUS_END] =	{ -EINVAL, -EINVAL, -EINVAL, -EIO, -EINVAL, R, -EINVAL, -EINVAL },
	[IPUMP_SM_BOLUS_CANCEL] = { -EINVAL, -EINVAL, -EINVAL, -EIO, -EINVAL, R, -EINVAL, -EINVAL },
	[IPUMP_SM_VTBI_DONE] =	{ -EINVAL, K, -EINVAL, -EIO, -EINVAL, K, -EINVAL, -EINVAL },
	[IPUMP_SM_DOSE_LIMIT] =	{ -EINVAL, K, -EINVAL, -EIO, -EINVAL, K, -EINVAL, K },
	[IPUMP_SM_ALARM_STOP] =	{ A, A, A, F, A, A, A, A },
	[IPUMP_SM_ALARM_CLEARED] = { -EINVAL, -EINVAL, P, -EIO,
				     -EINVAL, -EINVAL, -EINVAL, -EINVAL },
	[IPUMP_SM_FAULT] =	{ F, F, F, F, F, F, F, F },
	[IPUMP_SM_FAULT_CLEARED] = { -EINVAL, -EINVAL, -EINVAL, P,
				     -EINVAL, -EINVAL, -EINVAL, -EINVAL },
	[IPUMP_SM_LEASE_LOST_STOP] = { -EINVAL, A, A, F, -EINVAL, A, A, A },
	[IPUMP_SM_LEASE_LOST_KVO] = { -EINVAL, K, A, F, -EINVAL, K, A, K },
	[IPUMP_SM_LEASE_LOST_BASAL] = { -EINVAL, R, A, F, -EINVAL, R, A, K },
};

static void sm_full_table(struct kunit *test)
{
	u32 flags = IPUMP_SMF_PROGRAMME | IPUMP_SMF_KVO;
	int s, e;

	for (e = 0; e < IPUMP_SM_NR_EVENTS; e++)
		for (s = 0; s < IPUMP_SM_NR_STATES; s++)
			KUNIT_EXPECT_EQ_MSG(test, ipump_sm_next(s, e, flags), sm_iv_kvo[e][s],
					    "%s in %s", ipump_sm_event_str(e),
					    ipump_state_str(s));
}

static void sm_spinal_never_kvo(struct kunit *test)
{
	struct ipump_programme p = { .route = IPUMP_ROUTE_INTRATHECAL,
				     .kvo_rate_nl_per_h = 100 };
	u32 spinal = ipump_sm_flags(&p, false);

	KUNIT_EXPECT_EQ(test, spinal, IPUMP_SMF_PROGRAMME | IPUMP_SMF_SPINAL | IPUMP_SMF_KVO);
	KUNIT_EXPECT_EQ(test, ipump_sm_next(R, IPUMP_SM_VTBI_DONE, spinal), A);
	KUNIT_EXPECT_EQ(test, ipump_sm_next(B, IPUMP_SM_VTBI_DONE, spinal), A);
	KUNIT_EXPECT_EQ(test, ipump_sm_next(R, IPUMP_SM_DOSE_LIMIT, spinal), A);
	KUNIT_EXPECT_EQ(test, ipump_sm_next(B, IPUMP_SM_DOSE_LIMIT, spinal), A);
	/* in KVO by the lease-loss mode: the dose limit still stops it */
	KUNIT_EXPECT_EQ(test, ipump_sm_next(R, IPUMP_SM_LEASE_LOST_KVO, spinal), K);
	KUNIT_EXPECT_EQ(test, ipump_sm_next(K, IPUMP_SM_DOSE_LIMIT, spinal), A);

	/* the same events on an intravenous route drop to KVO */
	p.route = IPUMP_ROUTE_INTRAVENOUS;
	KUNIT_EXPECT_EQ(test, ipump_sm_next(R, IPUMP_SM_DOSE_LIMIT, ipump_sm_flags(&p, false)), K);
	KUNIT_EXPECT_EQ(test, ipump_sm_next(K, IPUMP_SM_DOSE_LIMIT, ipump_sm_flags(&p, false)), K);
	/* and without a KVO rate they stop */
	p.kvo_rate_nl_per_h = 0;
	KUNIT_EXPECT_EQ(test, ipump_sm_next(R, IPUMP_SM_VTBI_DONE, ipump_sm_flags(&p, false)), A);
	KUNIT_EXPECT_EQ(test, ipump_sm_next(R, IPUMP_SM_LEASE_LOST_KVO, ipump_sm_flags(&p, false)),
			A);
}

static void sm_flags_variants(struct kunit *test)
{
	u32 hold = IPUMP_SMF_PROGRAMME | IPUMP_SMF_KVO | IPUMP_SMF_KVO_HOLD;

	/* no programme: clearing an alarm or fault returns to idle */
	KUNIT_EXPECT_EQ(test, ipump_sm_next(A, IPUMP_SM_ALARM_CLEARED, 0), I);
	KUNIT_EXPECT_EQ(test, ipump_sm_next(F, IPUMP_SM_FAULT_CLEARED, 0), I);
	KUNIT_EXPECT_EQ(test, ipump_sm_flags(NULL, true), 0U);
	/* a pause while held at KVO resumes to KVO, never to the basal rate */
	KUNIT_EXPECT_EQ(test, ipump_sm_next(Z, IPUMP_SM_RESUME, hold), K);
	KUNIT_EXPECT_EQ(test, ipump_sm_next(Z, IPUMP_SM_RESUME, IPUMP_SMF_PROGRAMME), R);
	KUNIT_EXPECT_EQ(test, ipump_sm_next(Z, IPUMP_SM_RESUME,
					    IPUMP_SMF_PROGRAMME | IPUMP_SMF_KVO_HOLD), -EINVAL);
	/* out of range */
	KUNIT_EXPECT_EQ(test, ipump_sm_next(IPUMP_SM_NR_STATES, IPUMP_SM_STOP, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, ipump_sm_next(I, IPUMP_SM_NR_EVENTS, 0), -EINVAL);
	KUNIT_EXPECT_STREQ(test, ipump_state_str(K), "kvo");
	KUNIT_EXPECT_STREQ(test, ipump_sm_event_str(IPUMP_SM_NR_EVENTS), "unknown");
}

static void sm_refusal_paired(struct kunit *test)
{
	u32 f = IPUMP_SMF_PROGRAMME | IPUMP_SMF_KVO;
	int s;

	/* start refused while alarm-stopped, accepted after the ack */
	KUNIT_EXPECT_EQ(test, ipump_sm_next(A, IPUMP_SM_START, f), -EBUSY);
	s = ipump_sm_next(A, IPUMP_SM_ALARM_CLEARED, f);
	KUNIT_EXPECT_EQ(test, s, P);
	KUNIT_EXPECT_EQ(test, ipump_sm_next(s, IPUMP_SM_START, f), R);

	/* a second bolus refused during one, accepted after it ended */
	KUNIT_EXPECT_EQ(test, ipump_sm_next(B, IPUMP_SM_BOLUS_START, f), -EBUSY);
	s = ipump_sm_next(B, IPUMP_SM_BOLUS_END, f);
	KUNIT_EXPECT_EQ(test, s, R);
	KUNIT_EXPECT_EQ(test, ipump_sm_next(s, IPUMP_SM_BOLUS_START, f), B);

	/* programme refused while running, accepted after a stop */
	KUNIT_EXPECT_EQ(test, ipump_sm_next(R, IPUMP_SM_PROGRAMME, f), -EBUSY);
	s = ipump_sm_next(R, IPUMP_SM_STOP, f);
	KUNIT_EXPECT_EQ(test, ipump_sm_next(s, IPUMP_SM_PROGRAMME, f), P);

	/* anything but stop refused in fault, accepted once it is cleared */
	KUNIT_EXPECT_EQ(test, ipump_sm_next(F, IPUMP_SM_START, f), -EIO);
	s = ipump_sm_next(F, IPUMP_SM_FAULT_CLEARED, f);
	KUNIT_EXPECT_EQ(test, ipump_sm_next(s, IPUMP_SM_START, f), R);
}

static struct kunit_case sm_cases[] = {
	KUNIT_CASE(sm_full_table),
	KUNIT_CASE(sm_spinal_never_kvo),
	KUNIT_CASE(sm_flags_variants),
	KUNIT_CASE(sm_refusal_paired),
	{}
};

static struct kunit_suite sm_suite = {
	.name = "ipump_rules_sm",
	.test_cases = sm_cases,
};

#undef I
#undef R
#undef A
#undef F
#undef P
#undef B
#undef Z
#undef K

/* ---- alarms, audio pause, air, verification */

static void alarm_rules(struct kunit *test)
{
	const struct ipump_alarm_info *ai;
	unsigned int a;

	for (a = 0; a < IPUMP_ALARM_COUNT; a++) {
		ai = ipump_alarm_info(a);
		KUNIT_ASSERT_NOT_NULL(test, ai);
		KUNIT_EXPECT_NOT_NULL(test, ai->name);
		KUNIT_EXPECT_NOT_NULL(test, ai->clear);
		KUNIT_EXPECT_GE(test, ai->priority, IPUMP_PRIO_LOW);
		/* every high-priority alarm stops delivery and latches */
		if (ai->priority == IPUMP_PRIO_HIGH) {
			KUNIT_EXPECT_TRUE_MSG(test, ai->rules & (IPUMP_ALARM_RULE_STOPS |
								 IPUMP_ALARM_RULE_LEASE_MODE),
					      "%s", ai->name);
			KUNIT_EXPECT_TRUE(test, ai->rules & IPUMP_ALARM_RULE_LATCHING);
		}
	}
	KUNIT_EXPECT_NULL(test, ipump_alarm_info(IPUMP_ALARM_COUNT));

	ai = ipump_alarm_info(IPUMP_ALARM_OCCLUSION_DOWN);
	KUNIT_EXPECT_EQ(test, ai->priority, IPUMP_PRIO_HIGH);
	KUNIT_EXPECT_EQ(test, ai->rules, IPUMP_ALARM_RULE_LATCHING | IPUMP_ALARM_RULE_STOPS);
	ai = ipump_alarm_info(IPUMP_ALARM_RESERVOIR_LOW);
	KUNIT_EXPECT_EQ(test, ai->priority, IPUMP_PRIO_LOW);
	KUNIT_EXPECT_EQ(test, ai->rules, 0U);
	ai = ipump_alarm_info(IPUMP_ALARM_LEASE_LOST);
	KUNIT_EXPECT_EQ(test, ai->priority, IPUMP_PRIO_HIGH);
	KUNIT_EXPECT_EQ(test, ai->rules,
			IPUMP_ALARM_RULE_LATCHING | IPUMP_ALARM_RULE_LEASE_MODE);
	KUNIT_EXPECT_STREQ(test, ipump_alarm_info(IPUMP_ALARM_DOSE_LIMIT)->name, "dose-limit");

	KUNIT_EXPECT_EQ(test, ipump_alarms_stopping(),
			BIT(IPUMP_ALARM_OCCLUSION_DOWN) | BIT(IPUMP_ALARM_OCCLUSION_UP) |
			BIT(IPUMP_ALARM_AIR_IN_LINE) | BIT(IPUMP_ALARM_DOOR_OPEN) |
			BIT(IPUMP_ALARM_RESERVOIR_EMPTY) | BIT(IPUMP_ALARM_MOTOR_STALL) |
			BIT(IPUMP_ALARM_FREE_FLOW) | BIT(IPUMP_ALARM_COMMUNICATION) |
			BIT(IPUMP_ALARM_CARD_WATCHDOG) | BIT(IPUMP_ALARM_BATTERY_DEPLETED) |
			BIT(IPUMP_ALARM_OVER_INFUSION) | BIT(IPUMP_ALARM_AIR_ACCUMULATED));
}

static void alarm_audio_pause(struct kunit *test)
{
	struct ipump_audio_pause ap = {};
	u64 t = 100 * T_SEC;

	KUNIT_EXPECT_FALSE(test, ipump_audio_paused(&ap, t));
	/* refused above two minutes and for 0, state unchanged ... */
	KUNIT_EXPECT_EQ(test, ipump_audio_pause(&ap, t, 120001), -ERANGE);
	KUNIT_EXPECT_EQ(test, ipump_audio_pause(&ap, t, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, ap.until_ns, 0ULL);
	KUNIT_EXPECT_FALSE(test, ipump_audio_paused(&ap, t));
	/* ... accepted at two minutes, and it sounds again exactly then */
	KUNIT_EXPECT_EQ(test, ipump_audio_pause(&ap, t, 120000), 0);
	KUNIT_EXPECT_TRUE(test, ipump_audio_paused(&ap, t + 120 * T_SEC - 1));
	KUNIT_EXPECT_FALSE(test, ipump_audio_paused(&ap, t + 120 * T_SEC));
	/* pausing again starts from now, never beyond now + 2 min */
	KUNIT_EXPECT_EQ(test, ipump_audio_pause(&ap, t + 130 * T_SEC, 120000), 0);
	KUNIT_EXPECT_EQ(test, ap.until_ns, t + 250 * T_SEC);
}

static void alarm_air_accumulated(struct kunit *test)
{
	struct ipump_air_window a = {};
	u32 limit = IPUMP_DEF_AIR_ACCUM_NL;	/* 1 mL */
	int i;

	/* five 200 uL bubbles, one a minute from minute 0 */
	for (i = 0; i < 4; i++)
		ipump_air_add(&a, i * T_MIN, 200000);
	KUNIT_EXPECT_EQ(test, ipump_air_sum(&a, 4 * T_MIN), 800000ULL);
	KUNIT_EXPECT_FALSE(test, ipump_air_exceeded(&a, 4 * T_MIN, limit));
	ipump_air_add(&a, 4 * T_MIN, 200000);
	KUNIT_EXPECT_TRUE(test, ipump_air_exceeded(&a, 4 * T_MIN, limit));
	/* the first bubble counts until minute 0 + 15 min ends */
	KUNIT_EXPECT_TRUE(test, ipump_air_exceeded(&a, 16 * T_MIN - 1, limit));
	KUNIT_EXPECT_FALSE(test, ipump_air_exceeded(&a, 16 * T_MIN, limit));
	KUNIT_EXPECT_EQ(test, ipump_air_sum(&a, 16 * T_MIN), 800000ULL);
	KUNIT_EXPECT_EQ(test, ipump_air_sum(&a, 20 * T_MIN), 0ULL);
}

static void verify_thresholds(struct kunit *test)
{
	struct ipump_verify_window v = {};
	u64 t = T_HOUR;

	ipump_verify_add(&v, t, 100000, 110000);
	/* +10 % exactly is not over-infusion, one nL more is */
	KUNIT_EXPECT_EQ(test, ipump_verify_check(&v, t, 10, 10, 1000), IPUMP_VERIFY_OK);
	ipump_verify_add(&v, t, 0, 1);
	KUNIT_EXPECT_EQ(test, ipump_verify_check(&v, t, 10, 10, 1000), IPUMP_VERIFY_OVER);
	/* leaves the window after 15 min + the partial minute */
	KUNIT_EXPECT_EQ(test, ipump_verify_check(&v, t + 16 * T_MIN, 10, 10, 1000),
			IPUMP_VERIFY_TOO_LITTLE);

	memset(&v, 0, sizeof(v));
	ipump_verify_add(&v, t, 100000, 90000);
	KUNIT_EXPECT_EQ(test, ipump_verify_check(&v, t, 10, 10, 1000), IPUMP_VERIFY_OK);
	memset(&v, 0, sizeof(v));
	ipump_verify_add(&v, t, 100000, 89999);
	KUNIT_EXPECT_EQ(test, ipump_verify_check(&v, t, 10, 10, 1000), IPUMP_VERIFY_UNDER);
	/* configurable: the same counts are fine at 20 % */
	KUNIT_EXPECT_EQ(test, ipump_verify_check(&v, t, 20, 20, 1000), IPUMP_VERIFY_OK);

	/*
	 * nothing commanded but flow counted: uncommanded flow, once it is
	 * over the judging volume plus the threshold (1000 + 10 %)
	 */
	memset(&v, 0, sizeof(v));
	ipump_verify_add(&v, t, 0, 1100);
	KUNIT_EXPECT_EQ(test, ipump_verify_check(&v, t, 10, 10, 1000), IPUMP_VERIFY_TOO_LITTLE);
	ipump_verify_add(&v, t, 0, 1);
	KUNIT_EXPECT_EQ(test, ipump_verify_check(&v, t, 10, 10, 1000), IPUMP_VERIFY_OVER);
}

static void verify_stall(struct kunit *test)
{
	struct ipump_stall s;
	u32 nl_per_step = 100, stall_ms = 5000;

	ipump_stall_reset(&s);
	KUNIT_EXPECT_FALSE(test, ipump_stall_check(&s, 0, 10, 0, nl_per_step, stall_ms));
	KUNIT_EXPECT_FALSE(test, ipump_stall_check(&s, 5000 * T_MS - 1, 10, 1000, nl_per_step,
						   stall_ms));
	KUNIT_EXPECT_TRUE(test, ipump_stall_check(&s, 5000 * T_MS, 10, 1000, nl_per_step,
						  stall_ms));
	/* steps advance again: no stall, and the timer restarts */
	KUNIT_EXPECT_FALSE(test, ipump_stall_check(&s, 6000 * T_MS, 11, 1100, nl_per_step,
						   stall_ms));
	KUNIT_EXPECT_FALSE(test, ipump_stall_check(&s, 10999 * T_MS, 11, 2000, nl_per_step,
						   stall_ms));
	KUNIT_EXPECT_TRUE(test, ipump_stall_check(&s, 11000 * T_MS, 11, 2000, nl_per_step,
						  stall_ms));

	/* a slow rate: less than two steps commanded is not a stall ... */
	ipump_stall_reset(&s);
	KUNIT_EXPECT_FALSE(test, ipump_stall_check(&s, 0, 7, 0, nl_per_step, stall_ms));
	KUNIT_EXPECT_FALSE(test, ipump_stall_check(&s, 60 * T_SEC, 7, 199, nl_per_step, stall_ms));
	/* ... two steps are */
	KUNIT_EXPECT_TRUE(test, ipump_stall_check(&s, 60 * T_SEC, 7, 200, nl_per_step, stall_ms));
}

static struct kunit_case alarm_cases[] = {
	KUNIT_CASE(alarm_rules),
	KUNIT_CASE(alarm_audio_pause),
	KUNIT_CASE(alarm_air_accumulated),
	KUNIT_CASE(verify_thresholds),
	KUNIT_CASE(verify_stall),
	{}
};

static struct kunit_suite alarm_suite = {
	.name = "ipump_rules_alarm",
	.test_cases = alarm_cases,
};

/* ---- the console lease */

static int console_a, console_b;	/* cookies */

static void lease_takeover(struct kunit *test)
{
	struct ipump_lease l = {};
	u64 t = 50 * T_SEC, deadline = t + 1000 * T_MS + IPUMP_LEASE_GRACE_MS * T_MS;

	KUNIT_EXPECT_EQ(test, ipump_lease_acquire(&l, &console_a, t, 1000), 0);
	KUNIT_EXPECT_EQ(test, ipump_lease_deadline_ns(&l), deadline);
	/* a live lease is never taken, even inside the grace */
	KUNIT_EXPECT_EQ(test, ipump_lease_acquire(&l, &console_b, t, 1000), -EBUSY);
	KUNIT_EXPECT_EQ(test, ipump_lease_takeover(&l, &console_b, deadline - 1, 1000), -EBUSY);
	KUNIT_EXPECT_FALSE(test, ipump_lease_expired(&l, deadline - 1));
	KUNIT_EXPECT_TRUE(test, l.owner == &console_a);
	/* orphaned at period + grace: taken over explicitly */
	KUNIT_EXPECT_TRUE(test, ipump_lease_expired(&l, deadline));
	KUNIT_EXPECT_EQ(test, ipump_lease_acquire(&l, &console_b, deadline, 1000), -EOWNERDEAD);
	KUNIT_EXPECT_EQ(test, ipump_lease_takeover(&l, &console_b, deadline, 1000), 0);
	KUNIT_EXPECT_TRUE(test, l.owner == &console_b);
	KUNIT_EXPECT_EQ(test, ipump_lease_check(&l, &console_b, deadline), 0);
	KUNIT_EXPECT_EQ(test, ipump_lease_check(&l, &console_a, deadline), -EPERM);
	KUNIT_EXPECT_EQ(test, ipump_lease_renew(&l, &console_a, deadline), -EPERM);
}

static void lease_renew(struct kunit *test)
{
	struct ipump_lease l = {};
	u64 t = 0;

	KUNIT_EXPECT_EQ(test, ipump_lease_renew(&l, &console_a, t), -EPERM);
	KUNIT_EXPECT_EQ(test, ipump_lease_acquire(&l, &console_a, t, 1000), 0);
	/* a heartbeat inside the grace keeps it */
	KUNIT_EXPECT_EQ(test, ipump_lease_renew(&l, &console_a, 1499 * T_MS), 0);
	KUNIT_EXPECT_EQ(test, ipump_lease_deadline_ns(&l), 2999ULL * T_MS);
	KUNIT_EXPECT_EQ(test, ipump_lease_check(&l, &console_a, 2999 * T_MS - 1), 0);
	/* a late one does not revive it */
	KUNIT_EXPECT_EQ(test, ipump_lease_renew(&l, &console_a, 2999 * T_MS), -ETIMEDOUT);
	KUNIT_EXPECT_EQ(test, ipump_lease_check(&l, &console_a, 2999 * T_MS), -ETIMEDOUT);
	KUNIT_EXPECT_EQ(test, ipump_lease_acquire(&l, &console_a, 3000 * T_MS, 1000), -EOWNERDEAD);
	/* its owner takes it over explicitly, then renews again */
	KUNIT_EXPECT_EQ(test, ipump_lease_takeover(&l, &console_a, 3000 * T_MS, 1000), 0);
	KUNIT_EXPECT_EQ(test, ipump_lease_renew(&l, &console_a, 3500 * T_MS), 0);
}

static void lease_release_orphan(struct kunit *test)
{
	struct ipump_lease l = {};

	KUNIT_EXPECT_EQ(test, ipump_lease_acquire(&l, &console_a, 0, 1000), 0);
	KUNIT_EXPECT_EQ(test, ipump_lease_release(&l, &console_b), -EPERM);
	KUNIT_EXPECT_EQ(test, ipump_lease_acquire(&l, &console_b, T_MS, 1000), -EBUSY);
	KUNIT_EXPECT_EQ(test, ipump_lease_release(&l, &console_a), 0);
	KUNIT_EXPECT_EQ(test, ipump_lease_deadline_ns(&l), U64_MAX);
	KUNIT_EXPECT_EQ(test, ipump_lease_acquire(&l, &console_b, T_MS, 1000), 0);

	/* the holder's file closes: lost at once, whatever the time */
	ipump_lease_orphan(&l, &console_a);	/* not the holder: no effect */
	KUNIT_EXPECT_FALSE(test, ipump_lease_expired(&l, 2 * T_MS));
	KUNIT_EXPECT_EQ(test, ipump_lease_takeover(&l, &console_a, 2 * T_MS, 1000), -EBUSY);
	ipump_lease_orphan(&l, &console_b);
	KUNIT_EXPECT_TRUE(test, ipump_lease_expired(&l, 2 * T_MS));
	KUNIT_EXPECT_EQ(test, ipump_lease_deadline_ns(&l), 0ULL);
	KUNIT_EXPECT_EQ(test, ipump_lease_takeover(&l, &console_a, 2 * T_MS, 1000), 0);
	KUNIT_EXPECT_FALSE(test, ipump_lease_expired(&l, 2 * T_MS));
}

static void lease_period(struct kunit *test)
{
	struct ipump_lease l = {};

	KUNIT_EXPECT_EQ(test, ipump_lease_acquire(&l, &console_a, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, ipump_lease_acquire(&l, NULL, 0, 1000), -EINVAL);
	KUNIT_EXPECT_EQ(test, ipump_lease_acquire(&l, &console_a, 0, IPUMP_LEASE_MIN_PERIOD_MS - 1),
			-ERANGE);
	KUNIT_EXPECT_EQ(test, ipump_lease_acquire(&l, &console_a, 0, IPUMP_LEASE_MAX_PERIOD_MS + 1),
			-ERANGE);
	KUNIT_EXPECT_TRUE(test, !l.owner);
	KUNIT_EXPECT_EQ(test, ipump_lease_acquire(&l, &console_a, 0, IPUMP_LEASE_MAX_PERIOD_MS), 0);
	KUNIT_EXPECT_EQ(test, ipump_lease_acquire(&l, &console_a, 0, IPUMP_LEASE_MIN_PERIOD_MS), 0);
	KUNIT_EXPECT_EQ(test, l.period_ms, IPUMP_LEASE_MIN_PERIOD_MS);
}

static struct kunit_case lease_cases[] = {
	KUNIT_CASE(lease_takeover),
	KUNIT_CASE(lease_renew),
	KUNIT_CASE(lease_release_orphan),
	KUNIT_CASE(lease_period),
	{}
};

static struct kunit_suite lease_suite = {
	.name = "ipump_rules_lease",
	.test_cases = lease_cases,
};

/* ---- programmes and limits */

/* A valid intravenous PCA programme under the default limits. */
static void iv_pca(struct ipump_programme *p, const struct ipump_hard_limits *l)
{
	ipump_programme_defaults(p, IPUMP_ROUTE_INTRAVENOUS, l);
	p->flags = IPUMP_PROG_PCA;
	p->basal_rate_nl_per_h = 2000000;	/* 2 mL/h */
	p->vtbi_nl = 100000000;			/* 100 mL */
	p->bolus_volume_nl = 1000000;		/* 1 mL */
	p->bolus_rate_nl_per_h = 60000000;	/* 60 mL/h */
	p->lockout_ms = 600000;			/* 10 min */
	p->max_boluses_per_hour = 6;
}

#define EXPECT_REFUSED(test, p, l, err, reason) do {			\
	struct kunit *__test = (test);					\
	enum ipump_reason __why = IPUMP_REASON_NONE;			\
	KUNIT_EXPECT_EQ(__test, ipump_programme_check(p, l, &__why), err); \
	KUNIT_EXPECT_EQ(__test, __why, reason);				\
} while (0)

#define EXPECT_OK(test, p, l) \
	EXPECT_REFUSED(test, p, l, 0, IPUMP_REASON_NONE)

static void programme_limits(struct kunit *test)
{
	struct ipump_hard_limits l;
	enum ipump_reason why;

	ipump_limits_defaults(&l);
	KUNIT_EXPECT_EQ(test, ipump_limits_check(&l, &why), 0);
	l.reserved[5] = 1;
	KUNIT_EXPECT_EQ(test, ipump_limits_check(&l, &why), -EINVAL);
	KUNIT_EXPECT_EQ(test, why, IPUMP_REASON_RESERVED);
	l.reserved[5] = 0;
	l.min_rate_nl_per_h = l.max_rate_nl_per_h + 1;
	KUNIT_EXPECT_EQ(test, ipump_limits_check(&l, &why), -EINVAL);
	KUNIT_EXPECT_EQ(test, why, IPUMP_REASON_LIMITS_ORDER);
	l.min_rate_nl_per_h = l.max_kvo_rate_nl_per_h;
	KUNIT_EXPECT_EQ(test, ipump_limits_check(&l, &why), 0);
	l.max_boluses_per_hour = IPUMP_MAX_BOLUSES_PER_HOUR + 1;
	KUNIT_EXPECT_EQ(test, ipump_limits_check(&l, &why), -EINVAL);
	KUNIT_EXPECT_EQ(test, why, IPUMP_REASON_LIMITS_RANGE);
	l.max_boluses_per_hour = IPUMP_MAX_BOLUSES_PER_HOUR;
	KUNIT_EXPECT_EQ(test, ipump_limits_check(&l, &why), 0);
	l.stall_ms = 0;
	KUNIT_EXPECT_EQ(test, ipump_limits_check(&l, &why), -EINVAL);
	KUNIT_EXPECT_EQ(test, why, IPUMP_REASON_LIMITS_ZERO);
	l.stall_ms = 1;
	l.max_dose_4h_nl = l.max_dose_1h_nl - 1;
	KUNIT_EXPECT_EQ(test, ipump_limits_check(&l, &why), -EINVAL);
	KUNIT_EXPECT_EQ(test, why, IPUMP_REASON_LIMITS_ORDER);
	l.max_dose_4h_nl = l.max_dose_1h_nl;
	KUNIT_EXPECT_EQ(test, ipump_limits_check(&l, &why), 0);
}

static void programme_structure(struct kunit *test)
{
	struct ipump_hard_limits l;
	struct ipump_programme p;

	ipump_limits_defaults(&l);
	iv_pca(&p, &l);
	EXPECT_OK(test, &p, &l);

	p.route = 0;
	EXPECT_REFUSED(test, &p, &l, -EINVAL, IPUMP_REASON_ROUTE);
	p.route = IPUMP_ROUTE_INTRATHECAL + 1;
	EXPECT_REFUSED(test, &p, &l, -EINVAL, IPUMP_REASON_ROUTE);
	p.route = IPUMP_ROUTE_INTRAVENOUS;
	p.flags |= 1U << 31;
	EXPECT_REFUSED(test, &p, &l, -EINVAL, IPUMP_REASON_FLAGS);
	p.flags &= ~(1U << 31);
	p.padding = 1;
	EXPECT_REFUSED(test, &p, &l, -EINVAL, IPUMP_REASON_RESERVED);
	p.padding = 0;
	p.reserved[7] = 1;
	EXPECT_REFUSED(test, &p, &l, -EINVAL, IPUMP_REASON_RESERVED);
	p.reserved[7] = 0;
	p.lease_loss_mode = 3;
	EXPECT_REFUSED(test, &p, &l, -EINVAL, IPUMP_REASON_LEASE_LOSS_MODE);
	p.lease_loss_mode = IPUMP_LEASE_LOSS_KVO;
	EXPECT_OK(test, &p, &l);
	p.kvo_rate_nl_per_h = 0;
	EXPECT_REFUSED(test, &p, &l, -EINVAL, IPUMP_REASON_LEASE_LOSS_KVO);
	p.lease_loss_mode = IPUMP_LEASE_LOSS_CONTINUE_BASAL;
	EXPECT_OK(test, &p, &l);
	p.basal_rate_nl_per_h = 0;
	EXPECT_REFUSED(test, &p, &l, -EINVAL, IPUMP_REASON_LEASE_LOSS_BASAL);
	p.lease_loss_mode = IPUMP_LEASE_LOSS_STOP;
	EXPECT_OK(test, &p, &l);	/* PCA without basal */
	p.flags &= ~IPUMP_PROG_PCA;
	EXPECT_REFUSED(test, &p, &l, -EINVAL, IPUMP_REASON_RATE_ZERO);

	iv_pca(&p, &l);
	p.vtbi_nl = 0;
	EXPECT_REFUSED(test, &p, &l, -EINVAL, IPUMP_REASON_VTBI_ZERO);
	p.flags |= IPUMP_PROG_VTBI_UNLIMITED;
	EXPECT_OK(test, &p, &l);
	p.vtbi_nl = 1;
	EXPECT_REFUSED(test, &p, &l, -EINVAL, IPUMP_REASON_VTBI_UNLIMITED);
	p.flags &= ~IPUMP_PROG_VTBI_UNLIMITED;
	p.vtbi_nl = l.max_vtbi_nl + 1;
	EXPECT_REFUSED(test, &p, &l, -ERANGE, IPUMP_REASON_VTBI_HIGH);
	p.vtbi_nl = l.max_vtbi_nl;
	EXPECT_OK(test, &p, &l);
}

static void programme_ranges(struct kunit *test)
{
	struct ipump_hard_limits l;
	struct ipump_programme p;

	ipump_limits_defaults(&l);
	iv_pca(&p, &l);
	/* never clamped: one over a limit is refused, the limit accepted */
	p.basal_rate_nl_per_h = l.max_rate_nl_per_h + 1;
	EXPECT_REFUSED(test, &p, &l, -ERANGE, IPUMP_REASON_RATE_HIGH);
	p.basal_rate_nl_per_h = l.max_rate_nl_per_h;
	EXPECT_OK(test, &p, &l);
	p.basal_rate_nl_per_h = l.min_rate_nl_per_h - 1;
	p.kvo_rate_nl_per_h = 0;
	EXPECT_REFUSED(test, &p, &l, -ERANGE, IPUMP_REASON_RATE_LOW);
	p.basal_rate_nl_per_h = l.min_rate_nl_per_h;
	EXPECT_OK(test, &p, &l);

	iv_pca(&p, &l);
	p.kvo_rate_nl_per_h = l.max_kvo_rate_nl_per_h + 1;
	EXPECT_REFUSED(test, &p, &l, -ERANGE, IPUMP_REASON_KVO_HIGH);
	p.basal_rate_nl_per_h = 500000;
	p.kvo_rate_nl_per_h = 500001;
	EXPECT_REFUSED(test, &p, &l, -ERANGE, IPUMP_REASON_KVO_ABOVE_BASAL);
	p.kvo_rate_nl_per_h = 500000;
	EXPECT_OK(test, &p, &l);

	iv_pca(&p, &l);
	p.bolus_volume_nl = l.max_bolus_volume_nl + 1;
	EXPECT_REFUSED(test, &p, &l, -ERANGE, IPUMP_REASON_BOLUS_VOLUME_HIGH);
	p.bolus_volume_nl = l.max_bolus_volume_nl;
	EXPECT_OK(test, &p, &l);
	p.bolus_rate_nl_per_h = l.max_bolus_rate_nl_per_h + 1;
	EXPECT_REFUSED(test, &p, &l, -ERANGE, IPUMP_REASON_BOLUS_RATE_HIGH);
	p.bolus_rate_nl_per_h = 0;
	EXPECT_REFUSED(test, &p, &l, -EINVAL, IPUMP_REASON_BOLUS_RATE_ZERO);
	p.bolus_rate_nl_per_h = l.max_bolus_rate_nl_per_h;
	EXPECT_OK(test, &p, &l);
	p.max_boluses_per_hour = l.max_boluses_per_hour + 1;
	EXPECT_REFUSED(test, &p, &l, -ERANGE, IPUMP_REASON_BOLUS_COUNT_HIGH);
	p.max_boluses_per_hour = 0;
	EXPECT_REFUSED(test, &p, &l, -EINVAL, IPUMP_REASON_BOLUS_COUNT_ZERO);
	p.max_boluses_per_hour = l.max_boluses_per_hour;
	EXPECT_OK(test, &p, &l);
	p.flags &= ~IPUMP_PROG_PCA;
	EXPECT_REFUSED(test, &p, &l, -EINVAL, IPUMP_REASON_PCA_FIELDS);
	p.bolus_volume_nl = 0;
	p.bolus_rate_nl_per_h = 0;
	p.lockout_ms = 0;
	p.max_boluses_per_hour = 0;
	EXPECT_OK(test, &p, &l);

	iv_pca(&p, &l);
	p.max_dose_1h_nl = l.max_dose_1h_nl + 1;
	EXPECT_REFUSED(test, &p, &l, -ERANGE, IPUMP_REASON_DOSE_1H_HIGH);
	p.max_dose_1h_nl = 0;
	EXPECT_REFUSED(test, &p, &l, -EINVAL, IPUMP_REASON_DOSE_ZERO);
	p.max_dose_1h_nl = l.max_dose_1h_nl;
	p.max_dose_4h_nl = l.max_dose_4h_nl + 1;
	EXPECT_REFUSED(test, &p, &l, -ERANGE, IPUMP_REASON_DOSE_4H_HIGH);
	p.max_dose_4h_nl = l.max_dose_1h_nl - 1;
	EXPECT_REFUSED(test, &p, &l, -EINVAL, IPUMP_REASON_DOSE_ORDER);
	p.max_dose_4h_nl = l.max_dose_4h_nl;
	EXPECT_OK(test, &p, &l);
}

static void programme_lockout_never_zero(struct kunit *test)
{
	struct ipump_hard_limits l;
	struct ipump_programme p;

	ipump_limits_defaults(&l);
	iv_pca(&p, &l);
	p.lockout_ms = 0;
	EXPECT_REFUSED(test, &p, &l, -EINVAL, IPUMP_REASON_LOCKOUT_ZERO);
	p.lockout_ms = l.min_lockout_ms - 1;
	EXPECT_REFUSED(test, &p, &l, -ERANGE, IPUMP_REASON_LOCKOUT_SHORT);
	p.lockout_ms = l.min_lockout_ms;
	EXPECT_OK(test, &p, &l);
	p.lockout_ms = IPUMP_MAX_LOCKOUT_MS + 1;
	EXPECT_REFUSED(test, &p, &l, -ERANGE, IPUMP_REASON_LOCKOUT_LONG);
	p.lockout_ms = IPUMP_MAX_LOCKOUT_MS;
	EXPECT_OK(test, &p, &l);
}

static void programme_spinal(struct kunit *test)
{
	struct ipump_hard_limits l;
	struct ipump_programme p;

	ipump_limits_defaults(&l);
	ipump_programme_defaults(&p, IPUMP_ROUTE_INTRATHECAL, &l);
	KUNIT_EXPECT_EQ(test, p.kvo_rate_nl_per_h, 0U);
	KUNIT_EXPECT_EQ(test, p.lease_loss_mode, (u32)IPUMP_LEASE_LOSS_STOP);
	KUNIT_EXPECT_EQ(test, p.max_dose_1h_nl, l.max_dose_1h_nl);
	ipump_programme_defaults(&p, IPUMP_ROUTE_EPIDURAL, &l);
	KUNIT_EXPECT_EQ(test, p.kvo_rate_nl_per_h, 0U);
	ipump_programme_defaults(&p, IPUMP_ROUTE_INTRAVENOUS, &l);
	KUNIT_EXPECT_EQ(test, p.kvo_rate_nl_per_h, IPUMP_DEF_KVO_IV_NL_PER_H);
	/* the defaults alone are refused: basal and VTBI must be chosen */
	EXPECT_REFUSED(test, &p, &l, -EINVAL, IPUMP_REASON_RATE_ZERO);

	/* intrathecal baclofen, 0.1 mL/day */
	ipump_programme_defaults(&p, IPUMP_ROUTE_INTRATHECAL, &l);
	p.basal_rate_nl_per_h = 4167;
	p.flags = IPUMP_PROG_VTBI_UNLIMITED;
	p.lease_loss_mode = IPUMP_LEASE_LOSS_CONTINUE_BASAL;
	EXPECT_OK(test, &p, &l);
	p.kvo_rate_nl_per_h = 1000;
	EXPECT_REFUSED(test, &p, &l, -EINVAL, IPUMP_REASON_SPINAL_KVO);
	p.flags |= IPUMP_PROG_SPINAL_KVO;
	EXPECT_OK(test, &p, &l);
}

static void programme_basal_dose(struct kunit *test)
{
	struct ipump_hard_limits l;
	struct ipump_programme p;

	ipump_limits_defaults(&l);
	ipump_programme_defaults(&p, IPUMP_ROUTE_SUBCUTANEOUS, &l);
	p.basal_rate_nl_per_h = 1000000;	/* 1 mL/h */
	p.vtbi_nl = 10000000;
	p.max_dose_4h_nl = 5000000;
	/* 1 mL/h over the 61 minutes the 1-hour window may count */
	p.max_dose_1h_nl = 1016667;
	EXPECT_REFUSED(test, &p, &l, -ERANGE, IPUMP_REASON_BASAL_OVER_DOSE);
	p.max_dose_1h_nl = 1016668;
	EXPECT_OK(test, &p, &l);
	/* and over 241 minutes for the 4-hour window */
	p.max_dose_4h_nl = 4016667;
	EXPECT_REFUSED(test, &p, &l, -ERANGE, IPUMP_REASON_BASAL_OVER_DOSE);
	p.max_dose_4h_nl = 4016668;
	EXPECT_OK(test, &p, &l);
}

static void programme_titrate_bolus_generation(struct kunit *test)
{
	struct ipump_hard_limits l;
	struct ipump_programme cur, next;
	enum ipump_reason why;

	ipump_limits_defaults(&l);
	iv_pca(&cur, &l);
	next = cur;
	next.route = IPUMP_ROUTE_SUBCUTANEOUS;
	next.kvo_rate_nl_per_h = 0;
	KUNIT_EXPECT_EQ(test, ipump_titrate_check(&cur, &next, &l, &why), -EINVAL);
	KUNIT_EXPECT_EQ(test, why, IPUMP_REASON_ROUTE_CHANGE);
	next.route = IPUMP_ROUTE_INTRAVENOUS;
	next.basal_rate_nl_per_h = 3000000;
	KUNIT_EXPECT_EQ(test, ipump_titrate_check(&cur, &next, &l, &why), 0);

	KUNIT_EXPECT_EQ(test, ipump_bolus_check(&l, l.max_bolus_volume_nl + 1, 1000000, &why),
			-ERANGE);
	KUNIT_EXPECT_EQ(test, why, IPUMP_REASON_BOLUS_VOLUME_HIGH);
	KUNIT_EXPECT_EQ(test, ipump_bolus_check(&l, l.max_bolus_volume_nl, 1000000, &why), 0);
	KUNIT_EXPECT_EQ(test, ipump_bolus_check(&l, 1000, 0, &why), -EINVAL);
	KUNIT_EXPECT_EQ(test, ipump_bolus_check(&l, 1000, l.min_rate_nl_per_h - 1, &why), -ERANGE);
	KUNIT_EXPECT_EQ(test, ipump_bolus_check(&l, 1000, l.min_rate_nl_per_h, &why), 0);

	KUNIT_EXPECT_EQ(test, ipump_generation_check(5, 4), -ESTALE);
	KUNIT_EXPECT_EQ(test, ipump_generation_check(5, 6), -ESTALE);
	KUNIT_EXPECT_EQ(test, ipump_generation_check(5, 5), 0);
}

static void programme_reason_strings(struct kunit *test)
{
	unsigned int r;

	for (r = 0; r < IPUMP_REASON_COUNT; r++)
		KUNIT_EXPECT_STRNEQ_MSG(test, ipump_reason_str(r), "unknown reason",
					"reason %u", r);
	KUNIT_EXPECT_STREQ(test, ipump_reason_str(IPUMP_REASON_COUNT), "unknown reason");
	KUNIT_EXPECT_STREQ(test, ipump_reason_str(IPUMP_REASON_LOCKOUT_ZERO), "PCA lockout 0");
}

static struct kunit_case programme_cases[] = {
	KUNIT_CASE(programme_limits),
	KUNIT_CASE(programme_structure),
	KUNIT_CASE(programme_ranges),
	KUNIT_CASE(programme_lockout_never_zero),
	KUNIT_CASE(programme_spinal),
	KUNIT_CASE(programme_basal_dose),
	KUNIT_CASE(programme_titrate_bolus_generation),
	KUNIT_CASE(programme_reason_strings),
	{}
};

static struct kunit_suite programme_suite = {
	.name = "ipump_rules_programme",
	.test_cases = programme_cases,
};

kunit_test_suites(&lockout_suite, &dose_suite, &sm_suite, &alarm_suite,
		  &lease_suite, &programme_suite);

MODULE_IMPORT_NS(IPUMP_INTERNAL);
