/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nestor internals shared by the module's files.
 */
#ifndef NESTOR_INTERNAL_H
#define NESTOR_INTERNAL_H

#include <linux/types.h>
#include <linux/list.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/atomic.h>
#include <linux/kvm_host.h>
#include <linux/uio.h>
#include <uapi/linux/nestor.h>

#include "exit_decode.h"

#define NESTOR_MODULE_VERSION	"0.1.0"

/* ------------------------------------------------------------------ */
/* arch backends (vmx.c, svm.c)                                        */
/* ------------------------------------------------------------------ */

struct nestor_arch_ops {
	const char *name;
	u32 isa;			/* enum nestor_backend */
	const char *module;		/* "kvm_intel" / "kvm_amd" */
	/* Function whose entry the divert hook sits on. */
	const char *divert_symbol;
	/*
	 * Function that calls divert_symbol for real hardware exits: calls
	 * from anywhere else (SVM's emulator intercept checks) are left alone.
	 */
	const char *exit_caller_symbol;
	/*
	 * Whether KVM's kvm_nested_vmexit tracepoint fires before the divert
	 * point (SVM), so a completed exit was already counted as seen.
	 */
	bool exit_traced_before_divert;

	/* Resolve symbols and layouts; an error names what is missing. */
	int (*init)(void);
	/* Exit reason of the current L2 exit, cheap: used on every exit. */
	u32 (*exit_reason)(struct kvm_vcpu *vcpu);
	/* Raw exit information for decoding (only for claimed kinds). */
	void (*exit_raw)(struct kvm_vcpu *vcpu, struct nestor_exit_raw *raw);
	/* L2's current CR3. */
	u64 (*guest_cr3)(struct kvm_vcpu *vcpu);
	/* L2's CPL, from vmcb02 / vmcs02 (an L2 exit being handled). */
	int (*guest_cpl)(struct kvm_vcpu *vcpu);
	/*
	 * Optional, for a non-string IO exit about to be skipped: tell KVM
	 * the next RIP when the exit reports it and KVM would otherwise
	 * decode the instruction again to find it (SVM without NRIPS).
	 */
	void (*io_next_rip)(struct kvm_vcpu *vcpu);
};

extern const struct nestor_arch_ops nestor_vmx_ops;
extern const struct nestor_arch_ops nestor_svm_ops;
extern const struct nestor_arch_ops *nestor_arch;

/* BTF layout checks (layout.c). */
int nestor_layout_member_offset(const char *module, const char *struct_name,
				const char *member, u32 *offset_bytes);
/* The same, refusing a member whose type is not @type_name ("u64"...). */
int nestor_layout_member_typed(const char *module, const char *struct_name,
			       const char *member, const char *type_name,
			       u32 *offset_bytes);
int nestor_layout_check_func(const char *module, const char *func,
			     const char *ret_name, int nr_params,
			     const char *const *param_names);
int nestor_layout_check_tracepoint(const char *tp, int nr_args,
				   const char *const *arg_names);
int nestor_layout_init(void);
void nestor_layout_exit(void);

/* Symbol addresses through kprobes' lookup (ksym.c). */
unsigned long nestor_ksym_lookup(const char *name);
int nestor_ksym_size(unsigned long addr, unsigned long *size);

/* ------------------------------------------------------------------ */
/* registry (registry.c)                                               */
/* ------------------------------------------------------------------ */

#define NESTOR_CTX_VCPUS	8
#define NESTOR_MAX_VCPU_ID	4096

struct nestor_ctx_vcpu {
	u32 vcpu_id;			/* valid when cr3_changes != 0 or used */
	bool used;
	u64 cr3;
	u64 cr3_changes;
	/* L2's paging controls at its last exit (introspection, mem.c) */
	bool regs_known;
	u64 cr0, cr4, efer;
};

struct nestor_vm;
struct nestor_mem_vm;
struct nestor_xlate_cache;

