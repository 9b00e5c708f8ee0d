// SPDX-License-Identifier: GPL-2.0
/*
 * kmod/uart16550.c in userspace: every register, reset values, FIFOs and
 * trigger levels, THRE and timeout interrupts, loopback, overruns, and a
 * long random run checking the invariants after every access.
 */
#include <stdlib.h>
#include <string.h>
#include "../../kmod/uart16550.h"
#include "tap.h"

/* Output sink with a settable room. */
static u8 sink[4096];
static unsigned int sink_len, sink_room;

static bool sink_tx(void *priv, u8 byte)
{
	(void)priv;
	if (!sink_room || sink_len == sizeof(sink))
		return false;
	sink_room--;
	sink[sink_len++] = byte;
	return true;
}

static struct nestor_uart u;
static u64 now;

static void fresh(void)
{
	nestor_uart_init(&u, sink_tx, NULL);
	sink_len = 0;
	sink_room = 1u << 30;
	now = 1000;
}

static u8 rd(unsigned int off)
{
	return nestor_uart_read(&u, off, now);
}

static void wr(unsigned int off, u8 val)
{
	nestor_uart_write(&u, off, val, now);
}

static unsigned int push(const char *s)
{
	return nestor_uart_rx_push(&u, (const u8 *)s, strlen(s), now);
}

static void reset_values(void)
{
	fresh();
	TAP_OK(rd(UART_IER) == 0, "reset: IER 0");
	TAP_OK(rd(UART_IIR) == UART_IIR_NO_INT, "reset: IIR 0x01");
	TAP_OK(rd(UART_LCR) == 0, "reset: LCR 0");
	TAP_OK(rd(UART_MCR) == 0, "reset: MCR 0");
	TAP_OK(rd(UART_LSR) == 0x60, "reset: LSR 0x60 (THRE, TEMT)");
	TAP_OK(rd(UART_MSR) == 0xb0, "reset: MSR = lines DCD|DSR|CTS, no delta");
	TAP_OK(rd(UART_SCR) == 0, "power-on: SCR 0");
	wr(UART_LCR, UART_LCR_DLAB);
	TAP_OK(rd(UART_DLL) == 12 && rd(UART_DLM) == 0, "power-on divisor 12");

	/* Master reset keeps SCR and the divisor [DS table IV]. */
	wr(UART_DLL, 1);
	wr(UART_LCR, 3);
	wr(UART_SCR, 0x5a);
	wr(UART_IER, 0xf);
	wr(UART_FCR, 0xc7);
	wr(UART_MCR, 0x1f);
	nestor_uart_reset(&u);
	TAP_OK(rd(UART_SCR) == 0x5a && rd(UART_IER) == 0 &&
	       rd(UART_IIR) == 1 && rd(UART_MCR) == 0 && rd(UART_LCR) == 0,
	       "master reset clears IER/FCR/LCR/MCR, keeps SCR");
	wr(UART_LCR, UART_LCR_DLAB);
	TAP_OK(rd(UART_DLL) == 1, "master reset keeps the divisor");
}

