// SPDX-License-Identifier: GPL-2.0-only
/*
 * Module lifecycle: every ipump module loads and unloads cleanly many times
 * (the VM runner fails the run on any kernel report), and carries the
 * metadata a distribution needs.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/ipump.h>

#include "kselftest_harness.h"
#include "ipump_test_lib.h"
#include "ipump_nl_lib.h"

/* In load order: later modules depend on earlier ones. */
static const char *const ipump_modules[] = { "ipump", "ipump_sim", "ipump_spi" };
#define NMODULES (sizeof(ipump_modules) / sizeof(ipump_modules[0]))

static int module_loaded(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s/initstate", name);
	return access(path, F_OK) == 0;
}

static int run(const char *fmt, const char *arg)
{
	char cmd[256];
	int status;

	snprintf(cmd, sizeof(cmd), fmt, arg);
	status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* First line printed by `cmd`, without the newline; "" if none. */
static void read_cmd(const char *cmd, char *buf, size_t len)
{
	FILE *p = popen(cmd, "r");

	buf[0] = '\0';
	if (!p)
		return;
	if (fgets(buf, len, p))
		buf[strcspn(buf, "\n")] = '\0';
	pclose(p);
}

FIXTURE(modules) {};

FIXTURE_SETUP(modules)
{
	size_t i;

	/* start from nothing loaded, whatever an earlier test left */
	for (i = NMODULES; i-- > 0;)
		run("rmmod %s 2>/dev/null", ipump_modules[i]);
	for (i = 0; i < NMODULES; i++)
		ASSERT_FALSE(module_loaded(ipump_modules[i]));
}

FIXTURE_TEARDOWN(modules)
{
	size_t i;

	for (i = NMODULES; i-- > 0;)
		run("rmmod %s 2>/dev/null", ipump_modules[i]);
}

/* a debug kernel under TCG needs minutes for 200 module loads and unloads */
TEST_F_TIMEOUT(modules, load_unload_100_times, 600)
{
	int cycle;
	size_t i;

	for (cycle = 0; cycle < 100; cycle++) {
		for (i = 0; i < NMODULES; i++) {
			ASSERT_EQ(0, run("modprobe %s", ipump_modules[i]))
				TH_LOG("cycle %d: modprobe %s", cycle, ipump_modules[i]);
			ASSERT_TRUE(module_loaded(ipump_modules[i]));
		}
		for (i = NMODULES; i-- > 0;) {
			ASSERT_EQ(0, run("rmmod %s", ipump_modules[i]))
				TH_LOG("cycle %d: rmmod %s", cycle, ipump_modules[i]);
			ASSERT_FALSE(module_loaded(ipump_modules[i]));
		}
	}
}

TEST_F(modules, modinfo_fields)
{
	char cmd[128], val[256], sysval[256];
	const char *const fields[] = { "license", "author", "description", "version" };
	size_t i, f;

	for (i = 0; i < NMODULES; i++) {
		for (f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
			snprintf(cmd, sizeof(cmd), "modinfo -F %s %s", fields[f], ipump_modules[i]);
			read_cmd(cmd, val, sizeof(val));
			EXPECT_NE(0, (int)strlen(val)) TH_LOG("%s has no %s", ipump_modules[i], fields[f]);
			if (!strcmp(fields[f], "license"))
				EXPECT_STREQ("GPL", val);
			if (!strcmp(fields[f], "version")) {
				/* x.y.z, and what the loaded module reports */
				EXPECT_TRUE(isdigit((unsigned char)val[0]));
				EXPECT_NE(NULL, strchr(val, '.'));
				ASSERT_EQ(0, run("modprobe %s", ipump_modules[i]));
				snprintf(cmd, sizeof(cmd), "cat /sys/module/%s/version", ipump_modules[i]);
				read_cmd(cmd, sysval, sizeof(sysval));
				EXPECT_STREQ(val, sysval);
			}
		}
	}
}

/*
 * allow_unprivileged_read=1 (CONTRACTS.md: patient data is privileged by
 * default): a non-root user may then read and join the monitor group,
 * never change therapy. The default is tested by ipump_netlink_test.
 */
static int unprivileged_reader(__u32 card)
{
	static char buf[INL_RX_MAX] __attribute__((aligned(8)));
	struct inl_family fam;
	struct inl_sock s;
	struct inl_ext e;
	struct inl_msg m;
	__u32 monitor;

	if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
		return 10;
	if (inl_open(&s) || inl_get_family(&s, IPUMP_GENL_NAME, &fam) ||
	    inl_group_id(&fam, IPUMP_GENL_MCGRP_MONITOR, &monitor))
		return 11;
	inl_msg_init(&m, fam.id, 0, IPUMP_CMD_CHANNEL_GET, IPUMP_GENL_VERSION);
	inl_put_u32(&m, IPUMP_A_CARD_ID, card);
	inl_put_u32(&m, IPUMP_A_CHANNEL, 0);
	if (inl_transact(&s, &m, buf, sizeof(buf), &e))
		return 12;	/* reading is allowed */
	inl_msg_init(&m, fam.id, 0, IPUMP_CMD_STOP, IPUMP_GENL_VERSION);
	inl_put_u32(&m, IPUMP_A_CARD_ID, card);
	inl_put_u32(&m, IPUMP_A_CHANNEL, 0);
	if (inl_transact(&s, &m, NULL, 0, &e) != -EPERM)
		return 13;	/* changing is not */
	if (inl_join(&s, monitor))
		return 14;	/* nor is monitoring refused */
	inl_close(&s);
	return 0;
}

TEST_F(modules, unprivileged_read_when_allowed)
{
	struct ipt_card c;
	char val[16];
	int st, err;
	pid_t pid;

	ASSERT_EQ(0, run("modprobe %s allow_unprivileged_read=1", "ipump"));
	ASSERT_EQ(0, run("modprobe %s", "ipump_sim"));
	ASSERT_EQ(0, ipt_read_str("/sys/module/ipump/parameters/allow_unprivileged_read",
				  val, sizeof(val)));
	ASSERT_STREQ("Y", val);
	err = ipt_card_create(&c, "upr", 1);
	ASSERT_EQ(0, err) TH_LOG("creating a simulated card: %s", strerror(-err));
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(unprivileged_reader(c.num));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st)) TH_LOG("child step %d failed", WEXITSTATUS(st));
	EXPECT_EQ(0, ipt_card_destroy(&c));
}

TEST_HARNESS_MAIN
