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
#define NESTOR_FEAT_CONSOLE_ARM	_BITULL(9)	/* NESTOR_CONSOLE_BY_PID */
#define NESTOR_FEAT_CONSOLE_SIGNED _BITULL(10)	/* CONSOLE_SREAD, _SWRITE */

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

/*
 * ---- console (issue 4): ioctls 0x20-0x2f; Documentation/console.rst ----
 * 0x20-0x23 on /dev/nestor; 0x24, 0x25 on a console file.
 */

/* NESTOR_IOC_CONSOLE_ENABLE flags */
#define NESTOR_CONSOLE_F_DROP_OLDEST	_BITUL(0)	/* full ring: drop, never wait */
#define NESTOR_CONSOLE_F_ALL		NESTOR_CONSOLE_F_DROP_OLDEST

/*
 * In the flags of every console ioctl: the first field names the process
 * on L0 that runs an L1 VM (its VMM, e.g. QEMU), not an L2 context.
 * ENABLE arms a console on that VM before its L2 exists: it binds to the
 * first L2 context that L1 creates afterwards, at that L2's first access
 * to the UART's ports.  DISABLE, ATTACH and STATUS then name the console
 * last armed on that process, bound or not (Documentation/console.rst).
 */
#define NESTOR_CONSOLE_BY_PID		_BITUL(16)

#define NESTOR_CONSOLE_DEFAULT_PORT	0x3f8
#define NESTOR_CONSOLE_DEFAULT_RING	(64U << 10)
#define NESTOR_CONSOLE_MIN_RING		(4U << 10)
#define NESTOR_CONSOLE_MAX_RING		(16U << 20)

/**
 * struct nestor_console_enable - NESTOR_IOC_CONSOLE_ENABLE
 * @l2_id: in, the L2 context (NESTOR_A_L2_ID); ENOENT if unknown.
 * @l1_pid: in, with NESTOR_CONSOLE_BY_PID: the L1 VM's process (a
 *	thread-group id in the caller's pid namespace); ESRCH if none,
 *	EEXIST if a console armed on it still waits for its L2.
 * @flags: in, NESTOR_CONSOLE_F_*, NESTOR_CONSOLE_BY_PID.
 * @port: in, base port of the 8 UART registers, a multiple of 8; 0 means
 *	NESTOR_CONSOLE_DEFAULT_PORT.
 * @pad: must be 0.
 * @ring_size: in, output ring in bytes, a power of two between
 *	NESTOR_CONSOLE_MIN_RING and _MAX_RING; 0 means the default.
 * @pad2: must be 0.
 */
struct nestor_console_enable {
	union {
		__u32 l2_id;
		__u32 l1_pid;
	};
	__u32 flags;
	__u16 port;
	__u16 pad;
	__u32 ring_size;
	__u64 pad2;
};

/**
 * struct nestor_console_id - NESTOR_IOC_CONSOLE_DISABLE
 * @l2_id: in.
 * @l1_pid: in, with NESTOR_CONSOLE_BY_PID.
 * @flags: in, 0 or NESTOR_CONSOLE_BY_PID.
 */
