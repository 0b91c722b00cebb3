// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the ipump audit log and its reader queues (ipump_log.c).
 * Part of ipump_kunit.ko (CONFIG_IPUMP_KUNIT_TEST), linked against ipump.ko.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/stddef.h>
#include <linux/string.h>

#include "ipump_log.h"

#define TEST_CARD	7
#define TEST_OUT	64	/* records in the fixture's output buffer */
#define TEST_READERS	3

struct log_fixture {
	struct ipump_log log;
	bool log_live;
	struct ipump_log_reader r[TEST_READERS];
	bool r_live[TEST_READERS];
	struct ipump_event out[TEST_OUT];
	/* notifier record */
	struct ipump_event seen[TEST_OUT];
	unsigned int nr_seen;
};

static int log_test_init(struct kunit *test)
{
	struct log_fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, f);
	test->priv = f;
	return 0;
}

/* Whatever a test left attached or initialised: no leak on a failed assert. */
static void log_test_exit(struct kunit *test)
{
	struct log_fixture *f = test->priv;
	int i;

	for (i = 0; i < TEST_READERS; i++)
		if (f->r_live[i])
			ipump_log_reader_detach(&f->r[i]);
	if (f->log_live)
		ipump_log_destroy(&f->log);
}

static struct ipump_log *new_log(struct kunit *test, unsigned int capacity)
{
	struct log_fixture *f = test->priv;

	KUNIT_ASSERT_EQ(test, ipump_log_init(&f->log, TEST_CARD, capacity), 0);
	f->log_live = true;
	return &f->log;
}

static struct ipump_log_reader *new_reader(struct kunit *test, int i,
					   unsigned int capacity)
{
	struct log_fixture *f = test->priv;

	KUNIT_ASSERT_EQ(test, ipump_log_reader_attach(&f->log, &f->r[i], capacity), 0);
	f->r_live[i] = true;
	return &f->r[i];
}

static void drop_reader(struct kunit *test, int i)
{
	struct log_fixture *f = test->priv;

	ipump_log_reader_detach(&f->r[i]);
	f->r_live[i] = false;
}

/* Append one record on channel 1 with recognisable values; its seq. */
static u64 add(struct kunit *test, struct ipump_log *log,
	       enum ipump_event_type type, enum ipump_priority prio)
{
	static u64 tick;
	struct ipump_event ev;
	u64 seq = 0;

	ipump_event_init(&ev, type, 1, prio, 1000 + tick++);
	ev.value[0] = 0x1000 + type;
	ev.value[3] = 0xfeed;
	KUNIT_ASSERT_EQ(test, ipump_log_append(log, &ev, &seq), 0);
	KUNIT_EXPECT_NE(test, seq, 0ULL);
	return seq;
}

static void add_n(struct kunit *test, struct ipump_log *log, unsigned int n)
{
	while (n--)
		add(test, log, IPUMP_EVENT_RATE_CHANGED, IPUMP_PRIO_INFO);
}

static void expect_overflow(struct kunit *test, const struct ipump_event *ev,
			    u64 count, u64 first, u64 last)
{
	KUNIT_EXPECT_EQ(test, ev->type, (u16)IPUMP_EVENT_OVERFLOW);
	KUNIT_EXPECT_EQ(test, ev->priority, (u8)IPUMP_PRIO_HIGH);
	KUNIT_EXPECT_EQ(test, ev->channel, (u8)IPUMP_CHANNEL_NONE);
	KUNIT_EXPECT_EQ(test, ev->seq, 0ULL);
	KUNIT_EXPECT_EQ(test, ev->card, (u32)TEST_CARD);
	KUNIT_EXPECT_EQ(test, ev->value[0], count);
	KUNIT_EXPECT_EQ(test, ev->value[1], first);
	KUNIT_EXPECT_EQ(test, ev->value[2], last);
	KUNIT_EXPECT_EQ(test, ev->value[3], 0ULL);
	KUNIT_EXPECT_EQ(test, ev->padding, 0U);
}

/* poll flags as a plain integer: KUnit's comparisons do not know __bitwise */
static unsigned int pflags(struct ipump_log_reader *r)
{
	return (__force unsigned int)ipump_log_reader_poll_flags(r);
}

#define PF(flags)	((__force unsigned int)(flags))

/* Read everything the reader has now into the fixture's buffer. */
static int read_all(struct kunit *test, struct ipump_log_reader *r)
{
	struct log_fixture *f = test->priv;

	return ipump_log_reader_read(r, f->out, TEST_OUT);
}

/* ---- the record */

static void event_layout(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct ipump_event), (size_t)64);
	KUNIT_EXPECT_EQ(test, offsetof(struct ipump_event, value), (size_t)24);
	KUNIT_EXPECT_EQ(test, offsetof(struct ipump_event, flags), (size_t)56);
	KUNIT_EXPECT_EQ(test, offsetof(struct ipump_event, padding), (size_t)60);
	KUNIT_EXPECT_EQ(test, offsetof(struct ipump_event, value) % 8, (size_t)0);
}

