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

/* ------------------------------------------------------------------ */
/* packet capture: generic netlink family "nestor_cap"                   */
/* (Documentation/capture.rst, Documentation/netlink/specs/nestor_cap.yaml) */
/* ------------------------------------------------------------------ */

/*
 * A capture session records the packets of an L1 VM's interfaces on L0 at
 * up to three points and multicasts them, in batches, on the admin-only
 * "packets" group.  The socket that created a session owns it: when that
 * socket closes, the session is freed.  Every operation needs
 * CAP_NET_ADMIN.
 */
#define NESTOR_CAP_GENL_NAME		"nestor_cap"
#define NESTOR_CAP_GENL_VERSION		1
#define NESTOR_CAP_MCGRP_PACKETS	"packets"

/* Capture points; a session selects them with a bit mask (1 << point). */
enum nestor_cap_point {
	NESTOR_CAP_POINT_TO_L1 = 0,	/* egress of L0's interface toward L1 */
	NESTOR_CAP_POINT_FROM_L1 = 1,	/* ingress from L1 on that interface */
	NESTOR_CAP_POINT_UPLINK = 2,	/* ingress of an L0 uplink */

	__NESTOR_CAP_POINT_MAX,
};

#define NESTOR_CAP_POINTS_ALL	((1U << __NESTOR_CAP_POINT_MAX) - 1)

/*
 * Direction from L0's side, fixed by the point: OUT toward L1 (to-l1), IN
 * into L0 (from-l1, uplink).  pcapng EPB flags use the same values.
 */
enum nestor_cap_dir {
	NESTOR_CAP_DIR_IN = 1,
	NESTOR_CAP_DIR_OUT = 2,
};

#define NESTOR_CAP_SNAPLEN_MAX		65535
#define NESTOR_CAP_SNAPLEN_DEFAULT	65535
#define NESTOR_CAP_BATCH_MAX		65535	/* packets per message */
#define NESTOR_CAP_BATCH_DEFAULT	64
#define NESTOR_CAP_FLUSH_MS_MAX		60000
#define NESTOR_CAP_FLUSH_MS_DEFAULT	50
#define NESTOR_CAP_BUFSIZE_MIN		4096	/* bytes per message */
#define NESTOR_CAP_BUFSIZE_MAX		131072
#define NESTOR_CAP_BUFSIZE_DEFAULT	65536
#define NESTOR_CAP_FILTER_MAX		4096	/* BPF_MAXINSNS */
#define NESTOR_CAP_MAX_BINDINGS		32
#define NESTOR_CAP_MAX_L2_MAP		16

enum nestor_cap_cmd {
	NESTOR_CAP_CMD_UNSPEC,
	NESTOR_CAP_CMD_NEW,		/* doit: a session; reply: session-id */
	NESTOR_CAP_CMD_BIND,		/* doit: interfaces into a session */
	NESTOR_CAP_CMD_L2_MAP,		/* doit: MAC or IP -> L2 identity */
	NESTOR_CAP_CMD_GET,		/* doit with session-id, or dump */
	NESTOR_CAP_CMD_DEL,		/* doit */
	NESTOR_CAP_CMD_PACKETS,		/* multicast on "packets" only */

	__NESTOR_CAP_CMD_MAX,
};

#define NESTOR_CAP_CMD_MAX (__NESTOR_CAP_CMD_MAX - 1)