struct nestor_console_id {
	union {
		__u32 l2_id;
		__u32 l1_pid;
	};
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
 * @l1_pid: in, with NESTOR_CONSOLE_BY_PID: a console armed on that process
 *	may be attached before its L2 exists.
 * @flags: in, NESTOR_CONSOLE_ATTACH_*, NESTOR_CONSOLE_BY_PID;
 *	O_NONBLOCK/O_CLOEXEC are set on the new file with fcntl().
 * @fd: out, the console file: read() the output, write() the input,
 *	poll().  EOF/EPIPE once the console is disabled.
 * @pad: must be 0.
 */
struct nestor_console_attach {
	union {
		__u32 l2_id;
		__u32 l1_pid;
	};
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
 * @l1_pid: in, with NESTOR_CONSOLE_BY_PID.
 * @flags: in, 0 or NESTOR_CONSOLE_BY_PID.
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
 * @serving_l2_id: out, the L2 context the console was enabled on or,
 *	for one armed by pid, the context it bound to (0: it still waits).
 * @tx_bytes: out, bytes L2 sent (into the ring).
 * @rx_bytes: out, bytes L2 received (from the writer).
 * @buffered: out, bytes in the ring not yet read by every reader.
 * @dropped: out, ring bytes dropped (drop-oldest only).
 * @port_exits: out, L2 port accesses completed in L0.
 * @string_exits: out, string I/O on the ports, passed to L1.
 * @irq_raised: out, times the guest's interrupt line rose (not
 *	deliverable in polling mode: a guest waiting for it must poll).
 * @divisor: out, baud divisor (115200 / divisor baud).
 * @armed_pid: out, the process it was armed on (in the caller's pid
 *	namespace; 0 if enabled on an L2 context, or not visible there).
 */
struct nestor_console_status {
	union {
		__u32 l2_id;
		__u32 l1_pid;
	};
	__u32 flags;
	__u32 console_flags;
	__u32 ring_size;
	__u16 port;
	__u8 ier, iir, lcr, mcr, lsr, msr;
	__u32 irq_mode;
	__u32 readers;
	__u32 writer;
	__u32 serving_l2_id;
	__u64 tx_bytes;
	__u64 rx_bytes;
	__u64 buffered;
	__u64 dropped;
	__u64 port_exits;
	__u64 string_exits;
	__u64 irq_raised;
	__u32 divisor;
	__u32 armed_pid;
};

#define NESTOR_IOC_CONSOLE_ENABLE	_IOW(NESTOR_IOC_MAGIC, 0x20, struct nestor_console_enable)
#define NESTOR_IOC_CONSOLE_DISABLE	_IOW(NESTOR_IOC_MAGIC, 0x21, struct nestor_console_id)
#define NESTOR_IOC_CONSOLE_ATTACH	_IOWR(NESTOR_IOC_MAGIC, 0x22, struct nestor_console_attach)
#define NESTOR_IOC_CONSOLE_STATUS	_IOWR(NESTOR_IOC_MAGIC, 0x23, struct nestor_console_status)

/*
 * Signed console I/O for a remote client (nestor-monitord,
 * Documentation/console.rst "Remote access"): ioctls on the console file
 * that NESTOR_IOC_CONSOLE_ATTACH returned, not on /dev/nestor (ENOTTY
 * there).  Output leaves the kernel with an HMAC-SHA256 by a monitor key
 * (NESTOR_KEY_MONITOR) over the client's nonce, the console's L2, the
 * file's session value and the stream position, so a relay can neither
 * alter, replay nor silently drop it; input is accepted only with a MAC by
 * that key over the session and a sequence number, so a relay can neither
 * forge nor replay it.  The MACed encodings are in
 * Documentation/uapi.rst; integers little-endian, fixed width.
 */
#define NESTOR_CONSOLE_NONCE_LEN	16
#define NESTOR_CONSOLE_SESSION_LEN	16
#define NESTOR_CONSOLE_MAC_LEN		32
#define NESTOR_CONSOLE_SREAD_MAX	(64U << 10)
#define NESTOR_CONSOLE_SWRITE_MAX	4096U
/* NESTOR_CONSOLE_SREAD_EOF in nestor_console_sread.eof */
#define NESTOR_CONSOLE_SREAD_EOF	1

/**
 * struct nestor_console_sread - NESTOR_IOC_CONSOLE_SREAD
 *
 * Like a non-blocking read() on the console file (it needs
 * NESTOR_CONSOLE_ATTACH_READ, else EBADF), and it never blocks: 0 bytes
 * when nothing is there (poll() first).  It advances the file's position.
 *
 * @key_id: in, a monitor key with a secret (ENOKEY if none); not 0.
 * @flags: in, must be 0.
 * @nonce: in, the client's, not all zero.
 * @buf: in, user address of @len bytes.
 * @len: in, 1..NESTOR_CONSOLE_SREAD_MAX.
 * @done: out, bytes stored at @buf.  Must be 0 on input, like every
 *	out-field.
 * @l2_id: out, the console's L2 context (0: armed, not bound yet).
 * @eof: out, NESTOR_CONSOLE_SREAD_EOF: the console was disabled and the
 *	file has nothing left to read.
 * @pos: out, stream offset of the first byte returned (the count of bytes
 *	the L2 sent before it since the console was enabled).
 * @dropped: out, the console's count of bytes dropped (drop-oldest): a
 *	jump of @pos between two answers is covered by its increase.
 * @session: out, random per console file, fixed at attach.
 * @mac: out, HMAC-SHA256 with @key_id over "nestor-console-out-v1",
 *	@nonce, @l2_id, @session, @pos, @done, @dropped, @eof and the data.
 */
struct nestor_console_sread {
	__u32 key_id;
	__u32 flags;
	__u8 nonce[NESTOR_CONSOLE_NONCE_LEN];
	__u64 buf;
	__u32 len;
	__u32 done;
	__u32 l2_id;
	__u32 eof;
	__u64 pos;
	__u64 dropped;
	__u8 session[NESTOR_CONSOLE_SESSION_LEN];
	__u8 mac[NESTOR_CONSOLE_MAC_LEN];
};

/**
 * struct nestor_console_swrite - NESTOR_IOC_CONSOLE_SWRITE
 *
 * Input from a remote client, all or nothing: like a non-blocking write()
 * of @len bytes (it needs NESTOR_CONSOLE_ATTACH_WRITE, else EBADF), except
 * that it takes every byte or none (EAGAIN when the input buffer has not
 * room for all of them; poll() for POLLOUT and retry).  EBADMSG when the
 * MAC does not verify, ESTALE when it does but @seq is not the file's
 * next (a replay or a gap); nothing is written then.  EPIPE once the
 * console is disabled.
 *
 * @key_id: in, a monitor key with a secret (ENOKEY if none); not 0.
 * @flags: in, must be 0.
 * @seq: in, 0 for the file's first accepted message, then one more each.
 * @buf: in, user address of the @len input bytes.
 * @len: in, 1..NESTOR_CONSOLE_SWRITE_MAX.
 * @pad: must be 0.
 * @mac: in, HMAC-SHA256 with @key_id over "nestor-console-in-v1", the
 *	console's L2 context, the file's session value (from a signed
 *	SREAD), @seq, @len and the data.
 */
struct nestor_console_swrite {
	__u32 key_id;
	__u32 flags;
	__u64 seq;
	__u64 buf;
	__u32 len;
	__u32 pad;
	__u8 mac[NESTOR_CONSOLE_MAC_LEN];
};

#define NESTOR_IOC_CONSOLE_SREAD	_IOWR(NESTOR_IOC_MAGIC, 0x24, struct nestor_console_sread)
#define NESTOR_IOC_CONSOLE_SWRITE	_IOW(NESTOR_IOC_MAGIC, 0x25, struct nestor_console_swrite)

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
	/*
	 * introspection (issue 3): L0 saw L1 write a page it shadows as
	 * nested page tables; NESTOR_A_VM_ID, NESTOR_A_TABLES_GEN (the new
	 * root generation of the VM's L2s), NESTOR_A_TABLES_GPA.
	 */
	NESTOR_CMD_TABLES_CHANGED,

