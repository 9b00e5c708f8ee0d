// SPDX-License-Identifier: GPL-2.0
/*
 * nestorctl console: the out-of-band console of an L2
 * (Documentation/console.rst), like `virsh console`.
 *
 *   console L2 [--escape C] [--log FILE] [--read-only]
 *   console L2 --dump [--log FILE]
 *   console L2 --remote-forced [--read-only]
 *   --remote HOST:PORT --key-id K --key-file F console L2 [--read-only]
 *           [--dump] [--log FILE] [--escape C]
 *   console enable L2 [--port P] [--ring BYTES] [--drop-oldest]
 *   console disable L2
 *   console status L2
 *
 * L2 is N or l2:N (a context, `nestorctl list`), or pid:P, the process on
 * L0 that runs an L1 VM: `console enable pid:P` arms a console on that VM
 * before its next L2 exists, and pid:P then names that console
 * (NESTOR_CONSOLE_BY_PID, Documentation/console.rst).
 *
 * The interactive session puts the terminal in raw mode and restores it on
 * every way out: the escape character (default Ctrl-]), the console being
 * disabled, an error, SIGINT/SIGTERM/SIGHUP/SIGQUIT.
 *
 * With --remote (a global option, tools/nestorctl/mem.c) the console is
 * reached through nestor-monitord on L0 and every answer is verified with
 * the monitor key (Documentation/console.rst, "Remote access"); L2 is then
 * N or l2:N, which the signed answers name.
 *
 * --remote-forced is for an SSH forced command (authorized_keys
 * `command="nestorctl console 7 --remote-forced",restrict,pty KEY`, see
 * Documentation/console.rst): the key reaches that one console and nothing
 * else.  What the client asked for ($SSH_ORIGINAL_COMMAND) may only pick
 * "dump" or "read-only"; anything else (another L2, enable/disable, a
 * --log file on this host) is refused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include <linux/nestor.h>
#include "libnestor.h"
#include "console.h"
#include "mem.h"

#define EXIT_USAGE	2

static struct termios saved_tio;
static bool tio_saved;

static void restore_tty(void)
{
	if (tio_saved) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
		tio_saved = false;
	}
}

static void on_signal(int sig)
{
	restore_tty();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int cusage(const char *msg, const char *arg)
{
	fprintf(stderr, "nestorctl: console: ");
	fprintf(stderr, msg, arg);
	fprintf(stderr, "\nusage: nestorctl console L2 [--escape C] [--log FILE] [--read-only] | --dump\n"
		"       nestorctl console L2 --remote-forced [--read-only] [--escape C]\n"
		"       nestorctl console enable L2 [--port P] [--ring BYTES] [--drop-oldest]\n"
		"       nestorctl console disable|status L2\n"
		"       nestorctl --remote HOST:PORT --key-id K --key-file F console L2\n"
		"                 [--read-only] [--dump] [--log FILE] [--escape C]\n"
		"L2 is N or l2:N (an L2 context), or pid:P (arm on, or name the console armed\n"
		"on, the L1 VM run by process P on this host)\n");
	return EXIT_USAGE;
}

static int open_dev(void)
{
	int fd = open(NESTOR_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		fprintf(stderr, "nestorctl: cannot open %s: %s%s\n",
			NESTOR_DEVICE_PATH, strerror(errno),
			errno == ENOENT ? " (is nestor.ko loaded?)" : "");
	return fd;
}

static int open_log(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	if (fd < 0)
		fprintf(stderr, "nestorctl: %s: %s\n", path, strerror(errno));
	return fd;
}

/* The console ioctls' flag for a pid:P name. */
static uint32_t by_pid;

