// SPDX-License-Identifier: GPL-2.0
/*
 * The out-of-band console (Documentation/console.rst): an L2's serial port
 * is completed in L0 by a 16550A model (uart16550.c), so L1's device
 * emulation never sees a byte of it.
 *
 * One struct nestor_console per diverted L2, holding a claim on the UART's
 * eight ports for that L2 context.  A console armed on an L1 VM's process
 * (NESTOR_CONSOLE_BY_PID) has no L2 yet: it binds to one at that L2's first
 * port access (console_bind()), so not a byte reaches L1 before it.
 * Output goes into a ring that every attached reader reads at its own
 * position; a byte leaves the ring when all readers have it.  When the
 * ring is full the UART's transmitter keeps the bytes (LSR.THRE clear) and
 * the guest waits, unless drop-oldest was chosen.  Input comes from the
 * one writer through a small buffer that feeds the receiver FIFO while it
 * has room; writes block when it is full.
 *
 * Locking: console->lock (a spinlock: the claim handler runs on the vCPU
 * thread and only ever takes it briefly) protects the UART, the rings and
 * the client list.  consoles_mutex protects the list of consoles and
 * enable/disable.  Clients hold a reference on their console; disable
 * removes the claim (synchronize_srcu() in nestor_claim_del(): no exit is
 * half-done afterwards) and wakes the clients, who then see EOF/EPIPE.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>

#include "nestor.h"
#include "uart16550.h"

#define CONSOLE_IN_SIZE		4096	/* input buffer (power of two) */
#define CONSOLE_CHUNK		4096	/* bounce buffer per read()/write() */
/*
 * While output streams, readers are woken at most once per CONSOLE_WAKE_NS
 * (see readers_due()): 500 times a second, more than a terminal shows.
 */
#define CONSOLE_WAKE_NS		(2 * NSEC_PER_MSEC)

struct nestor_console {
	struct list_head node;		/* consoles */
	refcount_t ref;
	/*
	 * The L2 context it was enabled on or bound to; 0 while an armed
	 * console waits.  Set once, with a release after vm_id and vmcs12:
	 * the L2 it follows, same L1 VM, same vmcs12/vmcb12 address.
	 */
	u32 l2_id;
	u32 vm_id;
	u64 vmcs12;
	/* armed (NESTOR_CONSOLE_BY_PID): its VMM, the first context it may take */
	struct pid *armed_pid;
	u32 floor;
	u32 passed_over;		/* last context found to have run before */
	pid_t vm_pid;			/* enabled on a context: its VMM */
	u32 flags;
	u16 port;
	bool dead;			/* disabled: clients see EOF/EPIPE */
	struct nestor_claim claim;
	spinlock_t lock;		/* all below, and clients' pos */
	struct nestor_uart uart;
	/* output ring: bytes [tail, head) of the stream, ring_size big */
	u8 *ring;
	u32 ring_size;
	u64 head, tail;
	/* input buffer: bytes [in_tail, in_head) */
	u8 in[CONSOLE_IN_SIZE];
	u64 in_head, in_tail;
	struct list_head clients;
	unsigned int readers;
	bool writer;
	wait_queue_head_t rwait, wwait;
	/* reader wakeups: see readers_due() */
	struct hrtimer wake_timer;
	u64 last_wake;
	bool input_taken, wake_armed;
	bool irq_line;
	u64 tx_bytes, rx_bytes, dropped, port_exits, string_exits;
	u64 irq_raised;
};

struct console_client {
	struct list_head node;
	struct nestor_console *con;
	u32 flags;			/* NESTOR_CONSOLE_ATTACH_* */
	u64 pos;			/* readers: next byte to read */
	/* signed I/O (console_sign.c): random at attach, fixed */
	u8 session[NESTOR_CONSOLE_SESSION_LEN];
	u64 in_seq;			/* next SWRITE's seq; con->lock */
};

static LIST_HEAD(consoles);
static DEFINE_MUTEX(consoles_mutex);

static void console_put(struct nestor_console *con)
{
	if (refcount_dec_and_test(&con->ref)) {
		put_pid(con->armed_pid);
		vfree(con->ring);
		kfree(con);
	}
}

/*
 * consoles_mutex held.  By pid: the console last armed on the process
 * numbered @id in the caller's pid namespace, bound or not; the number
 * still names it after the process is gone, so that it can be disabled.
 */
static struct nestor_console *console_find(u32 id, u32 flags)
{
	struct nestor_console *con, *found = NULL;