struct nestor_l2ctx {
	struct hlist_node hnode;	/* registry hash, by key */
	struct list_head vm_node;	/* nestor_vm.ctxs */
	struct nestor_vm *vm;		/* valid only under the registry lock */
	/* Copies of the VM's, for readers holding only a reference. */
	u32 vm_id;
	pid_t vm_pid;
	refcount_t ref;
	u32 id;
	u32 isa;
	u64 vmcs12;
	u64 root;
	bool tdp;
	bool dead;
	u8 l1_npt_levels;		/* SVM: L1's paging levels at entry */
	u64 first_seen_ns;
	u64 last_seen_ns;
	atomic64_t entries;
	spinlock_t vcpu_lock;		/* vcpus[] */
	struct nestor_ctx_vcpu vcpus[NESTOR_CTX_VCPUS];
	/* [slot][0]: total, [1]: reflected, [2]: completed by nestor */
	atomic64_t (*exits)[3];
	struct nestor_xlate_cache *xcache;	/* mem.c; made on first use */
	struct rcu_head rcu;
};

struct nestor_vm {
	struct hlist_node hnode;	/* by kvm pointer */
	struct list_head node;		/* registry list, in id order */
	const struct kvm *kvm;		/* a key: never dereferenced */
	u32 id;
	pid_t pid;
	struct list_head ctxs;
	struct list_head vcpus;
	unsigned long vcpu_ids[BITS_TO_LONGS(NESTOR_MAX_VCPU_ID)];
	struct nestor_mem_vm *mem;	/* introspection state, mem.c */
	atomic64_t l1_hypercalls;	/* nestor hypercalls L1 made itself */
	struct rcu_head rcu;
};

int nestor_registry_init(void);
void nestor_registry_exit(void);
void nestor_registry_vm_destroyed(const struct kvm *kvm);

/* Current L2 context of a vCPU, with a reference; NULL when none. */
struct nestor_l2ctx *nestor_ctx_get_current(struct kvm_vcpu *vcpu);
struct nestor_l2ctx *nestor_ctx_get_by_id(u32 id);
void nestor_ctx_put(struct nestor_l2ctx *ctx);
u32 nestor_registry_next_ctx_id(void);
bool nestor_ctx_ran_before(const struct nestor_l2ctx *ctx, u32 floor);
/* Count an exit that nestor completed in L0 (and keep its context live). */
void nestor_ctx_count_completed(struct nestor_l2ctx *ctx, u32 reason,
				bool count_seen);

/* Exit-reason slots for the per-context counters. */
#define NESTOR_EXIT_SLOTS	209
int nestor_exit_slot(u32 isa, u32 reason);
u32 nestor_exit_slot_reason(u32 isa, int slot);

/*
 * Iteration for netlink dumps, from @start_id on; callbacks run under the
 * registry lock.  A callback's error stops the walk and *next_id names the
 * entry to resume at.
 */
int nestor_registry_walk_vms(u32 start_id,
			     int (*fn)(const struct nestor_vm *vm, void *arg),
			     void *arg, u32 *next_id);
int nestor_registry_walk_ctxs(u32 start_id,
			      int (*fn)(const struct nestor_l2ctx *ctx,
					void *arg),
			      void *arg, u32 *next_id);
/*
 * Introspection (mem.c): a reference on the context's struct kvm, taken
 * under the registry lock (kvm_get_kvm_safe(); the registry drops a VM in
 * kvm_arch_destroy_vm(), before KVM frees it, so the pointer is valid
 * while the VM is listed).  NULL when the context or its VM is gone.  The
 * VM's introspection state is attached from *spare on first use.
 */
struct kvm *nestor_ctx_get_kvm(struct nestor_l2ctx *ctx,
			       struct nestor_mem_vm **mv,
			       struct nestor_mem_vm **spare);
/* Module unload: detach one VM's introspection state (NULL: none left). */
struct nestor_mem_vm *nestor_registry_detach_mem(struct kvm **kvm);
/* Snapshot the per-vCPU CR3 slots of a context. */
int nestor_ctx_vcpus(const struct nestor_l2ctx *ctx,
		     struct nestor_ctx_vcpu *out);

extern unsigned int nestor_idle_expiry_ms;

/* L1 itself executed nestor's hypercall: count it on its VM. */
void nestor_registry_note_l1_call(struct kvm_vcpu *vcpu);

/* ------------------------------------------------------------------ */
/* divert hook and claims (hook.c)                                     */
/* ------------------------------------------------------------------ */

enum nestor_claim_result {
	NESTOR_PASS,			/* not ours after all: KVM decides */
	NESTOR_COMPLETED,		/* done in L0: resume L2 */
};

struct nestor_exit_ctx {
	struct kvm_vcpu *vcpu;
	struct nestor_l2ctx *ctx;
	struct nestor_exit exit;
};