static void event_init_zeroes_everything(struct kunit *test)
{
	struct ipump_event ev, expect;

	memset(&ev, 0xa5, sizeof(ev));
	ipump_event_init(&ev, IPUMP_EVENT_ALARM_RAISED, 3, IPUMP_PRIO_MEDIUM, 42);

	memset(&expect, 0, sizeof(expect));
	expect.type = IPUMP_EVENT_ALARM_RAISED;
	expect.channel = 3;
	expect.priority = IPUMP_PRIO_MEDIUM;
	expect.timestamp_ns = 42;
	KUNIT_EXPECT_EQ(test, memcmp(&ev, &expect, sizeof(ev)), 0);
	KUNIT_EXPECT_PTR_EQ(test, memchr_inv(ev.value, 0, sizeof(ev.value)), NULL);
	KUNIT_EXPECT_EQ(test, ev.padding, 0U);
	KUNIT_EXPECT_EQ(test, ev.flags, 0U);
}

/* seq and card are the log's; padding is zeroed even if the caller set it. */
static void append_sets_seq_card_padding(struct kunit *test)
{
	struct log_fixture *f = test->priv;
	struct ipump_log *log = new_log(test, 8);
	struct ipump_event ev;
	u64 seq = 0, next = 0;

	ipump_event_init(&ev, IPUMP_EVENT_STARTED, 2, IPUMP_PRIO_INFO, 5);
	ev.seq = 77;
	ev.card = 99;
	ev.padding = 0xdeadbeef;
	ev.flags = IPUMP_EVENT_F_CONSOLE;
	ev.value[1] = 123456;
	KUNIT_ASSERT_EQ(test, ipump_log_append(log, &ev, &seq), 0);
	KUNIT_EXPECT_EQ(test, seq, 1ULL);

	KUNIT_ASSERT_EQ(test, ipump_log_copy(log, 1, f->out, TEST_OUT, &next), 1);
	KUNIT_EXPECT_EQ(test, next, 2ULL);
	KUNIT_EXPECT_EQ(test, f->out[0].seq, 1ULL);
	KUNIT_EXPECT_EQ(test, f->out[0].card, (u32)TEST_CARD);
	KUNIT_EXPECT_EQ(test, f->out[0].padding, 0U);
	KUNIT_EXPECT_EQ(test, f->out[0].flags, IPUMP_EVENT_F_CONSOLE);
	KUNIT_EXPECT_EQ(test, f->out[0].type, (u16)IPUMP_EVENT_STARTED);
	KUNIT_EXPECT_EQ(test, f->out[0].channel, (u8)2);
	KUNIT_EXPECT_EQ(test, f->out[0].timestamp_ns, 5ULL);
	KUNIT_EXPECT_EQ(test, f->out[0].value[1], 123456ULL);
	KUNIT_EXPECT_EQ(test, f->out[0].value[0], 0ULL);
}

/* ---- the log */

static void init_rejects_bad_capacity(struct kunit *test)
{
	struct log_fixture *f = test->priv;

	KUNIT_EXPECT_EQ(test, ipump_log_init(&f->log, 0, 3), -EINVAL);
	KUNIT_EXPECT_EQ(test, ipump_log_init(&f->log, 0, IPUMP_LOG_MAX_CAPACITY * 2),
			-EINVAL);
	/* paired: 0 selects the default, which is accepted */
	new_log(test, 0);
	KUNIT_EXPECT_EQ(test, f->log.capacity, (unsigned int)IPUMP_LOG_DEFAULT_CAPACITY);

	KUNIT_EXPECT_EQ(test, ipump_log_reader_attach(&f->log, &f->r[0], 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, ipump_log_reader_attach(&f->log, &f->r[0], 6), -EINVAL);
	KUNIT_EXPECT_EQ(test, ipump_log_reader_attach(&f->log, &f->r[0],
						      IPUMP_LOG_READER_MAX_CAPACITY * 2),
			-EINVAL);
	new_reader(test, 0, 2);
}

static void seq_starts_at_one_and_is_contiguous(struct kunit *test)
{
	struct log_fixture *f = test->priv;
	struct ipump_log *log = new_log(test, 16);
	u64 next = 0;
	int i, n;

	KUNIT_EXPECT_EQ(test, ipump_log_next_seq(log), 1ULL);
	KUNIT_EXPECT_EQ(test, ipump_log_copy(log, 1, f->out, TEST_OUT, &next), 0);
	KUNIT_EXPECT_EQ(test, next, 1ULL);

	for (i = 1; i <= 10; i++)
		KUNIT_EXPECT_EQ(test, add(test, log, IPUMP_EVENT_PROGRAMME_SET + i % 5,
					  IPUMP_PRIO_INFO), (u64)i);
	KUNIT_EXPECT_EQ(test, ipump_log_next_seq(log), 11ULL);
	KUNIT_EXPECT_EQ(test, ipump_log_oldest_seq(log), 1ULL);
	KUNIT_EXPECT_EQ(test, ipump_log_wrapped(log), 0ULL);

	n = ipump_log_copy(log, 0, f->out, TEST_OUT, &next);
	KUNIT_ASSERT_EQ(test, n, 10);
	KUNIT_EXPECT_EQ(test, next, 11ULL);
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_EQ(test, f->out[i].seq, (u64)i + 1);
		KUNIT_EXPECT_EQ(test, f->out[i].type,
				(u16)(IPUMP_EVENT_PROGRAMME_SET + (i + 1) % 5));
		KUNIT_EXPECT_EQ(test, f->out[i].card, (u32)TEST_CARD);
		KUNIT_EXPECT_EQ(test, f->out[i].value[3], 0xfeedULL);
	}
	/* nothing newer: 0 and the same position */
	KUNIT_EXPECT_EQ(test, ipump_log_copy(log, 11, f->out, TEST_OUT, &next), 0);
	KUNIT_EXPECT_EQ(test, next, 11ULL);
}