static void plain_registers(void)
{
	unsigned int v, bad;

	fresh();
	for (bad = 0, v = 0; v < 256; v++) {
		wr(UART_SCR, v);
		bad += rd(UART_SCR) != v;
	}
	TAP_OK(!bad, "SCR holds all 256 values");
	for (bad = 0, v = 0; v < 256; v++) {
		wr(UART_LCR, v);
		bad += rd(UART_LCR) != v;
	}
	TAP_OK(!bad, "LCR holds all 256 values");
	wr(UART_LCR, 0);
	for (bad = 0, v = 0; v < 256; v++) {
		wr(UART_IER, v);
		bad += rd(UART_IER) != (v & 0xf);
	}
	TAP_OK(!bad, "IER bits 7:4 read 0");
	wr(UART_IER, 0);
	for (bad = 0, v = 0; v < 256; v++) {
		wr(UART_MCR, v);
		bad += rd(UART_MCR) != (v & 0x1f);
	}
	TAP_OK(!bad, "MCR bits 7:5 read 0");
	wr(UART_MCR, 0);

	/* DLAB switches offsets 0 and 1 to the divisor latch. */
	wr(UART_IER, 0x5);
	wr(UART_LCR, UART_LCR_DLAB | 3);
	wr(UART_DLL, 0x34);
	wr(UART_DLM, 0x12);
	TAP_OK(rd(UART_DLL) == 0x34 && rd(UART_DLM) == 0x12,
	       "DLAB=1: DLL/DLM read back");
	TAP_OK(sink_len == 0, "DLAB=1: writing offset 0 transmits nothing");
	wr(UART_LCR, 3);
	TAP_OK(rd(UART_IER) == 0x5, "DLAB=0: IER untouched by DLM writes");
	rd(UART_MSR);
	wr(UART_LSR, 0);
	wr(UART_MSR, 0);
	TAP_OK(rd(UART_LSR) == 0x60 && rd(UART_MSR) == 0xb0,
	       "LSR and MSR ignore writes");
}

static void timeout_ns(void)
{
	fresh();
	wr(UART_LCR, UART_LCR_DLAB);
	wr(UART_DLL, 1);
	wr(UART_LCR, 3);	/* 8N1: 10 bits */
	TAP_OK(nestor_uart_timeout_ns(&u) == 347222,
	       "timeout at 115200 8N1: 4 x 10 bits = 347222 ns (got %llu)",
	       (unsigned long long)nestor_uart_timeout_ns(&u));
	wr(UART_LCR, 0x1f);	/* 8E2: 12 bits */
	TAP_OK(nestor_uart_timeout_ns(&u) == 416666, "timeout 8E2: 12 bits");
	wr(UART_LCR, UART_LCR_DLAB | 0x04);
	wr(UART_DLL, 12);
	wr(UART_LCR, 0x04);	/* 5N1.5: 7.5 bits at 9600 */
	TAP_OK(nestor_uart_timeout_ns(&u) == 3125000,
	       "timeout 5 bits 1.5 stop at 9600: 3125000 ns");
}