/* errno of a console ioctl, said for a person. */
static int say(int err, const char *name, const char *what)
{
	switch (err) {
	case ENOENT:
		if (by_pid)
			fprintf(stderr, "nestorctl: no console is armed on %s\n",
				name);
		else
			fprintf(stderr, "nestorctl: no such L2: %s\n", name);
		break;
	case ESRCH:
		fprintf(stderr, "nestorctl: no such process: %s\n", name);
		break;
	case ENXIO:
		fprintf(stderr, "nestorctl: L2 %s has no console "
			"(nestorctl console enable %s)\n", name, name);
		break;
	case EBUSY:
		fprintf(stderr, "nestorctl: another client is writing to the "
			"console of %s (use --read-only)\n", name);
		break;
	case EEXIST:
		if (by_pid)
			fprintf(stderr, "nestorctl: a console armed on %s still "
				"waits for its L2\n", name);
		else
			fprintf(stderr, "nestorctl: L2 %s already has a console, "
				"or one armed on its VM's process waits for it\n",
				name);
		break;
	default:
		fprintf(stderr, "nestorctl: %s: %s\n", what, strerror(err));
	}
	return EXIT_FAILURE;
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || !*s || *end || v > UINT32_MAX)
		return -1;
	*out = v;
	return 0;
}

static int parse_escape(const char *s, int *esc)
{
	if (s[0] == '^' && s[1] && !s[2]) {
		*esc = s[1] == '?' ? 0x7f : (s[1] & 0x1f);
		return 0;
	}
	if (s[0] && !s[1]) {
		*esc = (unsigned char)s[0];
		return 0;
	}
	return -1;
}

static bool write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= n;
	}
	return true;
}

static int dump(int fd, int log)
{
	char buf[4096];
	ssize_t n;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (!write_all(STDOUT_FILENO, buf, n) ||
		    (log >= 0 && !write_all(log, buf, n)))
			return EXIT_FAILURE;
	}
	if (n < 0 && errno != EAGAIN) {
		fprintf(stderr, "nestorctl: reading the console: %s\n",
			strerror(errno));
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}

/*
 * Input from stdin: the bytes before the escape character (a terminal
 * only), *leave set when it came; -1 at end of input.
 */
static ssize_t read_keys(char *buf, size_t len, bool tty, int esc,
			 bool *leave)
{
	ssize_t n = read(STDIN_FILENO, buf, len);
	char *e;

	if (n <= 0)
		return -1;
	e = tty ? memchr(buf, esc, n) : NULL;
	if (e) {
		n = e - buf;
		*leave = true;
	}
	return n;
}

/*
 * A terminal on stdin goes raw until restore_tty(), which every way out
 * runs (atexit, the signals).  Returns whether stdin is a terminal.
 */
static bool raw_start(int esc)
{
	bool tty = isatty(STDIN_FILENO);

	if (tty && !tcgetattr(STDIN_FILENO, &saved_tio)) {
		struct termios raw = saved_tio;

		tio_saved = true;
		atexit(restore_tty);
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		signal(SIGHUP, on_signal);
		signal(SIGQUIT, on_signal);
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
		fprintf(stderr, "Connected to the console; escape character is ^%c\r\n",
			esc < 0x20 ? esc + '@' : '?');
	}
	return tty;
}

static int session(int fd, int log, int esc, bool read_only)
{
	struct pollfd p[2] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = STDIN_FILENO, .events = POLLIN },
	};
	bool tty = raw_start(esc), in_open = !read_only;
	char buf[4096];
	int ret = EXIT_SUCCESS;
	ssize_t n;

	for (;;) {
		p[1].fd = in_open ? STDIN_FILENO : -1;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			ret = EXIT_FAILURE;
			break;
		}
		if (p[0].revents & (POLLIN | POLLHUP)) {
			n = read(fd, buf, sizeof(buf));
			if (n == 0) {
				fprintf(stderr, "\r\nnestorctl: the console was disabled\r\n");
				break;
			}
			if (n < 0 && errno != EINTR && errno != EAGAIN) {
				ret = EXIT_FAILURE;
				break;
			}
			if (n > 0 && (!write_all(STDOUT_FILENO, buf, n) ||
				      (log >= 0 && !write_all(log, buf, n)))) {
				ret = EXIT_FAILURE;
				break;
			}
		}
		if (in_open && (p[1].revents & (POLLIN | POLLHUP))) {
			bool leave = false;

			n = read_keys(buf, sizeof(buf), tty, esc, &leave);
			if (n < 0) {
				in_open = false;	/* keep showing output */
				continue;
			}
			if (n > 0 && !write_all(fd, buf, n)) {
				if (errno == EPIPE)
					fprintf(stderr, "\r\nnestorctl: the console was disabled\r\n");
				else
					ret = EXIT_FAILURE;
				break;
			}
			if (leave)
				break;
		}
	}
	restore_tty();
	return ret;
}