static void ring_wrap_is_counted_and_copy_reports_gap(struct kunit *test)
{
	struct log_fixture *f = test->priv;
	struct ipump_log *log = new_log(test, 8);
	struct ipump_event loss;
	u64 next = 0;
	int i;

	add_n(test, log, 8);
	KUNIT_EXPECT_EQ(test, ipump_log_wrapped(log), 0ULL);
	KUNIT_EXPECT_EQ(test, ipump_log_copy(log, 1, f->out, TEST_OUT, &next), 8);

	add_n(test, log, 5);	/* seq 9..13: 1..5 fall off */
	KUNIT_EXPECT_EQ(test, ipump_log_wrapped(log), 5ULL);
	KUNIT_EXPECT_EQ(test, ipump_log_oldest_seq(log), 6ULL);
	KUNIT_EXPECT_EQ(test, ipump_log_next_seq(log), 14ULL);

	/* from before the oldest: the gap is reported, nothing copied */
	KUNIT_EXPECT_EQ(test, ipump_log_copy(log, 1, f->out, TEST_OUT, &next), -ERANGE);
	KUNIT_EXPECT_EQ(test, next, 6ULL);
	KUNIT_EXPECT_EQ(test, ipump_log_copy(log, 5, f->out, TEST_OUT, &next), -ERANGE);
	KUNIT_EXPECT_EQ(test, next, 6ULL);
	ipump_log_loss_event(log, &loss, 1, next - 1, 0);
	expect_overflow(test, &loss, 5, 1, 5);

	/* from the oldest: resumable, in order, nothing missing */
	KUNIT_ASSERT_EQ(test, ipump_log_copy(log, 6, f->out, 3, &next), 3);
	KUNIT_EXPECT_EQ(test, next, 9ULL);
	KUNIT_ASSERT_EQ(test, ipump_log_copy(log, next, f->out + 3, TEST_OUT - 3, &next), 5);
	KUNIT_EXPECT_EQ(test, next, 14ULL);
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_EQ(test, f->out[i].seq, (u64)i + 6);

	/* wrapping many times over keeps exact counts */
	add_n(test, log, 8 * 5 + 3);
	KUNIT_EXPECT_EQ(test, ipump_log_next_seq(log), 14ULL + 43);
	KUNIT_EXPECT_EQ(test, ipump_log_wrapped(log), 13ULL + 43 - 8);
	KUNIT_ASSERT_EQ(test, ipump_log_copy(log, ipump_log_oldest_seq(log),
					     f->out, TEST_OUT, &next), 8);
	KUNIT_EXPECT_EQ(test, f->out[0].seq, 13ULL + 43 - 8 + 1);
	KUNIT_EXPECT_EQ(test, f->out[7].seq, 13ULL + 43);
}

static void append_rejects_invalid_records(struct kunit *test)
{
	struct ipump_log *log = new_log(test, 8);
	struct ipump_event ev;

	ipump_event_init(&ev, 0, 0, IPUMP_PRIO_INFO, 0);
	KUNIT_EXPECT_EQ(test, ipump_log_append(log, &ev, NULL), -EINVAL);
	ev.type = IPUMP_EVENT_TYPE_COUNT;
	KUNIT_EXPECT_EQ(test, ipump_log_append(log, &ev, NULL), -EINVAL);
	ev.type = IPUMP_EVENT_OVERFLOW;
	KUNIT_EXPECT_EQ(test, ipump_log_append(log, &ev, NULL), -EINVAL);
	ev.type = IPUMP_EVENT_CARD_REMOVED;
	KUNIT_EXPECT_EQ(test, ipump_log_append(log, &ev, NULL), -EINVAL);
	ev.type = IPUMP_EVENT_STOPPED;
	ev.priority = IPUMP_PRIO_HIGH + 1;
	KUNIT_EXPECT_EQ(test, ipump_log_append(log, &ev, NULL), -EINVAL);
	ev.priority = IPUMP_PRIO_HIGH;
	ev.channel = IPUMP_MAX_CHANNELS;
	KUNIT_EXPECT_EQ(test, ipump_log_append(log, &ev, NULL), -EINVAL);
	/* refused records used no sequence number */
	KUNIT_EXPECT_EQ(test, ipump_log_next_seq(log), 1ULL);

	/* paired: the same record with a valid channel is accepted */
	ev.channel = IPUMP_MAX_CHANNELS - 1;
	KUNIT_EXPECT_EQ(test, ipump_log_append(log, &ev, NULL), 0);
	ev.channel = IPUMP_CHANNEL_NONE;
	ev.type = IPUMP_EVENT_CARD_ADDED;
	KUNIT_EXPECT_EQ(test, ipump_log_append(log, &ev, NULL), 0);
	KUNIT_EXPECT_EQ(test, ipump_log_next_seq(log), 3ULL);
}

