/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * libnestor: a thin wrapper over /dev/nestor and the "nestor" generic
 * netlink family.  Every call returns 0 or a negative errno; the caller
 * turns it into a message with nestor_strerror(), and may add the detail
 * of nestor_last_error() (the kernel's extack message, or what was wrong
 * with a reply).
 *
 * Errors with a fixed meaning in this library:
 *   -ENODEV   the nestor module is not loaded (no /dev/nestor, or no
 *             "nestor" generic netlink family)
 *   -EPERM, -EACCES  no permission: /dev/nestor needs CAP_SYS_ADMIN, the
 *             netlink operations and the events group need CAP_NET_ADMIN
 *   -ENOENT   no such L2 context
 *   -EINVAL   a malformed argument (e.g. an L2 name)
 *   -EPROTO   a reply from the module that this library cannot use
 *   -ENOTCONN the handle was opened without the channel the call needs
 *   -ETIMEDOUT, -ENOBUFS  nestor_event_next(): no event in time, events lost
 *
 * Not thread-safe: use one handle per thread.
 */
#ifndef LIBNESTOR_H
#define LIBNESTOR_H

#include <stddef.h>
#include <stdint.h>
#include <linux/nestor.h>

struct nestor;

/* A vCPU's view of one L2 context. */
struct nestor_l2_vcpu {
	uint32_t vcpu_id;
	uint64_t cr3;
	uint64_t cr3_changes;
};

struct nestor_l2 {
	uint32_t id;		/* context id, never reused while loaded */
	uint32_t vm_id;
	uint32_t vm_pid;
	uint32_t isa;		/* enum nestor_backend */
	uint64_t vmcs12;	/* vmcs12 / vmcb12 gpa in L1 */
	uint64_t nested_root;	/* EPTP / nCR3 */
	int tdp;		/* L1 uses EPT/NPT for this L2 */
	uint64_t first_seen_ns;	/* CLOCK_BOOTTIME */
	uint64_t last_seen_ns;	/* CLOCK_BOOTTIME */
	uint64_t entries;
	size_t nr_vcpus;
	struct nestor_l2_vcpu *vcpus;
	/* identity held by this context ("" when none) */
	char ident[NESTOR_IDENT_NAME_MAX + 1];
	uint32_t ident_key_id;
	uint32_t ident_flags;		/* NESTOR_IDENT_F_* */
};

struct nestor_vm {
	uint32_t id;
	uint32_t pid;
	size_t nr_vcpus;
	uint32_t *vcpu_ids;
	uint64_t l1_hypercalls;	/* nestor hypercalls L1 itself made */
};

struct nestor_exit_count {
	uint32_t reason;
	uint64_t total;
	uint64_t reflected;
	uint64_t nestor;
};

struct nestor_stats {
	uint32_t l2_id;
	size_t nr_exits;
	struct nestor_exit_count *exits;	/* sorted by reason */
	uint32_t isa;	/* enum nestor_backend; NONE if not in the reply */
};

struct nestor_version_info {
	uint32_t uapi_version;
	uint32_t backend;
	uint64_t features;
	char module_version[32];
};

/* What nestor_open_flags() opens. */
#define NESTOR_OPEN_DEV		(1U << 0)	/* /dev/nestor: CAP_SYS_ADMIN */
#define NESTOR_OPEN_GENL	(1U << 1)	/* netlink (CAP_NET_ADMIN) */

/* Opens /dev/nestor and the netlink family.  *err gets a negative errno. */
struct nestor *nestor_open(int *err);
/*
 * Opens only the channels in @flags (NESTOR_OPEN_*), so that a caller with
 * only CAP_NET_ADMIN can still use the netlink calls.  Calls that need a
 * channel that was not opened return -ENOTCONN.
 */
struct nestor *nestor_open_flags(unsigned int flags, int *err);
void nestor_close(struct nestor *n);

/*
 * Detail of the last failed call on @n: the kernel's extack message
 * ("kernel: ...") or what the library found wrong.  Never NULL; "" when
 * there is no detail.  Valid until the next call on @n.
 */
const char *nestor_last_error(const struct nestor *n);

/* Version through the ioctl and through netlink (they must agree). */
int nestor_version_ioctl(struct nestor *n, struct nestor_version_info *out);
int nestor_version_genl(struct nestor *n, struct nestor_version_info *out);

