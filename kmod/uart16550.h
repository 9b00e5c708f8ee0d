/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A 16550A UART register model (National/TI PC16550D datasheet).  Pure C:
 * built into the module (kmod/console.c wraps it with locking, rings and
 * the exit claim) and into the userspace unit tests (selftests/unit), which
 * drive every register.  The caller serializes all calls.
 *
 * The serial line is virtual: a byte written to THR is "transmitted" at
 * once into the output sink when the sink has room, and stays in the
 * transmitter FIFO otherwise (LSR.THRE clear), so a guest driver waits
 * instead of losing output.  Input is pushed by the caller only while the
 * receiver FIFO has room, so external input never overruns; overrun only
 * happens in loopback mode, where the datasheet's rules apply.
 */
#ifndef NESTOR_UART16550_H
#define NESTOR_UART16550_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include "kernel_types.h"
#endif

#define UART_FIFO_SIZE		16

/* Register offsets from the base port (datasheet table II). */
#define UART_RBR		0	/* DLAB=0 read */
#define UART_THR		0	/* DLAB=0 write */
#define UART_DLL		0	/* DLAB=1 */
#define UART_IER		1	/* DLAB=0 */
#define UART_DLM		1	/* DLAB=1 */
#define UART_IIR		2	/* read */
#define UART_FCR		2	/* write */
#define UART_LCR		3
#define UART_MCR		4
#define UART_LSR		5
#define UART_MSR		6
#define UART_SCR		7

#define UART_IER_ERBFI		0x01	/* received data available */
#define UART_IER_ETBEI		0x02	/* THR empty */
#define UART_IER_ELSI		0x04	/* receiver line status */
#define UART_IER_EDSSI		0x08	/* modem status */

#define UART_IIR_NO_INT		0x01
#define UART_IIR_MSI		0x00
#define UART_IIR_THRI		0x02
#define UART_IIR_RDI		0x04
#define UART_IIR_RLSI		0x06
#define UART_IIR_CTI		0x0c	/* character timeout */
#define UART_IIR_FIFO		0xc0	/* FIFOs enabled */

#define UART_FCR_ENABLE		0x01
#define UART_FCR_CLEAR_RX	0x02
#define UART_FCR_CLEAR_TX	0x04
#define UART_FCR_DMA		0x08
#define UART_FCR_TRIG_MASK	0xc0

#define UART_LCR_WLEN_MASK	0x03
#define UART_LCR_STOP		0x04
#define UART_LCR_PARITY		0x08
#define UART_LCR_SBC		0x40	/* set break */
#define UART_LCR_DLAB		0x80

#define UART_MCR_DTR		0x01
#define UART_MCR_RTS		0x02
#define UART_MCR_OUT1		0x04
#define UART_MCR_OUT2		0x08
#define UART_MCR_LOOP		0x10

#define UART_LSR_DR		0x01
#define UART_LSR_OE		0x02
#define UART_LSR_PE		0x04
#define UART_LSR_FE		0x08
#define UART_LSR_BI		0x10
#define UART_LSR_THRE		0x20
#define UART_LSR_TEMT		0x40
#define UART_LSR_FIFOE		0x80

#define UART_MSR_DCTS		0x01
#define UART_MSR_DDSR		0x02
#define UART_MSR_TERI		0x04
#define UART_MSR_DDCD		0x08
#define UART_MSR_CTS		0x10
#define UART_MSR_DSR		0x20
#define UART_MSR_RI		0x40
#define UART_MSR_DCD		0x80

/* Input clock of a PC UART: 1.8432 MHz, divisor 1 = 115200 baud. */
#define UART_BASE_BAUD		115200

struct nestor_uart;

/*
 * Output sink: takes one byte, returns false when it is full (the byte
 * then stays in the transmitter FIFO).  Called from write/drain.
 */
typedef bool (*nestor_uart_tx_fn)(void *priv, u8 byte);

struct nestor_uart {
	/* registers */
	u8 ier, lcr, mcr, scr, dll, dlm;
	u8 fcr;			/* as last accepted: ENABLE, DMA, trigger */
	u8 lsr_err;		/* OE, PE, FE, BI latched until LSR is read */
	u8 msr_delta;		/* MSR bits 3:0, cleared by reading MSR */
	u8 msr_lines;		/* MSR bits 7:4 as last sampled */
	u8 modem_in;		/* external CTS/DSR/RI/DCD (MSR 7:4 form) */
	u8 rbr_last;		/* what RBR reads when the FIFO is empty */
	bool thre_pending;	/* THRE interrupt, until IIR read or THR write */
	bool cti;		/* character timeout indication */
	bool break_sent;	/* loopback: LCR.SBC already looped once */
	/* receiver FIFO (non-FIFO mode uses depth 1) with per-byte errors */
	u8 rx[UART_FIFO_SIZE];
	u8 rx_err[UART_FIFO_SIZE];
	u8 rx_head, rx_count;
	/* transmitter FIFO */
	u8 tx[UART_FIFO_SIZE];
	u8 tx_head, tx_count;
	/* character-timeout clock (ns, supplied by the caller) */
	u64 rx_activity_ns;
	/* counters for the service's statistics */
	u64 overruns;
	nestor_uart_tx_fn tx_fn;
	void *tx_priv;
};

/* Power-on state: MR (master reset) values plus DLL/DLM/SCR. */
void nestor_uart_init(struct nestor_uart *u, nestor_uart_tx_fn tx_fn,
		      void *tx_priv);
/* Master reset: datasheet table IV (SCR and the divisor are kept). */
void nestor_uart_reset(struct nestor_uart *u);

/* Register access at @off (0-7); @now_ns drives the character timeout. */
u8 nestor_uart_read(struct nestor_uart *u, unsigned int off, u64 now_ns);
void nestor_uart_write(struct nestor_uart *u, unsigned int off, u8 val,
		       u64 now_ns);

/* External input: accepts up to the receiver's free room; returns count. */
unsigned int nestor_uart_rx_push(struct nestor_uart *u, const u8 *buf,
				 unsigned int len, u64 now_ns);
unsigned int nestor_uart_rx_room(const struct nestor_uart *u);
/* Moves transmitter bytes to the sink after it made room; returns count. */
unsigned int nestor_uart_tx_drain(struct nestor_uart *u, u64 now_ns);
/* Re-evaluates the character timeout at @now_ns (a timer tick). */
void nestor_uart_tick(struct nestor_uart *u, u64 now_ns);
/* Sets the external modem inputs (UART_MSR_CTS|DSR|RI|DCD). */
void nestor_uart_set_modem(struct nestor_uart *u, u8 lines);

/* IIR's identification (bits 3:0) of the highest pending interrupt. */
u8 nestor_uart_iir(const struct nestor_uart *u);
/* The INTRPT pin as a PC wires it: gated by MCR.OUT2, off in loopback. */
bool nestor_uart_irq_line(const struct nestor_uart *u);
/* Four character times at the programmed speed and frame, in ns. */
u64 nestor_uart_timeout_ns(const struct nestor_uart *u);
/* Current receiver trigger level in bytes (1 without FIFOs). */
unsigned int nestor_uart_rx_trigger(const struct nestor_uart *u);

#endif /* NESTOR_UART16550_H */
