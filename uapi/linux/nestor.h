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
/* console (issue 4) */
#define NESTOR_FEAT_CONSOLE	_BITULL(8)	/* NESTOR_IOC_CONSOLE_* */

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

/* ---- console (issue 4): ioctls 0x20-0x2f; Documentation/console.rst ---- */

/* NESTOR_IOC_CONSOLE_ENABLE flags */
#define NESTOR_CONSOLE_F_DROP_OLDEST	_BITUL(0)	/* full ring: drop, never wait */
#define NESTOR_CONSOLE_F_ALL		NESTOR_CONSOLE_F_DROP_OLDEST

#define NESTOR_CONSOLE_DEFAULT_PORT	0x3f8
#define NESTOR_CONSOLE_DEFAULT_RING	(64U << 10)
#define NESTOR_CONSOLE_MIN_RING		(4U << 10)
#define NESTOR_CONSOLE_MAX_RING		(16U << 20)

/**
 * struct nestor_console_enable - NESTOR_IOC_CONSOLE_ENABLE
 * @l2_id: in, the L2 context (NESTOR_A_L2_ID); ENOENT if unknown.
 * @flags: in, NESTOR_CONSOLE_F_*.
 * @port: in, base port of the 8 UART registers, a multiple of 8; 0 means
 *	NESTOR_CONSOLE_DEFAULT_PORT.
 * @pad: must be 0.
 * @ring_size: in, output ring in bytes, a power of two between
 *	NESTOR_CONSOLE_MIN_RING and _MAX_RING; 0 means the default.
 * @pad2: must be 0.
 */
struct nestor_console_enable {
	__u32 l2_id;
	__u32 flags;
	__u16 port;
	__u16 pad;
	__u32 ring_size;
	__u64 pad2;
};

/**
 * struct nestor_console_id - NESTOR_IOC_CONSOLE_DISABLE
 * @l2_id: in.
 * @flags: in, must be 0.
 */
struct nestor_console_id {
	__u32 l2_id;
	__u32 flags;
};

/* NESTOR_IOC_CONSOLE_ATTACH flags: at least one of READ and WRITE. */
#define NESTOR_CONSOLE_ATTACH_READ	_BITUL(0)	/* output; holds the ring */
#define NESTOR_CONSOLE_ATTACH_WRITE	_BITUL(1)	/* input; one writer only */
#define NESTOR_CONSOLE_ATTACH_ALL	(NESTOR_CONSOLE_ATTACH_READ | \
					 NESTOR_CONSOLE_ATTACH_WRITE)

/**
 * struct nestor_console_attach - NESTOR_IOC_CONSOLE_ATTACH
 * @l2_id: in.
 * @flags: in, NESTOR_CONSOLE_ATTACH_*; O_NONBLOCK/O_CLOEXEC are set on the
 *	new file with fcntl().
 * @fd: out, the console file: read() the output, write() the input,
 *	poll().  EOF/EPIPE once the console is disabled.
 * @pad: must be 0.
 */
struct nestor_console_attach {
	__u32 l2_id;
	__u32 flags;
	__s32 fd;
	__u32 pad;
};

/* How the UART's interrupt reaches L2 (struct nestor_console_status). */
enum nestor_console_irq {
	NESTOR_CONSOLE_IRQ_POLLING = 0,	/* not delivered: guest must poll */
};

/**
 * struct nestor_console_status - NESTOR_IOC_CONSOLE_STATUS
 * @l2_id: in.
 * @flags: in, must be 0.
 * @console_flags: out, NESTOR_CONSOLE_F_* it was enabled with.
 * @ring_size: out.
 * @port: out, base port.
 * @ier: out, UART registers as L2 last left them (IIR as it reads now).
 * @iir: out.
 * @lcr: out.
 * @mcr: out.
 * @lsr: out.
 * @msr: out.
 * @irq_mode: out, enum nestor_console_irq.
 * @readers: out, attached readers.
 * @writer: out, 1 when a writer is attached.
 * @pad: out, 0.
 * @tx_bytes: out, bytes L2 sent (into the ring).
 * @rx_bytes: out, bytes L2 received (from the writer).
 * @buffered: out, bytes in the ring not yet read by every reader.
 * @dropped: out, ring bytes dropped (drop-oldest only).
 * @port_exits: out, L2 port accesses completed in L0.
 * @string_exits: out, string I/O on the ports, passed to L1.
 * @irq_raised: out, times the guest's interrupt line rose (not
 *	deliverable in polling mode: a guest waiting for it must poll).
 * @divisor: out, baud divisor (115200 / divisor baud).
 * @pad2: out, 0.
 */
struct nestor_console_status {
	__u32 l2_id;
	__u32 flags;
	__u32 console_flags;
	__u32 ring_size;
	__u16 port;
	__u8 ier, iir, lcr, mcr, lsr, msr;
	__u32 irq_mode;
	__u32 readers;
	__u32 writer;
	__u32 pad;
	__u64 tx_bytes;
	__u64 rx_bytes;
	__u64 buffered;
	__u64 dropped;
	__u64 port_exits;
	__u64 string_exits;
	__u64 irq_raised;
	__u32 divisor;
	__u32 pad2;
};

#define NESTOR_IOC_CONSOLE_ENABLE	_IOW(NESTOR_IOC_MAGIC, 0x20, struct nestor_console_enable)
#define NESTOR_IOC_CONSOLE_DISABLE	_IOW(NESTOR_IOC_MAGIC, 0x21, struct nestor_console_id)
#define NESTOR_IOC_CONSOLE_ATTACH	_IOWR(NESTOR_IOC_MAGIC, 0x22, struct nestor_console_attach)
#define NESTOR_IOC_CONSOLE_STATUS	_IOWR(NESTOR_IOC_MAGIC, 0x23, struct nestor_console_status)

/* ---- end of console ---- */

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