/*
 * The console through nestor-monitord (--remote): every answer verified
 * (tools/lib/remote.c), input signed.  One request at a time: a read
 * waits at most CONSOLE_WAIT_MS in the daemon, then input goes out.
 */
static int remote_console(struct nestor_remote *rm, const char *name,
			  uint32_t id, int log, int esc, bool read_only,
			  bool do_dump)
{
	static char buf[NESTOR_CONSOLE_SREAD_MAX];
	char in[NESTOR_CONSOLE_SWRITE_MAX];
	struct nestor_remote_console_out o;
	bool tty = false, in_open, leave = false;
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	int ret = EXIT_SUCCESS, err;
	size_t pending = 0;
	ssize_t n;

	err = nestor_remote_console_open(rm, id, read_only || do_dump ?
					 NESTOR_MON_CONSOLE_F_READ_ONLY : 0);
	if (err == -ENOENT || err == -ENXIO || err == -EBUSY)
		return say(-err, name, "attach");
	if (err) {
		fprintf(stderr, "nestorctl: console: %s\n", nestor_remote_error(rm));
		return EXIT_FAILURE;
	}
	in_open = !read_only && !do_dump;
	if (!do_dump)
		tty = raw_start(esc);
	for (;;) {
		err = nestor_remote_console_read(rm, buf, sizeof(buf), &o);
		if (err) {
			fprintf(stderr, "%snestorctl: console: %s%s\n",
				tty ? "\r\n" : "", nestor_remote_error(rm),
				tty ? "\r" : "");
			ret = EXIT_FAILURE;
			break;
		}
		if (o.skipped)
			fprintf(stderr, "%s[nestorctl: the console dropped %llu bytes here]%s\n",
				tty ? "\r\n" : "", (unsigned long long)o.skipped,
				tty ? "\r" : "");
		if (o.done && (!write_all(STDOUT_FILENO, buf, o.done) ||
			       (log >= 0 && !write_all(log, buf, o.done)))) {
			ret = EXIT_FAILURE;
			break;
		}
		if (o.eof) {
			if (!do_dump)
				fprintf(stderr, "\r\nnestorctl: the console was disabled\r\n");
			break;
		}
		if (do_dump && !o.done)
			break;
		if (in_open && !pending && poll(&p, 1, 0) == 1) {
			n = read_keys(in, sizeof(in), tty, esc, &leave);
			if (n < 0) {
				in_open = false;	/* keep showing output */
				continue;
			}
			pending = n;
		}
		if (pending) {
			err = nestor_remote_console_write(rm, in, pending);
			if (!err)
				pending = 0;
			else if (err == -EPIPE)
				continue;	/* disabled: the next read says so */
			else if (err != -EAGAIN) {	/* full: after the next read */
				fprintf(stderr, "%snestorctl: console: %s%s\n",
					tty ? "\r\n" : "",
					nestor_remote_error(rm), tty ? "\r" : "");
				ret = EXIT_FAILURE;
				break;
			}
		}
		if (leave && !pending)
			break;
	}
	restore_tty();
	return ret;
}

