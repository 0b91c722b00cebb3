// SPDX-License-Identifier: GPL-2.0-only
/*
 * Print what the running kernel says about a generic netlink family
 * (default "ipump"): its version, multicast groups and operations
 * (CTRL_CMD_GETFAMILY) and every operation's policy, nested policies
 * followed (CTRL_CMD_GETPOLICY), in the line format of ipump_nl_spec.py:
 *
 *   family NAME version=V
 *   mcgrp NAME
 *   op CMD [admin-perm] [uns-admin-perm] [do] [dump]
 *   pol CMD do|dump PATH TYPE [min=N max=N | mask=0xN] [maxtype=N] [minlen=N] [maxlen=N]
 *
 * Unsorted; ipump_nl_policy_test.sh sorts and compares. Raw netlink, no
 * libnl (the VM has no shared libraries).
 *
 * Exit: 0, 1 on any error (message on stderr).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipump_nl_lib.h"

#define MAX_POLICIES	64
#define MAX_ATTRS	256
#define MAX_CMDS	256
#define MAX_DEPTH	8

struct pattr {
	bool present;
	__u32 type;		/* NL_ATTR_TYPE_* */
	bool has_min_u, has_max_u, has_min_s, has_max_s, has_mask;
	__u64 min_u, max_u, mask;
	__s64 min_s, max_s;
	bool has_idx, has_maxtype, has_minlen, has_maxlen, has_bf32;
	__u32 idx, maxtype, minlen, maxlen, bf32;
};

static struct pattr pol[MAX_POLICIES][MAX_ATTRS];
static struct {
	bool has_do, has_dump;
	__u32 do_idx, dump_idx;
} ops[MAX_CMDS];

static const char *const type_names[] = {
	[NL_ATTR_TYPE_FLAG] = "flag",
	[NL_ATTR_TYPE_U8] = "u8",
	[NL_ATTR_TYPE_U16] = "u16",
	[NL_ATTR_TYPE_U32] = "u32",
	[NL_ATTR_TYPE_U64] = "u64",
	[NL_ATTR_TYPE_S8] = "s8",
	[NL_ATTR_TYPE_S16] = "s16",
	[NL_ATTR_TYPE_S32] = "s32",
	[NL_ATTR_TYPE_S64] = "s64",
	[NL_ATTR_TYPE_BINARY] = "binary",
	[NL_ATTR_TYPE_STRING] = "string",
	[NL_ATTR_TYPE_NUL_STRING] = "nul-string",
	[NL_ATTR_TYPE_NESTED] = "nested",
	[NL_ATTR_TYPE_NESTED_ARRAY] = "nested-array",
	[NL_ATTR_TYPE_BITFIELD32] = "bitfield32",
};

