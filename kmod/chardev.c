// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/nestor.  Sizes come from the ioctl number: a structure smaller than
 * the first version is refused, a larger one must have zero in every byte
 * this module does not know (copy_struct_from_user()), so old binaries and
 * new ones both keep working (botching-up-ioctls.rst).
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "nestor.h"

static int nestor_open(struct inode *inode, struct file *file)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return 0;
}

static long ioc_version(void __user *argp, size_t usize)
{
	struct nestor_version v;
	int err;

	if (usize < sizeof(v))
		return -EINVAL;
	err = copy_struct_from_user(&v, sizeof(v), argp, usize);
	if (err)
		return err;
	if (v.flags || v.pad)
		return -EINVAL;

	memset(&v, 0, sizeof(v));
	v.uapi_version = NESTOR_UAPI_VERSION;
	v.backend = nestor_arch->isa;
	v.features = nestor_features();
	strscpy(v.module_version, NESTOR_MODULE_VERSION,
		sizeof(v.module_version));
	if (copy_to_user(argp, &v, sizeof(v)))
		return -EFAULT;
	return 0;
}

static long nestor_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	if (_IOC_TYPE(cmd) != NESTOR_IOC_MAGIC)
		return -ENOTTY;

	switch (_IOC_NR(cmd)) {
	case _IOC_NR(NESTOR_IOC_VERSION):
		if (_IOC_DIR(cmd) != (_IOC_READ | _IOC_WRITE))
			return -ENOTTY;
		return ioc_version(argp, _IOC_SIZE(cmd));
	case 0x20 ... 0x2f:
		return nestor_console_ioctl(cmd, argp);
	case _IOC_NR(NESTOR_IOC_TRANSLATE):
	case _IOC_NR(NESTOR_IOC_READ):
	case _IOC_NR(NESTOR_IOC_LIST_WALK):
		/* introspection (mem.c) */
		if (_IOC_DIR(cmd) != (_IOC_READ | _IOC_WRITE))
			return -ENOTTY;
		return nestor_mem_ioctl(_IOC_NR(cmd), argp, _IOC_SIZE(cmd));
	/* keys and L2 identity (keys.c, identity.c) */
	case _IOC_NR(NESTOR_IOC_KEY_ADD):
		if (_IOC_DIR(cmd) != _IOC_WRITE)
			return -ENOTTY;
		return nestor_keys_ioctl_add(argp, _IOC_SIZE(cmd));
	case _IOC_NR(NESTOR_IOC_KEY_DEL):
		if (_IOC_DIR(cmd) != _IOC_WRITE)
			return -ENOTTY;
		return nestor_keys_ioctl_del(argp, _IOC_SIZE(cmd));
	case _IOC_NR(NESTOR_IOC_IDENT_DEL):
		if (_IOC_DIR(cmd) != _IOC_WRITE)
			return -ENOTTY;
		return nestor_ident_ioctl_del(argp, _IOC_SIZE(cmd));
	default:
		return -ENOTTY;
	}
}

static const struct file_operations nestor_fops = {
	.owner = THIS_MODULE,
	.open = nestor_open,
	.unlocked_ioctl = nestor_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice nestor_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "nestor",
	.fops = &nestor_fops,
	.mode = 0600,
};

int nestor_chardev_init(void)
{
	return misc_register(&nestor_misc);
}

void nestor_chardev_exit(void)
{
	misc_deregister(&nestor_misc);
}
