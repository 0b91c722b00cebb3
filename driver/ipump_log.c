// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipump audit log and reader queues.
 *
 * ipump_log.h describes the locking and lifetime rules. In short: one
 * ring per card with card-wide sequence numbers starting at 1; records
 * that fall off the ring are counted (ipump_log_wrapped()); every reader
 * has its own bounded queue, filtered by its type mask and minimum
 * priority (high priority is never filtered), and never loses a record
 * silently: a reader whose queue is full gets one OVERFLOW record at the
 * place of the loss, with the number and the first and last sequence
 * number of the records it lost. That record and the final CARD_REMOVED
 * record need no slot in the queue while pending: the reader keeps them
 * as counters and a flag, and they are queued ahead of the next record
 * that fits or once the queue has been drained, so they cannot be lost.
 */
#include <linux/atomic.h>
#include <linux/build_bug.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "ipump_log.h"

/*
 * struct ipump_event is ABI: exactly 64 bytes, every 64-bit field at an
 * 8-byte aligned offset (and __aligned_u64, so i386 lays it out the same
 * way as x86_64: no compat translation of read() or netlink payloads).
 */
static_assert(sizeof(struct ipump_event) == 64);
static_assert(__alignof__(struct ipump_event) == 8);
static_assert(offsetof(struct ipump_event, seq) == 0);
static_assert(offsetof(struct ipump_event, timestamp_ns) == 8);
static_assert(offsetof(struct ipump_event, card) == 16);
static_assert(offsetof(struct ipump_event, type) == 20);
static_assert(offsetof(struct ipump_event, channel) == 22);
static_assert(offsetof(struct ipump_event, priority) == 23);
static_assert(offsetof(struct ipump_event, value) == 24);
static_assert(offsetof(struct ipump_event, flags) == 56);
static_assert(offsetof(struct ipump_event, padding) == 60);
/* a reader's type mask is a u64 with one bit per type */
static_assert(IPUMP_EVENT_TYPE_COUNT <= 64);
/* the channel field holds every channel number and IPUMP_CHANNEL_NONE */
static_assert(IPUMP_MAX_CHANNELS < IPUMP_CHANNEL_NONE);

static atomic_t ipump_log_live_logs = ATOMIC_INIT(0);
static atomic_t ipump_log_live_readers = ATOMIC_INIT(0);

/**
 * ipump_event_init() - start a record for ipump_log_append()
 * @ev: the record
 * @type: event type
 * @channel: channel number, or %IPUMP_CHANNEL_NONE for a card-wide event
 * @prio: priority
 * @now_ns: current time on the card's clock
 *
 * Zeroes the whole record (values, flags and padding: nothing of the
 * caller's stack reaches userspace) and sets the given fields. The caller
 * then fills @ev->value and @ev->flags; ipump_log_append() sets seq and
 * card.
 */
void ipump_event_init(struct ipump_event *ev, enum ipump_event_type type,
		      u8 channel, enum ipump_priority prio, u64 now_ns)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->channel = channel;
	ev->priority = prio;
	ev->timestamp_ns = now_ns;
}
EXPORT_SYMBOL_NS_GPL(ipump_event_init, IPUMP_INTERNAL);

/**
 * ipump_log_init() - initialise a card's log
 * @log: the log, embedded in the card
 * @card: N of the card ipumpN, copied into every record
 * @capacity: records the ring holds, a power of two up to
 *	%IPUMP_LOG_MAX_CAPACITY; 0 for %IPUMP_LOG_DEFAULT_CAPACITY
 *
 * The first record appended gets sequence number 1. May sleep.
 *
 * Return: 0, -EINVAL for a bad @capacity, -ENOMEM.
 */