/* Snapshot of the registry; free with nestor_free_list(). */
int nestor_list(struct nestor *n, struct nestor_vm **vms, size_t *nr_vms,
		struct nestor_l2 **l2s, size_t *nr_l2s);
void nestor_free_list(struct nestor_vm *vms, size_t nr_vms,
		      struct nestor_l2 *l2s, size_t nr_l2s);

/* One L2 context (GET_L2 doit); -ENOENT when it does not exist. */
int nestor_l2_get(struct nestor *n, uint32_t l2_id, struct nestor_l2 *out);
void nestor_free_l2(struct nestor_l2 *l2);

/* Exit counts of one L2 context; -ENOENT when it does not exist. */
int nestor_stats(struct nestor *n, uint32_t l2_id, struct nestor_stats *out);
void nestor_free_stats(struct nestor_stats *s);

/*
 * Resolves a user's name for an L2 ("7", "l2:7", "id:NAME") to a context id.
 * "id:NAME" names the context an L2 proved NAME on (Documentation/
 * identity.rst); -ENOENT when no context holds it now (also when absent).
 * -EINVAL for a malformed name, -ENOENT when no such L2 exists.
 */
int nestor_resolve_l2(struct nestor *n, const char *name, uint32_t *l2_id);
/*
 * Syntax check only, without asking the kernel: 0 and *l2_id for a name
 * that is a context id ("7", "l2:7"), -EINVAL for a malformed name, 1 for
 * a well-formed name that only the kernel can resolve ("id:NAME").  Lets a tool tell a usage error from a missing L2 before it
 * opens anything.
 */
int nestor_parse_l2_name(const char *name, uint32_t *l2_id);

/* Event subscription on the "events" group. */
struct nestor_event {
	uint8_t cmd;		/* NESTOR_CMD_L2_NEW, ... */
	uint32_t vm_id;
	uint32_t l2_id;
	uint64_t vmcs12;
	uint64_t nested_root;
	uint64_t old_root;
	/* IDENT_* events */
	char ident[NESTOR_IDENT_NAME_MAX + 1];
	uint32_t ident_flags;
	uint32_t holder_l2_id;	/* IDENT_CONFLICT: context holding the name */
};
/* -EPERM without CAP_NET_ADMIN. */
int nestor_events_subscribe(struct nestor *n);
/*
 * Waits up to timeout_ms (-1: forever); -ETIMEDOUT when none came,
 * -ENOBUFS when the socket overran and events were lost (the subscription
 * stays valid: the caller should re-read the registry with nestor_list()).
 */
int nestor_event_next(struct nestor *n, struct nestor_event *ev,
		      int timeout_ms);

/* ---- L2 identity (Documentation/identity.rst) ---- */

struct nestor_ident {
	char name[NESTOR_IDENT_NAME_MAX + 1];
	uint32_t key_id;
	uint32_t flags;		/* NESTOR_IDENT_F_*: PRESENT when bound now */
	uint64_t bound_ns;	/* CLOCK_BOOTTIME of the last binding */
	uint64_t registrations;
	/* the context it is bound to, or was last */
	uint32_t l2_id;
	uint32_t vm_id;
	uint64_t vmcs12;
	uint64_t nested_root;
};

/* Every identity, present or absent (GET_IDENT dump); free() the array. */
int nestor_idents(struct nestor *n, struct nestor_ident **out, size_t *nr);
/*
 * Admin (/dev/nestor): add a key (kind NESTOR_KEY_*, flags NESTOR_KEY_F_*,
 * @len 0 or NESTOR_KEY_MIN_LEN..NESTOR_KEY_MAX_LEN), delete a key, free
 * an identity's name.  -EEXIST, -ENOENT as the kernel says.
 */
int nestor_key_add(struct nestor *n, uint32_t kind, uint32_t key_id,
		   uint32_t flags, const void *key, size_t len);
int nestor_key_del(struct nestor *n, uint32_t kind, uint32_t key_id);
int nestor_ident_del(struct nestor *n, const char *name);
/*
 * A console file (NESTOR_IOC_CONSOLE_ATTACH, flags NESTOR_CONSOLE_ATTACH_*
 * and NESTOR_CONSOLE_BY_PID) into *fd, close-on-exec.
 */
int nestor_console_attach(struct nestor *n, uint32_t l2_id, uint32_t flags,
			  int *fd);
/* Name of a hypercall status (NESTOR_HC_*), or NULL for an unknown one. */
const char *nestor_hc_status_name(uint64_t status);