static void log_notify(void *priv, const struct ipump_event *ev)
{
	struct log_fixture *f = priv;

	if (f->nr_seen < TEST_OUT)
		f->seen[f->nr_seen] = *ev;
	f->nr_seen++;
}

static void notifier_sees_every_record_in_order(struct kunit *test)
{
	struct log_fixture *f = test->priv;
	struct ipump_log *log = new_log(test, 4);
	unsigned int i;

	add(test, log, IPUMP_EVENT_STARTED, IPUMP_PRIO_INFO);	/* before: not seen */
	ipump_log_set_notifier(log, log_notify, f);
	add(test, log, IPUMP_EVENT_STOPPED, IPUMP_PRIO_INFO);
	add_n(test, log, 5);	/* wraps the ring: the notifier still sees all */
	KUNIT_ASSERT_EQ(test, f->nr_seen, 6U);
	for (i = 0; i < 6; i++)
		KUNIT_EXPECT_EQ(test, f->seen[i].seq, (u64)i + 2);
	KUNIT_EXPECT_EQ(test, f->seen[0].type, (u16)IPUMP_EVENT_STOPPED);
	KUNIT_EXPECT_EQ(test, f->seen[0].card, (u32)TEST_CARD);

	ipump_log_close(log, 99);
	KUNIT_ASSERT_EQ(test, f->nr_seen, 7U);
	KUNIT_EXPECT_EQ(test, f->seen[6].type, (u16)IPUMP_EVENT_CARD_REMOVED);
	KUNIT_EXPECT_EQ(test, f->seen[6].seq, 8ULL);

	ipump_log_set_notifier(log, NULL, NULL);
	ipump_log_close(log, 100);	/* second close: no record, no call */
	KUNIT_EXPECT_EQ(test, f->nr_seen, 7U);
	KUNIT_EXPECT_EQ(test, ipump_log_next_seq(log), 9ULL);
}

/* ---- readers */

static void reader_gets_records_from_attach_on(struct kunit *test)
{
	struct log_fixture *f = test->priv;
	struct ipump_log *log = new_log(test, 16);
	struct ipump_log_reader *a, *b;
	int n, i;

	add(test, log, IPUMP_EVENT_CARD_ADDED, IPUMP_PRIO_INFO);
	a = new_reader(test, 0, 8);
	add_n(test, log, 3);	/* 2..4 */
	b = new_reader(test, 1, 8);
	add(test, log, IPUMP_EVENT_STOPPED, IPUMP_PRIO_LOW);	/* 5 */

	n = read_all(test, a);
	KUNIT_ASSERT_EQ(test, n, 4);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, f->out[i].seq, (u64)i + 2);
	KUNIT_EXPECT_EQ(test, f->out[3].type, (u16)IPUMP_EVENT_STOPPED);
	KUNIT_EXPECT_EQ(test, f->out[3].priority, (u8)IPUMP_PRIO_LOW);
	KUNIT_EXPECT_EQ(test, read_all(test, a), 0);

	n = read_all(test, b);
	KUNIT_ASSERT_EQ(test, n, 1);
	KUNIT_EXPECT_EQ(test, f->out[0].seq, 5ULL);
	KUNIT_EXPECT_EQ(test, read_all(test, b), 0);
}

