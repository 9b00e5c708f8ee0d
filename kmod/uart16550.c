// SPDX-License-Identifier: GPL-2.0
/*
 * 16550A UART model.  Rules cited as [DS ...] come from the National
 * Semiconductor (now TI) PC16550D datasheet, "PC16550D Universal
 * Asynchronous Receiver/Transmitter with FIFOs" (SNLS378): section 8
 * (registers), table II (register addresses), table IV (reset values),
 * table VI (interrupt control).
 */
#include "uart16550.h"

#ifndef __KERNEL__
#include <string.h>
#else
#include <linux/string.h>
#endif

#define LSR_ERR_BITS	(UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)
#define MSR_LINE_BITS	(UART_MSR_CTS | UART_MSR_DSR | UART_MSR_RI | UART_MSR_DCD)

static bool fifo_mode(const struct nestor_uart *u)
{
	return u->fcr & UART_FCR_ENABLE;
}

/* [DS 8.3] Without FIFOs the receiver and transmitter hold one byte. */
static unsigned int depth(const struct nestor_uart *u)
{
	return fifo_mode(u) ? UART_FIFO_SIZE : 1;
}

static bool loopback(const struct nestor_uart *u)
{
	return u->mcr & UART_MCR_LOOP;
}

/*
 * [DS 8.4, LCR1:0] 5 to 8 data bits.  The loopback path honours it (the
 * receiver gets only the bits sent); the virtual line to the outside
 * carries whole bytes, so a guest that never programs LCR (reset: 5 bits)
 * still has readable output.
 */
static u8 word_mask(const struct nestor_uart *u)
{
	return 0xff >> (3 - (u->lcr & UART_LCR_WLEN_MASK));
}

unsigned int nestor_uart_rx_trigger(const struct nestor_uart *u)
{
	/* [DS 8.3, FCR7:6] 01, 04, 08, 14 bytes. */
	static const u8 levels[4] = { 1, 4, 8, 14 };

	return fifo_mode(u) ? levels[u->fcr >> 6] : 1;
}

u64 nestor_uart_timeout_ns(const struct nestor_uart *u)
{
	unsigned int wlen = 5 + (u->lcr & UART_LCR_WLEN_MASK);
	unsigned int divisor = u->dll | u->dlm << 8;
	/* Frame in half bits: start, data, parity, 1, 1.5 or 2 stop bits. */
	u64 halfbits = 2 * (1 + wlen) + (u->lcr & UART_LCR_PARITY ? 2 : 0) +
		       (!(u->lcr & UART_LCR_STOP) ? 2 : wlen == 5 ? 3 : 4);

	/* Divisor 0 is not a valid setting [DS 8.5]; time it as 1. */
	if (!divisor)
		divisor = 1;
	/* [DS 8.6.2] timeout: 4 character times; 2e9 = 4 chars / 2 halves. */
	return halfbits * divisor * 2000000000ULL / UART_BASE_BAUD;
}

/* ---------------------------------------------------------------- */
/* receiver                                                           */
/* ---------------------------------------------------------------- */

/*
 * [DS 8.6, LSR1-4] In FIFO mode an error belongs to its character and is
 * revealed when that character reaches the top of the FIFO.
 */
static void latch_top_error(struct nestor_uart *u)
{
	if (u->rx_count) {
		u->lsr_err |= u->rx_err[u->rx_head];
		u->rx_err[u->rx_head] = 0;
	}
}

static void rx_enqueue(struct nestor_uart *u, u8 byte, u8 err, u64 now_ns)
{
	unsigned int idx = (u->rx_head + u->rx_count) % UART_FIFO_SIZE;

	u->rx[idx] = byte;
	u->rx_err[idx] = err;
	u->rx_count++;
	if (u->rx_count == 1)
		latch_top_error(u);
	/* [DS 8.6.2] a received character restarts the timeout timer. */
	u->rx_activity_ns = now_ns;
}