const char *nestor_strerror(int err);
/* "vmx", "svm", "none", or "unknown". */
const char *nestor_backend_name(uint32_t backend);
/* Name of an event command ("L2_NEW"), or NULL for an unknown one. */
const char *nestor_event_name(uint8_t cmd);
/*
 * Name of an exit reason for the backend ("IO_INSTRUCTION", "VMMCALL"):
 * VMX basic exit reasons (bits 15:0 of the exit reason) or SVM exit codes.
 * Never NULL: "UNKNOWN" for a reason the tables do not have.
 */
const char *nestor_exit_name(uint32_t backend, uint32_t reason);

/* ------------------------------------------------------------------ */
/* introspection (NESTOR_IOC_TRANSLATE, _READ, _LIST_WALK)             */
/* ------------------------------------------------------------------ */

/*
 * The structures are the uapi ones: the caller fills the request fields
 * and gets the kernel's answer in place.  0 or -errno; a failed address or
 * segment is not an error of the call (see status fields).
 */
int nestor_translate(struct nestor *n, struct nestor_translate *x);
int nestor_read(struct nestor *n, struct nestor_mem_read *r);
int nestor_list_walk(struct nestor *n, struct nestor_list_walk *w);
/* Name of an enum nestor_mem_status ("L2_FAULT"), never NULL. */
const char *nestor_mem_status_name(uint32_t status);
/* Name of an enum nestor_walk_end ("HEAD"), never NULL. */
const char *nestor_walk_end_name(uint32_t end);
/* Parses "l2-virt", "l2-phys", "l1-phys" (or "v", "p", "l1"); 0 if unknown. */
uint32_t nestor_space_parse(const char *s);
const char *nestor_space_name(uint32_t space);

/* ---- signed results (NESTOR_MEM_F_SIGN; tools/lib/sig.c) ---- */

#define NESTOR_SHA256_LEN	32

struct nestor_sha256 {
	uint32_t h[8];
	uint64_t len;
	uint8_t buf[64];
	size_t n;
};

struct nestor_hmac {
	struct nestor_sha256 inner;
	uint8_t opad[64];
};

void nestor_sha256_init(struct nestor_sha256 *s);
void nestor_sha256_update(struct nestor_sha256 *s, const void *data,
			  size_t len);
void nestor_sha256_final(struct nestor_sha256 *s,
			 uint8_t out[NESTOR_SHA256_LEN]);
void nestor_hmac_sha256_init(struct nestor_hmac *h, const void *key,
			     size_t klen);
void nestor_hmac_sha256_update(struct nestor_hmac *h, const void *data,
			       size_t len);
void nestor_hmac_sha256_final(struct nestor_hmac *h,
			      uint8_t out[NESTOR_SHA256_LEN]);

/*
 * Verify a signed READ (segments @segs, their data at each segment's buf,
 * done bytes) or LIST_WALK (fields @f, nr_nodes records at @records) as
 * the kernel returned it, with the monitor key and the nonce the client
 * sent.  0: authentic; -ESTALE: an answer to another nonce (a replay);
 * -EBADMSG: the MAC does not match (tampered, or another key).
 */
int nestor_sig_verify_read(const void *key, size_t klen,
			   const uint8_t nonce[NESTOR_MEM_NONCE_LEN],
			   const struct nestor_mem_read *r,
			   const struct nestor_mem_seg *segs);
int nestor_sig_verify_walk(const void *key, size_t klen,
			   const uint8_t nonce[NESTOR_MEM_NONCE_LEN],
			   const struct nestor_list_walk *w,
			   const struct nestor_walk_field *f,
			   const void *records);
/*
 * The console's signed I/O (NESTOR_IOC_CONSOLE_SREAD/_SWRITE): verify an
 * SREAD answer (@a as the kernel filled it, @data its done bytes) against
 * the nonce the client sent: 0, -ESTALE (another nonce: replayed),
 * -EBADMSG (tampered, or another key).  Make the MAC of an SWRITE.
 */
int nestor_sig_verify_console_out(const void *key, size_t klen,
				  const uint8_t nonce[NESTOR_CONSOLE_NONCE_LEN],
				  const struct nestor_console_sread *a,
				  const void *data);
void nestor_sig_console_in(const void *key, size_t klen, uint32_t l2_id,
			   const uint8_t session[NESTOR_CONSOLE_SESSION_LEN],
			   uint64_t seq, const void *data, uint32_t len,
			   uint8_t mac[NESTOR_CONSOLE_MAC_LEN]);