struct nestor_claim {
	struct list_head node;
	enum nestor_exit_kind kind;
	u32 l2_id;			/* 0: every L2 context */
	u32 port_first, port_last;	/* NESTOR_EXIT_IO */
	u64 leaf;			/* NESTOR_EXIT_HYPERCALL: RAX */
	/* Called on the vCPU thread, preemptible, under SRCU: may sleep. */
	enum nestor_claim_result (*handle)(struct nestor_exit_ctx *ec,
					   void *priv);
	void *priv;
};

int nestor_hook_init(void);
void nestor_hook_exit(void);
bool nestor_hook_armed(void);
int nestor_claim_add(struct nestor_claim *claim);
void nestor_claim_del(struct nestor_claim *claim);

/* Register helpers for claim handlers: they complete the exit. */
u64 nestor_reg_read(struct kvm_vcpu *vcpu, int reg);
void nestor_reg_write(struct kvm_vcpu *vcpu, int reg, u64 val);
int nestor_skip_instruction(struct kvm_vcpu *vcpu);
/* The same for a non-string IN/OUT exit: cheaper where the exit says how. */
int nestor_skip_io_instruction(struct kvm_vcpu *vcpu);

/* ------------------------------------------------------------------ */
/* services, user interfaces                                           */
/* ------------------------------------------------------------------ */

int nestor_hypercall_init(void);
void nestor_hypercall_exit(void);
bool nestor_hypercall_claimed(void);

/* console.c: the out-of-band console (ioctls 0x20-0x2f) */
long nestor_console_ioctl(unsigned int cmd, void __user *argp);
void nestor_console_exit(void);

/*
 * Signed console I/O on a client file (console_sign.c: the ioctls and the
 * MACs; console.c: the ring and the input buffer).
 */
struct console_client;
struct nestor_console_taken {
	u64 pos;		/* stream offset of the first byte */
	u64 dropped;
	u32 done;		/* bytes taken */
	u32 l2_id;
	bool eof;
};

int nestor_console_get_arg(void *dst, size_t size, void __user *argp,
			   size_t usize);
long nestor_console_sign_ioctl(struct console_client *cl, unsigned int cmd,
			       void __user *argp);
/* EBADF without the access in @need (NESTOR_CONSOLE_ATTACH_*). */
int nestor_console_who(struct console_client *cl, u32 need, u32 *l2_id,
		       u8 session[NESTOR_CONSOLE_SESSION_LEN]);
int nestor_console_take(struct console_client *cl, u8 *dst, u32 len,
			struct nestor_console_taken *t);
int nestor_console_give(struct console_client *cl, const u8 *src, u32 len,
			u64 seq);
/* introspection (mem.c) */
void nestor_mem_exit(void);
long nestor_mem_ioctl(unsigned int nr, void __user *argp, size_t usize);
/* Under the registry lock: attach to a VM (kvm pinned), or drop it. */
void nestor_mem_vm_attach(struct kvm *kvm, struct nestor_mem_vm *mv,
			  u32 vm_id);
void nestor_mem_vm_gone(struct kvm *kvm, struct nestor_mem_vm *mv);

/*
 * Signed results (mem_sign.c, Documentation/introspection.rst): two
 * SHA-256 streams (per-item metadata, data bytes) and a header, MACed
 * with a monitor key.
 */
struct nestor_mem_sign;
struct nestor_mem_read;
struct nestor_list_walk;
struct nestor_walk_field;
/* Checks the request's sig fields and the key; NULL and *err on error. */
struct nestor_mem_sign *nestor_mem_sign_begin(const struct nestor_mem_sig *sig,
					      int *err);
void nestor_mem_sign_meta(struct nestor_mem_sign *s, const void *p,
			  size_t len);
void nestor_mem_sign_data(struct nestor_mem_sign *s, const void *p,
			  size_t len);
/* Per READ segment, after it was read: its fields into the meta stream. */
void nestor_mem_sign_seg(struct nestor_mem_sign *s,
			 const struct nestor_mem_seg *seg);
/* Fills sig's identity fields (out) from the context. */
void nestor_mem_sign_ident(struct nestor_mem_sign *s,
			   const struct nestor_l2ctx *ctx, u32 vm_id,
			   struct nestor_mem_sig *sig);
/* The MAC into sig->mac; frees @s. */
int nestor_mem_sign_read(struct nestor_mem_sign *s,
			 struct nestor_mem_read *r);
