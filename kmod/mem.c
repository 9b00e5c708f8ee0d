// SPDX-License-Identifier: GPL-2.0
/*
 * Introspection of L2 memory from L0 (Documentation/introspection.rst):
 * translation (L2-virtual -> L2-physical -> L1-physical), vectored reads
 * and list walks, each reporting the generations it depended on.
 *
 * Nothing here trusts L1 beyond the memory it owns:
 * - L2's paging mode (CR0.PG, CR4.LA57, EFER.LMA/NX) and CR3 come from
 *   KVM's own vCPU state at L2 exits (registry.c), not from vmcs12/vmcb12.
 * - The nested root is the one KVM entered L2 with (the registry context).
 * - Tables are walked in software, the way the CPU walks them for L2.
 * - L1 memory is read through the VMM's address space (kvm->mm), pinned
 *   with get_user_pages_remote(): kvm_read_guest() would copy from the
 *   caller's mm, and the ioctl does not run in the VMM process.
 *
 * Change tracking: KVM write-protects every L1 page it shadows as nested
 * page tables, and tells page-track notifiers about each emulated write.
 * One notifier per VM counts them: that count is the "root generation" of
 * the VM's L2s, and every change goes out on the events group.
 */
#include <linux/hash.h>
#include <linux/highmem.h>
#include <linux/kvm_host.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>
#include <asm/kvm_page_track.h>

#include "nestor.h"

#define PT_ADDR		GENMASK_ULL(51, 12)
#define PT_P		BIT_ULL(0)
#define PT_RW		BIT_ULL(1)
#define PT_US		BIT_ULL(2)
#define PT_PS		BIT_ULL(7)
#define PT_NX		BIT_ULL(63)
#define EPT_R		BIT_ULL(0)
#define EPT_W		BIT_ULL(1)
#define EPT_X		BIT_ULL(2)
#define PERM_ALL	(NESTOR_PERM_R | NESTOR_PERM_W | NESTOR_PERM_X | \
			 NESTOR_PERM_U)
/* A stage that does not translate maps everything as one "page". */
#define NO_LIMIT	BIT_ULL(63)
/* Per call: pinned L1 pages, L2 page-table ranges, nested level-1 tables. */
#define PCACHE_BITS	6
#define PCACHE_PAGES	BIT(PCACHE_BITS)
#define S1_RANGES	8
#define S2_TABLES	8
/* Per L2 context, across calls: nested leaf translations, 2-way. */
#define XC_SET_BITS	7
#define XC_WAYS		2

/* Nested-table pages nestor keeps write-tracked, per VM. */
#define MAX_TRACKED	16384

struct nestor_mem_vm {
	struct kvm_page_track_notifier_node node;
	u32 vm_id;
	atomic64_t gen;
	/* gfns nestor write-tracks; an entry appears once tracking is on */
	struct xarray tracked;
	struct mutex track_lock;	/* adding to @tracked */
	atomic_t nr_tracked;
};

/* ---------------------------------------------------------------- */
/* change tracking                                                    */
/* ---------------------------------------------------------------- */

static void mem_track_write(struct kvm_vcpu *vcpu, gpa_t gpa, const u8 *new,
			    int bytes, struct kvm_page_track_notifier_node *node)
{
	struct nestor_mem_vm *mv = container_of(node, struct nestor_mem_vm,
						node);

	nestor_genl_notify_tables(mv->vm_id, atomic64_inc_return(&mv->gen),
				  gpa);
}

static void mem_track_flush_slot(struct kvm *kvm, struct kvm_memory_slot *slot,
				 struct kvm_page_track_notifier_node *node)
{
	struct nestor_mem_vm *mv = container_of(node, struct nestor_mem_vm,
						node);
	unsigned long gfn;
	void *entry;

	/* L1 memory moved or went away: every translation may differ. */
	nestor_genl_notify_tables(mv->vm_id, atomic64_inc_return(&mv->gen),
				  slot->base_gfn << PAGE_SHIFT);
	/* The slot's tracking counts go with it (slots_lock is held). */
	xa_for_each_range(&mv->tracked, gfn, entry, slot->base_gfn,
			  slot->base_gfn + slot->npages - 1) {
		xa_erase(&mv->tracked, gfn);
		atomic_dec(&mv->nr_tracked);
	}
}

void nestor_mem_vm_attach(struct kvm *kvm, struct nestor_mem_vm *mv,
			  u32 vm_id)
{
	mv->vm_id = vm_id;
	mv->node.track_write = mem_track_write;
	mv->node.track_flush_slot = mem_track_flush_slot;
	kvm_page_track_register_notifier(kvm, &mv->node);
}

/*
 * The VM has no users left (kvm_arch_destroy_vm(), or a dying VM at
 * unload): no vCPU or VM ioctl can be inside the notifier, so unlinking
 * it under mmu_lock, as kvm_page_track_unregister_notifier() does, is
 * enough without its synchronize_srcu(), which may not run here (atomic).
 */
void nestor_mem_vm_gone(struct kvm *kvm, struct nestor_mem_vm *mv)
{
	write_lock(&kvm->mmu_lock);
	hlist_del_rcu(&mv->node.node);
	write_unlock(&kvm->mmu_lock);
	/* The memslots, and their tracking counts, are freed with the VM. */
	xa_destroy(&mv->tracked);
	kfree(mv);
}

/* ---------------------------------------------------------------- */
/* translation cache                                                  */
/* ---------------------------------------------------------------- */

/*
 * Nested leaf translations (L2-physical page -> L1-physical) of one L2
 * context, kept across calls.  They hold only while the VM's root
 * generation is @gen: every nested-table page is write-tracked before it
 * is walked (mem_track_table()), so an L1 write to any table an entry was
 * read from bumps the generation: lookups then miss, and the next fill
 * empties the cache.  A walk that met an untracked table fills nothing.
 * L2's own page tables are not cached across calls: L2 writes them
 * without an exit, so nothing would tell.
 */
struct nestor_xlate_cache {
	spinlock_t lock;		/* @gen, @levels and @set */
	u64 gen;
	u8 levels;			/* of the nested tables walked */
	struct xc_entry {
		u64 tag;	/* page start | page shift; 0: empty */
		u64 l1;		/* L1 address of the page start */
	} set[1U << XC_SET_BITS][XC_WAYS];	/* [0]: the newer */
};

