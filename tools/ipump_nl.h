/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by ipumpctl and ipumpmon: the generic netlink connection to the
 * "ipump" family (libnl-genl-3), extended-ACK parsing (libnl 3.7 has no API
 * for it), parsing of the reply nests into the uAPI structs, and the name
 * tables and exact formatting of states, alarms, events and values.
 */
#ifndef IPUMP_TOOLS_NL_H
#define IPUMP_TOOLS_NL_H

#include <stdint.h>
#include <stdio.h>

#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include <linux/ipump.h>

/* ---- the connection ---- */

/* What the kernel said about the last request (extended ACK included). */
struct ipn_status {
	int err;		/* positive errno; 0 on success */
	char msg[256];		/* NLMSGERR_ATTR_MSG; "" if none (also on success:
				 * a warning such as "rounded toward less drug")
				 */
	int has_reason;
	uint32_t reason;	/* IPUMP_A_REASON from NLMSGERR_ATTR_COOKIE */
	char attr[96];		/* the offending or missing attribute, named from
				 * NLMSGERR_ATTR_OFFS / _MISS_TYPE / _MISS_NEST
				 */
	int missing;		/* attr names a missing attribute */
	int attr_top;		/* top-level type of that attribute, or -1 */
	int attr_inner;		/* its nested type, or -1 */
	int local;		/* the request never got an answer (socket error) */
	int dump_intr;		/* a dump was interrupted (NLM_F_DUMP_INTR) */
};

struct ipn {
	struct nl_sock *sk;
	int family;
	const char *prog;	/* program name for messages */
	struct ipn_status st;	/* of the last ipn_request() */
};

/*
 * Open a request socket and resolve the family. On failure print why
 * (module not loaded, no netlink) to stderr and return -1.
 */
int ipn_open(struct ipn *nl, const char *prog);
void ipn_close(struct ipn *nl);

/* A request message for @cmd (@flags: 0 or NLM_F_DUMP); NULL on ENOMEM. */
struct nl_msg *ipn_msg(struct ipn *nl, uint8_t cmd, int flags);

/*
 * Called for each reply message (each record of a dump) with its top-level
 * attributes parsed (tb has IPUMP_A_MAX + 1 entries). Return 0 to go on, a
 * negative value to stop with that error (the rest of the answer is still
 * read).
 */
typedef int (*ipn_reply_fn)(struct nlattr **tb, uint8_t cmd, void *arg);

/*
 * Send @msg (consumed) with NLM_F_ACK and read the answer to the end (the
 * ACK, the error or the end of the dump). Returns 0 or -errno; nl->st says
 * what the kernel said.
 */
int ipn_request(struct ipn *nl, struct nl_msg *msg, ipn_reply_fn fn, void *arg);

/*
 * Parse a generic netlink message of the family received outside
 * ipn_request() (the monitor socket): its top-level attributes into @tb
 * (IPUMP_A_MAX + 1 entries). Returns the command, or -1 if malformed.
 */
int ipn_parse_msg(const struct ipn *nl, struct nlmsghdr *nlh, struct nlattr **tb);

/*
 * "<op> refused: <strerror> (<extack message>) [reason ..., attribute ...]"
 * for the last request.
 */
char *ipn_refusal(const struct ipn *nl, const char *op, char *buf, size_t len);

/*
 * The extended-ACK TLVs of an NLMSG_ERROR message (or an NLMSG_DONE message,
 * whose TLVs follow its int). @sent: the request it answers (to name the
 * attribute at NLMSGERR_ATTR_OFFS), may be NULL. Exposed for the host test.
 */
void ipn_parse_ack(const struct nlmsghdr *nlh, const struct nlmsghdr *sent,
		   struct ipn_status *st);

/* ---- reply nests ---- */

