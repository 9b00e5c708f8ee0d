/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * nestor: services for nested (L2) guests, offered by L0 from outside L1.
 *
 * The one public header: the /dev/nestor ioctls, the "nestor" generic
 * netlink family and the hypercall ABI that L2 guests use.
 * Documentation/uapi.rst describes every field; Documentation/hypercall.rst
 * the guest ABI.
 *
 * Rules (Documentation/process/botching-up-ioctls.rst): fixed-size types,
 * explicit padding that must be zero, flags that must be known, structures
 * that may grow at their end only.  The kernel takes the structure size from
 * the ioctl number: an older (smaller) structure is zero-extended, a newer
 * (larger) one is accepted only when the bytes the kernel does not know are
 * zero.
 */
#ifndef _UAPI_LINUX_NESTOR_H
#define _UAPI_LINUX_NESTOR_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/const.h>

#define NESTOR_UAPI_VERSION	1
#define NESTOR_DEVICE_PATH	"/dev/nestor"

/* Which KVM nested backend the module hooked. */
enum nestor_backend {
	NESTOR_BACKEND_NONE = 0,
	NESTOR_BACKEND_VMX = 1,
	NESTOR_BACKEND_SVM = 2,
};

/* Feature bits reported by NESTOR_IOC_VERSION and NESTOR_A_FEATURES. */
#define NESTOR_FEAT_REGISTRY	_BITULL(0)	/* L2 registry, netlink dumps */
#define NESTOR_FEAT_DIVERT	_BITULL(1)	/* exit-divert hook is armed */
#define NESTOR_FEAT_PING	_BITULL(2)	/* ping hypercall answered */

/* ------------------------------------------------------------------ */
/* ioctls on /dev/nestor (open needs CAP_SYS_ADMIN)                     */
/* ------------------------------------------------------------------ */

#define NESTOR_IOC_MAGIC	0xB8

/**
 * struct nestor_version - NESTOR_IOC_VERSION
 * @flags: in, must be 0.
 * @uapi_version: out, NESTOR_UAPI_VERSION of the module.
 * @backend: out, enum nestor_backend.
 * @pad: must be 0.
 * @features: out, NESTOR_FEAT_* bits.
 * @module_version: out, NUL-terminated module version string.
 */
struct nestor_version {
	__u32 flags;
	__u32 uapi_version;
	__u32 backend;
	__u32 pad;
	__u64 features;
	char module_version[32];
};

#define NESTOR_IOC_VERSION	_IOWR(NESTOR_IOC_MAGIC, 0x00, struct nestor_version)

/* ------------------------------------------------------------------ */
/* generic netlink family "nestor" (Documentation/netlink/specs)        */
/* ------------------------------------------------------------------ */

#define NESTOR_GENL_NAME		"nestor"
#define NESTOR_GENL_VERSION		1
#define NESTOR_GENL_MCGRP_EVENTS	"events"

enum nestor_cmd {
	NESTOR_CMD_UNSPEC,
	NESTOR_CMD_GET_VERSION,		/* doit */
	NESTOR_CMD_GET_VM,		/* dump: one message per L1 VM */
	NESTOR_CMD_GET_L2,		/* dump, or doit with NESTOR_A_L2_ID */
	NESTOR_CMD_GET_STATS,		/* doit with NESTOR_A_L2_ID */
	/* notifications on the "events" group */
	NESTOR_CMD_L2_NEW,
	NESTOR_CMD_L2_GONE,
	NESTOR_CMD_L2_ROOT_CHANGE,
	NESTOR_CMD_VM_GONE,

	__NESTOR_CMD_MAX,
};

#define NESTOR_CMD_MAX (__NESTOR_CMD_MAX - 1)