/* The context's cache, made on first use; NULL when out of memory. */
static struct nestor_xlate_cache *xc_get(struct nestor_l2ctx *ctx)
{
	struct nestor_xlate_cache *xc = READ_ONCE(ctx->xcache), *old;

	if (xc)
		return xc;
	xc = kzalloc(sizeof(*xc), GFP_KERNEL);
	if (!xc)
		return NULL;
	spin_lock_init(&xc->lock);
	old = cmpxchg(&ctx->xcache, NULL, xc);
	if (old) {
		kfree(xc);
		return old;
	}
	return xc;
}

/* ---------------------------------------------------------------- */
/* one call's view of an L2                                           */
/* ---------------------------------------------------------------- */

struct mem_tlb {
	u64 start, end;		/* [start, end) of the space, contiguous */
	u64 l1;			/* L1 address of start */
};

/* An L2 page-table leaf: [start, end) of L2-virtual maps to l2pa. */
struct s1_range {
	u64 start, end;
	u64 l2pa;
};

/* A nested level-1 table and the permissions of the levels above it. */
struct s2_table {
	u64 region;		/* L2-physical address >> 21, plus one */
	u64 table;
	u32 perm;
};

struct mem_call {
	struct nestor_l2ctx *ctx;
	struct kvm *kvm;
	struct mm_struct *mm;
	struct nestor_mem_vm *mv;
	/* stage 2: L1's EPT/NPT for L2 */
	bool tdp, ept;
	u8 s2_levels;		/* 0: unsupported */
	u64 s2_table;
	/* stage 1: L2's paging */
	bool s1_ready;
	u8 s1_levels;		/* 0: paging off; 4, 5 */
	bool s1_unsupported, nxe;
	u32 vcpu_id;
	bool by_vcpu;
	struct nestor_mem_gen gen;
	/* pinned L1 pages, reused within the call, by gfn hash */
	struct mem_page {
		u64 gfn;
		struct page *page;
	} *pc;
	struct mem_tlb tlb[NESTOR_SPACE_L1_PHYS + 1];
	struct s1_range s1r[S1_RANGES];
	struct s2_table s2t[S2_TABLES];
	unsigned int s1r_next, s2t_next;
	struct nestor_xlate_cache *xc;	/* NULL: NESTOR_MEM_F_NOCACHE */
	u32 nested_walks, cache_hits;
};

static void mem_call_end(struct mem_call *c)
{
	int i;

	for (i = 0; c->pc && i < PCACHE_PAGES; i++)
		if (c->pc[i].page)
			put_page(c->pc[i].page);
	kfree(c->pc);
	if (c->mm)
		mmput(c->mm);
	if (c->kvm)
		kvm_put_kvm(c->kvm);
	nestor_ctx_put(c->ctx);
}

/*
 * KVM write-protects only the nested-table pages it shadows above the
 * last level; it lets L1 write last-level ones directly ("unsync") and
 * resyncs later, so a remap of one 4 KiB page would go unseen.  nestor
 * write-tracks every nested-table page it walks (before reading it): each
 * L1 write to one of them is then emulated by KVM and reaches the
 * notifier.  Counts add to KVM's own; nestor drops its own at unload.
 * A gfn enters @tracked only once its tracking is on, so a concurrent
 * call that finds it there may rely on it (the translation cache does).
 */
static void mem_track_table(struct mem_call *c, u64 gfn)
{
	struct nestor_mem_vm *mv = c->mv;
	struct kvm_memory_slot *slot;
	int idx, err = -ENOSPC;

	if (!IS_ENABLED(CONFIG_KVM_EXTERNAL_WRITE_TRACKING)) {
		/* without it, tracking may be off for this VM: no WARN */
		c->gen.changed |= NESTOR_GEN_UNTRACKED;
		return;
	}
	if (xa_load(&mv->tracked, gfn))
		return;
	mutex_lock(&mv->track_lock);
	if (xa_load(&mv->tracked, gfn)) {
		mutex_unlock(&mv->track_lock);
		return;
	}
	if (atomic_read(&mv->nr_tracked) >= MAX_TRACKED)
		goto out;
	idx = srcu_read_lock(&c->kvm->srcu);
	write_lock(&c->kvm->mmu_lock);
	slot = gfn_to_memslot(c->kvm, gfn);
	if (slot)
		kvm_slot_page_track_add_page(c->kvm, slot, gfn,
					     KVM_PAGE_TRACK_WRITE);
	write_unlock(&c->kvm->mmu_lock);
	/* No slot: nothing to track, and the read will fail on its own. */
	err = 0;
	if (!slot)
		goto out_srcu;
	err = xa_insert(&mv->tracked, gfn, xa_mk_value(0), GFP_KERNEL);
	if (err) {
		write_lock(&c->kvm->mmu_lock);
		kvm_slot_page_track_remove_page(c->kvm, slot, gfn,
						KVM_PAGE_TRACK_WRITE);
		write_unlock(&c->kvm->mmu_lock);
	} else {
		atomic_inc(&mv->nr_tracked);
	}
out_srcu:
	srcu_read_unlock(&c->kvm->srcu, idx);
out:
	mutex_unlock(&mv->track_lock);
	if (err)
		c->gen.changed |= NESTOR_GEN_UNTRACKED;
}

/* Unload: give back nestor's tracking counts of a live VM. */
static void mem_untrack_all(struct kvm *kvm, struct nestor_mem_vm *mv)
{
	struct kvm_memory_slot *slot;
	unsigned long gfn;
	void *entry;

	/* slots_lock: no memslot (and its counts) can go meanwhile. */
	mutex_lock(&kvm->slots_lock);
	write_lock(&kvm->mmu_lock);
	xa_for_each(&mv->tracked, gfn, entry) {
		slot = gfn_to_memslot(kvm, gfn);
		if (slot)
			kvm_slot_page_track_remove_page(kvm, slot, gfn,
							KVM_PAGE_TRACK_WRITE);
	}
	write_unlock(&kvm->mmu_lock);
	mutex_unlock(&kvm->slots_lock);
	xa_destroy(&mv->tracked);
}

/*
 * The page that backs an L1 guest frame, pinned until the call ends or
 * another frame takes its slot (one page is in use at a time).
 */