	/* L2 identity (Documentation/identity.rst) */
	NESTOR_CMD_GET_IDENT,		/* dump: every identity, present or absent */
	NESTOR_CMD_IDENT_BOUND,		/* event: a name (re)bound to an L2 context */
	NESTOR_CMD_IDENT_ABSENT,	/* event: its context vanished or was replaced */
	NESTOR_CMD_IDENT_CONFLICT,	/* event: an L2 claimed a name bound elsewhere */
	NESTOR_CMD_IDENT_GONE,		/* event: unregistered, or deleted by the admin */

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
	/* introspection (issue 3), in NESTOR_CMD_TABLES_CHANGED */
	NESTOR_A_TABLES_GEN,		/* u64 */
	NESTOR_A_TABLES_GPA,		/* u64, L1 address written */

	/*
	 * L2 identity (Documentation/identity.rst): in GET_L2 replies and
	 * dumps of a context that holds an identity, in GET_IDENT dumps and
	 * in the IDENT_* events.  Reply-only: refused in requests.
	 */
	NESTOR_A_IDENT_NAME,		/* string, the identifier (a UUID as text) */
	NESTOR_A_IDENT_KEY_ID,		/* u32, owner key of the registration */
	NESTOR_A_IDENT_FLAGS,		/* u32, NESTOR_IDENT_F_* */
	NESTOR_A_IDENT_BOUND_NS,	/* u64, CLOCK_BOOTTIME of the last binding */
	NESTOR_A_IDENT_REGISTRATIONS,	/* u64, accepted registrations of the name */
	NESTOR_A_IDENT_HOLDER_L2_ID,	/* u32, IDENT_CONFLICT: context holding it */
	NESTOR_A_VM_L1_HYPERCALLS,	/* u64, nestor hypercalls L1 made itself */

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
/* introspection: translate, vectored read, list walk (issue 3)         */
/* ioctl numbers 0x10-0x1f; Documentation/introspection.rst              */
/* ------------------------------------------------------------------ */

#define NESTOR_FEAT_MEM		_BITULL(3)	/* translate, read, walk */

/* Address spaces of a request. */
enum nestor_space {
	NESTOR_SPACE_NONE = 0,
	NESTOR_SPACE_L2_VIRT = 1,	/* through L2's page tables */
	NESTOR_SPACE_L2_PHYS = 2,	/* through L1's EPT/NPT for the L2 */
	NESTOR_SPACE_L1_PHYS = 3,	/* L1 memory as KVM maps it */
};

/* Request flags common to the three ioctls. */
#define NESTOR_MEM_F_CR3	_BITULL(0)	/* L2_VIRT: use target.cr3 */
/*
 * READ and LIST_WALK: sign the result with HMAC-SHA256 under the monitor
 * key sig.key_id, over the request, sig.nonce, the L2's identity, the
 * generations and the data (Documentation/introspection.rst has the
 * exact encoding).  TRANSLATE refuses it with EOPNOTSUPP.  Without the
 * flag, every field of struct nestor_mem_sig must be zero.
 */
#define NESTOR_MEM_F_SIGN	_BITULL(1)
/*
 * READ and LIST_WALK: neither use nor fill the L2's translation cache;
 * every L2-physical page is found by walking L1's nested tables
 * (Documentation/introspection.rst, "Translation cache").  TRANSLATE
 * always walks, and refuses the flag with EINVAL.
 */
#define NESTOR_MEM_F_NOCACHE	_BITULL(2)

/*
 * struct nestor_mem_target - which L2, and which L2 page tables.
 * @l2_id: L2 context id (NESTOR_A_L2_ID).
 * @vcpu_id: the L1 vCPU whose view of L2 is used: its current L2 CR3
 *	(without NESTOR_MEM_F_CR3) and always its L2 paging mode
 *	(CR0.PG, CR4.LA57, EFER.LMA as L0 last saw them at an L2 exit).
 * @cr3: with NESTOR_MEM_F_CR3, the L2 CR3 to walk from.
 */
struct nestor_mem_target {
	__u32 l2_id;
	__u32 vcpu_id;
	__u64 cr3;
};

/* Bits of nestor_mem_gen.changed. */
#define NESTOR_GEN_ROOT_CHANGED	_BITULL(0)	/* nested tables written */
#define NESTOR_GEN_CR3_CHANGED	_BITULL(1)	/* the vCPU's L2 CR3 moved */
#define NESTOR_GEN_ROOT_STALE	_BITULL(2)	/* context retired */
/* a nested-table page could not be write-tracked: changes may go unseen */
#define NESTOR_GEN_UNTRACKED	_BITULL(3)

/*
 * struct nestor_mem_gen - what a result depended on (all out).
 * @root: L1's EPTP/nCR3 for the L2 (0 without TDP).
 * @root_gen: writes L0 saw to the VM's nested-table pages (every page
 *	nestor walked is write-tracked), at the start of the call.
 * @cr3: the L2 CR3 walked (0 when no L2_VIRT address was used).
 * @cr3_gen: how often the vCPU's L2 CR3 changed, at the start of the
 *	call (0 with NESTOR_MEM_F_CR3).
 * @changed: NESTOR_GEN_* seen between the start and the end of the call.
 * @pad: 0.
 */
struct nestor_mem_gen {
	__u64 root;
	__u64 root_gen;
	__u64 cr3;
	__u64 cr3_gen;
	__u32 changed;
	__u32 pad;
};

#define NESTOR_MEM_NONCE_LEN	16
#define NESTOR_MEM_MAC_LEN	32
#define NESTOR_MEM_IDENT_LEN	64	/* = NESTOR_IDENT_NAME_MAX */

/*
 * struct nestor_mem_sig - a signed result (NESTOR_MEM_F_SIGN).
 * In: @key_id (a NESTOR_KEY_MONITOR key; ENOKEY when there is none),
 * @nonce (the client's, not all zero).  @pad and every out-field must be
 * zero in the request (EINVAL).
 * Out: @mac, HMAC-SHA256 of the result; the L2 identity it covers: @vm_id
 * (nestor's VM id of the L1), @ident_len bytes of @ident (the name the L2
 * registered, Documentation/identity.rst; 0 when none), @ident_flags
 * (NESTOR_IDENT_F_*) and @ident_key_id (its owner key).
 */
struct nestor_mem_sig {
	__u32 key_id;
	__u32 pad;
	__u8 nonce[NESTOR_MEM_NONCE_LEN];
	__u8 mac[NESTOR_MEM_MAC_LEN];
	__u32 vm_id;
	__u32 ident_flags;
	__u32 ident_key_id;
	__u32 ident_len;
	__u8 ident[NESTOR_MEM_IDENT_LEN];
};

/* Status of a translation, a segment or a walked node. */
enum nestor_mem_status {
	NESTOR_MEM_OK = 0,
	NESTOR_MEM_L2_FAULT = 1,	/* L2 page tables: not present */
	NESTOR_MEM_NESTED_FAULT = 2,	/* L1's EPT/NPT: not mapped */
	NESTOR_MEM_L1_UNBACKED = 3,	/* L1 address has no memory */
	NESTOR_MEM_NONCANONICAL = 4,	/* L2 virtual address */
	NESTOR_MEM_UNSUPPORTED = 5,	/* L2 paging mode (32-bit, PAE) */
	NESTOR_MEM_BAD_BUFFER = 6,	/* user buffer not writable */
	NESTOR_MEM_RANGE = 7,		/* address + length wraps */
};

/* Permission bits (effective: combined over every level above). */
#define NESTOR_PERM_R		_BITULL(0)
#define NESTOR_PERM_W		_BITULL(1)
#define NESTOR_PERM_X		_BITULL(2)
#define NESTOR_PERM_U		_BITULL(3)	/* L2 paging: user */

#define NESTOR_XLATE_LEVELS	5

/*
 * struct nestor_xlate_step - one paging-structure entry (out).
 * @table: address of the table (L2-physical for L2 paging, L1-physical
 *	for the nested tables); @entry: the entry read; @perm: this entry's
 *	own NESTOR_PERM_* bits; @level: 5..1, 0 for an unused step;
 * @leaf: 1 when the entry maps a page.
 */
struct nestor_xlate_step {
	__u64 table;
	__u64 entry;
	__u32 perm;
	__u8 level;
	__u8 leaf;
	__u16 pad;
};

/*
 * struct nestor_translate - NESTOR_IOC_TRANSLATE.
 * In: @flags (NESTOR_MEM_F_*), @space, @target, @addr; the rest 0.
 * Out: @status (enum nestor_mem_status), @l2_levels/@nested_levels the
 * steps filled in @l2[]/@nested[] (the nested walk is that of the final
 * L2-physical address), @l2_phys, @l1_phys, the page sizes and effective
 * permissions of both stages, and @gen.
 */
struct nestor_translate {
	__u32 flags;
	__u32 space;
	struct nestor_mem_target target;
	__u64 addr;
	__u32 status;
	__u8 l2_levels;
	__u8 nested_levels;
	__u16 pad;
	__u64 l2_phys;
	__u64 l1_phys;
	__u64 l2_page_size;
	__u64 nested_page_size;
	__u32 l2_perm;
	__u32 nested_perm;
	struct nestor_xlate_step l2[NESTOR_XLATE_LEVELS];
	struct nestor_xlate_step nested[NESTOR_XLATE_LEVELS];
	struct nestor_mem_gen gen;
	struct nestor_mem_sig sig;
};

#define NESTOR_MEM_MAX_SEGS	4096
#define NESTOR_MEM_MAX_BYTES	(64ULL << 20)	/* total of one call */

/*
 * struct nestor_mem_seg - one segment of NESTOR_IOC_READ.
 * In: @space, @flags (0), @addr, @len, @buf (user address).
 * Out: @status, @done bytes copied to @buf, @fail_addr the first address
 * not read (addr + len when complete).
 */
struct nestor_mem_seg {
	__u32 space;
	__u32 flags;
	__u64 addr;
	__u64 len;
	__u64 buf;
	__u64 done;
	__u64 fail_addr;
	__u32 status;
	__u32 pad;
};

/*
 * struct nestor_mem_read - NESTOR_IOC_READ.
 * @segs points to @nr_segs struct nestor_mem_seg of @seg_size bytes each
 * (sizeof(struct nestor_mem_seg) today).  1 <= nr_segs <=
 * NESTOR_MEM_MAX_SEGS and the lengths add up to at most
 * NESTOR_MEM_MAX_BYTES, or the call fails with E2BIG.  A failing segment
 * does not fail the call.  Out: @nr_ok segments complete, @bytes copied;
 * @nested_walks: walks of L1's nested tables the call made, @cache_hits:
 * L2-physical pages it found in the translation cache instead (both
 * diagnostics: the MAC does not cover them).
 */
struct nestor_mem_read {
	__u32 flags;
	__u32 nr_segs;
	struct nestor_mem_target target;
	__u64 segs;
	__u32 seg_size;
	__u32 nr_ok;
	__u64 bytes;
	struct nestor_mem_gen gen;
	struct nestor_mem_sig sig;
	/* out (0 in the request), not signed; absent from _SIZE_VER0 */
	__u32 nested_walks;
	__u32 cache_hits;
};

/* The first size of struct nestor_mem_read; still accepted. */
#define NESTOR_MEM_READ_SIZE_VER0	224

#define NESTOR_WALK_MAX_NODES	65536
#define NESTOR_WALK_MAX_FIELDS	32
#define NESTOR_WALK_MAX_FIELD	256	/* bytes */

#define NESTOR_FIELD_F_DEREF	_BITULL(0)	/* *(node + offset) + deref_offset */

/*
 * struct nestor_walk_field - a field gathered from every node.
 * @offset: from the node's start (the link address minus link_offset);
 * @size: 1..NESTOR_WALK_MAX_FIELD bytes; @flags: NESTOR_FIELD_F_*;
 * @deref_offset: with NESTOR_FIELD_F_DEREF, the field is read at the
 * pointer found at @offset plus @deref_offset (cred->uid, parent->tgid).
 */
struct nestor_walk_field {
	__s32 offset;
	__u16 size;
	__u16 flags;
	__s32 deref_offset;
	__u32 pad;
};

/* Why a walk stopped (nestor_list_walk.end). */
enum nestor_walk_end {
	NESTOR_WALK_END_HEAD = 1,	/* came back to the head */
	NESTOR_WALK_END_NULL = 2,	/* a NULL next pointer */
	NESTOR_WALK_END_LIMIT = 3,	/* max_nodes reached */
	NESTOR_WALK_END_CYCLE = 4,	/* a node seen twice (not the head) */
	NESTOR_WALK_END_UNREADABLE = 5,	/* a next pointer could not be read */
	NESTOR_WALK_END_FULL = 6,	/* the records buffer is full */
};

/*
 * One record per node in @records: struct nestor_walk_record, then each
 * field's bytes, each field padded to a multiple of 8 bytes.
 * @status: enum nestor_mem_status of the first field that failed;
 * @bad_fields: bit i set when field i could not be read (zeroed).
 */
struct nestor_walk_record {
	__u64 node;
	__u32 status;
	__u32 bad_fields;
};

/*
 * struct nestor_list_walk - NESTOR_IOC_LIST_WALK.
 * The walk reads the pointer at @head, then for every link L it reaches:
 * node = L - @link_offset, fields from node, next link at L + @next_offset.
 * It stops at @head, at NULL, after @max_nodes (1..NESTOR_WALK_MAX_NODES)
 * nodes, at a cycle, or at an unreadable link; @end says which.
 * Out: @record_size, @nr_nodes records in @records, @nr_bad of them with
 * an unreadable field, @end, @gen, and @nested_walks and @cache_hits as
 * in struct nestor_mem_read.
 */
struct nestor_list_walk {
	__u32 flags;
	__u32 space;
	struct nestor_mem_target target;
	__u64 head;
	__u32 link_offset;
	__u32 next_offset;
	__u32 nr_fields;
	__u32 max_nodes;
	__u64 fields;
	__u64 records;
	__u64 records_len;
	__u32 record_size;
	__u32 nr_nodes;
	__u32 nr_bad;
	__u32 end;
	struct nestor_mem_gen gen;
	struct nestor_mem_sig sig;
	/* out (0 in the request), not signed; absent from _SIZE_VER0 */
	__u32 nested_walks;
	__u32 cache_hits;
};

/* The first size of struct nestor_list_walk; still accepted. */
#define NESTOR_LIST_WALK_SIZE_VER0	264

#define NESTOR_IOC_TRANSLATE	_IOWR(NESTOR_IOC_MAGIC, 0x10, struct nestor_translate)
#define NESTOR_IOC_READ		_IOWR(NESTOR_IOC_MAGIC, 0x11, struct nestor_mem_read)
#define NESTOR_IOC_LIST_WALK	_IOWR(NESTOR_IOC_MAGIC, 0x12, struct nestor_list_walk)

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
	/* L2 identity (Documentation/identity.rst); CPL 0 in L2 only */
	NESTOR_HC_FN_CHALLENGE = 2,	/* RCX = GVA of NESTOR_HC_NONCE_LEN bytes */
	NESTOR_HC_FN_REGISTER = 3,	/* RCX = GVA of struct nestor_hc_register, RDX = size */
	NESTOR_HC_FN_QUERY = 4,		/* RCX = GVA, RDX = size -> name, RBX = flags, RCX = key */
	NESTOR_HC_FN_UNREGISTER = 5,	/* the context's identity is released */
};

