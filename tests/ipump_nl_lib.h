/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Small raw generic netlink helpers for the ipump tests (no libnl: the VM
 * carries no shared libraries, and libnl 3.7 has no extended-ack API).
 *
 * - building a request (inl_msg_*, inl_put_*, inl_nest_*), which also
 *   returns each attribute's offset so a test can check NLMSGERR_ATTR_OFFS;
 * - parsing attribute streams (inl_parse(), inl_get_*());
 * - a do request with its reply and its (extended) ack (inl_transact());
 * - a dump, step by step so a test can act between two recv() calls
 *   (inl_dump_start(), inl_dump_step());
 * - the extended ack: NLMSGERR_ATTR_MSG, _OFFS, _COOKIE, _POLICY,
 *   _MISS_TYPE, _MISS_NEST (struct inl_ext);
 * - the controller: family id, version, ops and multicast groups
 *   (inl_get_family()), joining a group (inl_join()).
 *
 * Nothing here depends on the kselftest harness: every helper returns 0 (or
 * a count) on success and a negative errno on failure. All functions are
 * static inline so that a program using some of them builds with -Werror.
 */
#ifndef IPUMP_NL_LIB_H
#define IPUMP_NL_LIB_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif

#define INL_MSG_MAX	8192	/* one request */
#define INL_RX_MAX	65536	/* default receive buffer of inl_transact() */

/* ---- attribute streams */

static inline void *inl_nla_data(const struct nlattr *nla)
{
	return (char *)nla + NLA_HDRLEN;
}

static inline int inl_nla_len(const struct nlattr *nla)
{
	return nla->nla_len - NLA_HDRLEN;
}

static inline int inl_nla_type(const struct nlattr *nla)
{
	return nla->nla_type & NLA_TYPE_MASK;
}

/*
 * Walks the attribute stream @data/@len into @tb[0..@max] (the last of a
 * repeated type wins; types above @max are ignored). -EINVAL if the
 * stream is malformed (an attribute overruns it).
 */
static inline int inl_parse(const void *data, int len,
			    const struct nlattr **tb, int max)
{
	const char *p = data;
	int off = 0;

	memset(tb, 0, sizeof(*tb) * (max + 1));
	while (len - off >= NLA_HDRLEN) {
		const struct nlattr *nla = (const void *)(p + off);

		if (nla->nla_len < NLA_HDRLEN || nla->nla_len > len - off)
			return -EINVAL;
		if (inl_nla_type(nla) <= max)
			tb[inl_nla_type(nla)] = nla;
		off += NLA_ALIGN(nla->nla_len);
	}
	return 0;
}

static inline int inl_parse_nested(const struct nlattr *nest,
				   const struct nlattr **tb, int max)
{
	return inl_parse(inl_nla_data(nest), inl_nla_len(nest), tb, max);
}

/* Iterate the attributes of a nest (or any stream): pos, data, len, rem */
#define inl_for_each_attr(pos, data, len, rem)				\
	for (pos = (const struct nlattr *)(data), rem = (len);		\
	     rem >= NLA_HDRLEN && pos->nla_len >= NLA_HDRLEN &&		\
	     pos->nla_len <= rem;					\
	     rem -= NLA_ALIGN(pos->nla_len),				\
	     pos = (const struct nlattr *)((const char *)pos +		\
					   NLA_ALIGN(pos->nla_len)))

#define inl_for_each_nested(pos, nest, rem)				\
	inl_for_each_attr(pos, inl_nla_data(nest), inl_nla_len(nest), rem)

static inline __u8 inl_get_u8(const struct nlattr *nla)
{
	return *(const __u8 *)inl_nla_data(nla);
}

static inline __u16 inl_get_u16(const struct nlattr *nla)
{
	__u16 v;

	memcpy(&v, inl_nla_data(nla), sizeof(v));
	return v;
}

static inline __u32 inl_get_u32(const struct nlattr *nla)
{
	__u32 v;

	memcpy(&v, inl_nla_data(nla), sizeof(v));
	return v;
}

/* u64 (or a shorter unsigned value: the kernel's nla_get_uint() habit) */
static inline __u64 inl_get_u64(const struct nlattr *nla)
{
	__u64 v = 0;

	if (inl_nla_len(nla) == 8)
		memcpy(&v, inl_nla_data(nla), 8);
	else if (inl_nla_len(nla) == 4)
		v = inl_get_u32(nla);
	return v;
}

