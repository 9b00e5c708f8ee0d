// SPDX-License-Identifier: GPL-2.0
/*
 * serial-poll [TTY]: put a Linux 8250 port (default /dev/ttyS0) in polling
 * mode, i.e. `setserial TTY irq 0`, which busybox lacks.  Runs in the
 * realistic scenario's L2 (l2-init, rl.console=1) before anything keeps the
 * tty open: TIOCSSERIAL changes the IRQ only for the sole user of a port
 * (uart_set_info() in drivers/tty/serial/serial_core.c returns EBUSY
 * otherwise).  With irq 0 the 8250 driver services the port from a timer
 * (univ8250_setup_timer()) and leaves MCR.OUT2 clear
 * (serial8250_do_startup()): the fallback of Documentation/console.rst.
 * Prints "TTY irq OLD -> NEW"; exit 1 on any failure.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/serial.h>

int main(int argc, char **argv)
{
	const char *tty = argc > 1 ? argv[1] : "/dev/ttyS0";
	struct serial_struct ss;
	int fd, old;

	fd = open(tty, O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || ioctl(fd, TIOCGSERIAL, &ss)) {
		printf("%s: %s\n", tty, strerror(errno));
		return 1;
	}
	old = ss.irq;
	ss.irq = 0;
	if (ioctl(fd, TIOCSSERIAL, &ss) || ioctl(fd, TIOCGSERIAL, &ss)) {
		printf("%s: TIOCSSERIAL irq 0: %s\n", tty, strerror(errno));
		return 1;
	}
	printf("%s irq %d -> %d\n", tty, old, ss.irq);
	close(fd);
	return ss.irq != 0;
}