enum nestor_cap_attr {
	NESTOR_CAP_A_UNSPEC,
	NESTOR_CAP_A_PAD,
	NESTOR_CAP_A_SESSION_ID,	/* u32 */
	NESTOR_CAP_A_FLAGS,		/* u32, must be 0 (none defined) */
	NESTOR_CAP_A_POINTS,		/* u32, 1 << enum nestor_cap_point */
	NESTOR_CAP_A_SNAPLEN,		/* u32, 1..NESTOR_CAP_SNAPLEN_MAX */
	NESTOR_CAP_A_FILTER,		/* binary, struct sock_filter[] */
	NESTOR_CAP_A_BATCH,		/* u32, packets that flush a message */
	NESTOR_CAP_A_FLUSH_MS,		/* u32, oldest packet's max wait */
	NESTOR_CAP_A_BUFSIZE,		/* u32, bytes of one message */
	NESTOR_CAP_A_IFINDEX,		/* u32, an L1 interface on L0 */
	NESTOR_CAP_A_PID,		/* u32, the VMM's (or netns holder's) pid */
	NESTOR_CAP_A_VM_ID,		/* u32, nestor's VM id */
	NESTOR_CAP_A_UPLINK,		/* u32, ifindex of an L0 uplink */
	NESTOR_CAP_A_L2_ID,		/* u32, L2 identity, not 0 */
	NESTOR_CAP_A_L2_MAC,		/* binary, 6 bytes */
	NESTOR_CAP_A_L2_IP,		/* binary, 4 (IPv4) or 16 (IPv6) bytes */
	NESTOR_CAP_A_MSG_SEQ,		/* u64, per session, from 0 */
	NESTOR_CAP_A_PACKET,		/* nest, multi: enum nestor_cap_pkt_attr */
	NESTOR_CAP_A_OWNER_PORTID,	/* u32, the owning socket */
	NESTOR_CAP_A_CAPTURED,		/* u64, passed the filter (seq taken) */
	NESTOR_CAP_A_FILTERED,		/* u64, rejected by the filter */
	NESTOR_CAP_A_DROPPED,		/* u64, captured but never delivered */
	NESTOR_CAP_A_ALLOC_FAIL,	/* u64, messages not allocated */
	NESTOR_CAP_A_OVERFLOW,		/* u64, messages a listener missed */
	NESTOR_CAP_A_MESSAGES,		/* u64, messages sent */
	NESTOR_CAP_A_IFSTATS,		/* nest, multi: enum nestor_cap_if_attr */

	__NESTOR_CAP_A_MAX,
};

#define NESTOR_CAP_A_MAX (__NESTOR_CAP_A_MAX - 1)

/* One packet in a NESTOR_CAP_CMD_PACKETS message. */
enum nestor_cap_pkt_attr {
	NESTOR_CAP_PKT_UNSPEC,
	NESTOR_CAP_PKT_PAD,
	NESTOR_CAP_PKT_SEQ,		/* u64, per session, from 0, no gaps */
	NESTOR_CAP_PKT_POINT,		/* u32, enum nestor_cap_point */
	NESTOR_CAP_PKT_DIR,		/* u32, enum nestor_cap_dir */
	NESTOR_CAP_PKT_IFINDEX,		/* u32 */
	NESTOR_CAP_PKT_TSTAMP_NS,	/* u64, CLOCK_REALTIME */
	NESTOR_CAP_PKT_ORIG_LEN,	/* u32, frame length on the wire */
	NESTOR_CAP_PKT_VM_ID,		/* u32, 0 when not known yet */
	NESTOR_CAP_PKT_L2_ID,		/* u32, only when a mapping matched */
	NESTOR_CAP_PKT_DATA,		/* binary, the first snaplen bytes */
	NESTOR_CAP_PKT_BINDING,		/* u32, the interface's binding id */

	__NESTOR_CAP_PKT_MAX,
};

#define NESTOR_CAP_PKT_MAX (__NESTOR_CAP_PKT_MAX - 1)

/* Per (interface, point) counters in a NESTOR_CAP_CMD_GET reply. */
enum nestor_cap_if_attr {
	NESTOR_CAP_IF_UNSPEC,
	NESTOR_CAP_IF_PAD,
	NESTOR_CAP_IF_IFINDEX,		/* u32 */
	NESTOR_CAP_IF_NAME,		/* string */
	NESTOR_CAP_IF_POINT,		/* u32, enum nestor_cap_point */
	NESTOR_CAP_IF_VM_ID,		/* u32 */
	NESTOR_CAP_IF_PID,		/* u32 */
	NESTOR_CAP_IF_GONE,		/* flag: the interface went away */
	NESTOR_CAP_IF_CAPTURED,		/* u64 */
	NESTOR_CAP_IF_FILTERED,		/* u64 */
	NESTOR_CAP_IF_DROPPED,		/* u64 */
	/*
	 * u32, from 1 in a session: ifindexes are per netns, so two bound
	 * interfaces may share one; packets name their binding too.
	 */
	NESTOR_CAP_IF_BINDING,

	__NESTOR_CAP_IF_MAX,
};

#define NESTOR_CAP_IF_MAX (__NESTOR_CAP_IF_MAX - 1)

/* end of packet capture */

#endif /* _UAPI_LINUX_NESTOR_H */