static int l1_page(struct mem_call *c, u64 gfn, struct page **pagep)
{
	struct mem_page *pc = &c->pc[hash_64(gfn, PCACHE_BITS)];
	struct page *page;
	unsigned long hva;
	long n;
	int idx;

	if (pc->page && pc->gfn == gfn) {
		*pagep = pc->page;
		return NESTOR_MEM_OK;
	}
	idx = srcu_read_lock(&c->kvm->srcu);
	hva = gfn_to_hva(c->kvm, gfn);
	srcu_read_unlock(&c->kvm->srcu, idx);
	if (kvm_is_error_hva(hva))
		return NESTOR_MEM_L1_UNBACKED;

	mmap_read_lock(c->mm);
	n = get_user_pages_remote(c->mm, hva, 1, 0, &page, NULL, NULL);
	mmap_read_unlock(c->mm);
	if (n != 1)
		return NESTOR_MEM_L1_UNBACKED;

	if (pc->page)
		put_page(pc->page);
	pc->gfn = gfn;
	pc->page = page;
	*pagep = page;
	return NESTOR_MEM_OK;
}

/* Reads within one L1 page into @kbuf, or to user memory at @ubuf. */
static int l1_read(struct mem_call *c, u64 gpa, void *kbuf,
		   void __user *ubuf, size_t len)
{
	struct page *page;
	unsigned long left = 0;
	void *p;
	int st;

	st = l1_page(c, gpa >> PAGE_SHIFT, &page);
	if (st)
		return st;
	p = kmap_local_page(page);
	if (kbuf)
		memcpy(kbuf, p + offset_in_page(gpa), len);
	else
		left = copy_to_user(ubuf, p + offset_in_page(gpa), len);
	kunmap_local(p);
	return left ? NESTOR_MEM_BAD_BUFFER : NESTOR_MEM_OK;
}

static int l1_read_u64(struct mem_call *c, u64 gpa, u64 *val)
{
	return l1_read(c, gpa & ~7ULL, val, NULL, sizeof(*val));
}

/* ---------------------------------------------------------------- */
/* walks                                                              */
/* ---------------------------------------------------------------- */

struct walk {
	u64 out;		/* translated address */
	u64 size;		/* page size, NO_LIMIT without this stage */
	u32 perm;
	u8 nsteps;
	struct nestor_xlate_step *steps;	/* NULL: not wanted */
};

static void walk_step(struct walk *w, u64 table, u64 entry, u32 perm,
		      int level, bool leaf)
{
	struct nestor_xlate_step *s;

	if (!w->steps || w->nsteps >= NESTOR_XLATE_LEVELS)
		return;
	s = &w->steps[w->nsteps++];
	s->table = table;
	s->entry = entry;
	s->perm = perm;
	s->level = level;
	s->leaf = leaf;
}

static bool is_leaf(int level, u64 entry)
{
	return level == 1 || ((level == 2 || level == 3) && (entry & PT_PS));
}

static u64 bytes_to_end(u64 addr, u64 size)
{
	return size - (addr & (size - 1));
}

/* L2-physical -> L1-physical through L1's EPT/NPT for this L2. */
static int s2_walk(struct mem_call *c, u64 l2pa, struct walk *w)
{
	u64 table = c->s2_table, entry, mask, region = (l2pa >> 21) + 1;
	struct s2_table *t = NULL;
	u32 perm = PERM_ALL, own;
	int level, shift, st, i;
	bool present, leaf;

	w->nsteps = 0;
	if (!c->tdp) {
		w->out = l2pa;
		w->size = NO_LIMIT;
		w->perm = PERM_ALL;
		return NESTOR_MEM_OK;
	}
	if (!c->s2_levels)
		return NESTOR_MEM_UNSUPPORTED;

	level = c->s2_levels;
	/* A translate call shows every level: it starts from the root. */
	for (i = 0; !w->steps && i < S2_TABLES; i++) {
		if (c->s2t[i].region == region) {
			table = c->s2t[i].table;
			perm = c->s2t[i].perm;
			level = 1;
			break;
		}
	}
	for (; level >= 1; level--) {
		shift = 12 + 9 * (level - 1);
		mem_track_table(c, table >> PAGE_SHIFT);
		st = l1_read_u64(c, table + ((l2pa >> shift) & 511) * 8, &entry);
		if (st)
			return st;
		if (c->ept) {
			/* EPT: present when readable, writable or executable. */
			own = (entry & EPT_R ? NESTOR_PERM_R : 0) |
			      (entry & EPT_W ? NESTOR_PERM_W : 0) |
			      (entry & EPT_X ? NESTOR_PERM_X : 0);
			present = entry & (EPT_R | EPT_W | EPT_X);
		} else {
			/* NPT walks are user accesses: U must be set. */
			own = NESTOR_PERM_R |
			      (entry & PT_RW ? NESTOR_PERM_W : 0) |
			      (entry & PT_NX ? 0 : NESTOR_PERM_X) |
			      (entry & PT_US ? NESTOR_PERM_U : 0);
			present = entry & PT_P;
		}
		leaf = present && is_leaf(level, entry);
		walk_step(w, table, entry, present ? own : 0, level, leaf);
		if (!present)
			return NESTOR_MEM_NESTED_FAULT;
		perm &= own | (c->ept ? NESTOR_PERM_U : 0);
		if (leaf) {
			mask = BIT_ULL(shift) - 1;
			w->out = (entry & PT_ADDR & ~mask) | (l2pa & mask);
			w->size = BIT_ULL(shift);
			w->perm = perm;
			/* What L2 could not read, nestor does not read. */
			if (!(perm & NESTOR_PERM_R) ||
			    (!c->ept && !(perm & NESTOR_PERM_U)))
				return NESTOR_MEM_NESTED_FAULT;
			return NESTOR_MEM_OK;
		}
		table = entry & PT_ADDR;
		if (level == 2) {
			/* The next 4 KiB page of this 2 MiB reads one entry. */
			t = &c->s2t[c->s2t_next++ % S2_TABLES];
			t->region = region;
			t->table = table;
			t->perm = perm;
		}
	}
	return NESTOR_MEM_NESTED_FAULT;
}

