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

#define NESTOR_FEAT_IDENTITY	_BITULL(3)	/* identity hypercalls answered */

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

#endif /* _UAPI_LINUX_NESTOR_H */