static void reader_mask_filters_but_never_high(struct kunit *test)
{
	struct log_fixture *f = test->priv;
	struct ipump_log *log = new_log(test, 32);
	struct ipump_log_reader *r = new_reader(test, 0, 16);
	static const u64 want[] = { 2, 3, 5, 7, 9, 11 };
	u64 mask = IPUMP_EVENT_BIT(IPUMP_EVENT_STARTED) |
		   IPUMP_EVENT_BIT(IPUMP_EVENT_STOPPED);
	int n, i;

	KUNIT_EXPECT_EQ(test, ipump_log_reader_set_mask(r, 0, IPUMP_PRIO_HIGH + 1), -EINVAL);
	KUNIT_ASSERT_EQ(test, ipump_log_reader_set_mask(r, mask, IPUMP_PRIO_INFO), 0);
	add(test, log, IPUMP_EVENT_PROGRAMME_SET, IPUMP_PRIO_INFO);	/* 1 masked */
	add(test, log, IPUMP_EVENT_STARTED, IPUMP_PRIO_INFO);		/* 2 */
	add(test, log, IPUMP_EVENT_ALARM_RAISED, IPUMP_PRIO_HIGH);	/* 3 HIGH */
	add(test, log, IPUMP_EVENT_ALARM_RAISED, IPUMP_PRIO_MEDIUM);	/* 4 masked */
	add(test, log, IPUMP_EVENT_STOPPED, IPUMP_PRIO_INFO);		/* 5 */

	/* everything, but only from MEDIUM up */
	KUNIT_ASSERT_EQ(test, ipump_log_reader_set_mask(r, ~0ULL, IPUMP_PRIO_MEDIUM), 0);
	add(test, log, IPUMP_EVENT_STARTED, IPUMP_PRIO_INFO);		/* 6 low */
	add(test, log, IPUMP_EVENT_ALARM_RAISED, IPUMP_PRIO_MEDIUM);	/* 7 */
	add(test, log, IPUMP_EVENT_ALARM_CLEARED, IPUMP_PRIO_LOW);	/* 8 low */

	/* nothing at all: HIGH still comes through */
	KUNIT_ASSERT_EQ(test, ipump_log_reader_set_mask(r, 0, IPUMP_PRIO_HIGH), 0);
	add(test, log, IPUMP_EVENT_ALARM_RAISED, IPUMP_PRIO_HIGH);	/* 9 */
	add(test, log, IPUMP_EVENT_ALARM_RAISED, IPUMP_PRIO_MEDIUM);	/* 10 */
	add(test, log, IPUMP_EVENT_LEASE_LOST, IPUMP_PRIO_HIGH);	/* 11 */

	n = read_all(test, r);
	KUNIT_ASSERT_EQ(test, n, (int)ARRAY_SIZE(want));
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, f->out[i].seq, want[i]);
	/* the gaps are the mask's: nothing lost, no OVERFLOW record */
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_NE(test, f->out[i].type, (u16)IPUMP_EVENT_OVERFLOW);
	KUNIT_EXPECT_EQ(test, ipump_log_reader_lost(r), 0ULL);
	KUNIT_EXPECT_EQ(test, f->out[1].type, (u16)IPUMP_EVENT_ALARM_RAISED);
	KUNIT_EXPECT_EQ(test, f->out[1].priority, (u8)IPUMP_PRIO_HIGH);
}

/* Fill, lose k, read: the queued records, one OVERFLOW, later records. */
static void reader_overflow_record(struct kunit *test)
{
	struct log_fixture *f = test->priv;
	struct ipump_log *log = new_log(test, 64);
	struct ipump_log_reader *r = new_reader(test, 0, 4);
	struct ipump_log_reader *other = new_reader(test, 1, 16);
	u64 next = 0;
	int n, i;

	add_n(test, log, 4);		/* 1..4 fill the queue */
	KUNIT_EXPECT_EQ(test, pflags(r),
			PF(EPOLLIN | EPOLLRDNORM));
	add_n(test, log, 3);		/* 5..7 lost */
	KUNIT_EXPECT_EQ(test, ipump_log_reader_lost(r), 3ULL);
	/* the pending OVERFLOW record is high priority */
	KUNIT_EXPECT_EQ(test, pflags(r),
			PF(EPOLLIN | EPOLLRDNORM | EPOLLPRI));

	n = read_all(test, r);
	KUNIT_ASSERT_EQ(test, n, 5);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, f->out[i].seq, (u64)i + 1);
	expect_overflow(test, &f->out[4], 3, 5, 7);
	KUNIT_EXPECT_EQ(test, f->out[4].timestamp_ns, f->out[3].timestamp_ns + 1);
	KUNIT_EXPECT_EQ(test, read_all(test, r), 0);
	KUNIT_EXPECT_EQ(test, pflags(r), 0U);

	add_n(test, log, 2);		/* 8, 9 */
	n = read_all(test, r);
	KUNIT_ASSERT_EQ(test, n, 2);
	KUNIT_EXPECT_EQ(test, f->out[0].seq, 8ULL);
	KUNIT_EXPECT_EQ(test, f->out[1].seq, 9ULL);

	/* the other reader lost nothing and saw 1..9 */
	n = read_all(test, other);
	KUNIT_ASSERT_EQ(test, n, 9);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, f->out[i].seq, (u64)i + 1);
	KUNIT_EXPECT_EQ(test, ipump_log_reader_lost(other), 0ULL);

	/* the lost records are in the log dump */
	KUNIT_ASSERT_EQ(test, ipump_log_copy(log, 5, f->out, 3, &next), 3);
	KUNIT_EXPECT_EQ(test, f->out[0].seq, 5ULL);
	KUNIT_EXPECT_EQ(test, f->out[2].seq, 7ULL);
	KUNIT_EXPECT_EQ(test, next, 8ULL);
}