static inline __s64 inl_get_s64(const struct nlattr *nla)
{
	__s64 v = 0;

	if (inl_nla_len(nla) == 8)
		memcpy(&v, inl_nla_data(nla), 8);
	else if (inl_nla_len(nla) == 4)
		v = (__s32)inl_get_u32(nla);
	return v;
}

/* The string of @nla (it must be NUL-terminated within its payload). */
static inline const char *inl_get_str(const struct nlattr *nla)
{
	const char *s = inl_nla_data(nla);
	int len = inl_nla_len(nla);

	return len > 0 && memchr(s, '\0', len) ? s : "";
}

/* The generic netlink header and attributes of a message. */
static inline struct genlmsghdr *inl_genlhdr(const struct nlmsghdr *nlh)
{
	return NLMSG_DATA(nlh);
}

static inline int inl_genl_parse(const struct nlmsghdr *nlh,
				 const struct nlattr **tb, int max)
{
	int len = (int)nlh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);

	if (len < 0)
		return -EINVAL;
	return inl_parse((const char *)NLMSG_DATA(nlh) + GENL_HDRLEN, len,
			 tb, max);
}

/* Iterate the netlink messages of a received buffer @buf of @len bytes. */
static inline bool inl_msg_ok(const struct nlmsghdr *nlh, const char *end)
{
	long rem = end - (const char *)nlh;

	return rem >= (long)sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) &&
	       (long)nlh->nlmsg_len <= rem;
}

#define inl_for_each_msg(nlh, buf, len)					\
	for (nlh = (const struct nlmsghdr *)(buf);			\
	     inl_msg_ok(nlh, (const char *)(buf) + (len));		\
	     nlh = (const struct nlmsghdr *)((const char *)nlh +	\
					     NLMSG_ALIGN(nlh->nlmsg_len)))

/* ---- building a request */

struct inl_msg {
	union {
		struct nlmsghdr nlh;
		char buf[INL_MSG_MAX];
	};
};

static inline void inl_msg_init(struct inl_msg *m, __u16 family, __u16 flags,
				__u8 cmd, __u8 version)
{
	struct genlmsghdr *g;

	memset(m, 0, sizeof(*m));
	m->nlh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	m->nlh.nlmsg_type = family;
	m->nlh.nlmsg_flags = NLM_F_REQUEST | flags;
	g = NLMSG_DATA(&m->nlh);
	g->cmd = cmd;
	g->version = version;
}

/*
 * Appends an attribute; returns its offset from the start of the message
 * (what NLMSGERR_ATTR_OFFS reports), or -ENOSPC.
 */
static inline int inl_put(struct inl_msg *m, __u16 type, const void *data,
			  int len)
{
	int off = NLMSG_ALIGN(m->nlh.nlmsg_len);
	struct nlattr *nla;

	if (off + NLA_ALIGN(NLA_HDRLEN + len) > (int)sizeof(m->buf))
		return -ENOSPC;
	nla = (struct nlattr *)(m->buf + off);
	nla->nla_type = type;
	nla->nla_len = NLA_HDRLEN + len;
	if (len)
		memcpy(inl_nla_data(nla), data, len);
	memset((char *)inl_nla_data(nla) + len, 0, NLA_ALIGN(len) - len);
	m->nlh.nlmsg_len = off + NLA_ALIGN(NLA_HDRLEN + len);
	return off;
}

static inline int inl_put_u32(struct inl_msg *m, __u16 type, __u32 v)
{
	return inl_put(m, type, &v, sizeof(v));
}

static inline int inl_put_u64(struct inl_msg *m, __u16 type, __u64 v)
{
	return inl_put(m, type, &v, sizeof(v));
}

static inline int inl_put_str(struct inl_msg *m, __u16 type, const char *s)
{
	return inl_put(m, type, s, (int)strlen(s) + 1);
}

/* Opens a nest (NLA_F_NESTED is set): its offset, to pass to inl_nest_end(). */
static inline int inl_nest_start(struct inl_msg *m, __u16 type)
{
	return inl_put(m, type | NLA_F_NESTED, NULL, 0);
}

static inline void inl_nest_end(struct inl_msg *m, int off)
{
	struct nlattr *nla = (struct nlattr *)(m->buf + off);

	nla->nla_len = m->nlh.nlmsg_len - off;
}

