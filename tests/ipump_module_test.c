// SPDX-License-Identifier: GPL-2.0-only
/*
 * Module lifecycle: every ipump module loads and unloads cleanly many times
 * (the VM runner fails the run on any kernel report), and carries the
 * metadata a distribution needs.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

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

TEST_HARNESS_MAIN