/* The OVERFLOW record goes exactly where the loss was. */
static void reader_overflow_at_point_of_loss(struct kunit *test)
{
	struct log_fixture *f = test->priv;
	struct ipump_log *log = new_log(test, 64);
	struct ipump_log_reader *r = new_reader(test, 0, 4);
	int n;

	add_n(test, log, 4);		/* 1..4 */
	add_n(test, log, 2);		/* 5, 6 lost */
	KUNIT_ASSERT_EQ(test, ipump_log_reader_read(r, f->out, 2), 2);
	KUNIT_EXPECT_EQ(test, f->out[0].seq, 1ULL);
	KUNIT_EXPECT_EQ(test, f->out[1].seq, 2ULL);
	add(test, log, IPUMP_EVENT_STOPPED, IPUMP_PRIO_INFO);	/* 7 fits */

	n = read_all(test, r);
	KUNIT_ASSERT_EQ(test, n, 4);
	KUNIT_EXPECT_EQ(test, f->out[0].seq, 3ULL);
	KUNIT_EXPECT_EQ(test, f->out[1].seq, 4ULL);
	expect_overflow(test, &f->out[2], 2, 5, 6);
	KUNIT_EXPECT_EQ(test, f->out[3].seq, 7ULL);
	KUNIT_EXPECT_EQ(test, f->out[3].type, (u16)IPUMP_EVENT_STOPPED);
}

/* The OVERFLOW record is not lost when the queue fills up again. */
static void reader_overflow_never_lost(struct kunit *test)
{
	struct log_fixture *f = test->priv;
	struct ipump_log *log = new_log(test, 64);
	struct ipump_log_reader *r = new_reader(test, 0, 4);
	int n;

	add_n(test, log, 4);		/* 1..4 */
	add_n(test, log, 1);		/* 5 lost */
	KUNIT_ASSERT_EQ(test, ipump_log_reader_read(r, f->out, 3), 3);	/* 1..3 */
	add_n(test, log, 1);		/* OVERFLOW(5), 6 queued: [4 O 6] */
	add_n(test, log, 1);		/* 7 queued: full again */
	add_n(test, log, 3);		/* 8..10 lost */
	KUNIT_EXPECT_EQ(test, ipump_log_reader_lost(r), 4ULL);

	n = read_all(test, r);
	KUNIT_ASSERT_EQ(test, n, 5);
	KUNIT_EXPECT_EQ(test, f->out[0].seq, 4ULL);
	expect_overflow(test, &f->out[1], 1, 5, 5);
	KUNIT_EXPECT_EQ(test, f->out[2].seq, 6ULL);
	KUNIT_EXPECT_EQ(test, f->out[3].seq, 7ULL);
	expect_overflow(test, &f->out[4], 3, 8, 10);
	KUNIT_EXPECT_EQ(test, read_all(test, r), 0);
}

/*
 * Smallest queue: while a loss is pending, a record that fits alone but
 * not together with the OVERFLOW record is lost too (one OVERFLOW, not
 * two). Lost records the mask filters out are not counted.
 */
static void reader_overflow_small_queue_and_mask(struct kunit *test)
{
	struct log_fixture *f = test->priv;
	struct ipump_log *log = new_log(test, 64);
	struct ipump_log_reader *r = new_reader(test, 0, 2);
	u64 mask = IPUMP_EVENT_BIT(IPUMP_EVENT_RATE_CHANGED);
	int n;

	KUNIT_ASSERT_EQ(test, ipump_log_reader_set_mask(r, mask, IPUMP_PRIO_INFO), 0);
	add_n(test, log, 2);					/* 1, 2 */
	add_n(test, log, 1);					/* 3 lost */
	add(test, log, IPUMP_EVENT_PROGRAMME_SET, IPUMP_PRIO_INFO);	/* 4 masked */
	KUNIT_ASSERT_EQ(test, ipump_log_reader_read(r, f->out, 1), 1);	/* 1 */
	add_n(test, log, 1);					/* 5: no room for 2 */
	KUNIT_EXPECT_EQ(test, ipump_log_reader_lost(r), 2ULL);

	n = read_all(test, r);
	KUNIT_ASSERT_EQ(test, n, 2);
	KUNIT_EXPECT_EQ(test, f->out[0].seq, 2ULL);
	expect_overflow(test, &f->out[1], 2, 3, 5);

	add_n(test, log, 2);					/* 6, 7 */
	n = read_all(test, r);
	KUNIT_ASSERT_EQ(test, n, 2);
	KUNIT_EXPECT_EQ(test, f->out[0].seq, 6ULL);
	KUNIT_EXPECT_EQ(test, f->out[1].seq, 7ULL);
}