enum nestor_hc_status {
	NESTOR_HC_OK = 0,
	NESTOR_HC_ENOSYS = 1,	/* unknown function */
	NESTOR_HC_EINVAL = 2,	/* bad argument */
	/* L2 identity (Documentation/identity.rst) */
	NESTOR_HC_EFAULT = 3,	/* an L2 buffer is not mapped (or not writable) */
	NESTOR_HC_ENOTL2 = 4,	/* called by L1 itself, not by an L2: recorded */
	NESTOR_HC_EPERM = 5,	/* not called from CPL 0 in L2 */
	NESTOR_HC_ENONCE = 6,	/* no challenge, already used, expired or not ours */
	NESTOR_HC_ENOKEY = 7,	/* unknown owner key id, or a key without secret */
	NESTOR_HC_EBADMAC = 8,	/* wrong HMAC */
	NESTOR_HC_EUNAUTH = 9,	/* unauthenticated registration not allowed by the key */
	NESTOR_HC_EBOUND = 10,	/* name bound to another L2 (event published) */
	NESTOR_HC_EBUSY = 11,	/* this L2 context already holds another identity */
	NESTOR_HC_ENOENT = 12,	/* this L2 context holds no identity */
	NESTOR_HC_ENOSPC = 13,	/* L0 holds no more identities (ident_max) */
};