static int cmd_enable(int dev, const char *name, uint32_t id, int argc,
		      char **argv)
{
	static const struct option lo[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "ring", required_argument, NULL, 'r' },
		{ "drop-oldest", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct nestor_console_enable e = { .l2_id = id, .flags = by_pid };
	uint32_t v;
	int opt;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (opt == 'p' && !parse_u32(optarg, &v) && v <= 0xffff)
			e.port = v;
		else if (opt == 'r' && !parse_u32(optarg, &v))
			e.ring_size = v;
		else if (opt == 'd')
			e.flags |= NESTOR_CONSOLE_F_DROP_OLDEST;
		else
			return -EXIT_USAGE;
	}
	if (ioctl(dev, NESTOR_IOC_CONSOLE_ENABLE, &e))
		return errno == EINVAL ?
			(fprintf(stderr, "nestorctl: bad --port or --ring "
				 "(port: a multiple of 8; ring: a power of two, "
				 "%u to %u)\n", NESTOR_CONSOLE_MIN_RING,
				 NESTOR_CONSOLE_MAX_RING), EXIT_FAILURE) :
			say(errno, name, "enable");
	if (by_pid)
		printf("console armed on %s: it takes that VM's next L2\n",
		       name);
	else
		printf("console of L2 %s enabled\n", name);
	return EXIT_SUCCESS;
}

static int cmd_status(int dev, const char *name, uint32_t id)
{
	struct nestor_console_status s = { .l2_id = id, .flags = by_pid };

	if (ioctl(dev, NESTOR_IOC_CONSOLE_STATUS, &s))
		return say(errno, name, "status");
	if (s.armed_pid && s.serving_l2_id)
		printf("armed on pid %u, bound to L2 %u\n", s.armed_pid,
		       s.serving_l2_id);
	else if (s.armed_pid || by_pid)
		printf("armed on pid %u, waiting for its next L2\n",
		       s.armed_pid);
	printf("l2 %u: port %#x, ring %u%s, %u reader(s), %s writer\n",
	       s.serving_l2_id, s.port, s.ring_size,
	       s.console_flags & NESTOR_CONSOLE_F_DROP_OLDEST ?
	       " (drop-oldest)" : "", s.readers, s.writer ? "one" : "no");
	printf("  uart: IER %02x IIR %02x LCR %02x MCR %02x LSR %02x MSR %02x, %u baud\n",
	       s.ier, s.iir, s.lcr, s.mcr, s.lsr, s.msr,
	       s.divisor ? 115200 / s.divisor : 0);
	printf("  tx %llu, rx %llu, buffered %llu, dropped %llu, port exits %llu, string I/O to L1 %llu\n",
	       (unsigned long long)s.tx_bytes, (unsigned long long)s.rx_bytes,
	       (unsigned long long)s.buffered, (unsigned long long)s.dropped,
	       (unsigned long long)s.port_exits,
	       (unsigned long long)s.string_exits);
	printf("  interrupts: %s (line raised %llu times, not delivered)\n",
	       s.irq_mode == NESTOR_CONSOLE_IRQ_POLLING ? "polling" : "?",
	       (unsigned long long)s.irq_raised);
	return EXIT_SUCCESS;
}

/*
 * The SSH client's own command under --remote-forced: empty, or the words
 * "dump" and "read-only" (with or without "--").  Returns nonzero and says
 * why for anything else.
 */
static int remote_request(bool *do_dump, bool *read_only)
{
	const char *req = getenv("SSH_ORIGINAL_COMMAND");
	char *copy, *w, *save = NULL;
	int ret = 0;

	if (!req)
		return 0;
	copy = strdup(req);
	if (!copy)
		return 1;
	for (w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		const char *o = strncmp(w, "--", 2) ? w : w + 2;

		if (!strcmp(o, "dump")) {
			*do_dump = true;
		} else if (!strcmp(o, "read-only")) {
			*read_only = true;
		} else {
			fprintf(stderr, "nestorctl: console: remote request '%s' is not allowed "
				"(this key reaches one console; allowed: dump, read-only)\n", w);
			ret = 1;
			break;
		}
	}
	free(copy);
	return ret;
}