/* A fresh random nonce (never all zero); 0 or -errno. */
int nestor_sig_nonce(uint8_t nonce[NESTOR_MEM_NONCE_LEN]);
/* Hex (whitespace ignored) to a key of NESTOR_KEY_MIN_LEN..MAX_LEN bytes. */
int nestor_sig_parse_key(const char *hex, uint8_t *key, size_t *len);

/* ---- remote monitoring (nestor-monitord; Documentation/monitor.rst) ---- */

/*
 * Every message: this header, then @len bytes.  Integers little-endian
 * (the uapi structures in their x86-64 layout).  A reply has the
 * request's type | NESTOR_MON_REPLY, @status 0 or a positive errno (then
 * no payload).
 */
struct nestor_mon_hdr {
	uint32_t magic;
	uint32_t type;
	uint32_t len;
	uint32_t status;
};

#define NESTOR_MON_MAGIC	0x314e4f4du	/* "MON1" */
#define NESTOR_MON_REPLY	0x80000000u
#define NESTOR_MON_READ		1	/* nestor_mem_read + segments */
#define NESTOR_MON_WALK		2	/* nestor_list_walk + fields */
#define NESTOR_MON_RESOLVE	3	/* an L2 name -> u32 context id */
/* The console (one per connection): u32 flags, an L2 name -> u32 id */
#define NESTOR_MON_CONSOLE_OPEN	4
#define NESTOR_MON_CONSOLE_READ	5	/* nestor_console_sread -> it + data */
#define NESTOR_MON_CONSOLE_WRITE 6	/* nestor_console_swrite + data */
#define NESTOR_MON_CONSOLE_F_READ_ONLY	1u	/* CONSOLE_OPEN: no input */
/* Largest request or reply payload a peer accepts. */
#define NESTOR_MON_MAX_PAYLOAD	(80u << 20)

struct nestor_remote;

/*
 * Connects to HOST:PORT ([V6]:PORT) with the monitor key (@key_id and its
 * secret).  Reads and walks then return only verified answers:
 * -ESTALE (replayed), -EBADMSG (tampered, or another key), -EPROTO
 * (malformed), or the daemon's or kernel's errno;
 * nestor_remote_error() says which in words.
 */
int nestor_remote_open(const char *hostport, uint32_t key_id,
		       const void *key, size_t klen,
		       struct nestor_remote **out);
void nestor_remote_close(struct nestor_remote *rm);
/* As nestor_read()/nestor_list_walk(), signed with a fresh nonce. */
int nestor_remote_read(struct nestor_remote *rm, struct nestor_mem_read *r);
int nestor_remote_walk(struct nestor_remote *rm, struct nestor_list_walk *w);
/* "N", "l2:N", "id:NAME" on the daemon's side (not signed). */
int nestor_remote_resolve(struct nestor_remote *rm, const char *name,
			  uint32_t *l2_id);

/*
 * The console of L2 context @l2_id through the daemon (Documentation/
 * console.rst, "Remote access"): one per connection.  Every read is
 * verified (MAC with a fresh nonce, the L2, one session throughout, and
 * the stream position continuing where the last answer ended unless the
 * console's signed drop count covers the jump: REJECTED otherwise).
 * Input is signed with the session of the first verified answer, so read
 * once before writing; a write is all or nothing, -EAGAIN when the
 * console's input buffer has no room for it now (retry the same bytes).
 */
struct nestor_remote_console_out {
	uint32_t done;		/* bytes at buf */
	int eof;		/* console disabled, nothing left */
	uint64_t pos;		/* stream offset of the first byte */
	uint64_t skipped;	/* bytes the console dropped just before */
};
int nestor_remote_console_open(struct nestor_remote *rm, uint32_t l2_id,
			       uint32_t flags);
int nestor_remote_console_read(struct nestor_remote *rm, void *buf,
			       uint32_t len,
			       struct nestor_remote_console_out *out);
int nestor_remote_console_write(struct nestor_remote *rm, const void *buf,
				uint32_t len);
const char *nestor_remote_error(const struct nestor_remote *rm);
uint64_t nestor_remote_round_trips(const struct nestor_remote *rm);
/* Whole-buffer I/O on a socket: 0 or -errno (-ECONNRESET at EOF). */
int nestor_mon_write_all(int fd, const void *buf, size_t len);
int nestor_mon_read_all(int fd, void *buf, size_t len);

#endif /* LIBNESTOR_H */