	if (!id)
		return NULL;
	list_for_each_entry(con, &consoles, node) {
		if (!(flags & NESTOR_CONSOLE_BY_PID)) {
			if (READ_ONCE(con->l2_id) == id)
				return con;
		} else if (con->armed_pid && pid_vnr(con->armed_pid) == id) {
			found = con;
		}
	}
	return found;
}

/* ---------------------------------------------------------------- */
/* rings; console->lock held                                          */
/* ---------------------------------------------------------------- */

/* The UART's output sink. */
static bool ring_put(void *priv, u8 byte)
{
	struct nestor_console *con = priv;
	struct console_client *cl;

	if (con->head - con->tail == con->ring_size) {
		if (!(con->flags & NESTOR_CONSOLE_F_DROP_OLDEST))
			return false;	/* THRE stays clear: the guest waits */
		con->tail++;
		con->dropped++;
		list_for_each_entry(cl, &con->clients, node)
			if ((cl->flags & NESTOR_CONSOLE_ATTACH_READ) &&
			    cl->pos < con->tail)
				cl->pos = con->tail;
	}
	con->ring[con->head++ & (con->ring_size - 1)] = byte;
	con->tx_bytes++;
	return true;
}

/* The oldest byte some reader still needs; none: keep what is there. */
static void ring_release(struct nestor_console *con)
{
	struct console_client *cl;
	u64 min = con->head;
	bool any = false;

	list_for_each_entry(cl, &con->clients, node) {
		if (cl->flags & NESTOR_CONSOLE_ATTACH_READ) {
			min = min(min, cl->pos);
			any = true;
		}
	}
	if (any)
		con->tail = min;
}

/* con->lock held, room checked: @len bytes into the input buffer. */
static void in_put_locked(struct nestor_console *con, const u8 *src,
			  size_t len)
{
	while (len--)
		con->in[con->in_head++ & (CONSOLE_IN_SIZE - 1)] = *src++;
}

static bool in_room(struct nestor_console *con)
{
	return READ_ONCE(con->in_head) - READ_ONCE(con->in_tail) <
	       CONSOLE_IN_SIZE;
}

/* Input buffer -> receiver FIFO, as far as the FIFO has room. */
static void feed_rx(struct nestor_console *con, u64 now)
{
	while (con->in_head != con->in_tail) {
		u64 off = con->in_tail & (CONSOLE_IN_SIZE - 1);
		unsigned int len = min_t(u64, con->in_head - con->in_tail,
					 CONSOLE_IN_SIZE - off);
		unsigned int n = nestor_uart_rx_push(&con->uart, con->in + off,
						     len, now);

		con->in_tail += n;
		con->rx_bytes += n;
		if (n < len)
			break;
	}
}

static void note_irq(struct nestor_console *con)
{
	bool line = nestor_uart_irq_line(&con->uart);

	if (line && !con->irq_line)
		con->irq_raised++;
	con->irq_line = line;
}

/*
 * Whether new output wakes the readers now.  Waking a reader for every
 * byte costs more than the byte: a reader on the vCPU's own CPU preempts
 * it, reads one byte and sleeps again, two context switches per byte
 * (selftests/bench/README.md).  So while output streams, readers are woken
 * at most once per CONSOLE_WAKE_NS, by wake_timer for what came since the
 * last wakeup; poll() and read() see every byte at once as before.  What
 * cannot wait goes now: the first output after a quiet spell, output after
 * the guest took input (a keystroke's echo), and a ring too full for the
 * transmitter (the guest waits on THRE).
 */
static bool readers_due(struct nestor_console *con, u64 now)
{
	/* Nobody to wake (an attach reads what is there): no timer either. */
	if (!con->readers)
		return false;
	if (con->input_taken || con->uart.tx_count ||
	    now - con->last_wake >= CONSOLE_WAKE_NS) {
		con->input_taken = false;
		con->last_wake = now;
		return true;
	}
	if (!con->wake_armed) {
		con->wake_armed = true;
		hrtimer_start(&con->wake_timer,
			      ns_to_ktime(con->last_wake + CONSOLE_WAKE_NS),
			      HRTIMER_MODE_ABS);
	}
	return false;
}

static enum hrtimer_restart wake_timer_fn(struct hrtimer *t)
{
	struct nestor_console *con = container_of(t, struct nestor_console,
						  wake_timer);
	unsigned long flags;

	spin_lock_irqsave(&con->lock, flags);
	con->wake_armed = false;
	con->last_wake = ktime_get_ns();
	spin_unlock_irqrestore(&con->lock, flags);
	wake_up_interruptible(&con->rwait);
	return HRTIMER_NORESTART;
}