/* A character arriving at the receiver shift register in loopback. */
static void rx_from_wire(struct nestor_uart *u, u8 byte, u8 err, u64 now_ns)
{
	if (u->rx_count < depth(u)) {
		rx_enqueue(u, byte, err, now_ns);
		return;
	}
	/*
	 * [DS 8.6, LSR1] Overrun.  Without FIFOs the new character
	 * overwrites RBR; with FIFOs the FIFO is kept and the character in
	 * the shift register is lost.
	 */
	u->lsr_err |= UART_LSR_OE;
	u->overruns++;
	if (!fifo_mode(u)) {
		u->rx[u->rx_head] = byte;
		u->rx_err[u->rx_head] = 0;
		u->lsr_err |= err;
		u->rx_activity_ns = now_ns;
	}
}

static u8 rx_pop(struct nestor_uart *u, u64 now_ns)
{
	u8 byte;

	if (!u->rx_count)
		return u->rbr_last;
	byte = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
	u->rx_count--;
	latch_top_error(u);
	u->rbr_last = byte;
	/* [DS 8.6.2] a CPU read clears the timeout and restarts its timer. */
	u->cti = false;
	u->rx_activity_ns = now_ns;
	return byte;
}

static void rx_clear(struct nestor_uart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
	memset(u->rx_err, 0, sizeof(u->rx_err));
	u->cti = false;
}

unsigned int nestor_uart_rx_room(const struct nestor_uart *u)
{
	/* [DS 8.7, MCR4] loopback disconnects the receiver from SIN. */
	if (loopback(u))
		return 0;
	return depth(u) - u->rx_count;
}

unsigned int nestor_uart_rx_push(struct nestor_uart *u, const u8 *buf,
				 unsigned int len, u64 now_ns)
{
	unsigned int room = nestor_uart_rx_room(u);
	unsigned int i;

	nestor_uart_tick(u, now_ns);
	if (len > room)
		len = room;
	for (i = 0; i < len; i++)
		rx_enqueue(u, buf[i], 0, now_ns);
	return len;
}

void nestor_uart_tick(struct nestor_uart *u, u64 now_ns)
{
	/*
	 * [DS 8.6.2] Character timeout: FIFO mode, at least one character
	 * in the FIFO, none received or read for 4 character times.
	 */
	if (fifo_mode(u) && u->rx_count && !u->cti &&
	    now_ns - u->rx_activity_ns >= nestor_uart_timeout_ns(u))
		u->cti = true;
}

/* ---------------------------------------------------------------- */
/* transmitter                                                        */
/* ---------------------------------------------------------------- */

/*
 * Sends what the transmitter holds: into the receiver in loopback [DS 8.7,
 * MCR4: the transmitter shift register output is looped back to the
 * receiver shift register input], else into the sink while it has room.
 * The THRE interrupt is raised when THR/the FIFO becomes empty [DS table
 * VI].
 */
static unsigned int tx_run(struct nestor_uart *u, u64 now_ns)
{
	unsigned int sent = 0;
	bool had = u->tx_count;

	while (u->tx_count) {
		u8 byte = u->tx[u->tx_head];

		if (loopback(u))
			rx_from_wire(u, byte & word_mask(u), 0, now_ns);
		else if (!u->tx_fn || !u->tx_fn(u->tx_priv, byte))
			break;
		u->tx_head = (u->tx_head + 1) % UART_FIFO_SIZE;
		u->tx_count--;
		sent++;
	}
	if (had && !u->tx_count)
		u->thre_pending = true;
	return sent;
}

static void tx_clear(struct nestor_uart *u)
{
	bool had = u->tx_count;

	u->tx_head = 0;
	u->tx_count = 0;
	if (had)
		u->thre_pending = true;
}

unsigned int nestor_uart_tx_drain(struct nestor_uart *u, u64 now_ns)
{
	nestor_uart_tick(u, now_ns);
	return tx_run(u, now_ns);
}

static void thr_write(struct nestor_uart *u, u8 val, u64 now_ns)
{
	/* [DS table VI] writing THR clears the THRE interrupt. */
	u->thre_pending = false;
	if (u->tx_count >= depth(u)) {
		/* A driver that ignored THRE: the datasheet leaves this open. */
		u->overruns++;
		return;
	}
	u->tx[(u->tx_head + u->tx_count) % UART_FIFO_SIZE] = val;
	u->tx_count++;
	tx_run(u, now_ns);
}

/* ---------------------------------------------------------------- */
/* modem lines                                                        */
/* ---------------------------------------------------------------- */