static int parse_attr_policy(__u32 idx, __u32 attr, const struct nlattr *nest)
{
	const struct nlattr *tb[NL_POLICY_TYPE_ATTR_MAX + 1];
	struct pattr *p;

	if (idx >= MAX_POLICIES || attr >= MAX_ATTRS) {
		fprintf(stderr, "policy %u attribute %u: too large for this tool\n",
			idx, attr);
		return -E2BIG;
	}
	if (inl_parse_nested(nest, tb, NL_POLICY_TYPE_ATTR_MAX) ||
	    !tb[NL_POLICY_TYPE_ATTR_TYPE])
		return -EBADMSG;
	p = &pol[idx][attr];
	memset(p, 0, sizeof(*p));
	p->present = true;
	p->type = inl_get_u32(tb[NL_POLICY_TYPE_ATTR_TYPE]);
#define U64(_attr, _has, _val)					\
	do {							\
		if (tb[_attr]) {				\
			p->_has = true;				\
			p->_val = inl_get_u64(tb[_attr]);	\
		}						\
	} while (0)
#define S64(_attr, _has, _val)					\
	do {							\
		if (tb[_attr]) {				\
			p->_has = true;				\
			p->_val = inl_get_s64(tb[_attr]);	\
		}						\
	} while (0)
#define U32(_attr, _has, _val)					\
	do {							\
		if (tb[_attr]) {				\
			p->_has = true;				\
			p->_val = inl_get_u32(tb[_attr]);	\
		}						\
	} while (0)
	U64(NL_POLICY_TYPE_ATTR_MIN_VALUE_U, has_min_u, min_u);
	U64(NL_POLICY_TYPE_ATTR_MAX_VALUE_U, has_max_u, max_u);
	S64(NL_POLICY_TYPE_ATTR_MIN_VALUE_S, has_min_s, min_s);
	S64(NL_POLICY_TYPE_ATTR_MAX_VALUE_S, has_max_s, max_s);
	U64(NL_POLICY_TYPE_ATTR_MASK, has_mask, mask);
	U32(NL_POLICY_TYPE_ATTR_POLICY_IDX, has_idx, idx);
	U32(NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE, has_maxtype, maxtype);
	U32(NL_POLICY_TYPE_ATTR_MIN_LENGTH, has_minlen, minlen);
	U32(NL_POLICY_TYPE_ATTR_MAX_LENGTH, has_maxlen, maxlen);
	U32(NL_POLICY_TYPE_ATTR_BITFIELD32_MASK, has_bf32, bf32);
#undef U64
#undef S64
#undef U32
	return 0;
}

/* One message of the CTRL_CMD_GETPOLICY dump. */
static int policy_msg(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[CTRL_ATTR_MAX + 1], *a, *b;
	const struct nlattr *pd[CTRL_ATTR_POLICY_DUMP_MAX + 1];
	int rem, rem2, ret;

	(void)arg;
	if (inl_genl_parse(nlh, tb, CTRL_ATTR_MAX))
		return -EBADMSG;
	if (tb[CTRL_ATTR_OP_POLICY]) {
		inl_for_each_nested(a, tb[CTRL_ATTR_OP_POLICY], rem) {
			int cmd = inl_nla_type(a);

			if (cmd >= MAX_CMDS ||
			    inl_parse_nested(a, pd, CTRL_ATTR_POLICY_DUMP_MAX))
				return -EBADMSG;
			if (pd[CTRL_ATTR_POLICY_DO]) {
				ops[cmd].has_do = true;
				ops[cmd].do_idx = inl_get_u32(pd[CTRL_ATTR_POLICY_DO]);
			}
			if (pd[CTRL_ATTR_POLICY_DUMP]) {
				ops[cmd].has_dump = true;
				ops[cmd].dump_idx = inl_get_u32(pd[CTRL_ATTR_POLICY_DUMP]);
			}
		}
	}
	if (tb[CTRL_ATTR_POLICY]) {
		inl_for_each_nested(a, tb[CTRL_ATTR_POLICY], rem) {
			inl_for_each_nested(b, a, rem2) {
				ret = parse_attr_policy(inl_nla_type(a),
							inl_nla_type(b), b);
				if (ret)
					return ret;
			}
		}
	}
	return 0;
}

