// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipump core: placeholder that registers and unregisters cleanly.
 */
#include <linux/module.h>

static int __init ipump_init(void)
{
	return 0;
}
module_init(ipump_init);

static void __exit ipump_exit(void)
{
}
module_exit(ipump_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("ipump developers");
MODULE_DESCRIPTION("Infusion-pump interface card core");
MODULE_VERSION("0.1.0");