static void reader_poll_flags(struct kunit *test)
{
	struct log_fixture *f = test->priv;
	struct ipump_log *log = new_log(test, 16);
	struct ipump_log_reader *r = new_reader(test, 0, 8);
	const unsigned int in = PF(EPOLLIN | EPOLLRDNORM);

	KUNIT_EXPECT_EQ(test, pflags(r), 0U);
	add(test, log, IPUMP_EVENT_STARTED, IPUMP_PRIO_INFO);		/* 1 */
	KUNIT_EXPECT_EQ(test, pflags(r), in);
	KUNIT_EXPECT_EQ(test, ipump_log_reader_wait(r), 0);	/* does not sleep */
	KUNIT_ASSERT_EQ(test, read_all(test, r), 1);
	KUNIT_EXPECT_EQ(test, pflags(r), 0U);

	add(test, log, IPUMP_EVENT_ALARM_RAISED, IPUMP_PRIO_MEDIUM);	/* 2 */
	KUNIT_EXPECT_EQ(test, pflags(r), in);
	add(test, log, IPUMP_EVENT_ALARM_RAISED, IPUMP_PRIO_HIGH);	/* 3 */
	add(test, log, IPUMP_EVENT_RATE_CHANGED, IPUMP_PRIO_INFO);	/* 4 */
	KUNIT_EXPECT_EQ(test, pflags(r), in | PF(EPOLLPRI));

	KUNIT_ASSERT_EQ(test, ipump_log_reader_read(r, f->out, 1), 1);	/* 2 */
	KUNIT_EXPECT_EQ(test, pflags(r), in | PF(EPOLLPRI));
	KUNIT_ASSERT_EQ(test, ipump_log_reader_read(r, f->out, 1), 1);	/* 3 */
	KUNIT_EXPECT_EQ(test, f->out[0].seq, 3ULL);
	KUNIT_EXPECT_EQ(test, pflags(r), in);	/* 4 left */
	KUNIT_ASSERT_EQ(test, read_all(test, r), 1);
	KUNIT_EXPECT_EQ(test, pflags(r), 0U);
}

/* Close: queued records, then CARD_REMOVED, then the end; appends refused. */
static void close_delivers_card_removed_then_end(struct kunit *test)
{
	struct log_fixture *f = test->priv;
	struct ipump_log *log = new_log(test, 16);
	struct ipump_log_reader *r = new_reader(test, 0, 2);
	struct ipump_event ev;
	u64 next = 0;
	int n;

	add_n(test, log, 2);		/* 1, 2: the queue is full */
	ipump_log_close(log, 1234);	/* 3, needs no room */
	KUNIT_EXPECT_EQ(test, pflags(r),
			PF(EPOLLIN | EPOLLRDNORM | EPOLLPRI));

	ipump_event_init(&ev, IPUMP_EVENT_STOPPED, 0, IPUMP_PRIO_INFO, 1235);
	KUNIT_EXPECT_EQ(test, ipump_log_append(log, &ev, NULL), -ENODEV);
	KUNIT_EXPECT_EQ(test, ipump_log_next_seq(log), 4ULL);
	KUNIT_EXPECT_EQ(test, ipump_log_reader_attach(log, &f->r[1], 4), -ENODEV);
	KUNIT_EXPECT_EQ(test, ipump_log_reader_lost(r), 0ULL);

	KUNIT_ASSERT_EQ(test, ipump_log_reader_read(r, f->out, 1), 1);
	KUNIT_EXPECT_EQ(test, f->out[0].seq, 1ULL);
	n = read_all(test, r);
	KUNIT_ASSERT_EQ(test, n, 2);
	KUNIT_EXPECT_EQ(test, f->out[0].seq, 2ULL);
	KUNIT_EXPECT_EQ(test, f->out[1].seq, 3ULL);
	KUNIT_EXPECT_EQ(test, f->out[1].type, (u16)IPUMP_EVENT_CARD_REMOVED);
	KUNIT_EXPECT_EQ(test, f->out[1].priority, (u8)IPUMP_PRIO_HIGH);
	KUNIT_EXPECT_EQ(test, f->out[1].channel, (u8)IPUMP_CHANNEL_NONE);
	KUNIT_EXPECT_EQ(test, f->out[1].card, (u32)TEST_CARD);
	KUNIT_EXPECT_EQ(test, f->out[1].timestamp_ns, 1234ULL);
	KUNIT_EXPECT_EQ(test, f->out[1].value[0], 3ULL);
	KUNIT_EXPECT_EQ(test, f->out[1].value[1], 0ULL);

	KUNIT_EXPECT_EQ(test, read_all(test, r), -ENODEV);
	KUNIT_EXPECT_EQ(test, read_all(test, r), -ENODEV);
	KUNIT_EXPECT_EQ(test, pflags(r),
			PF(EPOLLHUP | EPOLLERR));
	KUNIT_EXPECT_EQ(test, ipump_log_reader_wait(r), 0);	/* does not sleep */

	/* the log dump still works and ends with CARD_REMOVED */
	KUNIT_ASSERT_EQ(test, ipump_log_copy(log, 1, f->out, TEST_OUT, &next), 3);
	KUNIT_EXPECT_EQ(test, f->out[2].type, (u16)IPUMP_EVENT_CARD_REMOVED);
	KUNIT_EXPECT_EQ(test, next, 4ULL);

	/* a reader may detach after the card is gone */
	drop_reader(test, 0);
}