/*
 * The set of a translation: 4 KiB pages by their frame, larger ones by
 * their 2 MiB region, so that every 4 KiB of a large page finds it.
 */
static struct xc_entry *xc_set(struct nestor_xlate_cache *xc, u64 l2pa,
			       bool large)
{
	u64 key = large ? ~(l2pa >> 21) : l2pa >> PAGE_SHIFT;

	return xc->set[hash_64(key, XC_SET_BITS)];
}

static bool xc_lookup(struct mem_call *c, u64 l2pa, u64 *l1, u64 *size)
{
	struct nestor_xlate_cache *xc = c->xc;
	struct xc_entry *e;
	unsigned int shift;
	bool hit = false;
	u64 start;
	int i;

	spin_lock(&xc->lock);
	if (xc->gen != c->gen.root_gen || xc->levels != c->s2_levels ||
	    atomic64_read(&c->mv->gen) != c->gen.root_gen)
		goto out;
	for (i = 0; i < 2 * XC_WAYS && !hit; i++) {
		e = &xc_set(xc, l2pa, i >= XC_WAYS)[i % XC_WAYS];
		shift = e->tag & ~PAGE_MASK;
		start = e->tag & PAGE_MASK;
		if (e->tag && l2pa - start < BIT_ULL(shift)) {
			*l1 = e->l1 + (l2pa - start);
			*size = BIT_ULL(shift);
			hit = true;
		}
	}
out:
	spin_unlock(&xc->lock);
	return hit;
}

static void xc_fill(struct mem_call *c, u64 l2pa, const struct walk *w)
{
	struct nestor_xlate_cache *xc = c->xc;
	u64 start = l2pa & ~(w->size - 1);
	struct xc_entry *e;

	spin_lock(&xc->lock);
	/* A write seen since the call began: these tables may be stale. */
	if (atomic64_read(&c->mv->gen) == c->gen.root_gen) {
		if (xc->gen != c->gen.root_gen || xc->levels != c->s2_levels) {
			memset(xc->set, 0, sizeof(xc->set));
			xc->gen = c->gen.root_gen;
			xc->levels = c->s2_levels;
		}
		e = xc_set(xc, l2pa, w->size > PAGE_SIZE);
		e[1] = e[0];
		e[0].tag = start | __ffs64(w->size);
		e[0].l1 = w->out - (l2pa - start);
	}
	spin_unlock(&xc->lock);
}

/*
 * L2-physical -> L1-physical for reads: the context's translation cache
 * (valid while the root generation is the one the call started with),
 * else a walk, whose result fills the cache when every table it read was
 * write-tracked.
 */
static int s2_translate(struct mem_call *c, u64 l2pa, u64 *l1, u64 *size)
{
	struct walk w = {};
	int st;

	if (!c->tdp) {
		*l1 = l2pa;
		*size = NO_LIMIT;
		return NESTOR_MEM_OK;
	}
	if (c->xc && xc_lookup(c, l2pa, l1, size)) {
		c->cache_hits++;
		return NESTOR_MEM_OK;
	}
	c->nested_walks++;
	st = s2_walk(c, l2pa, &w);
	if (st)
		return st;
	*l1 = w.out;
	*size = w.size;
	if (c->xc && !(c->gen.changed & NESTOR_GEN_UNTRACKED))
		xc_fill(c, l2pa, &w);
	return NESTOR_MEM_OK;
}

/* An 8-byte L2-physical word (an L2 page-table entry). */
static int l2phys_read_u64(struct mem_call *c, u64 l2pa, u64 *val,
			   bool cached)
{
	struct mem_tlb *t = &c->tlb[NESTOR_SPACE_L2_PHYS];
	struct walk w = {};
	u64 l1, size;
	int st;

	if (l2pa < t->start || l2pa >= t->end) {
		l2pa &= ~7ULL;
		if (cached) {
			st = s2_translate(c, l2pa, &l1, &size);
		} else {
			st = s2_walk(c, l2pa, &w);
			l1 = w.out;
			size = w.size;
		}
		if (st)
			return st;
		t->start = l2pa;
		t->end = t->start + bytes_to_end(l2pa, size);
		if (t->end < t->start)
			t->end = U64_MAX;
		t->l1 = l1;
	}
	return l1_read_u64(c, t->l1 + (l2pa - t->start), val);
}

static bool canonical(u64 va, int levels)
{
	int bits = 12 + 9 * levels;

	return (u64)(((s64)va << (64 - bits)) >> (64 - bits)) == va;
}

/* L2-virtual -> L2-physical through L2's own page tables. */
static int s1_walk(struct mem_call *c, u64 va, struct walk *w)
{
	u64 table = c->gen.cr3 & PT_ADDR, entry, mask;
	u32 perm = PERM_ALL, own;
	int level, shift, st;
	bool leaf;

	w->nsteps = 0;
	if (c->s1_unsupported)
		return NESTOR_MEM_UNSUPPORTED;
	if (!c->s1_levels) {
		w->out = va;
		w->size = NO_LIMIT;
		w->perm = PERM_ALL;
		return NESTOR_MEM_OK;
	}
	if (!canonical(va, c->s1_levels))
		return NESTOR_MEM_NONCANONICAL;

	for (level = c->s1_levels; level >= 1; level--) {
		shift = 12 + 9 * (level - 1);
		/* translate shows the walk as it is: no cache under it */
		st = l2phys_read_u64(c, table + ((va >> shift) & 511) * 8,
				     &entry, !w->steps);
		if (st)
			return st;
		own = NESTOR_PERM_R |
		      (entry & PT_RW ? NESTOR_PERM_W : 0) |
		      (entry & PT_US ? NESTOR_PERM_U : 0) |
		      (c->nxe && (entry & PT_NX) ? 0 : NESTOR_PERM_X);
		leaf = (entry & PT_P) && is_leaf(level, entry);
		walk_step(w, table, entry, entry & PT_P ? own : 0, level, leaf);
		if (!(entry & PT_P))
			return NESTOR_MEM_L2_FAULT;
		perm &= own;
		if (leaf) {
			mask = BIT_ULL(shift) - 1;
			w->out = (entry & PT_ADDR & ~mask) | (va & mask);
			w->size = BIT_ULL(shift);
			w->perm = perm;
			return NESTOR_MEM_OK;
		}
		table = entry & PT_ADDR;
	}
	return NESTOR_MEM_L2_FAULT;
}