/* ---- sockets */

struct inl_sock {
	int fd;
	__u32 portid;
	__u32 seq;
	/*
	 * Send with write() (no destination address) instead of sendto(): the
	 * kernel then also checks the capabilities of the socket's opener
	 * (netlink_capable(): an explicit address sets NETLINK_SKB_DST, which
	 * skips that check).
	 */
	bool implicit_dst;
};

/* A generic netlink socket with NETLINK_EXT_ACK on: 0 or -errno. */
static inline int inl_open(struct inl_sock *s)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	socklen_t salen = sizeof(sa);
	int one = 1, err;

	memset(s, 0, sizeof(*s));
	s->seq = (__u32)getpid() << 8;
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (s->fd < 0)
		return -errno;
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(s->fd, (struct sockaddr *)&sa, &salen) ||
	    setsockopt(s->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one))) {
		err = -errno;
		close(s->fd);
		s->fd = -1;
		return err;
	}
	s->portid = sa.nl_pid;
	return 0;
}

static inline void inl_close(struct inl_sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* Sends @m to the kernel with the next sequence number: 0 or -errno. */
static inline int inl_send(struct inl_sock *s, struct inl_msg *m)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	ssize_t n;

	m->nlh.nlmsg_seq = ++s->seq;
	m->nlh.nlmsg_pid = 0;
	if (s->implicit_dst)
		n = write(s->fd, m->buf, m->nlh.nlmsg_len);
	else
		n = sendto(s->fd, m->buf, m->nlh.nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa));
	if (n < 0)
		return -errno;
	return n == (ssize_t)m->nlh.nlmsg_len ? 0 : -EIO;
}

/*
 * One recv() of at most @len bytes, waiting at most @timeout_ms (< 0:
 * forever): the byte count, -ETIMEDOUT, -EMSGSIZE if the datagram was
 * truncated, or -errno (ENOBUFS: the socket lost messages).
 */
static inline int inl_recv(struct inl_sock *s, void *buf, int len,
			   int timeout_ms)
{
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
	ssize_t n;
	int r;

	r = poll(&pfd, 1, timeout_ms);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	n = recv(s->fd, buf, len, MSG_TRUNC);
	if (n < 0)
		return -errno;
	if (n > len)
		return -EMSGSIZE;
	return (int)n;
}

/* Joins (or leaves) multicast group @grp: 0 or -errno. */
static inline int inl_join(struct inl_sock *s, __u32 grp)
{
	return setsockopt(s->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &grp,
			  sizeof(grp)) ? -errno : 0;
}

static inline int inl_leave(struct inl_sock *s, __u32 grp)
{
	return setsockopt(s->fd, SOL_NETLINK, NETLINK_DROP_MEMBERSHIP, &grp,
			  sizeof(grp)) ? -errno : 0;
}

/* ---- acks and the extended ack */

/* What an NLMSG_ERROR (or an NLMSG_DONE with an error) carried. */
struct inl_ext {
	int error;		/* 0 or a negative errno */
	bool has_msg, has_offs, has_miss_type, has_miss_nest, has_policy;
	char msg[256];		/* NLMSGERR_ATTR_MSG */
	__u32 offs;		/* NLMSGERR_ATTR_OFFS */
	__u32 miss_type;	/* NLMSGERR_ATTR_MISS_TYPE */
	__u32 miss_nest;	/* NLMSGERR_ATTR_MISS_NEST */
	unsigned char cookie[64];	/* NLMSGERR_ATTR_COOKIE */
	int cookie_len;
	/* NLMSGERR_ATTR_POLICY: NL_POLICY_TYPE_ATTR_{TYPE,MIN_VALUE_U,MAX_VALUE_U,MASK} */
	__u32 pol_type;
	bool pol_has_min, pol_has_max, pol_has_mask;
	__u64 pol_min, pol_max, pol_mask;
};

static inline void inl_ext_reset(struct inl_ext *e)
{
	memset(e, 0, sizeof(*e));
}