/* A loss pending at removal: records, OVERFLOW, CARD_REMOVED, end. */
static void close_after_overflow(struct kunit *test)
{
	struct log_fixture *f = test->priv;
	struct ipump_log *log = new_log(test, 4);
	struct ipump_log_reader *r = new_reader(test, 0, 2);
	struct ipump_log_reader *idle = new_reader(test, 1, 2);
	int n;

	add_n(test, log, 2);		/* 1, 2 */
	add_n(test, log, 4);		/* 3..6 lost; the ring wraps 1, 2 */
	ipump_log_close(log, 5);	/* 7 */

	/* one record at a time, as a slow reader would */
	KUNIT_ASSERT_EQ(test, ipump_log_reader_read(r, f->out, 1), 1);
	KUNIT_ASSERT_EQ(test, ipump_log_reader_read(r, f->out + 1, 1), 1);
	KUNIT_ASSERT_EQ(test, ipump_log_reader_read(r, f->out + 2, 1), 1);
	KUNIT_ASSERT_EQ(test, ipump_log_reader_read(r, f->out + 3, 1), 1);
	KUNIT_EXPECT_EQ(test, ipump_log_reader_read(r, f->out + 4, 1), -ENODEV);
	KUNIT_EXPECT_EQ(test, f->out[0].seq, 1ULL);
	KUNIT_EXPECT_EQ(test, f->out[1].seq, 2ULL);
	expect_overflow(test, &f->out[2], 4, 3, 6);
	KUNIT_EXPECT_EQ(test, f->out[3].type, (u16)IPUMP_EVENT_CARD_REMOVED);
	KUNIT_EXPECT_EQ(test, f->out[3].seq, 7ULL);
	KUNIT_EXPECT_EQ(test, f->out[3].value[0], 7ULL);
	KUNIT_EXPECT_EQ(test, f->out[3].value[1], 3ULL);	/* 1..3 wrapped */

	/* the other reader got the same stream */
	n = read_all(test, idle);
	KUNIT_ASSERT_EQ(test, n, 4);
	KUNIT_EXPECT_EQ(test, f->out[3].seq, 7ULL);
	KUNIT_EXPECT_EQ(test, read_all(test, idle), -ENODEV);
}

static void object_counters(struct kunit *test)
{
	struct log_fixture *f = test->priv;
	int logs = ipump_log_nr_logs(), readers = ipump_log_nr_readers();
	struct ipump_log *log = new_log(test, 8);

	KUNIT_EXPECT_EQ(test, ipump_log_nr_logs(), logs + 1);
	new_reader(test, 0, 4);
	new_reader(test, 1, 4);
	KUNIT_EXPECT_EQ(test, ipump_log_nr_readers(), readers + 2);
	/* a refused attach counts nothing */
	ipump_log_close(log, 0);
	KUNIT_EXPECT_EQ(test, ipump_log_reader_attach(log, &f->r[2], 4),
			-ENODEV);
	KUNIT_EXPECT_EQ(test, ipump_log_nr_readers(), readers + 2);
	drop_reader(test, 0);
	drop_reader(test, 1);
	KUNIT_EXPECT_EQ(test, ipump_log_nr_readers(), readers);
	ipump_log_destroy(log);
	f->log_live = false;
	KUNIT_EXPECT_EQ(test, ipump_log_nr_logs(), logs);
}

static struct kunit_case ipump_log_cases[] = {
	KUNIT_CASE(event_layout),
	KUNIT_CASE(event_init_zeroes_everything),
	KUNIT_CASE(append_sets_seq_card_padding),
	KUNIT_CASE(init_rejects_bad_capacity),
	KUNIT_CASE(seq_starts_at_one_and_is_contiguous),
	KUNIT_CASE(ring_wrap_is_counted_and_copy_reports_gap),
	KUNIT_CASE(append_rejects_invalid_records),
	KUNIT_CASE(notifier_sees_every_record_in_order),
	KUNIT_CASE(reader_gets_records_from_attach_on),
	KUNIT_CASE(reader_mask_filters_but_never_high),
	KUNIT_CASE(reader_overflow_record),
	KUNIT_CASE(reader_overflow_at_point_of_loss),
	KUNIT_CASE(reader_overflow_never_lost),
	KUNIT_CASE(reader_overflow_small_queue_and_mask),
	KUNIT_CASE(reader_poll_flags),
	KUNIT_CASE(close_delivers_card_removed_then_end),
	KUNIT_CASE(close_after_overflow),
	KUNIT_CASE(object_counters),
	{}
};

static struct kunit_suite ipump_log_suite = {
	.name = "ipump_log",
	.init = log_test_init,
	.exit = log_test_exit,
	.test_cases = ipump_log_cases,
};

kunit_test_suites(&ipump_log_suite);

MODULE_IMPORT_NS(IPUMP_INTERNAL);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests of the ipump core logic: audit log, therapy rules");