/*
 * @addr of @space to an L1 address and how many bytes from there on are
 * contiguous in L1: to the end of the smaller of the two pages that map
 * it, so a 2 MiB page in both stages is walked once, not once per 4 KiB
 * (mem_read() still copies one L1 page at a time).
 */
/* L2-virtual -> L2-physical, and the bytes to the end of L2's page. */
static int s1_translate(struct mem_call *c, u64 va, u64 *l2pa, u64 *run)
{
	struct s1_range *r;
	struct walk w = {};
	int i, st;

	for (i = 0; i < S1_RANGES; i++) {
		r = &c->s1r[i];
		if (va >= r->start && va < r->end) {
			*l2pa = r->l2pa + (va - r->start);
			*run = r->end - va;
			return NESTOR_MEM_OK;
		}
	}
	st = s1_walk(c, va, &w);
	if (st)
		return st;
	*l2pa = w.out;
	*run = bytes_to_end(va, w.size);
	if (w.size != NO_LIMIT) {
		r = &c->s1r[c->s1r_next++ % S1_RANGES];
		r->start = va & ~(w.size - 1);
		r->end = r->start + w.size;
		r->l2pa = w.out - (va - r->start);
	}
	return NESTOR_MEM_OK;
}

static int resolve(struct mem_call *c, u32 space, u64 addr, u64 *l1,
		   u64 *run)
{
	struct mem_tlb *t = &c->tlb[space];
	u64 l2pa, n, out, size;
	int st;

	if (space == NESTOR_SPACE_L1_PHYS) {
		*l1 = addr;
		*run = PAGE_SIZE - offset_in_page(addr);
		return NESTOR_MEM_OK;
	}
	if (addr >= t->start && addr < t->end) {
		*l1 = t->l1 + (addr - t->start);
		*run = t->end - addr;
		return NESTOR_MEM_OK;
	}
	l2pa = addr;
	n = NO_LIMIT;
	if (space == NESTOR_SPACE_L2_VIRT) {
		st = s1_translate(c, addr, &l2pa, &n);
		if (st)
			return st;
	}
	st = s2_translate(c, l2pa, &out, &size);
	if (st)
		return st;
	n = min(n, bytes_to_end(l2pa, size));
	if (space == NESTOR_SPACE_L2_VIRT || c->tdp) {
		t->start = addr;
		t->end = addr + n < addr ? U64_MAX : addr + n;
		t->l1 = out;
	}
	*l1 = out;
	*run = n;
	return NESTOR_MEM_OK;
}

/*
 * Reads @len bytes at @addr of @space into @kbuf or @ubuf; *done says how
 * many bytes were read before a failure.
 */
static int mem_read(struct mem_call *c, u32 space, u64 addr, u64 len,
		    void *kbuf, void __user *ubuf, u64 *done)
{
	u64 l1, run, n;
	int st;

	*done = 0;
	while (*done < len) {
		st = resolve(c, space, addr + *done, &l1, &run);
		if (st)
			return st;
		n = min3(len - *done, run,
			 (u64)PAGE_SIZE - offset_in_page(l1));
		st = l1_read(c, l1, kbuf ? kbuf + *done : NULL,
			     kbuf ? NULL : ubuf + *done, n);
		if (st)
			return st;
		*done += n;
	}
	return NESTOR_MEM_OK;
}

/* ---------------------------------------------------------------- */
/* request setup                                                      */
/* ---------------------------------------------------------------- */

/* Signed requests check their sig fields in nestor_mem_sign_begin(). */
static int check_common(u64 flags, u32 space, const struct nestor_mem_target *t,
			const struct nestor_mem_sig *sig, bool can_sign)
{
	if (flags & ~(NESTOR_MEM_F_CR3 | NESTOR_MEM_F_SIGN |
		      NESTOR_MEM_F_NOCACHE))
		return -EINVAL;
	if ((flags & NESTOR_MEM_F_SIGN) && !can_sign)
		return -EOPNOTSUPP;
	if (!(flags & NESTOR_MEM_F_SIGN) && memchr_inv(sig, 0, sizeof(*sig)))
		return -EINVAL;
	if (!(flags & NESTOR_MEM_F_CR3) && t->cr3)
		return -EINVAL;
	if (space != NESTOR_SPACE_L2_VIRT && (flags & NESTOR_MEM_F_CR3))
		return -EINVAL;
	if (space < NESTOR_SPACE_L2_VIRT || space > NESTOR_SPACE_L1_PHYS)
		return -EINVAL;
	return 0;
}

/*
 * Pins the L2 context, its VM and the VMM's mm.  -ENOENT: no such L2;
 * -ESRCH: its VM is going away.
 */
static int mem_call_begin(struct mem_call *c, const struct nestor_mem_target *t,
			  u64 flags)
{
	struct nestor_mem_vm *spare;
	u64 root;

	memset(c, 0, sizeof(*c));
	c->ctx = nestor_ctx_get_by_id(t->l2_id);
	if (!c->ctx)
		return -ENOENT;
	c->pc = kcalloc(PCACHE_PAGES, sizeof(*c->pc), GFP_KERNEL);
	if (!c->pc)
		return -ENOMEM;
	/* Without memory for a cache, the call walks: slower, not wrong. */
	if (!(flags & NESTOR_MEM_F_NOCACHE))
		c->xc = xc_get(c->ctx);
	spare = kzalloc(sizeof(*spare), GFP_KERNEL);
	if (!spare)
		return -ENOMEM;
	xa_init(&spare->tracked);
	mutex_init(&spare->track_lock);
	c->kvm = nestor_ctx_get_kvm(c->ctx, &c->mv, &spare);
	kfree(spare);
	if (!c->kvm)
		return -ESRCH;
	if (!c->mv)
		return -ENOMEM;
	c->mm = c->kvm->mm;
	if (!c->mm || !mmget_not_zero(c->mm)) {
		c->mm = NULL;
		return -ESRCH;
	}

	root = c->ctx->root;
	c->tdp = c->ctx->tdp;
	c->ept = c->ctx->isa == NESTOR_BACKEND_VMX;
	c->s2_table = root & PT_ADDR;
	if (c->ept) {
		/* EPTP bits 5:3: page-walk length minus one. */
		c->s2_levels = ((root >> 3) & 7) + 1;
		if (c->s2_levels != 4 && c->s2_levels != 5)
			c->s2_levels = 0;
	} else {
		c->s2_levels = c->ctx->l1_npt_levels;
	}
	c->gen.root = c->tdp ? root : 0;
	c->gen.root_gen = atomic64_read(&c->mv->gen);
	c->vcpu_id = t->vcpu_id;
	return 0;
}