int nestor_mem_sign_walk(struct nestor_mem_sign *s,
			 struct nestor_list_walk *w,
			 const struct nestor_walk_field *f);
void nestor_mem_sign_free(struct nestor_mem_sign *s);
void nestor_mem_sign_exit(void);

int nestor_chardev_init(void);
void nestor_chardev_exit(void);

int nestor_genl_init(void);
void nestor_genl_exit(void);
void nestor_genl_notify_ctx(u8 cmd, const struct nestor_l2ctx *ctx,
			    u64 old_root);
void nestor_genl_notify_vm_gone(u32 vm_id);
void nestor_genl_notify_tables(u32 vm_id, u64 gen, u64 gpa);

u64 nestor_features(void);

/* ------------------------------------------------------------------ */
/* keys (keys.c) and L2 identity (identity.c)                          */
/* ------------------------------------------------------------------ */

#define NESTOR_HMAC_LEN		32
/* Reported by nestor_key_flags() next to NESTOR_KEY_F_*: HMAC possible. */
#define NESTOR_KEY_HAS_SECRET	BIT(31)

/*
 * HMAC-SHA256 over @n pieces with the key (@kind, @key_id), which never
 * leaves keys.c.  May sleep.  -ENOKEY: no such key, or one without secret.
 */
int nestor_key_hmac(u32 kind, u32 key_id, const struct kvec *vec,
		    unsigned int n, u8 mac[NESTOR_HMAC_LEN]);
/* NESTOR_KEY_F_* and NESTOR_KEY_HAS_SECRET; -ENOKEY when absent. */
int nestor_key_flags(u32 kind, u32 key_id, u32 *flags);
long nestor_keys_ioctl_add(void __user *argp, size_t usize);
long nestor_keys_ioctl_del(void __user *argp, size_t usize);
void nestor_keys_exit(void);

struct sk_buff;

/*
 * Exported by kvm.ko, declared only in its private x86.h; identity.c
 * checks both prototypes against BTF before use.  With the vCPU in guest
 * mode, walk_mmu is the nested MMU: an L2 virtual address goes through
 * L2's page tables and L1's EPT/NPT to L1 memory.
 */
struct x86_exception;
int kvm_read_guest_virt(struct kvm_vcpu *vcpu, gva_t addr, void *val,
			unsigned int bytes, struct x86_exception *exception);
int kvm_write_guest_virt_system(struct kvm_vcpu *vcpu, gva_t addr, void *val,
				unsigned int bytes,
				struct x86_exception *exception);

/* A snapshot of one identity, for netlink. */
struct nestor_ident_info {
	char name[NESTOR_IDENT_NAME_MAX + 1];
	u32 key_id;
	u32 flags;			/* NESTOR_IDENT_F_* */
	u64 bound_ns;
	u64 registrations;
	/* the bound context, or the last one when absent */
	u32 l2_id;
	u32 vm_id;
	u64 vmcs12;
	u64 root;
	u32 holder_l2_id;		/* IDENT_CONFLICT only */
};

int nestor_ident_init(void);
void nestor_ident_exit(void);
bool nestor_ident_ready(void);
/* hypercall.c: one identity function; returns a NESTOR_HC_* status. */
u64 nestor_ident_hypercall(struct nestor_exit_ctx *ec, u64 function);
/* registry.c, registry lock held: a context appeared / was retired. */
void nestor_ident_ctx_new(struct nestor_l2ctx *ctx);
void nestor_ident_ctx_gone(struct nestor_l2ctx *ctx);
/* genl.c: identity attributes of a context (none when it holds none). */
int nestor_ident_fill_l2(struct sk_buff *skb, const struct nestor_l2ctx *ctx);
/* mem.c (signed results): the identity @ctx holds now; -ENOENT: none. */
int nestor_ident_of_ctx(const struct nestor_l2ctx *ctx,
			struct nestor_ident_info *info);
/* genl.c: dump from identity @start_seq on; see registry walks. */
int nestor_ident_walk(u32 start_seq,
		      int (*fn)(const struct nestor_ident_info *info, void *arg),
		      void *arg, u32 *next_seq);
long nestor_ident_ioctl_del(void __user *argp, size_t usize);

int nestor_genl_put_ident(struct sk_buff *skb,
			  const struct nestor_ident_info *info);
void nestor_genl_notify_ident(u8 cmd, const struct nestor_ident_info *info);

#endif /* NESTOR_INTERNAL_H */