static void fifo_triggers(void)
{
	static const unsigned int levels[4] = { 1, 4, 8, 14 };
	unsigned int t, i;
	char buf[17];

	for (t = 0; t < 4; t++) {
		fresh();
		wr(UART_FCR, UART_FCR_ENABLE | t << 6);
		wr(UART_IER, UART_IER_ERBFI);
		TAP_OK(nestor_uart_rx_trigger(&u) == levels[t] &&
		       rd(UART_IIR) == (UART_IIR_FIFO | UART_IIR_NO_INT),
		       "trigger %u: IIR 0xc1 with FIFOs and nothing pending",
		       levels[t]);
		memset(buf, 'a', sizeof(buf));
		buf[levels[t] - 1] = 0;
		push(buf);
		TAP_OK(rd(UART_IIR) == 0xc1 &&
		       (rd(UART_LSR) & UART_LSR_DR) == (levels[t] > 1),
		       "trigger %u: %u bytes: no RX interrupt yet", levels[t],
		       levels[t] - 1);
		push("b");
		TAP_OK(rd(UART_IIR) == 0xc4, "trigger %u: %u bytes: IIR 0xc4",
		       levels[t], levels[t]);
		rd(UART_RBR);
		TAP_OK(rd(UART_IIR) == 0xc1,
		       "trigger %u: one read below the level: no interrupt",
		       levels[t]);
	}

	fresh();
	wr(UART_FCR, UART_FCR_ENABLE);
	memset(buf, 'x', 16);
	buf[16] = 0;
	TAP_OK(nestor_uart_rx_push(&u, (u8 *)buf, 17, now) == 16 &&
	       nestor_uart_rx_room(&u) == 0, "RX FIFO holds 16 bytes, no more");
	TAP_OK(!(rd(UART_LSR) & UART_LSR_OE), "external input never overruns");
	for (i = 0; i < 16; i++)
		rd(UART_RBR);
	TAP_OK(!(rd(UART_LSR) & UART_LSR_DR) && rd(UART_RBR) == 'x',
	       "empty FIFO: DR clear, RBR repeats the last byte");

	fresh();
	TAP_OK(push("ab") == 1 && rd(UART_IIR) == 1,
	       "no FIFOs: receiver holds one byte, IIR bits 7:6 are 0");
	wr(UART_FCR, UART_FCR_TRIG_MASK);	/* FCR0 = 0 */
	wr(UART_FCR, UART_FCR_ENABLE);
	TAP_OK(nestor_uart_rx_trigger(&u) == 1,
	       "FCR bits other than FCR0 need FCR0 = 1");
	TAP_OK(!(rd(UART_LSR) & UART_LSR_DR),
	       "enabling the FIFOs clears the receiver");
	push("abc");
	wr(UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
	TAP_OK(!(rd(UART_LSR) & UART_LSR_DR) &&
	       nestor_uart_rx_room(&u) == 16, "FCR1 clears the RX FIFO");
	push("abc");
	wr(UART_FCR, 0);
	TAP_OK(!(rd(UART_LSR) & UART_LSR_DR) && nestor_uart_rx_room(&u) == 1,
	       "disabling the FIFOs clears them");
}

static void transmit(void)
{
	unsigned int i;
	char got[20];

	fresh();
	wr(UART_THR, 'h');
	wr(UART_THR, 'i');
	TAP_OK(sink_len == 2 && !memcmp(sink, "hi", 2),
	       "THR bytes reach the sink in order");

	/* THRE interrupt. */
	TAP_OK(rd(UART_IIR) == 1, "ETBEI off: no THRE interrupt");
	wr(UART_IER, UART_IER_ETBEI);
	TAP_OK(rd(UART_IIR) == UART_IIR_THRI,
	       "enabling ETBEI with THR empty raises THRE at once");
	TAP_OK(rd(UART_IIR) == UART_IIR_NO_INT,
	       "reading IIR cleared the THRE interrupt");
	wr(UART_IER, UART_IER_ETBEI);
	TAP_OK(rd(UART_IIR) == UART_IIR_NO_INT,
	       "rewriting IER with ETBEI still on does not re-raise it");
	wr(UART_IER, 0);
	wr(UART_IER, UART_IER_ETBEI);
	TAP_OK(rd(UART_IIR) == UART_IIR_THRI, "ETBEI 0 -> 1 re-raises it");
	wr(UART_THR, '!');
	TAP_OK(rd(UART_IIR) == UART_IIR_THRI,
	       "THR sent at once: THR empty again, THRE interrupt again");

	/* Full sink: THRE stays clear, bytes wait, none is lost. */
	fresh();
	wr(UART_FCR, UART_FCR_ENABLE);
	wr(UART_IER, UART_IER_ETBEI);
	rd(UART_IIR);
	sink_room = 0;
	for (i = 0; i < 16; i++)
		wr(UART_THR, 'A' + i);
	TAP_OK(!(rd(UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT)) &&
	       sink_len == 0, "sink full: LSR.THRE and TEMT clear");
	TAP_OK(rd(UART_IIR) == 0xc1, "sink full: no THRE interrupt");
	sink_room = 5;
	TAP_OK(nestor_uart_tx_drain(&u, now) == 5 &&
	       !(rd(UART_LSR) & UART_LSR_THRE), "partial drain: THRE still clear");
	sink_room = 100;
	TAP_OK(nestor_uart_tx_drain(&u, now) == 11 &&
	       (rd(UART_LSR) & 0x60) == 0x60, "full drain: THRE and TEMT set");
	TAP_OK(rd(UART_IIR) == 0xc2, "FIFO emptied: THRE interrupt");
	for (i = 0; i < 16; i++)
		got[i] = 'A' + i;
	TAP_OK(sink_len == 16 && !memcmp(sink, got, 16),
	       "all 16 bytes in order, none lost");
	sink_room = 0;
	for (i = 0; i < 17; i++)
		wr(UART_THR, 'a');
	TAP_OK(u.tx_count == 16 && u.overruns == 1,
	       "a 17th byte into a full TX FIFO is counted and dropped");
	wr(UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_TX);
	TAP_OK((rd(UART_LSR) & 0x60) == 0x60 && rd(UART_IIR) == 0xc2,
	       "FCR2 clears the TX FIFO: THRE set and interrupting");

	fresh();
	sink_room = 0;
	wr(UART_THR, 'a');
	wr(UART_THR, 'b');
	TAP_OK(u.tx_count == 1, "no FIFOs: transmitter holds one byte");

	fresh();
	wr(UART_THR, 0xff);
	TAP_OK(sink_len == 1 && sink[0] == 0xff,
	       "the outside line carries whole bytes (LCR at reset: 5 bits)");
	wr(UART_MCR, UART_MCR_LOOP);
	wr(UART_THR, 0xff);
	wr(UART_LCR, 2);	/* 7 data bits */
	rd(UART_RBR);
	wr(UART_THR, 0xff);
	TAP_OK(u.rbr_last == 0x1f && rd(UART_RBR) == 0x7f,
	       "loopback: the receiver gets only the word length's bits");
}

static void char_timeout(void)
{
	u64 tmo;

	fresh();
	wr(UART_LCR, UART_LCR_DLAB);
	wr(UART_DLL, 1);
	wr(UART_LCR, 3);
	wr(UART_FCR, 0x81);	/* trigger 8 */
	wr(UART_IER, UART_IER_ERBFI);
	tmo = nestor_uart_timeout_ns(&u);
	push("abc");
	now += tmo - 1;
	TAP_OK(rd(UART_IIR) == 0xc1, "3 bytes < trigger, before 4 char times");
	now += 1;
	TAP_OK(rd(UART_IIR) == 0xcc, "after 4 char times: IIR 0xcc (timeout)");
	TAP_OK(rd(UART_RBR) == 'a' && rd(UART_IIR) == 0xc1,
	       "reading RBR clears the timeout and restarts its timer");
	now += tmo / 2;
	push("d");
	now += tmo / 2 + 1;
	TAP_OK(rd(UART_IIR) == 0xc1, "a received byte restarts the timer");
	now += tmo;
	TAP_OK(rd(UART_IIR) == 0xcc, "timeout again with bytes left");
	rd(UART_RBR);
	rd(UART_RBR);
	rd(UART_RBR);
	now += 2 * tmo;
	TAP_OK(rd(UART_IIR) == 0xc1, "empty FIFO: no timeout");
	nestor_uart_tick(&u, now);
	TAP_OK(!u.cti, "tick with an empty FIFO sets nothing");

	wr(UART_IER, 0);
	push("e");
	now += tmo;
	nestor_uart_tick(&u, now);
	TAP_OK(u.cti && rd(UART_IIR) == 0xc1, "ERBFI off: timeout not reported");
	wr(UART_IER, UART_IER_ERBFI);
	TAP_OK(rd(UART_IIR) == 0xcc, "ERBFI on: pending timeout reported");

	fresh();
	wr(UART_IER, UART_IER_ERBFI);
	push("a");
	TAP_OK(rd(UART_IIR) == UART_IIR_RDI, "no FIFOs: one byte is RX data");
	now += 1000000000;
	TAP_OK(rd(UART_IIR) == UART_IIR_RDI && !u.cti,
	       "no FIFOs: no character timeout");
}

static void loopback_and_modem(void)
{
	unsigned int i;
	u8 msr;

	fresh();
	wr(UART_LCR, 3);
	wr(UART_MCR, UART_MCR_LOOP | UART_MCR_RTS | UART_MCR_OUT2);
	msr = rd(UART_MSR);
	TAP_OK(msr == (UART_MSR_CTS | UART_MSR_DCD | UART_MSR_DDSR),
	       "loopback RTS|OUT2: MSR CTS|DCD, DSR dropped (got %#x)", msr);
	wr(UART_MCR, UART_MCR_LOOP | 0x0a);
	TAP_OK((rd(UART_MSR) & 0xf0) == 0x90,
	       "Linux's autoconfig probe: LOOP|0x0a gives MSR 0x90");
	wr(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1);
	rd(UART_MSR);
	wr(UART_MCR, UART_MCR_LOOP);
	TAP_OK(rd(UART_MSR) & UART_MSR_TERI, "RI on -> off: TERI");
	wr(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1);
	TAP_OK(!(rd(UART_MSR) & UART_MSR_TERI), "RI off -> on: no TERI");

	fresh();
	wr(UART_LCR, 3);
	wr(UART_FCR, UART_FCR_ENABLE);
	wr(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
	wr(UART_IER, UART_IER_ERBFI);
	wr(UART_THR, 'L');
	wr(UART_THR, 'p');
	TAP_OK(sink_len == 0 && rd(UART_IIR) == 0xc4,
	       "loopback: bytes go to the receiver, not the sink");
	TAP_OK(!nestor_uart_irq_line(&u),
	       "loopback: the interrupt does not leave the chip");
	TAP_OK(push("x") == 0 && nestor_uart_rx_room(&u) == 0,
	       "loopback: external input is disconnected");
	TAP_OK(rd(UART_RBR) == 'L' && rd(UART_RBR) == 'p',
	       "loopback: bytes read back in order");
	for (i = 0; i < 17; i++)
		wr(UART_THR, i);
	wr(UART_IER, UART_IER_ERBFI | UART_IER_ELSI);
	TAP_OK(rd(UART_IIR) == 0xc6 && u.rx_count == 16,
	       "loopback overrun (FIFO): RLS interrupt, FIFO kept");
	TAP_OK((rd(UART_LSR) & (UART_LSR_OE | UART_LSR_DR)) ==
	       (UART_LSR_OE | UART_LSR_DR) && !(rd(UART_LSR) & UART_LSR_OE),
	       "LSR shows OE once; reading it clears OE");
	TAP_OK(rd(UART_RBR) == 0 && rd(UART_IIR) == 0xc4,
	       "first byte kept; RX data pending below RLS");
	wr(UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
	wr(UART_LCR, UART_LCR_SBC | 3);
	TAP_OK((rd(UART_LSR) & (UART_LSR_BI | UART_LSR_FIFOE | UART_LSR_DR)) ==
	       (UART_LSR_BI | UART_LSR_FIFOE | UART_LSR_DR) &&
	       rd(UART_RBR) == 0,
	       "loopback break: zero byte with BI and LSR7");
	wr(UART_LCR, 3);
	wr(UART_MCR, UART_MCR_OUT2);
	wr(UART_THR, 'o');
	TAP_OK(sink_len == 1 && sink[0] == 'o' && push("z") == 1,
	       "loopback off: sink and input connected again");

	fresh();
	wr(UART_LCR, 3);
	wr(UART_MCR, UART_MCR_LOOP);
	wr(UART_THR, 'a');
	wr(UART_THR, 'b');
	TAP_OK(rd(UART_RBR) == 'b' && (rd(UART_LSR) & UART_LSR_OE),
	       "loopback overrun (no FIFOs): the new byte overwrites RBR");

	/* Stuck output goes to the receiver when loopback starts. */
	fresh();
	wr(UART_LCR, 3);
	wr(UART_FCR, UART_FCR_ENABLE);
	sink_room = 0;
	wr(UART_THR, 'q');
	wr(UART_MCR, UART_MCR_LOOP);
	TAP_OK(rd(UART_RBR) == 'q' && (rd(UART_LSR) & UART_LSR_THRE),
	       "entering loopback loops the waiting byte");

	/* Modem status interrupt from the outside lines. */
	fresh();
	wr(UART_LCR, 3);
	wr(UART_IER, UART_IER_EDSSI);
	nestor_uart_set_modem(&u, UART_MSR_CTS | UART_MSR_DSR);
	TAP_OK(rd(UART_IIR) == UART_IIR_MSI, "DCD dropped: modem interrupt");
	TAP_OK(rd(UART_MSR) == (0x30 | UART_MSR_DDCD) &&
	       rd(UART_IIR) == UART_IIR_NO_INT,
	       "reading MSR clears the delta and the interrupt");
}

static void priorities_and_line(void)
{
	fresh();
	wr(UART_FCR, UART_FCR_ENABLE);
	wr(UART_IER, 0x0f);
	wr(UART_MCR, UART_MCR_LOOP);
	wr(UART_LCR, UART_LCR_SBC);
	wr(UART_LCR, 0);
	wr(UART_MCR, 0);	/* MSR deltas now pending too */
	TAP_OK(rd(UART_IIR) == 0xc6, "priority 1: line status");
	rd(UART_LSR);
	TAP_OK(rd(UART_IIR) == 0xc4, "priority 2: RX data");
	rd(UART_RBR);
	TAP_OK(rd(UART_IIR) == 0xc2, "priority 3: THRE");
	TAP_OK(rd(UART_IIR) == 0xc0, "priority 4: modem status");
	rd(UART_MSR);
	TAP_OK(rd(UART_IIR) == 0xc1, "nothing pending");

	wr(UART_IER, UART_IER_ERBFI);
	push("a");
	TAP_OK(!nestor_uart_irq_line(&u), "OUT2 off: no interrupt line");
	wr(UART_MCR, UART_MCR_OUT2);
	TAP_OK(nestor_uart_irq_line(&u), "OUT2 on: interrupt line up");
	rd(UART_RBR);
	TAP_OK(!nestor_uart_irq_line(&u), "served: line down");
}

/* Invariants after every access in a long random run. */
static void random_run(void)
{
	unsigned int i, bad = 0, first = 0;
	u8 iir;

	fresh();
	srand(4);
	for (i = 0; i < 2000000; i++) {
		unsigned int op = rand() % 10;

		sink_room = rand() % 4;
		now += rand() % 200000;
		if (op < 4) {
			wr(rand() % 8, rand());
		} else if (op < 8) {
			rd(rand() % 8);
		} else if (op == 8) {
			push("zz");
		} else {
			nestor_uart_tx_drain(&u, now);
		}
		iir = nestor_uart_iir(&u);
		if (u.rx_count > (u.fcr & 1 ? 16 : 1) ||
		    u.tx_count > (u.fcr & 1 ? 16 : 1) ||
		    (iir != 1 && iir != 0 && iir != 2 && iir != 4 &&
		     iir != 6 && iir != 0xc) ||
		    (u.ier & 0xf0) || (u.mcr & 0xe0)) {
			if (!bad++)
				first = i;
		}
		if (!(u.lcr & UART_LCR_DLAB) && !u.tx_count !=
		    !!(rd(UART_LSR) & UART_LSR_THRE)) {
			if (!bad++)
				first = i;
		}
	}
	TAP_OK(!bad, "2M random accesses keep the invariants (%u bad, first %u)",
	       bad, first);
}

int main(void)
{
	reset_values();
	plain_registers();
	timeout_ns();
	fifo_triggers();
	transmit();
	char_timeout();
	loopback_and_modem();
	priorities_and_line();
	random_run();
	return tap_done();
}