static int vcpu_slot(struct mem_call *c, struct nestor_ctx_vcpu *out)
{
	struct nestor_ctx_vcpu vcpus[NESTOR_CTX_VCPUS];
	int i, n = nestor_ctx_vcpus(c->ctx, vcpus);

	for (i = 0; i < n; i++) {
		if (vcpus[i].vcpu_id == c->vcpu_id) {
			*out = vcpus[i];
			return 0;
		}
	}
	return -ESRCH;
}

/*
 * L2's paging as L0 last saw it on that vCPU; -ESRCH when that vCPU never
 * left L2 in this context (nothing is known about its paging yet).
 */
static int s1_begin(struct mem_call *c, u64 flags, u64 cr3)
{
	struct nestor_ctx_vcpu v;

	if (vcpu_slot(c, &v) || !v.regs_known)
		return -ESRCH;
	c->by_vcpu = !(flags & NESTOR_MEM_F_CR3);
	c->gen.cr3 = c->by_vcpu ? v.cr3 : cr3;
	c->gen.cr3_gen = c->by_vcpu ? v.cr3_changes : 0;
	if (!(v.cr0 & X86_CR0_PG))
		c->s1_levels = 0;
	else if (v.efer & EFER_LMA)
		c->s1_levels = (v.cr4 & X86_CR4_LA57) ? 5 : 4;
	else
		c->s1_unsupported = true;	/* 32-bit and PAE paging */
	c->nxe = v.efer & EFER_NX;
	c->s1_ready = true;
	return 0;
}

/* What changed while the call ran. */
static void mem_call_finish_gen(struct mem_call *c)
{
	struct nestor_ctx_vcpu v;

	if (atomic64_read(&c->mv->gen) != c->gen.root_gen)
		c->gen.changed |= NESTOR_GEN_ROOT_CHANGED;
	if (READ_ONCE(c->ctx->dead))
		c->gen.changed |= NESTOR_GEN_ROOT_STALE;
	if (c->by_vcpu && (vcpu_slot(c, &v) || v.cr3_changes != c->gen.cr3_gen))
		c->gen.changed |= NESTOR_GEN_CR3_CHANGED;
}

/* ---------------------------------------------------------------- */
/* NESTOR_IOC_TRANSLATE                                               */
/* ---------------------------------------------------------------- */

static long ioc_translate(void __user *argp, size_t usize)
{
	struct nestor_translate *x, in;
	struct walk w1 = {}, w2 = {};
	struct mem_call c;
	struct page *page;
	u64 l2pa;
	long err;

	if (usize < sizeof(*x))
		return -EINVAL;
	x = kmalloc(sizeof(*x), GFP_KERNEL);
	if (!x)
		return -ENOMEM;
	err = copy_struct_from_user(x, sizeof(*x), argp, usize);
	if (err)
		goto out_free;
	err = -EINVAL;
	if (x->pad || x->status || x->l2_levels || x->nested_levels ||
	    (x->flags & NESTOR_MEM_F_NOCACHE))
		goto out_free;
	err = check_common(x->flags, x->space, &x->target, &x->sig, false);
	if (err)
		goto out_free;

	err = mem_call_begin(&c, &x->target, NESTOR_MEM_F_NOCACHE);
	if (!err && x->space == NESTOR_SPACE_L2_VIRT)
		err = s1_begin(&c, x->flags, x->target.cr3);
	if (err)
		goto out_call;

	/* Only in-fields survive: every out-field is rewritten below. */
	in = *x;
	memset(x, 0, sizeof(*x));
	x->flags = in.flags;
	x->space = in.space;
	x->target = in.target;
	x->addr = in.addr;
	w1.steps = x->l2;
	w2.steps = x->nested;
	l2pa = x->addr;
	if (x->space == NESTOR_SPACE_L2_VIRT) {
		x->status = s1_walk(&c, x->addr, &w1);
		x->l2_levels = w1.nsteps;
		if (x->status)
			goto done;
		l2pa = w1.out;
		x->l2_page_size = w1.size == NO_LIMIT ? 0 : w1.size;
		x->l2_perm = w1.perm;
	}
	x->l2_phys = l2pa;
	if (x->space != NESTOR_SPACE_L1_PHYS) {
		x->status = s2_walk(&c, l2pa, &w2);
		x->nested_levels = w2.nsteps;
		if (x->status)
			goto done;
		x->l1_phys = w2.out;
		x->nested_page_size = w2.size == NO_LIMIT ? 0 : w2.size;
		x->nested_perm = w2.perm;
	} else {
		x->l1_phys = x->addr;
	}
	/* The chain ends in L1 memory, or says that there is none. */
	x->status = l1_page(&c, x->l1_phys >> PAGE_SHIFT, &page);
done:
	mem_call_finish_gen(&c);
	x->gen = c.gen;
	err = 0;
	if (copy_to_user(argp, x, sizeof(*x)))
		err = -EFAULT;
out_call:
	mem_call_end(&c);
out_free:
	kfree(x);
	return err;
}

/* ---------------------------------------------------------------- */
/* NESTOR_IOC_READ                                                    */
/* ---------------------------------------------------------------- */

/*
 * A signed segment goes through a kernel bounce buffer: the bytes hashed
 * are the bytes copied out, whatever L2 or the caller do meanwhile.
 */
static int read_signed(struct mem_call *c, struct nestor_mem_seg *s,
		       struct nestor_mem_sign *sg, void *bounce)
{
	u64 n, got;
	int st;

	s->done = 0;
	while (s->done < s->len) {
		n = min_t(u64, s->len - s->done, PAGE_SIZE);
		st = mem_read(c, s->space, s->addr + s->done, n, bounce, NULL,
			      &got);
		if (got && copy_to_user(u64_to_user_ptr(s->buf + s->done),
					bounce, got))
			return NESTOR_MEM_BAD_BUFFER;
		nestor_mem_sign_data(sg, bounce, got);
		s->done += got;
		if (st)
			return st;
	}
	return NESTOR_MEM_OK;
}