enum nestor_attr {
	NESTOR_A_UNSPEC,
	NESTOR_A_PAD,
	NESTOR_A_UAPI_VERSION,		/* u32 */
	NESTOR_A_MODULE_VERSION,	/* string */
	NESTOR_A_BACKEND,		/* u32, enum nestor_backend */
	NESTOR_A_FEATURES,		/* u64 */
	NESTOR_A_VM_ID,			/* u32 */
	NESTOR_A_VM_PID,		/* u32, the VMM's tgid */
	NESTOR_A_VM_VCPU,		/* u32, multi: vCPU ids seen */
	NESTOR_A_L2_ID,			/* u32, context id, never reused */
	NESTOR_A_L2_VMCS12,		/* u64, vmcs12/vmcb12 gpa in L1 */
	NESTOR_A_L2_ROOT,		/* u64, L1's EPTP / nCR3 for L2 */
	NESTOR_A_L2_TDP,		/* flag, L1 uses EPT/NPT for L2 */
	NESTOR_A_L2_FIRST_SEEN_NS,	/* u64, CLOCK_BOOTTIME */
	NESTOR_A_L2_LAST_SEEN_NS,	/* u64, CLOCK_BOOTTIME */
	NESTOR_A_L2_ENTRIES,		/* u64, L1 -> L2 entries */
	NESTOR_A_L2_VCPU,		/* nest, multi: enum nestor_vcpu_attr */
	NESTOR_A_L2_OLD_ROOT,		/* u64, in NESTOR_CMD_L2_ROOT_CHANGE */
	NESTOR_A_STATS_EXIT,		/* nest, multi: enum nestor_exit_attr */
	NESTOR_A_ISA,			/* u32, enum nestor_backend */

	__NESTOR_A_MAX,
};

#define NESTOR_A_MAX (__NESTOR_A_MAX - 1)

enum nestor_vcpu_attr {
	NESTOR_A_VCPU_UNSPEC,
	NESTOR_A_VCPU_PAD,
	NESTOR_A_VCPU_ID,		/* u32 */
	NESTOR_A_VCPU_CR3,		/* u64, L2's last CR3 on that vCPU */
	NESTOR_A_VCPU_CR3_CHANGES,	/* u64 */

	__NESTOR_A_VCPU_MAX,
};

#define NESTOR_A_VCPU_MAX (__NESTOR_A_VCPU_MAX - 1)

/*
 * Per exit reason (VMX basic exit reason, or SVM exit code) of one L2
 * context.  @total counts the exits L0 saw while that L2 ran; @reflected
 * the exits delivered to L1 (KVM can also synthesize some, such as
 * interrupt exits, without a hardware exit); @nestor the exits nestor
 * completed in L0, which L1 never saw.
 */
enum nestor_exit_attr {
	NESTOR_A_EXIT_UNSPEC,
	NESTOR_A_EXIT_PAD,
	NESTOR_A_EXIT_REASON,		/* u32 */
	NESTOR_A_EXIT_TOTAL,		/* u64 */
	NESTOR_A_EXIT_REFLECTED,	/* u64 */
	NESTOR_A_EXIT_NESTOR,		/* u64 */

	__NESTOR_A_EXIT_MAX,
};

#define NESTOR_A_EXIT_MAX (__NESTOR_A_EXIT_MAX - 1)

/* ------------------------------------------------------------------ */
/* hypercall ABI for L2 guests (Documentation/hypercall.rst)            */
/* ------------------------------------------------------------------ */

/*
 * L2 executes VMCALL (Intel) or VMMCALL (AMD) with RAX = NESTOR_HC_LEAF and
 * RBX = function; arguments in RCX, RDX, RSI.  nestor completes the exit in
 * L0: RAX returns a status (NESTOR_HC_*), results come in RBX, RCX, RDX.
 * L1 never sees these exits.  Any other RAX value goes to L1 untouched.
 */
#define NESTOR_HC_LEAF		0x6e657374	/* "nest" */

enum nestor_hc_function {
	NESTOR_HC_FN_PING = 1,	/* RCX = cookie -> RBX = ~cookie, RCX = uapi version */
};

enum nestor_hc_status {
	NESTOR_HC_OK = 0,
	NESTOR_HC_ENOSYS = 1,	/* unknown function */
	NESTOR_HC_EINVAL = 2,	/* bad argument */
};

#endif /* _UAPI_LINUX_NESTOR_H */