/* ---------------------------------------------------------------- */
/* the claim: L2's port accesses                                      */
/* ---------------------------------------------------------------- */

/*
 * An armed console takes the first context of its process's VM that L1
 * made after the arming (id >= floor), at that L2's first port access,
 * which is the first byte it could have sent to L1.  Not a context whose
 * vmcs12 ran under an older context of that VM: that is an L2 that ran
 * before, given a new nested root (its console is not ours to take).
 * L1 still chooses which L2 that is (Documentation/console.rst).
 */
static void console_bind(struct nestor_console *con,
			 const struct nestor_l2ctx *ctx)
{
	unsigned long flags;

	if (task_tgid(current) != con->armed_pid || ctx->id < con->floor ||
	    READ_ONCE(con->passed_over) == ctx->id)
		return;
	/* Once per context: another L2's port exits skip the registry. */
	if (nestor_ctx_ran_before(ctx, con->floor)) {
		WRITE_ONCE(con->passed_over, ctx->id);
		return;
	}
	spin_lock_irqsave(&con->lock, flags);
	if (!con->l2_id) {
		con->vm_id = ctx->vm_id;
		con->vmcs12 = ctx->vmcs12;
		/* Pairs with console_serves(): vm_id, vmcs12 are set. */
		smp_store_release(&con->l2_id, ctx->id);
	}
	spin_unlock_irqrestore(&con->lock, flags);
}

/*
 * The console serves the context it names and the later contexts of the
 * same vmcs12/vmcb12 in the same L1 VM: L1's KVM gives an L2 a new nested
 * root whenever it rebuilds its TDP roots (every memslot change of a
 * booting guest does), and a new root is a new context
 * (Documentation/console.rst).
 */
static bool console_serves(struct nestor_console *con,
			   const struct nestor_l2ctx *ctx)
{
	/* Pairs with console_bind(): a bound console's L2 is whole. */
	u32 l2_id = smp_load_acquire(&con->l2_id);

	if (!l2_id && con->armed_pid) {
		console_bind(con, ctx);
		/* As above. */
		l2_id = smp_load_acquire(&con->l2_id);
	}
	if (!l2_id)
		return false;
	return ctx->id == l2_id ||
	       (ctx->id > l2_id && ctx->vmcs12 == con->vmcs12 &&
		ctx->vm_id == con->vm_id);
}

static enum nestor_claim_result console_handle(struct nestor_exit_ctx *ec,
					       void *priv)
{
	struct nestor_console *con = priv;
	const struct nestor_exit *e = &ec->exit;
	struct kvm_vcpu *vcpu = ec->vcpu;
	u64 now = ktime_get_ns();
	u64 rax, val = 0, tx_before, in_before;
	unsigned long flags;
	bool woke_tx, woke_in;
	unsigned int i;

	/* The claim covers every context (l2_id 0): the console picks. */
	if (!console_serves(con, ec->ctx))
		return NESTOR_PASS;

	/*
	 * String I/O moves bytes between the port and L2 memory, which L1
	 * controls anyway; completing it would need L2's segments and page
	 * tables.  It goes to L1, counted (Documentation/console.rst).
	 */
	if (e->string) {
		spin_lock_irqsave(&con->lock, flags);
		con->string_exits++;
		spin_unlock_irqrestore(&con->lock, flags);
		return NESTOR_PASS;
	}

	rax = nestor_reg_read(vcpu, VCPU_REGS_RAX);
	spin_lock_irqsave(&con->lock, flags);
	tx_before = con->head;
	in_before = con->in_tail;
	/*
	 * Input enters the receiver when the guest looks for it: bytes
	 * written before its driver set the UART up wait here instead of
	 * being lost to its FIFO resets.
	 */
	if (e->in)
		feed_rx(con, now);
	/* A 16- or 32-bit access touches consecutive registers. */
	for (i = 0; i < e->size; i++) {
		unsigned int off = e->port + i - con->port;

		if (e->in)
			val |= (u64)nestor_uart_read(&con->uart, off, now) <<
			       (8 * i);
		else
			nestor_uart_write(&con->uart, off, rax >> (8 * i), now);
	}
	note_irq(con);
	con->port_exits++;
	woke_in = con->in_tail != in_before;
	if (woke_in)
		con->input_taken = true;
	woke_tx = con->head != tx_before && readers_due(con, now);
	spin_unlock_irqrestore(&con->lock, flags);

	if (woke_tx)
		wake_up_interruptible(&con->rwait);
	if (woke_in)
		wake_up_interruptible(&con->wwait);

	if (e->in) {
		/* IN AL/AX keep RAX's other bits; IN EAX zero-extends. */
		if (e->size == 1)
			rax = (rax & ~0xffull) | val;
		else if (e->size == 2)
			rax = (rax & ~0xffffull) | val;
		else
			rax = val;
		nestor_reg_write(vcpu, VCPU_REGS_RAX, rax);
	}
	nestor_skip_io_instruction(vcpu);
	return NESTOR_COMPLETED;
}