static long ioc_read(void __user *argp, size_t usize)
{
	struct nestor_mem_seg *segs = NULL, *s;
	struct nestor_mem_sign *sg = NULL;
	struct nestor_mem_read r;
	void *bounce = NULL;
	bool need_s1 = false;
	struct mem_call c;
	u64 total = 0;
	void __user *useg;
	u32 i;
	long err;
	int ret;

	if (usize < NESTOR_MEM_READ_SIZE_VER0)
		return -EINVAL;
	err = copy_struct_from_user(&r, sizeof(r), argp, usize);
	if (err)
		return err;
	if (r.nr_ok || r.bytes || r.nested_walks || r.cache_hits)
		return -EINVAL;
	err = check_common(r.flags, NESTOR_SPACE_L2_VIRT, &r.target, &r.sig,
			   true);
	if (err)
		return err;
	if (!r.nr_segs || r.seg_size < sizeof(*segs) || r.seg_size > PAGE_SIZE)
		return -EINVAL;
	if (r.nr_segs > NESTOR_MEM_MAX_SEGS)
		return -E2BIG;

	segs = kvmalloc_array(r.nr_segs, sizeof(*segs), GFP_KERNEL);
	if (!segs)
		return -ENOMEM;
	for (i = 0; i < r.nr_segs; i++) {
		s = &segs[i];
		useg = u64_to_user_ptr(r.segs + (u64)i * r.seg_size);
		err = copy_struct_from_user(s, sizeof(*s), useg, r.seg_size);
		if (err)
			goto out_free;
		err = -EINVAL;
		if (s->flags || s->pad || s->space < NESTOR_SPACE_L2_VIRT ||
		    s->space > NESTOR_SPACE_L1_PHYS)
			goto out_free;
		err = -E2BIG;
		total += s->len;
		if (s->len > NESTOR_MEM_MAX_BYTES ||
		    total > NESTOR_MEM_MAX_BYTES)
			goto out_free;
		need_s1 |= s->space == NESTOR_SPACE_L2_VIRT;
	}
	if (r.flags & NESTOR_MEM_F_SIGN) {
		sg = nestor_mem_sign_begin(&r.sig, &ret);
		err = ret;
		if (!sg)
			goto out_free;
		err = -ENOMEM;
		bounce = kmalloc(PAGE_SIZE, GFP_KERNEL);
		if (!bounce)
			goto out_free;
	}

	err = mem_call_begin(&c, &r.target, r.flags);
	if (!err && need_s1)
		err = s1_begin(&c, r.flags, r.target.cr3);
	if (err)
		goto out_call;
	if (sg)
		nestor_mem_sign_ident(sg, c.ctx, c.mv->vm_id, &r.sig);

	for (i = 0; i < r.nr_segs; i++) {
		s = &segs[i];
		s->done = 0;
		if (s->addr + s->len < s->addr && s->addr + s->len != 0)
			s->status = NESTOR_MEM_RANGE;
		else if (sg)
			s->status = read_signed(&c, s, sg, bounce);
		else
			s->status = mem_read(&c, s->space, s->addr, s->len, NULL,
					     u64_to_user_ptr(s->buf), &s->done);
		s->fail_addr = s->addr + s->done;
		if (sg)
			nestor_mem_sign_seg(sg, s);
		r.bytes += s->done;
		r.nr_ok += !s->status;
		useg = u64_to_user_ptr(r.segs + (u64)i * r.seg_size);
		if (copy_to_user(useg, s, sizeof(*s))) {
			err = -EFAULT;
			goto out_call;
		}
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			goto out_call;
		}
		cond_resched();
	}
	mem_call_finish_gen(&c);
	r.gen = c.gen;
	r.nested_walks = c.nested_walks;
	r.cache_hits = c.cache_hits;
	if (sg) {
		err = nestor_mem_sign_read(sg, &r);
		sg = NULL;
		if (err)
			goto out_call;
	}
	if (copy_to_user(argp, &r, min(usize, sizeof(r))))
		err = -EFAULT;
out_call:
	mem_call_end(&c);
out_free:
	nestor_mem_sign_free(sg);
	kfree(bounce);
	kvfree(segs);
	return err;
}

/* ---------------------------------------------------------------- */
/* NESTOR_IOC_LIST_WALK                                               */
/* ---------------------------------------------------------------- */

/* Open-addressed set of link addresses (never 0): cycle detection. */
struct link_set {
	u64 *slot;
	u32 mask;
};

static bool link_set_add(struct link_set *set, u64 link)
{
	u32 i = hash_64(link, 32) & set->mask;

	while (set->slot[i]) {
		if (set->slot[i] == link)
			return false;
		i = (i + 1) & set->mask;
	}
	set->slot[i] = link;
	return true;
}

static int walk_node(struct mem_call *c, struct nestor_list_walk *lw,
		     const struct nestor_walk_field *f, u64 link, void *rec)
{
	struct nestor_walk_record *hdr = rec;
	u64 node = link - lw->link_offset, addr, ptr, done;
	u8 *data = rec + sizeof(*hdr);
	u32 i;
	int st;

	memset(rec, 0, lw->record_size);
	hdr->node = node;
	for (i = 0; i < lw->nr_fields; i++) {
		addr = node + (s64)f[i].offset;
		st = NESTOR_MEM_OK;
		if (f[i].flags & NESTOR_FIELD_F_DEREF) {
			st = mem_read(c, lw->space, addr, sizeof(ptr), &ptr,
				      NULL, &done);
			addr = ptr + (s64)f[i].deref_offset;
		}
		if (!st)
			st = mem_read(c, lw->space, addr, f[i].size, data, NULL,
				      &done);
		if (st) {
			memset(data, 0, f[i].size);
			hdr->bad_fields |= BIT(i);
			if (!hdr->status)
				hdr->status = st;
		}
		data += round_up(f[i].size, 8);
	}
	return hdr->status;
}