struct ipn_card {
	struct ipump_card_info info;
	uint64_t alarms;
	uint64_t log_oldest_seq;
	uint64_t log_next_seq;
	uint64_t log_wrapped;
	char name[32];
	uint64_t have;		/* bit n: IPUMP_A_CARD_* n was present */
};

struct ipn_chan {
	struct ipump_channel_status st;
	uint64_t have;		/* bit n: IPUMP_A_ST_* n */
};

struct ipn_prog {
	struct ipump_programme p;
	uint64_t have;		/* bit n: IPUMP_A_PROG_* n */
};

struct ipn_limits {
	struct ipump_hard_limits l;
	uint64_t have;		/* bit n: IPUMP_A_LIM_* n */
};

/* struct ipump_event with the netlink widths */
struct ipn_event {
	uint64_t seq;
	uint64_t timestamp_ns;
	uint32_t card;
	uint32_t type;
	uint32_t channel;
	uint32_t priority;
	uint64_t value[4];
	uint32_t flags;
	uint64_t have;		/* bit n: IPUMP_A_EV_* n */
};

#define IPN_HAVE(x, a)	(((x)->have >> (a)) & 1)

/* Parse a nest; -EINVAL if it is malformed. */
int ipn_parse_card(struct nlattr *nest, struct ipn_card *c);
int ipn_parse_chan(struct nlattr *nest, struct ipn_chan *c);
int ipn_parse_prog(struct nlattr *nest, struct ipn_prog *p);
int ipn_parse_limits(struct nlattr *nest, struct ipn_limits *l);
int ipn_parse_event(struct nlattr *nest, struct ipn_event *e);

/* Put a complete IPUMP_A_PROGRAMME / IPUMP_A_LIMITS nest. */
int ipn_put_prog(struct nl_msg *msg, const struct ipump_programme *p);
int ipn_put_limits(struct nl_msg *msg, const struct ipump_hard_limits *l);

/* ---- names ---- */

const char *ipn_state_name(uint32_t state);
const char *ipn_alarm_name(uint32_t alarm);
/* documented priority of an alarm (Documentation/safety/therapy-rules.rst) */
int ipn_alarm_prio(uint32_t alarm);
const char *ipn_prio_name(uint32_t prio);
int ipn_prio_from_name(const char *s);
const char *ipn_event_name(uint32_t type);
int ipn_event_from_name(const char *s);
const char *ipn_cause_name(uint32_t cause);
const char *ipn_route_name(uint32_t route);
int ipn_route_from_name(const char *s);
const char *ipn_mode_name(uint32_t mode);
int ipn_mode_from_name(const char *s);
const char *ipn_lease_name(uint32_t lease);
const char *ipn_reason_name(uint32_t reason);
const char *ipn_clock_name(uint32_t clock);
const char *ipn_errno_name(int err);

/* "lease-lost (high, unacknowledged), reservoir-low (low)"; "none" if 0 */
char *ipn_alarms_str(uint64_t mask, uint64_t unacked, int with_prio,
		     char *buf, size_t len);

/* ---- formatting ---- */

/* card-clock ns as "S.mmm" */
char *ipn_time_str(uint64_t ns, char *buf, size_t len);
/* "2ml/h (2000000 nl/h)" etc.: exact human value and the raw value */
char *ipn_vol_str(uint64_t nl, char *buf, size_t len);
char *ipn_rate_str(uint64_t nl_per_h, char *buf, size_t len);
char *ipn_dur_str(uint64_t ms, char *buf, size_t len);
char *ipn_fw_str(uint32_t v, char *buf, size_t len);

/*
 * One event as text: "SEQ TIME ipumpC/CH TYPE PRIO key=value..." (CH is
 * "-" for card-wide events), without newline.
 */
char *ipn_event_text(const struct ipn_event *e, char *buf, size_t len);
/* One event as a JSON object on one line, with newline. */
void ipn_event_json(const struct ipn_event *e, FILE *f);

#endif /* IPUMP_TOOLS_NL_H */
