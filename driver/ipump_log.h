/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ipump audit log: one per card, a bounded ring of struct ipump_event with
 * card-wide sequence numbers, and reader queues (one per open file) with
 * explicit loss records. Pure library code: no card, no clock, no device.
 *
 * Locking
 *   @append_lock (mutex) serialises ipump_log_append(), ipump_log_close()
 *   and ipump_log_set_notifier(); the notifier runs under it, after @lock
 *   is dropped, so it sees the records in append order. @lock (spinlock_t)
 *   protects the ring, the reader list and every reader's queue, mask and
 *   loss counters. Lock order: card lock -> @append_lock -> @lock ->
 *   reader wait queue. @lock is never taken in hard-IRQ or softirq context,
 *   so a plain spinlock_t is right, also on PREEMPT_RT (where it is a
 *   sleeping rt_mutex-based lock). Every function here is for process
 *   context; those that take @append_lock or a reader's @read_lock may
 *   sleep.
 *
 * Lifetime
 *   The log is embedded in the card and destroyed by the card's release
 *   (ipump_log_destroy()), i.e. after the last card reference is gone.
 *   A reader holds a card reference from before ipump_log_reader_attach()
 *   until after ipump_log_reader_detach(); so a reader may be detached
 *   after ipump_log_close() (card removed), never after ipump_log_destroy().
 */
#ifndef _IPUMP_LOG_H
#define _IPUMP_LOG_H

#include <linux/bits.h>
#include <linux/kfifo.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/ipump.h>

#define IPUMP_LOG_DEFAULT_CAPACITY	4096
#define IPUMP_LOG_MAX_CAPACITY		65536
#define IPUMP_LOG_READER_DEFAULT_CAPACITY 256
#define IPUMP_LOG_READER_MAX_CAPACITY	4096

/* Every event type a reader can ask for (bit 0 is not a type). */
#define IPUMP_EVENT_MASK_ALL	GENMASK_ULL(IPUMP_EVENT_TYPE_COUNT - 1, 1)

/**
 * struct ipump_log - a card's audit log
 * @append_lock: serialises appends, close and notifier changes
 * @lock: protects everything below it
 * @ring: @capacity records; seq s is held in ring[s & (capacity - 1)]
 * @capacity: number of records the ring holds, a power of two
 * @card: N of ipumpN, copied into every record
 * @next_seq: sequence number the next record gets, starts at 1
 * @oldest: oldest sequence number still held (== @next_seq when empty)
 * @closed: ipump_log_close() was called; appends are refused
 * @removed: the CARD_REMOVED record, valid once @closed
 * @readers: attached readers (&struct ipump_log_reader.node)
 * @notify: called for each appended record, or NULL (under @append_lock)
 * @notify_priv: argument of @notify
 */
struct ipump_log {
	struct mutex append_lock;	/* appends in order; notifier runs under it */
	spinlock_t lock;		/* ring, readers; never in (soft)IRQ context */
	struct ipump_event *ring;
	unsigned int capacity;
	u32 card;
	u64 next_seq;
	u64 oldest;
	bool closed;
	struct ipump_event removed;
	struct list_head readers;
	void (*notify)(void *priv, const struct ipump_event *ev);
	void *notify_priv;
};

/**
 * struct ipump_log_reader - one reader's queue of records
 * @log: the log it is attached to
 * @node: entry in &struct ipump_log.readers
 * @fifo: queued records, in stream order
 * @buf: storage of @fifo
 * @wait: woken whenever the reader's state changes (records queued or
 *	lost, card removed); sleep on it, poll_wait() on it
 * @read_lock: serialises the consumers of this reader (taken by
 *	ipump_log_reader_read_user(); a caller of ipump_log_reader_read()
 *	must not race with another consumer of the same reader)
 * @mask: IPUMP_EVENT_BIT() of the types delivered
 * @min_prio: lowest priority delivered
 * @nr_high: %IPUMP_PRIO_HIGH records in @fifo
 * @lost: records lost since the last OVERFLOW record was queued; that
 *	OVERFLOW record (pending) has no slot in @fifo: it is queued ahead
 *	of the next record that fits, or when @fifo has been drained
 * @lost_first: sequence number of the first of them
 * @lost_last: sequence number of the last of them
 * @lost_ts: timestamp of the first of them
 * @lost_total: records lost over the reader's lifetime (statistics)
 * @eof_queued: the CARD_REMOVED record has been queued
 *
 * Fields from @mask on are protected by the log's @lock.
 */
struct ipump_log_reader {
	struct ipump_log *log;
	struct list_head node;
	DECLARE_KFIFO_PTR(fifo, struct ipump_event);
	struct ipump_event *buf;
	wait_queue_head_t wait;
	struct mutex read_lock;		/* one consumer at a time */
	u64 mask;
	u8 min_prio;
	unsigned int nr_high;
	u64 lost;
	u64 lost_first;
	u64 lost_last;
	u64 lost_ts;
	u64 lost_total;
	bool eof_queued;
};

void ipump_event_init(struct ipump_event *ev, enum ipump_event_type type,
		      u8 channel, enum ipump_priority prio, u64 now_ns);

int ipump_log_init(struct ipump_log *log, u32 card, unsigned int capacity);
void ipump_log_destroy(struct ipump_log *log);
void ipump_log_set_notifier(struct ipump_log *log,
			    void (*notify)(void *priv, const struct ipump_event *ev),
			    void *priv);
int ipump_log_append(struct ipump_log *log, const struct ipump_event *ev,
		     u64 *seq);
void ipump_log_close(struct ipump_log *log, u64 now_ns);
int ipump_log_copy(struct ipump_log *log, u64 from_seq,
		   struct ipump_event *out, unsigned int max, u64 *next_seq);
void ipump_log_loss_event(const struct ipump_log *log, struct ipump_event *ev,
			  u64 first, u64 last, u64 ts_ns);
u64 ipump_log_next_seq(struct ipump_log *log);
u64 ipump_log_oldest_seq(struct ipump_log *log);
u64 ipump_log_wrapped(struct ipump_log *log);

int ipump_log_reader_attach(struct ipump_log *log,
			    struct ipump_log_reader *r, unsigned int capacity);
void ipump_log_reader_detach(struct ipump_log_reader *r);
int ipump_log_reader_set_mask(struct ipump_log_reader *r, u64 mask,
			      enum ipump_priority min_prio);
int ipump_log_reader_read(struct ipump_log_reader *r,
			  struct ipump_event *out, unsigned int max);
ssize_t ipump_log_reader_read_user(struct ipump_log_reader *r,
				   char __user *buf, size_t count);
__poll_t ipump_log_reader_poll_flags(struct ipump_log_reader *r);
int ipump_log_reader_wait(struct ipump_log_reader *r);
u64 ipump_log_reader_lost(struct ipump_log_reader *r);

int ipump_log_nr_logs(void);
int ipump_log_nr_readers(void);

#endif /* _IPUMP_LOG_H */