static long do_walk(struct mem_call *c, struct nestor_list_walk *lw,
		    const struct nestor_walk_field *f, struct nestor_mem_sign *sg)
{
	struct link_set set;
	u64 link, next, done;
	void *rec;
	long err = 0;

	set.mask = roundup_pow_of_two(2 * lw->max_nodes) - 1;
	set.slot = kvcalloc(set.mask + 1, sizeof(u64), GFP_KERNEL);
	rec = kmalloc(lw->record_size, GFP_KERNEL);
	if (!set.slot || !rec) {
		err = -ENOMEM;
		goto out;
	}

	if (mem_read(c, lw->space, lw->head, sizeof(link), &link, NULL,
		     &done)) {
		lw->end = NESTOR_WALK_END_UNREADABLE;
		goto out;
	}
	for (;;) {
		if (!link) {
			lw->end = NESTOR_WALK_END_NULL;
			break;
		}
		if (link == lw->head) {
			lw->end = NESTOR_WALK_END_HEAD;
			break;
		}
		if (lw->nr_nodes == lw->max_nodes) {
			lw->end = NESTOR_WALK_END_LIMIT;
			break;
		}
		if (!link_set_add(&set, link)) {
			lw->end = NESTOR_WALK_END_CYCLE;
			break;
		}
		if ((u64)(lw->nr_nodes + 1) * lw->record_size >
		    lw->records_len) {
			lw->end = NESTOR_WALK_END_FULL;
			break;
		}
		if (walk_node(c, lw, f, link, rec))
			lw->nr_bad++;
		if (copy_to_user(u64_to_user_ptr(lw->records +
					(u64)lw->nr_nodes * lw->record_size),
				 rec, lw->record_size)) {
			err = -EFAULT;
			break;
		}
		if (sg)
			nestor_mem_sign_data(sg, rec, lw->record_size);
		lw->nr_nodes++;
		if (mem_read(c, lw->space, link + lw->next_offset,
			     sizeof(next), &next, NULL, &done)) {
			lw->end = NESTOR_WALK_END_UNREADABLE;
			break;
		}
		link = next;
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
		cond_resched();
	}
out:
	kfree(rec);
	kvfree(set.slot);
	return err;
}

static long ioc_list_walk(void __user *argp, size_t usize)
{
	struct nestor_walk_field *f = NULL;
	struct nestor_mem_sign *sg = NULL;
	struct nestor_list_walk lw;
	struct mem_call c;
	u32 i, rsize;
	long err;
	int ret;

	if (usize < NESTOR_LIST_WALK_SIZE_VER0)
		return -EINVAL;
	err = copy_struct_from_user(&lw, sizeof(lw), argp, usize);
	if (err)
		return err;
	err = check_common(lw.flags, lw.space, &lw.target, &lw.sig, true);
	if (err)
		return err;
	if (lw.record_size || lw.nr_nodes || lw.nr_bad || lw.end ||
	    lw.nested_walks || lw.cache_hits)
		return -EINVAL;
	if (!lw.max_nodes)
		return -EINVAL;
	if (lw.max_nodes > NESTOR_WALK_MAX_NODES ||
	    lw.nr_fields > NESTOR_WALK_MAX_FIELDS)
		return -E2BIG;
	if (lw.nr_fields && !lw.fields)
		return -EINVAL;

	rsize = sizeof(struct nestor_walk_record);
	if (lw.nr_fields) {
		f = memdup_user(u64_to_user_ptr(lw.fields),
				lw.nr_fields * sizeof(*f));
		if (IS_ERR(f))
			return PTR_ERR(f);
	}
	for (i = 0; i < lw.nr_fields; i++) {
		err = -EINVAL;
		if (!f[i].size || f[i].size > NESTOR_WALK_MAX_FIELD ||
		    (f[i].flags & ~NESTOR_FIELD_F_DEREF) || f[i].pad ||
		    (!(f[i].flags & NESTOR_FIELD_F_DEREF) &&
		     f[i].deref_offset))
			goto out_free;
		rsize += round_up(f[i].size, 8);
	}
	err = -EINVAL;
	if (lw.records_len < rsize)
		goto out_free;
	lw.record_size = rsize;
	if (lw.flags & NESTOR_MEM_F_SIGN) {
		sg = nestor_mem_sign_begin(&lw.sig, &ret);
		err = ret;
		if (!sg)
			goto out_free;
	}

	err = mem_call_begin(&c, &lw.target, lw.flags);
	if (!err && lw.space == NESTOR_SPACE_L2_VIRT)
		err = s1_begin(&c, lw.flags, lw.target.cr3);
	if (!err && sg)
		nestor_mem_sign_ident(sg, c.ctx, c.mv->vm_id, &lw.sig);
	if (!err)
		err = do_walk(&c, &lw, f, sg);
	if (!err) {
		mem_call_finish_gen(&c);
		lw.gen = c.gen;
		lw.nested_walks = c.nested_walks;
		lw.cache_hits = c.cache_hits;
		if (sg) {
			err = nestor_mem_sign_walk(sg, &lw, f);
			sg = NULL;
		}
	}
	if (!err && copy_to_user(argp, &lw, min(usize, sizeof(lw))))
		err = -EFAULT;
	mem_call_end(&c);
out_free:
	nestor_mem_sign_free(sg);
	kfree(f);
	return err;
}

/* ---------------------------------------------------------------- */
/* setup                                                              */
/* ---------------------------------------------------------------- */

long nestor_mem_ioctl(unsigned int nr, void __user *argp, size_t usize)
{
	switch (nr) {
	case _IOC_NR(NESTOR_IOC_TRANSLATE):
		return ioc_translate(argp, usize);
	case _IOC_NR(NESTOR_IOC_READ):
		return ioc_read(argp, usize);
	case _IOC_NR(NESTOR_IOC_LIST_WALK):
		return ioc_list_walk(argp, usize);
	default:
		return -ENOTTY;
	}
}

/*
 * Before the destroy hook goes (main.c): every notifier is unlinked while
 * the registry still knows when a VM dies.
 */
void nestor_mem_exit(void)
{
	struct nestor_mem_vm *mv;
	struct kvm *kvm;

	nestor_mem_sign_exit();
	while ((mv = nestor_registry_detach_mem(&kvm))) {
		mem_untrack_all(kvm, mv);
		kvm_page_track_unregister_notifier(kvm, &mv->node);
		kvm_put_kvm(kvm);
		kfree(mv);
	}
}