static void print_policy(const char *prefix, const char *path, __u32 idx,
			 int depth)
{
	char line[512], sub[128];
	unsigned int attr;
	int n;

	if (idx >= MAX_POLICIES || depth > MAX_DEPTH) {
		printf("%s %s ERROR policy %u depth %d\n", prefix, path, idx, depth);
		return;
	}
	for (attr = 0; attr < MAX_ATTRS; attr++) {
		const struct pattr *p = &pol[idx][attr];
		const char *tn;

		if (!p->present)
			continue;
		snprintf(sub, sizeof(sub), "%s%s%u", path, *path ? "." : "", attr);
		tn = p->type < sizeof(type_names) / sizeof(type_names[0]) &&
		     type_names[p->type] ? type_names[p->type] : "unknown";
		n = snprintf(line, sizeof(line), "%s %s %s", prefix, sub, tn);
		if (p->has_mask)
			n += snprintf(line + n, sizeof(line) - n, " mask=0x%llx",
				      (unsigned long long)p->mask);
		if (p->has_min_u || p->has_max_u)
			n += snprintf(line + n, sizeof(line) - n, " min=%llu max=%llu",
				      (unsigned long long)p->min_u,
				      (unsigned long long)p->max_u);
		if (p->has_min_s || p->has_max_s)
			n += snprintf(line + n, sizeof(line) - n, " min=%lld max=%lld",
				      (long long)p->min_s, (long long)p->max_s);
		if (p->has_bf32)
			n += snprintf(line + n, sizeof(line) - n, " mask=0x%x", p->bf32);
		if (p->type == NL_ATTR_TYPE_NESTED || p->type == NL_ATTR_TYPE_NESTED_ARRAY)
			n += snprintf(line + n, sizeof(line) - n, " maxtype=%u",
				      p->has_maxtype ? p->maxtype : 0);
		if (p->has_minlen)
			n += snprintf(line + n, sizeof(line) - n, " minlen=%u", p->minlen);
		if (p->has_maxlen)
			snprintf(line + n, sizeof(line) - n, " maxlen=%u", p->maxlen);
		puts(line);
		if (p->has_idx)
			print_policy(prefix, sub, p->idx, depth + 1);
	}
}

int main(int argc, char **argv)
{
	static char rx[32768] __attribute__((aligned(8)));
	const char *name = argc > 1 ? argv[1] : "ipump";
	struct inl_family fam;
	struct inl_sock s;
	struct inl_dump d;
	struct inl_msg m;
	char prefix[64];
	int i, ret;

	ret = inl_open(&s);
	if (ret) {
		fprintf(stderr, "netlink socket: %s\n", strerror(-ret));
		return 1;
	}
	ret = inl_get_family(&s, name, &fam);
	if (ret) {
		fprintf(stderr, "family %s: %s\n", name, strerror(-ret));
		return 1;
	}
	printf("family %s version=%u\n", name, fam.version);
	for (i = 0; i < fam.n_groups; i++)
		printf("mcgrp %s\n", fam.groups[i].name);
	for (i = 0; i < fam.n_ops; i++) {
		__u32 f = fam.ops[i].flags;

		printf("op %u%s%s%s%s\n", fam.ops[i].cmd,
		       f & GENL_ADMIN_PERM ? " admin-perm" : "",
		       f & GENL_UNS_ADMIN_PERM ? " uns-admin-perm" : "",
		       f & GENL_CMD_CAP_DO ? " do" : "",
		       f & GENL_CMD_CAP_DUMP ? " dump" : "");
	}

	inl_msg_init(&m, GENL_ID_CTRL, 0, CTRL_CMD_GETPOLICY, 1);
	inl_put_str(&m, CTRL_ATTR_FAMILY_NAME, name);
	ret = inl_dump_all(&s, &m, &d, sizeof(rx), policy_msg, NULL);
	if (ret) {
		fprintf(stderr, "policy dump of %s: %s%s%s\n", name, strerror(-ret),
			d.ext.has_msg ? ": " : "", d.ext.msg);
		return 1;
	}
	if (d.intr)
		fprintf(stderr, "policy dump of %s: interrupted (NLM_F_DUMP_INTR)\n", name);
	for (i = 0; i < MAX_CMDS; i++) {
		if (ops[i].has_do) {
			snprintf(prefix, sizeof(prefix), "pol %d do", i);
			print_policy(prefix, "", ops[i].do_idx, 0);
		}
		if (ops[i].has_dump) {
			snprintf(prefix, sizeof(prefix), "pol %d dump", i);
			print_policy(prefix, "", ops[i].dump_idx, 0);
		}
	}
	inl_close(&s);
	return d.intr ? 1 : 0;
}