int cmd_console(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "escape", required_argument, NULL, 'e' },
		{ "log", required_argument, NULL, 'l' },
		{ "dump", no_argument, NULL, 'd' },
		{ "read-only", no_argument, NULL, 'r' },
		{ "remote-forced", no_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	struct nestor_console_attach a = { 0 };
	const char *sub = NULL, *name, *log_path = NULL;
	bool do_dump = false, read_only = false, forced = false;
	int esc = 0x1d, dev, log = -1, opt, ret;
	uint32_t id;

	if (argc >= 2 && (!strcmp(argv[1], "enable") ||
			  !strcmp(argv[1], "disable") ||
			  !strcmp(argv[1], "status"))) {
		sub = argv[1];
		argc--;
		argv++;
	}
	if (argc < 2 || argv[1][0] == '-')
		return cusage("which L2? (N, l2:N or pid:P)%s", "");
	name = argv[1];
	by_pid = !strncmp(name, "pid:", 4) ? NESTOR_CONSOLE_BY_PID : 0;
	if (by_pid ? parse_u32(name + 4, &id) || !id :
	    nestor_parse_l2_name(name, &id) != 0)
		return cusage("bad L2 name '%s' (expected N, l2:N or pid:P)",
			      name);
	argc--;
	argv++;
	optind = 1;
	if (!sub) {
		while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
			if (opt == 'e' && !parse_escape(optarg, &esc))
				continue;
			if (opt == 'l')
				log_path = optarg;
			else if (opt == 'd')
				do_dump = true;
			else if (opt == 'r')
				read_only = true;
			else if (opt == 'F')
				forced = true;
			else
				return cusage("bad option%s", "");
		}
		if (optind < argc)
			return cusage("unexpected argument '%s'", argv[optind]);
		if (forced && (log_path || do_dump))
			return cusage("--remote-forced takes only --read-only and --escape%s", "");
		if (forced && remote_request(&do_dump, &read_only))
			return EXIT_USAGE;
	} else if (strcmp(sub, "enable") && argc > 1) {
		return cusage("unexpected argument '%s'", argv[1]);
	}

	if (nctl_remote_active()) {
		if (sub || forced || by_pid)
			return cusage("--remote offers only: console L2 [--read-only] [--dump] [--log FILE] [--escape C], L2 N or l2:N%s", "");
		if (log_path) {
			log = open_log(log_path);
			if (log < 0)
				return EXIT_FAILURE;
		}
		ret = remote_console(nctl_remote(), name, id, log, esc,
				     read_only, do_dump);
		if (log >= 0)
			close(log);
		return ret;
	}
	dev = open_dev();
	if (dev < 0)
		return EXIT_FAILURE;
	if (sub && !strcmp(sub, "enable")) {
		ret = cmd_enable(dev, name, id, argc, argv);
		close(dev);
		return ret == -EXIT_USAGE ? cusage("bad option%s", "") : ret;
	}
	if (sub && !strcmp(sub, "disable")) {
		struct nestor_console_id d = { .l2_id = id, .flags = by_pid };

		ret = ioctl(dev, NESTOR_IOC_CONSOLE_DISABLE, &d) ?
			(errno == ENOENT ?
			 (fprintf(stderr, "nestorctl: %s%s has no console\n",
				  by_pid ? "" : "L2 ", name), EXIT_FAILURE) :
			 say(errno, name, "disable")) : EXIT_SUCCESS;
		close(dev);
		return ret;
	}
	if (sub) {
		ret = cmd_status(dev, name, id);
		close(dev);
		return ret;
	}

	if (log_path) {
		log = open_log(log_path);
		if (log < 0) {
			close(dev);
			return EXIT_FAILURE;
		}
	}
	a.l2_id = id;
	a.flags = NESTOR_CONSOLE_ATTACH_READ | by_pid;
	if (!do_dump && !read_only)
		a.flags |= NESTOR_CONSOLE_ATTACH_WRITE;
	if (ioctl(dev, NESTOR_IOC_CONSOLE_ATTACH, &a)) {
		ret = say(errno, name, "attach");
	} else {
		close(dev);
		dev = -1;
		ret = do_dump ? dump(a.fd, log) :
			session(a.fd, log, esc, read_only);
		close(a.fd);
	}
	if (dev >= 0)
		close(dev);
	if (log >= 0)
		close(log);
	return ret;
}