/* ------------------------------------------------------------------ */
/* L2 identity (Documentation/identity.rst)                             */
/* ------------------------------------------------------------------ */

#define NESTOR_FEAT_IDENTITY	_BITULL(4)	/* identity hypercalls answered */

#define NESTOR_HC_NONCE_LEN	32
#define NESTOR_HC_MAC_LEN	32	/* HMAC-SHA256 */
#define NESTOR_IDENT_NAME_MAX	64	/* bytes of an identifier */
#define NESTOR_IDENT_UUID_LEN	16

/* struct nestor_hc_register.flags */
#define NESTOR_HC_REG_UNAUTH	_BITUL(0)	/* no proof: mac must be zero */
#define NESTOR_HC_REG_UUID	_BITUL(1)	/* name is a 16-byte binary UUID */

/**
 * struct nestor_hc_register - NESTOR_HC_FN_REGISTER, in L2 memory
 * @flags: NESTOR_HC_REG_*.
 * @key_id: the owner's key id, provisioned in L0 by the admin.
 * @name_len: bytes used in @name: 1..64 printable ASCII (0x21..0x7e), or
 *	16 with NESTOR_HC_REG_UUID.
 * @pad: must be 0.
 * @nonce: the nonce of the last NESTOR_HC_FN_CHALLENGE of this L2.
 * @mac: HMAC-SHA256(owner key, nonce || name[0..name_len)).
 * @name: the identifier; bytes after @name_len must be 0.
 *
 * RDX gives the size: at least sizeof(struct nestor_hc_register), at most
 * 4096, bytes beyond the known structure must be 0.
 */