int ipump_log_init(struct ipump_log *log, u32 card, unsigned int capacity)
{
	if (!capacity)
		capacity = IPUMP_LOG_DEFAULT_CAPACITY;
	if (!is_power_of_2(capacity) || capacity > IPUMP_LOG_MAX_CAPACITY)
		return -EINVAL;

	memset(log, 0, sizeof(*log));
	log->ring = kvcalloc(capacity, sizeof(*log->ring), GFP_KERNEL);
	if (!log->ring)
		return -ENOMEM;
	mutex_init(&log->append_lock);
	spin_lock_init(&log->lock);
	INIT_LIST_HEAD(&log->readers);
	log->capacity = capacity;
	log->card = card;
	log->next_seq = 1;
	log->oldest = 1;
	atomic_inc(&ipump_log_live_logs);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(ipump_log_init, IPUMP_INTERNAL);

/**
 * ipump_log_destroy() - free a log
 * @log: the log
 *
 * For the card's release, once no reader can be attached any more (every
 * reader holds a card reference). Does nothing for a log that was never
 * initialised (a zeroed one) or is already destroyed. May sleep.
 */
void ipump_log_destroy(struct ipump_log *log)
{
	if (!log->ring)
		return;
	WARN_ON(!list_empty(&log->readers));
	kvfree(log->ring);
	log->ring = NULL;
	mutex_destroy(&log->append_lock);
	atomic_dec(&ipump_log_live_logs);
}
EXPORT_SYMBOL_NS_GPL(ipump_log_destroy, IPUMP_INTERNAL);

/**
 * ipump_log_set_notifier() - set the function told about every record
 * @log: the log
 * @notify: called once per record appended (including CARD_REMOVED), in
 *	sequence order, with no spinlock held but with the log's
 *	append_lock (a mutex) held: it may sleep and allocate, it must not
 *	append to or close this log. NULL removes the notifier.
 * @priv: first argument of @notify
 *
 * Once this returns, no call of the previous notifier is in progress.
 * May sleep.
 */
void ipump_log_set_notifier(struct ipump_log *log,
			    void (*notify)(void *priv, const struct ipump_event *ev),
			    void *priv)
{
	mutex_lock(&log->append_lock);
	log->notify = notify;
	log->notify_priv = priv;
	mutex_unlock(&log->append_lock);
}
EXPORT_SYMBOL_NS_GPL(ipump_log_set_notifier, IPUMP_INTERNAL);

/* Types a caller may append; OVERFLOW and CARD_REMOVED are the log's own. */
static bool ipump_event_appendable(const struct ipump_event *ev)
{
	if (ev->type < 1 || ev->type >= IPUMP_EVENT_TYPE_COUNT ||
	    ev->type == IPUMP_EVENT_OVERFLOW ||
	    ev->type == IPUMP_EVENT_CARD_REMOVED)
		return false;
	if (ev->priority > IPUMP_PRIO_HIGH)
		return false;
	return ev->channel < IPUMP_MAX_CHANNELS ||
	       ev->channel == IPUMP_CHANNEL_NONE;
}

/* Under @log->lock: store @ev with the next sequence number. */
static struct ipump_event *ipump_log_store(struct ipump_log *log,
					   const struct ipump_event *ev)
{
	u64 seq = log->next_seq++;
	struct ipump_event *slot = &log->ring[seq & (log->capacity - 1)];

	/* the slot held seq - capacity, which falls off the ring */
	if (log->next_seq - log->oldest > log->capacity)
		log->oldest++;
	*slot = *ev;
	slot->seq = seq;
	slot->card = log->card;
	slot->padding = 0;
	return slot;
}

/* Under the log lock. */
static bool ipump_reader_wants(const struct ipump_log_reader *r,
			       const struct ipump_event *ev)
{
	if (ev->priority >= IPUMP_PRIO_HIGH)
		return true;
	return ev->priority >= r->min_prio && (r->mask & BIT_ULL(ev->type));
}

/* Under the log lock, with a free slot in the reader's queue. */
static void ipump_reader_push(struct ipump_log_reader *r,
			      const struct ipump_event *ev)
{
	kfifo_in(&r->fifo, ev, 1);
	if (ev->priority >= IPUMP_PRIO_HIGH)
		r->nr_high++;
}

/* Under the log lock, with a free slot: queue the pending OVERFLOW record. */
static void ipump_reader_push_loss(struct ipump_log_reader *r)
{
	struct ipump_event ev;

	ipump_log_loss_event(r->log, &ev, r->lost_first, r->lost_last,
			     r->lost_ts);
	/* the lost records are those in [first, last] the mask let through */
	ev.value[0] = r->lost;
	ipump_reader_push(r, &ev);
	r->lost = 0;
}

/*
 * Under the log lock: hand a new record to a reader. A pending loss is
 * queued first, so the OVERFLOW record sits exactly where the records went
 * missing; both need a slot, or the new record is lost as well.
 *
 * Return: true when the reader's state changed (record queued or lost).
 */
static bool ipump_reader_deliver(struct ipump_log_reader *r,
				 const struct ipump_event *ev)
{
	if (!ipump_reader_wants(r, ev))
		return false;
	if (r->lost) {
		if (kfifo_avail(&r->fifo) >= 2) {
			ipump_reader_push_loss(r);
			ipump_reader_push(r, ev);
			return true;
		}
	} else if (!kfifo_is_full(&r->fifo)) {
		ipump_reader_push(r, ev);
		return true;
	}
	if (!r->lost) {
		r->lost_first = ev->seq;
		r->lost_ts = ev->timestamp_ns;
	}
	r->lost++;
	r->lost_last = ev->seq;
	r->lost_total++;
	return true;
}

static void ipump_reader_wake(struct ipump_log_reader *r)
{
	wake_up_interruptible_poll(&r->wait, EPOLLIN | EPOLLRDNORM | EPOLLPRI);
}

/**
 * ipump_log_append() - append a record to the log and to every reader
 * @log: the log
 * @ev: the record, started with ipump_event_init(); its seq and card
 *	fields are ignored
 * @seq: if not NULL, set to the sequence number the record got
 *
 * Stores a copy of @ev with the next sequence number (the oldest record
 * falls off a full ring and is counted), queues it for every attached
 * reader whose mask and minimum priority want it, wakes those readers and
 * then calls the notifier, without the spinlock but in sequence order
 * (appends are serialised by the log's append_lock). Process context
 * only; may sleep (takes a mutex): callers may hold the card mutex but no
 * spinlock.
 *
 * Return: 0; -ENODEV after ipump_log_close(); -EINVAL for an unknown
 * type or priority, a bad channel, or a type only the log itself creates
 * (OVERFLOW, CARD_REMOVED).
 */
int ipump_log_append(struct ipump_log *log, const struct ipump_event *ev,
		     u64 *seq)
{
	struct ipump_log_reader *r;
	struct ipump_event rec;

	if (!ipump_event_appendable(ev))
		return -EINVAL;

	mutex_lock(&log->append_lock);
	spin_lock(&log->lock);
	if (log->closed) {
		spin_unlock(&log->lock);
		mutex_unlock(&log->append_lock);
		return -ENODEV;
	}
	rec = *ipump_log_store(log, ev);
	list_for_each_entry(r, &log->readers, node)
		if (ipump_reader_deliver(r, &rec))
			ipump_reader_wake(r);
	spin_unlock(&log->lock);

	if (log->notify)
		log->notify(log->notify_priv, &rec);
	mutex_unlock(&log->append_lock);

	if (seq)
		*seq = rec.seq;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(ipump_log_append, IPUMP_INTERNAL);

/**
 * ipump_log_close() - the card is going: append CARD_REMOVED, refuse more
 * @log: the log
 * @now_ns: current time on the card's clock
 *
 * Appends a CARD_REMOVED record (value[0]: its own, the card's last,
 * sequence number; value[1]: records that fell off the ring), marks the
 * log closed and wakes every reader. Each reader receives that record
 * after everything already queued for it (and after a pending OVERFLOW
 * record); it needs no free slot, so it cannot be lost. Then the reader
 * reports the end (-ENODEV, EPOLLHUP). The notifier is called with it too.
 * Later appends fail with -ENODEV; ipump_log_copy() keeps working until
 * ipump_log_destroy(). A second call does nothing. May sleep.
 */
void ipump_log_close(struct ipump_log *log, u64 now_ns)
{
	struct ipump_log_reader *r;
	struct ipump_event *slot;
	struct ipump_event rec;

	mutex_lock(&log->append_lock);
	spin_lock(&log->lock);
	if (log->closed) {
		spin_unlock(&log->lock);
		mutex_unlock(&log->append_lock);
		return;
	}
	ipump_event_init(&rec, IPUMP_EVENT_CARD_REMOVED, IPUMP_CHANNEL_NONE,
			 IPUMP_PRIO_HIGH, now_ns);
	slot = ipump_log_store(log, &rec);
	slot->value[0] = slot->seq;
	slot->value[1] = log->oldest - 1;
	log->removed = *slot;
	log->closed = true;
	list_for_each_entry(r, &log->readers, node)
		ipump_reader_wake(r);
	rec = *slot;
	spin_unlock(&log->lock);

	if (log->notify)
		log->notify(log->notify_priv, &rec);
	mutex_unlock(&log->append_lock);
}
EXPORT_SYMBOL_NS_GPL(ipump_log_close, IPUMP_INTERNAL);

/**
 * ipump_log_copy() - copy records from the log, for the log dump
 * @log: the log
 * @from_seq: first sequence number wanted (0 counts as 1)
 * @out: room for @max records
 * @max: at most this many are copied
 * @next_seq: set to where to continue: the sequence number after the last
 *	record copied, or, on -ERANGE, the oldest one still held
 *
 * Copies, in order, the held records with seq >= @from_seq. Resumable:
 * call again with *@next_seq until it returns 0. Keep @max modest (it is
 * copied under the log's spinlock). Process context.
 *
 * If @from_seq is older than the oldest record still held, nothing is
 * copied and -ERANGE is returned: records @from_seq .. *@next_seq - 1
 * fell off the ring. The caller emits an explicit loss record for them
 * (ipump_log_loss_event()) and continues from *@next_seq; a gap is never
 * passed off as "no records".
 *
 * Return: the number of records copied (0 when none is newer), or -ERANGE.
 */
int ipump_log_copy(struct ipump_log *log, u64 from_seq,
		   struct ipump_event *out, unsigned int max, u64 *next_seq)
{
	unsigned int n = 0;
	int ret;

	if (!from_seq)
		from_seq = 1;
	spin_lock(&log->lock);
	if (from_seq < log->oldest) {
		*next_seq = log->oldest;
		ret = -ERANGE;
	} else {
		max = min(max, log->capacity);
		while (n < max && from_seq < log->next_seq) {
			out[n++] = log->ring[from_seq & (log->capacity - 1)];
			from_seq++;
		}
		*next_seq = from_seq;
		ret = n;
	}
	spin_unlock(&log->lock);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(ipump_log_copy, IPUMP_INTERNAL);

/**
 * ipump_log_loss_event() - build an OVERFLOW (loss) record
 * @log: the log the records were lost from
 * @ev: the record to fill
 * @first: sequence number of the first lost record
 * @last: sequence number of the last lost record
 * @ts_ns: its timestamp (e.g. that of the first lost record)
 *
 * Fills an %IPUMP_EVENT_OVERFLOW record, priority high, card-wide, with
 * seq 0 (it is not a log record), value[0] = @last - @first + 1 (every
 * record in the range lost, as for the log dump; a reader's own loss
 * record overrides it with the number its mask let through),
 * value[1] = @first and value[2] = @last.
 */
void ipump_log_loss_event(const struct ipump_log *log, struct ipump_event *ev,
			  u64 first, u64 last, u64 ts_ns)
{
	ipump_event_init(ev, IPUMP_EVENT_OVERFLOW, IPUMP_CHANNEL_NONE,
			 IPUMP_PRIO_HIGH, ts_ns);
	ev->card = log->card;
	ev->value[0] = last - first + 1;
	ev->value[1] = first;
	ev->value[2] = last;
}
EXPORT_SYMBOL_NS_GPL(ipump_log_loss_event, IPUMP_INTERNAL);

/**
 * ipump_log_next_seq() - the sequence number the next record will get
 * @log: the log
 *
 * Return: 1 for an empty log; after close, one past CARD_REMOVED's.
 */
u64 ipump_log_next_seq(struct ipump_log *log)
{
	u64 seq;

	spin_lock(&log->lock);
	seq = log->next_seq;
	spin_unlock(&log->lock);
	return seq;
}
EXPORT_SYMBOL_NS_GPL(ipump_log_next_seq, IPUMP_INTERNAL);

/**
 * ipump_log_oldest_seq() - the oldest sequence number still in the ring
 * @log: the log
 *
 * Return: the oldest held record's seq, or ipump_log_next_seq() when the
 * log is empty.
 */
u64 ipump_log_oldest_seq(struct ipump_log *log)
{
	u64 seq;

	spin_lock(&log->lock);
	seq = log->oldest;
	spin_unlock(&log->lock);
	return seq;
}
EXPORT_SYMBOL_NS_GPL(ipump_log_oldest_seq, IPUMP_INTERNAL);

/**
 * ipump_log_wrapped() - records that fell off the ring
 * @log: the log
 *
 * Return: the number of records overwritten by newer ones, i.e. the
 * oldest held sequence number - 1 (those are no longer in the log dump).
 */
u64 ipump_log_wrapped(struct ipump_log *log)
{
	return ipump_log_oldest_seq(log) - 1;
}
EXPORT_SYMBOL_NS_GPL(ipump_log_wrapped, IPUMP_INTERNAL);

/**
 * ipump_log_reader_attach() - attach a reader (one per open file)
 * @log: the log
 * @r: the reader, owned by the caller (e.g. in the file's private data)
 * @capacity: records its queue holds, a power of two from 2 up to
 *	%IPUMP_LOG_READER_MAX_CAPACITY; 0 for
 *	%IPUMP_LOG_READER_DEFAULT_CAPACITY. The pending OVERFLOW and
 *	CARD_REMOVED records need no room in it.
 *
 * The reader receives every record appended from now on that its mask
 * lets through (default: every type, every priority); older records are
 * in the log dump. The caller holds a reference to the card that embeds
 * @log until after ipump_log_reader_detach(). May sleep.
 *
 * Return: 0, -EINVAL for a bad @capacity, -ENOMEM, or -ENODEV once the
 * log is closed.
 */
int ipump_log_reader_attach(struct ipump_log *log,
			    struct ipump_log_reader *r, unsigned int capacity)
{
	int ret;

	if (!capacity)
		capacity = IPUMP_LOG_READER_DEFAULT_CAPACITY;
	if (capacity < 2 || !is_power_of_2(capacity) ||
	    capacity > IPUMP_LOG_READER_MAX_CAPACITY)
		return -EINVAL;

	memset(r, 0, sizeof(*r));
	r->buf = kvcalloc(capacity, sizeof(*r->buf), GFP_KERNEL);
	if (!r->buf)
		return -ENOMEM;
	ret = kfifo_init(&r->fifo, r->buf, capacity * sizeof(*r->buf));
	if (ret)
		goto err_free;
	init_waitqueue_head(&r->wait);
	mutex_init(&r->read_lock);
	r->log = log;
	r->mask = IPUMP_EVENT_MASK_ALL;
	r->min_prio = IPUMP_PRIO_INFO;

	spin_lock(&log->lock);
	if (log->closed) {
		spin_unlock(&log->lock);
		mutex_destroy(&r->read_lock);
		ret = -ENODEV;
		goto err_free;
	}
	list_add_tail(&r->node, &log->readers);
	spin_unlock(&log->lock);
	atomic_inc(&ipump_log_live_readers);
	return 0;

err_free:
	kvfree(r->buf);
	r->buf = NULL;
	return ret;
}
EXPORT_SYMBOL_NS_GPL(ipump_log_reader_attach, IPUMP_INTERNAL);

/**
 * ipump_log_reader_detach() - detach a reader and free its queue
 * @r: a reader attached with ipump_log_reader_attach()
 *
 * Also after ipump_log_close(), never after ipump_log_destroy(). No read,
 * poll or wait on @r may be in progress or follow (file release). May
 * sleep.
 */
void ipump_log_reader_detach(struct ipump_log_reader *r)
{
	spin_lock(&r->log->lock);
	list_del(&r->node);
	spin_unlock(&r->log->lock);
	kvfree(r->buf);
	r->buf = NULL;
	mutex_destroy(&r->read_lock);
	atomic_dec(&ipump_log_live_readers);
}
EXPORT_SYMBOL_NS_GPL(ipump_log_reader_detach, IPUMP_INTERNAL);

/**
 * ipump_log_reader_set_mask() - choose what a reader receives
 * @r: the reader
 * @mask: IPUMP_EVENT_BIT() of each type wanted; bits of types this
 *	kernel does not know are ignored
 * @min_prio: lowest priority wanted
 *
 * Applies to records appended from now on; queued ones stay.
 * %IPUMP_PRIO_HIGH records (alarms, OVERFLOW, CARD_REMOVED) are delivered
 * whatever @mask and @min_prio say.
 *
 * Return: 0, or -EINVAL for an unknown @min_prio.
 */
int ipump_log_reader_set_mask(struct ipump_log_reader *r, u64 mask,
			      enum ipump_priority min_prio)
{
	if (min_prio > IPUMP_PRIO_HIGH)
		return -EINVAL;
	spin_lock(&r->log->lock);
	r->mask = mask & IPUMP_EVENT_MASK_ALL;
	r->min_prio = min_prio;
	spin_unlock(&r->log->lock);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(ipump_log_reader_set_mask, IPUMP_INTERNAL);

/*
 * Under the log lock: once the queue is empty, queue what is owed after
 * it: first a pending OVERFLOW record, then (card removed) CARD_REMOVED.
 */
static void ipump_reader_refill(struct ipump_log_reader *r)
{
	if (!kfifo_is_empty(&r->fifo))
		return;
	if (r->lost) {
		ipump_reader_push_loss(r);
	} else if (r->log->closed && !r->eof_queued) {
		ipump_reader_push(r, &r->log->removed);
		r->eof_queued = true;
	}
}

/* Under the log lock: copy up to @max records from the head, keep them. */
static unsigned int ipump_reader_peek(struct ipump_log_reader *r,
				      struct ipump_event *out,
				      unsigned int max)
{
	ipump_reader_refill(r);
	return kfifo_out_peek(&r->fifo, out, max);
}

/* Under the log lock: drop the @n records just peeked into @done. */
static void ipump_reader_skip(struct ipump_log_reader *r,
			      const struct ipump_event *done, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (done[i].priority >= IPUMP_PRIO_HIGH)
			r->nr_high--;
		kfifo_skip(&r->fifo);
	}
}

/* Under the log lock: the card is gone and the reader has had it all. */
static bool ipump_reader_ended(struct ipump_log_reader *r)
{
	return r->log->closed && r->eof_queued && !r->lost &&
	       kfifo_is_empty(&r->fifo);
}

/**
 * ipump_log_reader_read() - take records from a reader's queue
 * @r: the reader
 * @out: kernel buffer for @max records
 * @max: at most this many are taken
 *
 * Takes queued records in order; a pending OVERFLOW record, and after the
 * card's removal the CARD_REMOVED record, follow the queued ones. Does
 * not block. Serialised with other consumers of @r (may sleep).
 *
 * Return: the number of records copied (0: none now), or -ENODEV once
 * the log is closed and the reader has taken its CARD_REMOVED record.
 */
int ipump_log_reader_read(struct ipump_log_reader *r,
			  struct ipump_event *out, unsigned int max)
{
	unsigned int n = 0, got;
	int ret;

	mutex_lock(&r->read_lock);
	spin_lock(&r->log->lock);
	while (n < max) {
		got = ipump_reader_peek(r, out + n, max - n);
		if (!got)
			break;
		ipump_reader_skip(r, out + n, got);
		n += got;
	}
	ret = !n && ipump_reader_ended(r) ? -ENODEV : n;
	spin_unlock(&r->log->lock);
	mutex_unlock(&r->read_lock);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(ipump_log_reader_read, IPUMP_INTERNAL);

#define IPUMP_READ_BATCH	4	/* records per copy_to_user() */

/**
 * ipump_log_reader_read_user() - read() of the character device
 * @r: the reader
 * @buf: user buffer
 * @count: its size; whole records only are copied
 *
 * Like ipump_log_reader_read(), into user memory. A record leaves the
 * queue only after it was copied, so a fault loses nothing. Does not
 * block: on -EAGAIN a blocking read() calls ipump_log_reader_wait() and
 * tries again. May sleep.
 *
 * Return: bytes copied (a multiple of sizeof(struct ipump_event)); -EINVAL
 * if @count is smaller than one record; -EAGAIN when nothing is queued;
 * -ENODEV at the end (card removed, everything read); -EFAULT;
 * -ERESTARTSYS.
 */
ssize_t ipump_log_reader_read_user(struct ipump_log_reader *r,
				   char __user *buf, size_t count)
{
	struct ipump_event batch[IPUMP_READ_BATCH];
	const size_t esize = sizeof(batch[0]);
	bool ended = false;
	unsigned int n, max;
	size_t done = 0;
	int err = 0;

	if (count < esize)
		return -EINVAL;
	if (mutex_lock_interruptible(&r->read_lock))
		return -ERESTARTSYS;
	while (count - done >= esize) {
		max = min_t(size_t, IPUMP_READ_BATCH, (count - done) / esize);
		spin_lock(&r->log->lock);
		n = ipump_reader_peek(r, batch, max);
		if (!n)
			ended = ipump_reader_ended(r);
		spin_unlock(&r->log->lock);
		if (!n)
			break;
		if (copy_to_user(buf + done, batch, n * esize)) {
			err = -EFAULT;
			break;
		}
		/* only this consumer takes from the head: it is still @batch */
		spin_lock(&r->log->lock);
		ipump_reader_skip(r, batch, n);
		spin_unlock(&r->log->lock);
		done += n * esize;
	}
	mutex_unlock(&r->read_lock);

	if (done)
		return done;
	if (err)
		return err;
	return ended ? -ENODEV : -EAGAIN;
}
EXPORT_SYMBOL_NS_GPL(ipump_log_reader_read_user, IPUMP_INTERNAL);

/**
 * ipump_log_reader_poll_flags() - poll state of a reader
 * @r: the reader
 *
 * For the character device's poll(), after poll_wait() on @r->wait.
 *
 * Return: EPOLLIN | EPOLLRDNORM when a record can be read, plus EPOLLPRI
 * when one of them is %IPUMP_PRIO_HIGH (an alarm, an OVERFLOW record or
 * CARD_REMOVED); EPOLLHUP | EPOLLERR once the card is gone and the
 * reader has taken everything, CARD_REMOVED included; 0 otherwise.
 */
__poll_t ipump_log_reader_poll_flags(struct ipump_log_reader *r)
{
	bool eof_pending;
	__poll_t mask = 0;

	spin_lock(&r->log->lock);
	eof_pending = r->log->closed && !r->eof_queued;
	if (!kfifo_is_empty(&r->fifo) || r->lost || eof_pending) {
		mask = EPOLLIN | EPOLLRDNORM;
		if (r->nr_high || r->lost || eof_pending)
			mask |= EPOLLPRI;
	} else if (r->log->closed) {
		mask = EPOLLHUP | EPOLLERR;
	}
	spin_unlock(&r->log->lock);
	return mask;
}
EXPORT_SYMBOL_NS_GPL(ipump_log_reader_poll_flags, IPUMP_INTERNAL);

/**
 * ipump_log_reader_wait() - sleep until a reader has something to report
 * @r: the reader
 *
 * Return: 0 once ipump_log_reader_poll_flags() is non-zero (records to
 * read, or the end), or -ERESTARTSYS on a signal.
 */
int ipump_log_reader_wait(struct ipump_log_reader *r)
{
	return wait_event_interruptible(r->wait,
					ipump_log_reader_poll_flags(r));
}
EXPORT_SYMBOL_NS_GPL(ipump_log_reader_wait, IPUMP_INTERNAL);

/**
 * ipump_log_reader_lost() - records a reader lost over its lifetime
 * @r: the reader
 *
 * Return: the total count reported (or pending) in its OVERFLOW records.
 */
u64 ipump_log_reader_lost(struct ipump_log_reader *r)
{
	u64 lost;

	spin_lock(&r->log->lock);
	lost = r->lost_total;
	spin_unlock(&r->log->lock);
	return lost;
}
EXPORT_SYMBOL_NS_GPL(ipump_log_reader_lost, IPUMP_INTERNAL);

/**
 * ipump_log_nr_logs() - live logs, for leak checks (debugfs)
 *
 * Return: logs initialised and not yet destroyed.
 */
int ipump_log_nr_logs(void)
{
	return atomic_read(&ipump_log_live_logs);
}
EXPORT_SYMBOL_NS_GPL(ipump_log_nr_logs, IPUMP_INTERNAL);

/**
 * ipump_log_nr_readers() - live readers, for leak checks (debugfs)
 *
 * Return: readers attached and not yet detached.
 */
int ipump_log_nr_readers(void)
{
	return atomic_read(&ipump_log_live_readers);
}
EXPORT_SYMBOL_NS_GPL(ipump_log_nr_readers, IPUMP_INTERNAL);