/* The extended-ack TLVs of @nlh (NLMSG_ERROR or NLMSG_DONE) into @e. */
static inline void inl_parse_ext(const struct nlmsghdr *nlh, int hdrlen,
				 struct inl_ext *e)
{
	const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	const struct nlattr *pt[NL_POLICY_TYPE_ATTR_MAX + 1];
	int len = (int)nlh->nlmsg_len - NLMSG_HDRLEN - hdrlen;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || len <= 0)
		return;
	if (inl_parse((const char *)NLMSG_DATA(nlh) + hdrlen, len, tb,
		      NLMSGERR_ATTR_MAX))
		return;
	if (tb[NLMSGERR_ATTR_MSG]) {
		e->has_msg = true;
		snprintf(e->msg, sizeof(e->msg), "%s",
			 inl_get_str(tb[NLMSGERR_ATTR_MSG]));
	}
	if (tb[NLMSGERR_ATTR_OFFS]) {
		e->has_offs = true;
		e->offs = inl_get_u32(tb[NLMSGERR_ATTR_OFFS]);
	}
	if (tb[NLMSGERR_ATTR_MISS_TYPE]) {
		e->has_miss_type = true;
		e->miss_type = inl_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]);
	}
	if (tb[NLMSGERR_ATTR_MISS_NEST]) {
		e->has_miss_nest = true;
		e->miss_nest = inl_get_u32(tb[NLMSGERR_ATTR_MISS_NEST]);
	}
	if (tb[NLMSGERR_ATTR_COOKIE]) {
		e->cookie_len = inl_nla_len(tb[NLMSGERR_ATTR_COOKIE]);
		if (e->cookie_len > (int)sizeof(e->cookie))
			e->cookie_len = sizeof(e->cookie);
		memcpy(e->cookie, inl_nla_data(tb[NLMSGERR_ATTR_COOKIE]),
		       e->cookie_len);
	}
	if (tb[NLMSGERR_ATTR_POLICY] &&
	    !inl_parse_nested(tb[NLMSGERR_ATTR_POLICY], pt,
			      NL_POLICY_TYPE_ATTR_MAX)) {
		e->has_policy = true;
		if (pt[NL_POLICY_TYPE_ATTR_TYPE])
			e->pol_type = inl_get_u32(pt[NL_POLICY_TYPE_ATTR_TYPE]);
		if (pt[NL_POLICY_TYPE_ATTR_MIN_VALUE_U]) {
			e->pol_has_min = true;
			e->pol_min = inl_get_u64(pt[NL_POLICY_TYPE_ATTR_MIN_VALUE_U]);
		}
		if (pt[NL_POLICY_TYPE_ATTR_MAX_VALUE_U]) {
			e->pol_has_max = true;
			e->pol_max = inl_get_u64(pt[NL_POLICY_TYPE_ATTR_MAX_VALUE_U]);
		}
		if (pt[NL_POLICY_TYPE_ATTR_MASK]) {
			e->pol_has_mask = true;
			e->pol_mask = inl_get_u64(pt[NL_POLICY_TYPE_ATTR_MASK]);
		}
	}
}

/* An NLMSG_ERROR message into @e; returns its error (0 for an ack). */
static inline int inl_parse_error(const struct nlmsghdr *nlh, struct inl_ext *e)
{
	const struct nlmsgerr *err = NLMSG_DATA(nlh);
	int hdrlen;

	inl_ext_reset(e);
	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*err))) {
		e->error = -EBADMSG;
		return e->error;
	}
	e->error = err->error;
	/* the request is echoed unless NETLINK_CAP_ACK (NLM_F_CAPPED) */
	hdrlen = sizeof(*err);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		hdrlen += NLMSG_ALIGN(err->msg.nlmsg_len) - sizeof(err->msg);
	inl_parse_ext(nlh, hdrlen, e);
	return e->error;
}

/*
 * The first u32 attribute @type of the extended ack's cookie, read as an
 * attribute stream: 0, or -ENOENT.
 */