struct nestor_hc_register {
	__u32 flags;
	__u32 key_id;
	__u32 name_len;
	__u32 pad;
	__u8 nonce[NESTOR_HC_NONCE_LEN];
	__u8 mac[NESTOR_HC_MAC_LEN];
	__u8 name[NESTOR_IDENT_NAME_MAX];
};

/* NESTOR_A_IDENT_FLAGS, and RBX of NESTOR_HC_FN_QUERY */
#define NESTOR_IDENT_F_PRESENT	_BITUL(0)	/* its context is alive */
#define NESTOR_IDENT_F_UUID	_BITUL(1)	/* registered as a UUID */
#define NESTOR_IDENT_F_UNAUTH	_BITUL(2)	/* registered without proof */

/* Keys held by L0, never readable back: owner keys prove identities. */
enum nestor_key_kind {
	NESTOR_KEY_OWNER = 1,
	NESTOR_KEY_MONITOR = 2,		/* signs results for a remote monitor */
};

#define NESTOR_KEY_F_ALLOW_UNAUTH	_BITUL(0)	/* owner keys only */
#define NESTOR_KEY_MIN_LEN	16
#define NESTOR_KEY_MAX_LEN	64

/**
 * struct nestor_key_add - NESTOR_IOC_KEY_ADD
 * @flags: NESTOR_KEY_F_*.
 * @kind: enum nestor_key_kind.
 * @key_id: nonzero; (kind, key_id) must not exist yet (EEXIST).
 * @key_len: NESTOR_KEY_MIN_LEN..NESTOR_KEY_MAX_LEN, or 0 for an owner key
 *	that only allows unauthenticated registration.
 * @key: the secret; bytes after @key_len must be 0.
 */