static void msr_update(struct nestor_uart *u)
{
	u8 lines = u->modem_in & MSR_LINE_BITS;
	u8 changed;

	/* [DS 8.7, MCR4] loopback: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
	if (loopback(u))
		lines = (u->mcr & UART_MCR_RTS ? UART_MSR_CTS : 0) |
			(u->mcr & UART_MCR_DTR ? UART_MSR_DSR : 0) |
			(u->mcr & UART_MCR_OUT1 ? UART_MSR_RI : 0) |
			(u->mcr & UART_MCR_OUT2 ? UART_MSR_DCD : 0);
	changed = lines ^ u->msr_lines;
	/* [DS 8.8] delta bits; TERI only for RI going from on to off. */
	if (changed & UART_MSR_CTS)
		u->msr_delta |= UART_MSR_DCTS;
	if (changed & UART_MSR_DSR)
		u->msr_delta |= UART_MSR_DDSR;
	if ((changed & UART_MSR_RI) && !(lines & UART_MSR_RI))
		u->msr_delta |= UART_MSR_TERI;
	if (changed & UART_MSR_DCD)
		u->msr_delta |= UART_MSR_DDCD;
	u->msr_lines = lines;
}

void nestor_uart_set_modem(struct nestor_uart *u, u8 lines)
{
	u->modem_in = lines & MSR_LINE_BITS;
	msr_update(u);
}

/* ---------------------------------------------------------------- */
/* interrupts                                                         */
/* ---------------------------------------------------------------- */

/* [DS table VI] priorities: line status, RX data/timeout, THRE, modem. */
u8 nestor_uart_iir(const struct nestor_uart *u)
{
	if ((u->ier & UART_IER_ELSI) && (u->lsr_err & LSR_ERR_BITS))
		return UART_IIR_RLSI;
	if (u->ier & UART_IER_ERBFI) {
		if (u->rx_count && u->rx_count >= nestor_uart_rx_trigger(u))
			return UART_IIR_RDI;
		if (u->cti && u->rx_count)
			return UART_IIR_CTI;
	}
	if ((u->ier & UART_IER_ETBEI) && u->thre_pending && !u->tx_count)
		return UART_IIR_THRI;
	if ((u->ier & UART_IER_EDSSI) && u->msr_delta)
		return UART_IIR_MSI;
	return UART_IIR_NO_INT;
}

bool nestor_uart_irq_line(const struct nestor_uart *u)
{
	/*
	 * [DS 8.7] MCR3 (OUT2) gates the interrupt on PC boards; loopback
	 * forces the OUT2 pin inactive, so no interrupt leaves the chip.
	 */
	return nestor_uart_iir(u) != UART_IIR_NO_INT &&
	       (u->mcr & UART_MCR_OUT2) && !loopback(u);
}

/* ---------------------------------------------------------------- */
/* registers                                                          */
/* ---------------------------------------------------------------- */

static u8 lsr_value(const struct nestor_uart *u)
{
	u8 v = u->lsr_err;
	unsigned int i;

	if (u->rx_count)
		v |= UART_LSR_DR;
	/* The transmitter shift register empties at once: TEMT == THRE. */
	if (!u->tx_count)
		v |= UART_LSR_THRE | UART_LSR_TEMT;
	/* [DS 8.6, LSR7] any PE, FE or BI still in the FIFO (FIFO mode). */
	if (fifo_mode(u)) {
		if (u->lsr_err & (UART_LSR_PE | UART_LSR_FE | UART_LSR_BI))
			v |= UART_LSR_FIFOE;
		for (i = 0; i < u->rx_count; i++)
			if (u->rx_err[(u->rx_head + i) % UART_FIFO_SIZE])
				v |= UART_LSR_FIFOE;
	}
	return v;
}

u8 nestor_uart_read(struct nestor_uart *u, unsigned int off, u64 now_ns)
{
	u8 v;

	nestor_uart_tick(u, now_ns);
	switch (off & 7) {
	case UART_RBR:
		if (u->lcr & UART_LCR_DLAB)
			return u->dll;
		return rx_pop(u, now_ns);
	case UART_IER:
		if (u->lcr & UART_LCR_DLAB)
			return u->dlm;
		return u->ier;
	case UART_IIR:
		v = nestor_uart_iir(u);
		/* [DS table VI] reading IIR clears THRE when it is the source. */
		if (v == UART_IIR_THRI)
			u->thre_pending = false;
		return v | (fifo_mode(u) ? UART_IIR_FIFO : 0);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		v = lsr_value(u);
		/* [DS 8.6] reading LSR clears OE, PE, FE, BI (and the RLS int). */
		u->lsr_err = 0;
		return v;
	case UART_MSR:
		v = u->msr_lines | u->msr_delta;
		/* [DS 8.8] reading MSR clears the delta bits (and the MS int). */
		u->msr_delta = 0;
		return v;
	default:
		return u->scr;
	}
}