static inline int inl_cookie_u32(const struct inl_ext *e, int type, __u32 *v)
{
	const struct nlattr *nla;
	int rem;

	inl_for_each_attr(nla, e->cookie, e->cookie_len, rem) {
		if (inl_nla_type(nla) == type && inl_nla_len(nla) == 4) {
			*v = inl_get_u32(nla);
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * A do request: sends @m with NLM_F_ACK and reads until its ack. The first
 * reply message (same sequence number, not an error) is copied to @reply
 * (if not NULL, at most @reply_len bytes; -EMSGSIZE if larger). @e (may be
 * NULL) receives the ack's extended ack. Messages of other sequence numbers
 * (none on a socket that joined no group) are ignored.
 *
 * Return: the ack's error (0 or a negative errno), or a negative errno of
 * the socket (ETIMEDOUT after 10 s without an answer).
 */
static inline int inl_transact(struct inl_sock *s, struct inl_msg *m,
			       void *reply, int reply_len, struct inl_ext *e)
{
	static char rx[INL_RX_MAX] __attribute__((aligned(8)));
	struct inl_ext local;
	bool have_reply = false;
	int n, ret;

	if (!e)
		e = &local;
	inl_ext_reset(e);
	m->nlh.nlmsg_flags |= NLM_F_ACK;
	ret = inl_send(s, m);
	if (ret)
		return ret;
	for (;;) {
		const struct nlmsghdr *nlh;

		n = inl_recv(s, rx, sizeof(rx), 10000);
		if (n < 0)
			return n;
		inl_for_each_msg(nlh, rx, n) {
			if (nlh->nlmsg_seq != m->nlh.nlmsg_seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR)
				return inl_parse_error(nlh, e);
			if (reply && !have_reply) {
				if ((int)nlh->nlmsg_len > reply_len)
					return -EMSGSIZE;
				memcpy(reply, nlh, nlh->nlmsg_len);
				have_reply = true;
			}
		}
	}
}

/* ---- dumps, one recv() at a time */

struct inl_dump {
	__u32 seq;		/* of the request */
	int recvs;		/* recv() calls that returned data */
	int msgs;		/* messages passed to the callback */
	bool intr;		/* some message had NLM_F_DUMP_INTR */
	bool done;		/* NLMSG_DONE (or an error) was seen */
	struct inl_ext ext;	/* the error of NLMSG_DONE / NLMSG_ERROR */
};

/* Sends @m as a dump request (NLM_F_DUMP, no ack): 0 or -errno. */
static inline int inl_dump_start(struct inl_sock *s, struct inl_msg *m,
				 struct inl_dump *d)
{
	int ret;

	memset(d, 0, sizeof(*d));
	m->nlh.nlmsg_flags |= NLM_F_DUMP;
	m->nlh.nlmsg_flags &= ~NLM_F_ACK;
	ret = inl_send(s, m);
	d->seq = m->nlh.nlmsg_seq;
	return ret;
}

typedef int (*inl_msg_cb)(const struct nlmsghdr *nlh, void *arg);

/*
 * One recv() of at most @buf_len bytes into @buf: every message of the
 * dump is passed to @cb (a negative return stops and is returned). 1 while
 * the dump goes on, 0 when it ended (d->ext.error says how), or a negative
 * errno of the socket.
 */
static inline int inl_dump_step(struct inl_sock *s, struct inl_dump *d,
				void *buf, int buf_len, inl_msg_cb cb,
				void *arg)
{
	const struct nlmsghdr *nlh;
	int n, ret;

	if (d->done)
		return 0;
	n = inl_recv(s, buf, buf_len, 10000);
	if (n < 0)
		return n;
	d->recvs++;
	inl_for_each_msg(nlh, buf, n) {
		if (nlh->nlmsg_seq != d->seq)
			continue;
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
			d->intr = true;
		if (nlh->nlmsg_type == NLMSG_DONE) {
			inl_ext_reset(&d->ext);
			if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
				memcpy(&d->ext.error, NLMSG_DATA(nlh), sizeof(int));
				inl_parse_ext(nlh, sizeof(int), &d->ext);
			}
			d->done = true;
			return 0;
		}
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			inl_parse_error(nlh, &d->ext);
			d->done = true;
			return 0;
		}
		d->msgs++;
		if (cb) {
			ret = cb(nlh, arg);
			if (ret < 0)
				return ret;
		}
	}
	return 1;
}

/*
 * The rest of a dump, recv() by recv(): 0 or the dump's (or the socket's)
 * negative errno.
 */
static inline int inl_dump_rest(struct inl_sock *s, struct inl_dump *d,
				void *buf, int buf_len, inl_msg_cb cb, void *arg)
{
	int ret;

	do {
		ret = inl_dump_step(s, d, buf, buf_len, cb, arg);
	} while (ret > 0);
	return ret < 0 ? ret : d->ext.error;
}

/* A whole dump: 0 or the dump's (or the socket's) negative errno. */
static inline int inl_dump_all(struct inl_sock *s, struct inl_msg *m,
			       struct inl_dump *d, int buf_len, inl_msg_cb cb,
			       void *arg)
{
	static char rx[INL_RX_MAX] __attribute__((aligned(8)));
	int ret;

	if (buf_len > (int)sizeof(rx))
		buf_len = sizeof(rx);
	ret = inl_dump_start(s, m, d);
	if (ret)
		return ret;
	return inl_dump_rest(s, d, rx, buf_len, cb, arg);
}

/* ---- the controller */

struct inl_family {
	__u16 id;
	__u32 version;
	int n_ops;
	struct {
		__u32 cmd;
		__u32 flags;	/* GENL_ADMIN_PERM, GENL_CMD_CAP_* ... */
	} ops[64];
	int n_groups;
	struct {
		char name[GENL_NAMSIZ];
		__u32 id;
	} groups[16];
};

/* CTRL_CMD_GETFAMILY by name: 0, -ENOENT if there is no such family. */
static inline int inl_get_family(struct inl_sock *s, const char *name,
				 struct inl_family *f)
{
	static char reply[INL_RX_MAX] __attribute__((aligned(8)));
	const struct nlattr *tb[CTRL_ATTR_MAX + 1], *nla, *g[CTRL_ATTR_MCAST_GRP_MAX + 1];
	const struct nlattr *o[CTRL_ATTR_OP_MAX + 1];
	struct inl_msg m;
	int ret, rem;

	memset(f, 0, sizeof(*f));
	inl_msg_init(&m, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY, 1);
	inl_put_str(&m, CTRL_ATTR_FAMILY_NAME, name);
	ret = inl_transact(s, &m, reply, sizeof(reply), NULL);
	if (ret)
		return ret;
	ret = inl_genl_parse((const struct nlmsghdr *)reply, tb, CTRL_ATTR_MAX);
	if (ret)
		return ret;
	if (!tb[CTRL_ATTR_FAMILY_ID])
		return -EBADMSG;
	f->id = inl_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	if (tb[CTRL_ATTR_VERSION])
		f->version = inl_get_u32(tb[CTRL_ATTR_VERSION]);
	if (tb[CTRL_ATTR_OPS]) {
		inl_for_each_nested(nla, tb[CTRL_ATTR_OPS], rem) {
			if (f->n_ops >= (int)(sizeof(f->ops) / sizeof(f->ops[0])))
				return -E2BIG;
			if (inl_parse_nested(nla, o, CTRL_ATTR_OP_MAX) ||
			    !o[CTRL_ATTR_OP_ID])
				return -EBADMSG;
			f->ops[f->n_ops].cmd = inl_get_u32(o[CTRL_ATTR_OP_ID]);
			f->ops[f->n_ops].flags = o[CTRL_ATTR_OP_FLAGS] ?
				inl_get_u32(o[CTRL_ATTR_OP_FLAGS]) : 0;
			f->n_ops++;
		}
	}
	if (tb[CTRL_ATTR_MCAST_GROUPS]) {
		inl_for_each_nested(nla, tb[CTRL_ATTR_MCAST_GROUPS], rem) {
			if (f->n_groups >= (int)(sizeof(f->groups) / sizeof(f->groups[0])))
				return -E2BIG;
			if (inl_parse_nested(nla, g, CTRL_ATTR_MCAST_GRP_MAX) ||
			    !g[CTRL_ATTR_MCAST_GRP_NAME] || !g[CTRL_ATTR_MCAST_GRP_ID])
				return -EBADMSG;
			snprintf(f->groups[f->n_groups].name, GENL_NAMSIZ, "%s",
				 inl_get_str(g[CTRL_ATTR_MCAST_GRP_NAME]));
			f->groups[f->n_groups].id =
				inl_get_u32(g[CTRL_ATTR_MCAST_GRP_ID]);
			f->n_groups++;
		}
	}
	return 0;
}

/* The id of multicast group @name of @f: 0, or -ENOENT. */
static inline int inl_group_id(const struct inl_family *f, const char *name,
			       __u32 *id)
{
	int i;

	for (i = 0; i < f->n_groups; i++) {
		if (!strcmp(f->groups[i].name, name)) {
			*id = f->groups[i].id;
			return 0;
		}
	}
	return -ENOENT;
}

#endif /* IPUMP_NL_LIB_H */