/* ---------------------------------------------------------------- */
/* the client file                                                    */
/* ---------------------------------------------------------------- */

/*
 * con->lock held, something to read: up to @len bytes into @dst from the
 * client's position, which moves past them.  Returns the count.
 */
static size_t take_locked(struct nestor_console *con, struct console_client *cl,
			  u8 *dst, size_t len)
{
	size_t n, first;

	n = min_t(u64, len, con->head - cl->pos);
	first = min_t(size_t, n, con->ring_size -
		      (cl->pos & (con->ring_size - 1)));
	memcpy(dst, con->ring + (cl->pos & (con->ring_size - 1)), first);
	memcpy(dst + first, con->ring, n - first);
	cl->pos += n;
	ring_release(con);
	/* Room again: bytes the guest is waiting to send can go. */
	nestor_uart_tx_drain(&con->uart, ktime_get_ns());
	note_irq(con);
	return n;
}

static ssize_t console_read(struct file *file, char __user *buf, size_t len,
			    loff_t *ppos)
{
	struct console_client *cl = file->private_data;
	struct nestor_console *con = cl->con;
	size_t n;
	u8 *bounce;
	int err;

	if (!(cl->flags & NESTOR_CONSOLE_ATTACH_READ))
		return -EBADF;
	if (!len)
		return 0;
	len = min_t(size_t, len, CONSOLE_CHUNK);
	bounce = kmalloc(len, GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;

	spin_lock_irq(&con->lock);
	while (cl->pos == con->head && !con->dead) {
		spin_unlock_irq(&con->lock);
		if (file->f_flags & O_NONBLOCK) {
			kfree(bounce);
			return -EAGAIN;
		}
		err = wait_event_interruptible(con->rwait,
					       READ_ONCE(cl->pos) !=
					       READ_ONCE(con->head) ||
					       READ_ONCE(con->dead));
		if (err) {
			kfree(bounce);
			return err;
		}
		spin_lock_irq(&con->lock);
	}
	n = take_locked(con, cl, bounce, len);
	spin_unlock_irq(&con->lock);

	if (n && copy_to_user(buf, bounce, n))
		n = -EFAULT;
	kfree(bounce);
	return n;
}

static ssize_t console_write(struct file *file, const char __user *buf,
			     size_t len, loff_t *ppos)
{
	struct console_client *cl = file->private_data;
	struct nestor_console *con = cl->con;
	size_t done = 0;
	u8 *bounce;
	int err = 0;

	if (!(cl->flags & NESTOR_CONSOLE_ATTACH_WRITE))
		return -EBADF;
	bounce = kmalloc(CONSOLE_CHUNK, GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;

	while (done < len) {
		size_t chunk = min_t(size_t, len - done, CONSOLE_CHUNK);
		size_t n = 0;

		if (copy_from_user(bounce, buf + done, chunk)) {
			err = -EFAULT;
			break;
		}
		while (n < chunk) {
			size_t room;

			spin_lock_irq(&con->lock);
			if (con->dead) {
				spin_unlock_irq(&con->lock);
				err = -EPIPE;
				goto out;
			}
			room = CONSOLE_IN_SIZE - (con->in_head - con->in_tail);
			room = min(room, chunk - n);
			in_put_locked(con, bounce + n, room);
			n += room;
			done += room;
			spin_unlock_irq(&con->lock);
			if (n == chunk)
				break;
			/* Full: wait for the guest to read (no byte is lost). */
			if (file->f_flags & O_NONBLOCK) {
				err = -EAGAIN;
				goto out;
			}
			err = wait_event_interruptible(con->wwait,
						       in_room(con) ||
						       READ_ONCE(con->dead));
			if (err)
				goto out;
		}
	}
out:
	kfree(bounce);
	return done ? done : err;
}

static __poll_t console_poll(struct file *file, poll_table *wait)
{
	struct console_client *cl = file->private_data;
	struct nestor_console *con = cl->con;
	__poll_t mask = 0;

	if (cl->flags & NESTOR_CONSOLE_ATTACH_READ)
		poll_wait(file, &con->rwait, wait);
	if (cl->flags & NESTOR_CONSOLE_ATTACH_WRITE)
		poll_wait(file, &con->wwait, wait);
	spin_lock_irq(&con->lock);
	if ((cl->flags & NESTOR_CONSOLE_ATTACH_READ) && cl->pos != con->head)
		mask |= EPOLLIN | EPOLLRDNORM;
	if ((cl->flags & NESTOR_CONSOLE_ATTACH_WRITE) &&
	    con->in_head - con->in_tail < CONSOLE_IN_SIZE)
		mask |= EPOLLOUT | EPOLLWRNORM;
	if (con->dead)
		mask |= EPOLLHUP;
	spin_unlock_irq(&con->lock);
	return mask;
}

static int console_release(struct inode *inode, struct file *file)
{
	struct console_client *cl = file->private_data;
	struct nestor_console *con = cl->con;

	spin_lock_irq(&con->lock);
	list_del(&cl->node);
	if (cl->flags & NESTOR_CONSOLE_ATTACH_READ)
		con->readers--;
	if (cl->flags & NESTOR_CONSOLE_ATTACH_WRITE)
		con->writer = false;
	/* A reader leaving may free ring space: unblock the guest. */
	ring_release(con);
	nestor_uart_tx_drain(&con->uart, ktime_get_ns());
	spin_unlock_irq(&con->lock);
	kfree(cl);
	console_put(con);
	return 0;
}

/* ---------------------------------------------------------------- */
/* signed I/O on a client file, for console_sign.c                    */
/* ---------------------------------------------------------------- */

/* What a signature names: the console's L2 and the file's session. */
int nestor_console_who(struct console_client *cl, u32 need, u32 *l2_id,
		       u8 session[NESTOR_CONSOLE_SESSION_LEN])
{
	if ((cl->flags & need) != need)
		return -EBADF;
	/* Pairs with console_bind(). */
	*l2_id = smp_load_acquire(&cl->con->l2_id);
	memcpy(session, cl->session, NESTOR_CONSOLE_SESSION_LEN);
	return 0;
}

/*
 * read() that never waits, with what a signature covers: the position of
 * the first byte, the drop count, end of file, the L2.
 */
int nestor_console_take(struct console_client *cl, u8 *dst, u32 len,
			struct nestor_console_taken *t)
{
	struct nestor_console *con = cl->con;

	if (!(cl->flags & NESTOR_CONSOLE_ATTACH_READ))
		return -EBADF;
	spin_lock_irq(&con->lock);
	t->pos = cl->pos;
	t->done = cl->pos == con->head ? 0 : take_locked(con, cl, dst, len);
	t->dropped = con->dropped;
	t->eof = con->dead && cl->pos == con->head;
	t->l2_id = con->l2_id;
	spin_unlock_irq(&con->lock);
	return 0;
}

/*
 * write() of all @len bytes or none, only as message @seq of this file
 * (its MAC was checked): a replay or a gap is ESTALE, and the count moves
 * only when the bytes went in.
 */
int nestor_console_give(struct console_client *cl, const u8 *src, u32 len,
			u64 seq)
{
	struct nestor_console *con = cl->con;
	int err = 0;

	if (!(cl->flags & NESTOR_CONSOLE_ATTACH_WRITE))
		return -EBADF;
	spin_lock_irq(&con->lock);
	if (seq != cl->in_seq)
		err = -ESTALE;
	else if (con->dead)
		err = -EPIPE;
	else if (CONSOLE_IN_SIZE - (con->in_head - con->in_tail) < len)
		err = -EAGAIN;
	if (!err) {
		in_put_locked(con, src, len);
		cl->in_seq++;
	}
	spin_unlock_irq(&con->lock);
	return err;
}

static long console_file_ioctl(struct file *file, unsigned int cmd,
			       unsigned long arg)
{
	if (_IOC_TYPE(cmd) != NESTOR_IOC_MAGIC)
		return -ENOTTY;
	return nestor_console_sign_ioctl(file->private_data, cmd,
					 (void __user *)arg);
}

static const struct file_operations console_fops = {
	.owner = THIS_MODULE,
	.read = console_read,
	.write = console_write,
	.poll = console_poll,
	.unlocked_ioctl = console_file_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = console_release,
	.llseek = no_llseek,
};

/* ---------------------------------------------------------------- */
/* ioctls                                                             */
/* ---------------------------------------------------------------- */

/* A console ioctl's structure: at least @size bytes, more only if zero. */
int nestor_console_get_arg(void *dst, size_t size, void __user *argp,
			   size_t usize)
{
	if (usize < size)
		return -EINVAL;
	return copy_struct_from_user(dst, size, argp, usize);
}

/* Names the L2 context @l2_id: its VM.  ENOENT if there is none. */
static int target_l2(struct nestor_console *con, u32 l2_id)
{
	struct nestor_l2ctx *ctx = l2_id ? nestor_ctx_get_by_id(l2_id) : NULL;

	if (!ctx)
		return -ENOENT;
	/* A retired context may have outlived its VM: dead is set first. */
	rcu_read_lock();
	if (!READ_ONCE(ctx->dead))
		con->vm_id = ctx->vm_id;
	rcu_read_unlock();
	con->vmcs12 = ctx->vmcs12;
	con->l2_id = l2_id;
	con->vm_pid = ctx->vm_pid;
	nestor_ctx_put(ctx);
	return con->vm_id ? 0 : -ENOENT;
}

/* Arms on the process numbered @nr: its L2s made from now on. */
static int target_pid(struct nestor_console *con, u32 nr)
{
	struct pid *pid = nr && nr <= PID_MAX_LIMIT ? find_get_pid(nr) : NULL;
	bool leader;

	if (!pid)
		return -ESRCH;
	rcu_read_lock();
	/* A thread's id is not a VMM's: KVM's vCPU threads have its tgid. */
	leader = !!pid_task(pid, PIDTYPE_TGID);
	rcu_read_unlock();
	if (!leader) {
		put_pid(pid);
		return -ESRCH;
	}
	con->armed_pid = pid;
	con->floor = nestor_registry_next_ctx_id();
	return 0;
}

/* consoles_mutex held: why @con may not be added, or 0. */
static int enable_conflict(const struct nestor_console *con)
{
	const struct nestor_console *other;
	u32 bound;

	list_for_each_entry(other, &consoles, node) {
		bound = READ_ONCE(other->l2_id);
		if (con->armed_pid) {
			/* One console per process may wait for its L2. */
			if (other->armed_pid == con->armed_pid && !bound)
				return -EEXIST;
			continue;
		}
		if (bound == con->l2_id)
			return -EEXIST;
		/*
		 * A console armed on this L2's process waits and may take this
		 * context at its first port access: two would claim it.
		 */
		if (!bound && other->armed_pid &&
		    pid_nr(other->armed_pid) == con->vm_pid &&
		    con->l2_id >= other->floor)
			return -EEXIST;
	}
	return 0;
}

static long ioc_enable(void __user *argp, size_t usize)
{
	struct nestor_console_enable a;
	struct nestor_console *con;
	int err;

	err = nestor_console_get_arg(&a, sizeof(a), argp, usize);
	if (err)
		return err;
	if ((a.flags & ~(NESTOR_CONSOLE_F_ALL | NESTOR_CONSOLE_BY_PID)) ||
	    a.pad || a.pad2)
		return -EINVAL;
	if (!a.port)
		a.port = NESTOR_CONSOLE_DEFAULT_PORT;
	if (!a.ring_size)
		a.ring_size = NESTOR_CONSOLE_DEFAULT_RING;
	if (a.port & 7 || !is_power_of_2(a.ring_size) ||
	    a.ring_size < NESTOR_CONSOLE_MIN_RING ||
	    a.ring_size > NESTOR_CONSOLE_MAX_RING)
		return -EINVAL;
	con = kzalloc(sizeof(*con), GFP_KERNEL);
	if (!con)
		return -ENOMEM;
	refcount_set(&con->ref, 1);
	if (a.flags & NESTOR_CONSOLE_BY_PID)
		err = target_pid(con, a.l1_pid);
	else
		err = target_l2(con, a.l2_id);
	if (err)
		goto out;
	err = -ENOMEM;
	con->ring = vmalloc(a.ring_size);
	if (!con->ring)
		goto out;
	con->flags = a.flags & NESTOR_CONSOLE_F_ALL;
	con->port = a.port;
	con->ring_size = a.ring_size;
	spin_lock_init(&con->lock);
	INIT_LIST_HEAD(&con->clients);
	init_waitqueue_head(&con->rwait);
	init_waitqueue_head(&con->wwait);
	hrtimer_init(&con->wake_timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS);
	con->wake_timer.function = wake_timer_fn;
	nestor_uart_init(&con->uart, ring_put, con);
	con->claim = (struct nestor_claim){
		.kind = NESTOR_EXIT_IO,
		.l2_id = 0,		/* console_handle() picks its L2 */
		.port_first = a.port,
		.port_last = a.port + 7,
		.handle = console_handle,
		.priv = con,
	};

	mutex_lock(&consoles_mutex);
	err = enable_conflict(con);
	if (!err)
		err = nestor_claim_add(&con->claim);
	if (!err)
		list_add_tail(&con->node, &consoles);
	mutex_unlock(&consoles_mutex);
out:
	if (err)
		console_put(con);
	return err;
}

/* consoles_mutex held: the claim goes, then the clients learn it. */
static void console_disable(struct nestor_console *con)
{
	list_del(&con->node);
	/* Waits for handlers in flight: no exit is left half-done. */
	nestor_claim_del(&con->claim);
	/* Only handlers arm it: it stays off now. */
	hrtimer_cancel(&con->wake_timer);
	spin_lock_irq(&con->lock);
	con->dead = true;
	spin_unlock_irq(&con->lock);
	wake_up_interruptible_all(&con->rwait);
	wake_up_interruptible_all(&con->wwait);
	console_put(con);
}

static long ioc_disable(void __user *argp, size_t usize)
{
	struct nestor_console_id a;
	struct nestor_console *con;
	int err;

	err = nestor_console_get_arg(&a, sizeof(a), argp, usize);
	if (err)
		return err;
	if (a.flags & ~NESTOR_CONSOLE_BY_PID)
		return -EINVAL;
	mutex_lock(&consoles_mutex);
	con = console_find(a.l2_id, a.flags);
	if (con)
		console_disable(con);
	mutex_unlock(&consoles_mutex);
	return con ? 0 : -ENOENT;
}

/*
 * ENOENT: no such L2, or no console armed on that process; ENXIO: the L2
 * exists but has no console.
 */
static int no_console_error(u32 l2_id, u32 flags)
{
	struct nestor_l2ctx *ctx = NULL;

	if (l2_id && !(flags & NESTOR_CONSOLE_BY_PID))
		ctx = nestor_ctx_get_by_id(l2_id);
	nestor_ctx_put(ctx);
	return ctx ? -ENXIO : -ENOENT;
}

static long ioc_attach(void __user *argp, size_t usize)
{
	struct nestor_console_attach a;
	struct console_client *cl;
	struct nestor_console *con;
	struct file *file;
	int err, fd;

	err = nestor_console_get_arg(&a, sizeof(a), argp, usize);
	if (err)
		return err;
	if (!(a.flags & NESTOR_CONSOLE_ATTACH_ALL) ||
	    (a.flags & ~(NESTOR_CONSOLE_ATTACH_ALL | NESTOR_CONSOLE_BY_PID)) ||
	    a.pad || a.fd)
		return -EINVAL;
	cl = kzalloc(sizeof(*cl), GFP_KERNEL);
	if (!cl)
		return -ENOMEM;
	cl->flags = a.flags;
	get_random_bytes(cl->session, sizeof(cl->session));

	mutex_lock(&consoles_mutex);
	con = console_find(a.l2_id, a.flags);
	if (!con) {
		mutex_unlock(&consoles_mutex);
		kfree(cl);
		return no_console_error(a.l2_id, a.flags);
	}
	spin_lock_irq(&con->lock);
	if ((a.flags & NESTOR_CONSOLE_ATTACH_WRITE) && con->writer) {
		spin_unlock_irq(&con->lock);
		mutex_unlock(&consoles_mutex);
		kfree(cl);
		return -EBUSY;
	}
	/* Reserve the writer slot before the file exists. */
	if (a.flags & NESTOR_CONSOLE_ATTACH_WRITE)
		con->writer = true;
	spin_unlock_irq(&con->lock);
	refcount_inc(&con->ref);
	cl->con = con;
	mutex_unlock(&consoles_mutex);

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		err = fd;
		goto fail;
	}
	a.fd = fd;
	if (copy_to_user(argp, &a, sizeof(a))) {
		err = -EFAULT;
		goto fail_fd;
	}
	file = anon_inode_getfile("[nestor-console]", &console_fops, cl,
				  (a.flags & NESTOR_CONSOLE_ATTACH_WRITE ?
				   O_RDWR : O_RDONLY));
	if (IS_ERR(file)) {
		err = PTR_ERR(file);
		goto fail_fd;
	}
	spin_lock_irq(&con->lock);
	/* A new reader starts at the oldest byte still in the ring. */
	cl->pos = con->tail;
	list_add(&cl->node, &con->clients);
	if (a.flags & NESTOR_CONSOLE_ATTACH_READ)
		con->readers++;
	spin_unlock_irq(&con->lock);
	fd_install(fd, file);
	return 0;
fail_fd:
	put_unused_fd(fd);
fail:
	spin_lock_irq(&con->lock);
	if (a.flags & NESTOR_CONSOLE_ATTACH_WRITE)
		con->writer = false;
	spin_unlock_irq(&con->lock);
	kfree(cl);
	console_put(con);
	return err;
}

static long ioc_status(void __user *argp, size_t usize)
{
	struct nestor_console_status s;
	struct nestor_console *con;
	struct nestor_uart *u;
	u32 id, flags;
	int err;

	err = nestor_console_get_arg(&s, sizeof(s), argp, usize);
	if (err)
		return err;
	/* Out-fields are not checked: a caller may pass a used struct back. */
	if (s.flags & ~NESTOR_CONSOLE_BY_PID)
		return -EINVAL;
	id = s.l2_id;
	flags = s.flags;
	memset(&s, 0, sizeof(s));
	s.l2_id = id;
	s.flags = flags;

	mutex_lock(&consoles_mutex);
	con = console_find(id, flags);
	if (!con) {
		mutex_unlock(&consoles_mutex);
		return no_console_error(id, flags);
	}
	if (con->armed_pid)
		s.armed_pid = pid_vnr(con->armed_pid);
	spin_lock_irq(&con->lock);
	u = &con->uart;
	s.console_flags = con->flags;
	s.ring_size = con->ring_size;
	s.port = con->port;
	s.ier = u->ier;
	s.iir = nestor_uart_iir(u) | (u->fcr & UART_FCR_ENABLE ?
				      UART_IIR_FIFO : 0);
	s.lcr = u->lcr;
	s.mcr = u->mcr;
	/* LSR without the read side effects. */
	s.lsr = u->lsr_err | (u->rx_count ? UART_LSR_DR : 0) |
		(u->tx_count ? 0 : UART_LSR_THRE | UART_LSR_TEMT);
	s.msr = u->msr_lines | u->msr_delta;
	s.divisor = u->dll | u->dlm << 8;
	s.irq_mode = NESTOR_CONSOLE_IRQ_POLLING;
	s.readers = con->readers;
	s.writer = con->writer;
	s.serving_l2_id = con->l2_id;
	s.tx_bytes = con->tx_bytes;
	s.rx_bytes = con->rx_bytes;
	s.buffered = con->head - con->tail;
	s.dropped = con->dropped;
	s.port_exits = con->port_exits;
	s.string_exits = con->string_exits;
	s.irq_raised = con->irq_raised;
	spin_unlock_irq(&con->lock);
	mutex_unlock(&consoles_mutex);

	if (copy_to_user(argp, &s, min_t(size_t, usize, sizeof(s))))
		return -EFAULT;
	return 0;
}

long nestor_console_ioctl(unsigned int cmd, void __user *argp)
{
	unsigned int dir = _IOC_DIR(cmd);
	size_t usize = _IOC_SIZE(cmd);

	switch (_IOC_NR(cmd)) {
	case _IOC_NR(NESTOR_IOC_CONSOLE_ENABLE):
		return dir == _IOC_WRITE ? ioc_enable(argp, usize) : -ENOTTY;
	case _IOC_NR(NESTOR_IOC_CONSOLE_DISABLE):
		return dir == _IOC_WRITE ? ioc_disable(argp, usize) : -ENOTTY;
	case _IOC_NR(NESTOR_IOC_CONSOLE_ATTACH):
		return dir == (_IOC_READ | _IOC_WRITE) ?
			ioc_attach(argp, usize) : -ENOTTY;
	case _IOC_NR(NESTOR_IOC_CONSOLE_STATUS):
		return dir == (_IOC_READ | _IOC_WRITE) ?
			ioc_status(argp, usize) : -ENOTTY;
	default:
		return -ENOTTY;
	}
}

void nestor_console_exit(void)
{
	struct nestor_console *con, *tmp;

	/* Clients hold a module reference: none is left at this point. */
	mutex_lock(&consoles_mutex);
	list_for_each_entry_safe(con, tmp, &consoles, node)
		console_disable(con);
	mutex_unlock(&consoles_mutex);
}