static void fcr_write(struct nestor_uart *u, u8 val)
{
	/*
	 * [DS 8.3] FCR0 enables both FIFOs; changing it clears both.  The
	 * other bits are programmed only while FCR0 is 1.  FCR1/FCR2 clear
	 * a FIFO and self-clear; the shift registers are not touched.
	 */
	if ((val ^ u->fcr) & UART_FCR_ENABLE) {
		rx_clear(u);
		tx_clear(u);
	}
	if (!(val & UART_FCR_ENABLE)) {
		u->fcr = 0;
		return;
	}
	u->fcr = val & (UART_FCR_ENABLE | UART_FCR_DMA | UART_FCR_TRIG_MASK);
	if (val & UART_FCR_CLEAR_RX)
		rx_clear(u);
	if (val & UART_FCR_CLEAR_TX)
		tx_clear(u);
}

void nestor_uart_write(struct nestor_uart *u, unsigned int off, u8 val,
		       u64 now_ns)
{
	u8 old;

	nestor_uart_tick(u, now_ns);
	switch (off & 7) {
	case UART_THR:
		if (u->lcr & UART_LCR_DLAB)
			u->dll = val;
		else
			thr_write(u, val, now_ns);
		break;
	case UART_IER:
		if (u->lcr & UART_LCR_DLAB) {
			u->dlm = val;
			break;
		}
		old = u->ier;
		/* [DS 8.2] bits 7:4 are always 0. */
		u->ier = val & 0x0f;
		/*
		 * Enabling ETBEI while THR is empty raises the THRE
		 * interrupt at once, as the 16550A does (Linux's 8250
		 * startup checks it, and drivers re-arm TX this way).
		 */
		if ((u->ier & ~old) & UART_IER_ETBEI)
			u->thre_pending = !u->tx_count;
		break;
	case UART_FCR:
		fcr_write(u, val);
		break;
	case UART_LCR:
		old = u->lcr;
		u->lcr = val;
		/*
		 * [DS 8.4, LCR6] break: in loopback the receiver sees a zero
		 * character with BI.  Outside loopback the virtual line has
		 * no break condition to carry.
		 */
		if ((val & ~old & UART_LCR_SBC) && loopback(u))
			rx_from_wire(u, 0, UART_LSR_BI, now_ns);
		break;
	case UART_MCR:
		/* [DS 8.7] bits 7:5 are always 0. */
		u->mcr = val & 0x1f;
		msr_update(u);
		/* The transmitter's destination may have changed. */
		tx_run(u, now_ns);
		break;
	case UART_LSR:
	case UART_MSR:
		/* [DS 8.6, 8.8] meant for reading; writes are ignored here. */
		break;
	default:
		u->scr = val;
		break;
	}
}

void nestor_uart_reset(struct nestor_uart *u)
{
	/* [DS table IV] master reset; DLL, DLM and SCR are not affected. */
	u->ier = 0;
	u->fcr = 0;
	u->lcr = 0;
	u->mcr = 0;
	u->lsr_err = 0;
	u->msr_delta = 0;
	u->thre_pending = false;
	rx_clear(u);
	u->tx_head = 0;
	u->tx_count = 0;
	/* MSR 7:4 follow the input lines. */
	u->msr_lines = u->modem_in & MSR_LINE_BITS;
}

void nestor_uart_init(struct nestor_uart *u, nestor_uart_tx_fn tx_fn,
		      void *tx_priv)
{
	memset(u, 0, sizeof(*u));
	u->tx_fn = tx_fn;
	u->tx_priv = tx_priv;
	/* A terminal on the other end: carrier, data set ready, clear to send. */
	u->modem_in = UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
	/* Divisor 12: 9600 baud, what PC firmware traditionally leaves. */
	u->dll = 12;
	nestor_uart_reset(u);
}