struct nestor_key_add {
	__u32 flags;
	__u32 kind;
	__u32 key_id;
	__u32 key_len;
	__u8 key[NESTOR_KEY_MAX_LEN];
};

/**
 * struct nestor_key_del - NESTOR_IOC_KEY_DEL (ENOENT when absent)
 * @flags: must be 0.
 * @kind: enum nestor_key_kind.
 * @key_id: the key.
 * @pad: must be 0.
 */
struct nestor_key_del {
	__u32 flags;
	__u32 kind;
	__u32 key_id;
	__u32 pad;
};

/**
 * struct nestor_ident_del - NESTOR_IOC_IDENT_DEL: the admin frees a name,
 * present or absent (ENOENT when unknown).
 * @flags: must be 0.
 * @pad: must be 0.
 * @name: NUL-terminated identifier as listed (a UUID as text); bytes after
 *	the NUL must be 0.
 */
struct nestor_ident_del {
	__u32 flags;
	__u32 pad;
	char name[NESTOR_IDENT_NAME_MAX + 8];
};

#define NESTOR_IOC_KEY_ADD	_IOW(NESTOR_IOC_MAGIC, 0x30, struct nestor_key_add)
#define NESTOR_IOC_KEY_DEL	_IOW(NESTOR_IOC_MAGIC, 0x31, struct nestor_key_del)
#define NESTOR_IOC_IDENT_DEL	_IOW(NESTOR_IOC_MAGIC, 0x32, struct nestor_ident_del)
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
