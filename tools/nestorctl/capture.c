// SPDX-License-Identifier: GPL-2.0
/*
 * nestorctl capture: packets around an L1 VM, as pcapng or one line per
 * packet (Documentation/capture.rst).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "libnestor.h"
#include "nestor_capture.h"
#include "capture.h"
#include "pcapng.h"

#define EXIT_USAGE	2

static const char capture_usage[] =
"usage: nestorctl capture VM [-p POINTS] [-s SNAPLEN] [-c COUNT]\n"
"                            [-w FILE.pcapng] [-d SECONDS] [-u IFNAME]\n"
"                            [-m L2:ADDR]... [--batch N] [--flush-ms MS]\n"
"                            [--bufsize BYTES] [--rcvbuf BYTES] [FILTER]\n"
"       nestorctl capture diff FILE.pcapng\n"
"       nestorctl capture list\n"
"\n"
"VM: N or vm:N (nestor's VM id), pid:P (the VMM's pid, or a process in\n"
"the VM's network namespace), dev:IF[,IF...] (interfaces by name).\n"
"For vm: and pid:, the kernel binds the L0 end of every veth leading into\n"
"the process's network namespace, and nestorctl adds the taps and\n"
"macvtaps the process holds open.\n"
"  -p POINTS   to-l1,from-l1,uplink (default to-l1,from-l1)\n"
"  -s SNAPLEN  bytes kept per packet (default 65535)\n"
"  -c COUNT    stop after COUNT packets\n"
"  -w FILE     write pcapng ('-': stdout); default: one line per packet\n"
"  -d SECONDS  stop after SECONDS\n"
"  -u IFNAME   an L0 uplink, captured at its ingress (adds 'uplink')\n"
"  -m L2:ADDR  tag packets from/to ADDR (MAC, IPv4, IPv6) with L2 id\n"
"  --batch, --flush-ms, --bufsize: the kernel's batching (a message is\n"
"              sent at N packets, after MS, or when BYTES are full)\n"
"  --rcvbuf    the packets socket's receive buffer (default 32 MiB)\n"
"  FILTER      tcpdump syntax (pcap-filter(7)), compiled with libpcap\n"
"Stops on SIGINT/SIGTERM too; statistics go to stderr and to the\n"
"pcapng statistics blocks.\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int cusage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int cusage(const char *fmt, ...)
{
	va_list ap;

	fputs("nestorctl: capture: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'nestorctl capture --help'.\n", stderr);
	return EXIT_USAGE;
}

static int cfail(struct nestor_cap *c, int err, const char *what)
{
	const char *d = c ? nestor_cap_last_error(c) : "";

	fprintf(stderr, "nestorctl: capture: %s: %s%s%s\n", what,
		err == -ENODEV ? "the nestor module is not loaded" :
		err == -EPERM ? "permission denied (needs CAP_NET_ADMIN)" :
		strerror(-err), *d ? ": " : "", d);
	return EXIT_FAILURE;
}

static bool parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool parse_points(const char *s, uint32_t *out)
{
	char *dup = strdup(s), *tok, *save = NULL;
	bool ok = dup != NULL;

	*out = 0;
	for (tok = dup ? strtok_r(dup, ",", &save) : NULL; tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "to-l1"))
			*out |= 1U << NESTOR_CAP_POINT_TO_L1;
		else if (!strcmp(tok, "from-l1"))
			*out |= 1U << NESTOR_CAP_POINT_FROM_L1;
		else if (!strcmp(tok, "uplink"))
			*out |= 1U << NESTOR_CAP_POINT_UPLINK;
		else
			ok = false;
	}
	free(dup);
	return ok && *out;
}

/* "L2:ADDR": MAC, IPv4 or IPv6. Returns the address length or 0. */
static size_t parse_map(const char *s, uint32_t *l2, uint8_t *addr)
{
	const char *colon = strchr(s, ':');
	char idbuf[16];
	unsigned int m[6];
	int n;

	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(idbuf))
		return 0;
	memcpy(idbuf, s, colon - s);
	idbuf[colon - s] = '\0';
	if (!parse_u32(idbuf, 1, UINT32_MAX, l2))
		return 0;
	s = colon + 1;
	if (inet_pton(AF_INET, s, addr) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, addr) == 1)
		return 16;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &m[0], &m[1], &m[2], &m[3],
		   &m[4], &m[5], &n) == 6 && !s[n]) {
		for (n = 0; n < 6; n++)
			addr[n] = (uint8_t)m[n];
		return 6;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* finding a VMM's taps and macvtaps                                  */
/* ------------------------------------------------------------------ */

/* Device number of a macvtap's character device, or 0. */
static dev_t macvtap_rdev(const char *ifname)
{
	char path[PATH_MAX], line[64];
	struct dirent *de;
	unsigned int ma, mi;
	dev_t rdev = 0;
	DIR *d;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/macvtap", ifname);
	d = opendir(path);
	if (!d)
		return 0;
	while (!rdev && (de = readdir(d))) {
		if (strncmp(de->d_name, "tap", 3))
			continue;
		snprintf(path, sizeof(path), "/sys/class/net/%s/macvtap/%s/dev",
			 ifname, de->d_name);
		f = fopen(path, "r");
		if (f && fgets(line, sizeof(line), f) &&
		    sscanf(line, "%u:%u", &ma, &mi) == 2)
			rdev = makedev(ma, mi);
		if (f)
			fclose(f);
	}
	closedir(d);
	return rdev;
}

static bool macvtap_of(dev_t rdev, char *name, size_t len)
{
	struct dirent *de;
	DIR *d = opendir("/sys/class/net");
	bool found = false;

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (rdev && macvtap_rdev(de->d_name) == rdev) {
			snprintf(name, len, "%.15s", de->d_name);
			found = true;
		}
	}
	closedir(d);
	return found;
}

/*
 * ifindexes of the taps (fdinfo "iff:") and macvtaps (/dev/tapN) that
 * @pid holds open.  Returns how many, at most @max.
 */
static int find_taps(uint32_t pid, uint32_t *idx, int max)
{
	char path[PATH_MAX], line[256], name[IF_NAMESIZE + 1];
	struct dirent *de;
	struct stat st;
	int n = 0, i;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%u/fd", pid);
	d = opendir(path);
	if (!d)
		return 0;
	while (n < max && (de = readdir(d))) {
		uint32_t ifindex = 0;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%u/fdinfo/%.32s", pid,
			 de->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			/* tun_chr_show_fdinfo(): "iff:\tNAME" */
			if (sscanf(line, "iff: %16s", name) == 1)
				ifindex = if_nametoindex(name);
		if (f)
			fclose(f);
		if ((size_t)snprintf(path, sizeof(path), "/proc/%u/fd/%.32s",
				     pid, de->d_name) >= sizeof(path))
			continue;
		if (!ifindex && !stat(path, &st) && S_ISCHR(st.st_mode) &&
		    macvtap_of(st.st_rdev, name, sizeof(name)))
			ifindex = if_nametoindex(name);
		for (i = 0; ifindex && i < n; i++)
			if (idx[i] == ifindex)
				ifindex = 0;
		if (ifindex)
			idx[n++] = ifindex;
	}
	closedir(d);
	return n;
}

/* The VMM pid of nestor's VM @vm_id, from the registry; 0 if unknown. */
static uint32_t vm_pid(uint32_t vm_id)
{
	struct nestor_vm *vms = NULL;
	struct nestor_l2 *l2s = NULL;
	size_t nr_vms = 0, nr_l2s = 0, i;
	uint32_t pid = 0;
	struct nestor *n;
	int err;

	n = nestor_open_flags(NESTOR_OPEN_GENL, &err);
	if (!n)
		return 0;
	if (!nestor_list(n, &vms, &nr_vms, &l2s, &nr_l2s)) {
		for (i = 0; i < nr_vms; i++)
			if (vms[i].id == vm_id)
				pid = vms[i].pid;
		nestor_free_list(vms, nr_vms, l2s, nr_l2s);
	}
	nestor_close(n);
	return pid;
}

/* ------------------------------------------------------------------ */
/* output                                                             */
/* ------------------------------------------------------------------ */

struct out_if {
	uint32_t binding, ifindex, point;
	char name[16];
	uint32_t vm_id, pid;
};

struct cap_run {
	struct nestor_cap *c;
	uint32_t session;
	uint32_t snaplen;
	struct pcapng_w w;
	bool pcap;
	FILE *out;
	struct out_if ifs[NESTOR_CAP_MAX_BINDINGS * __NESTOR_CAP_POINT_MAX];
	size_t nr_ifs;
	uint64_t start_ns, received;
	unsigned int gaps;
};

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int if_id(struct cap_run *r, uint32_t binding, uint32_t point)
{
	size_t i;

	for (i = 0; i < r->nr_ifs; i++)
		if (r->ifs[i].binding == binding && r->ifs[i].point == point)
			return (int)i;
	return -1;
}

static void idb_desc(const struct out_if *o, char *buf, size_t len)
{
	snprintf(buf, len, "nestor point=%s binding=%u ifindex=%u vm=%u pid=%u",
		 nestor_cap_point_name(o->point), o->binding, o->ifindex,
		 o->vm_id, o->pid);
}

/* One interface description per (interface, point), in GET order. */
static void declare_ifs(struct cap_run *r, const struct nestor_cap_stats *st)
{
	char desc[128];
	size_t i;

	for (i = 0; i < st->nr_ifs && r->nr_ifs < sizeof(r->ifs) /
	     sizeof(r->ifs[0]); i++) {
		struct out_if *o;

		if (if_id(r, st->ifs[i].binding, st->ifs[i].point) >= 0)
			continue;
		o = &r->ifs[r->nr_ifs++];
		o->binding = st->ifs[i].binding;
		o->ifindex = st->ifs[i].ifindex;
		o->point = st->ifs[i].point;
		o->vm_id = st->ifs[i].vm_id;
		o->pid = st->ifs[i].pid;
		snprintf(o->name, sizeof(o->name), "%s", st->ifs[i].name);
		if (r->pcap) {
			idb_desc(o, desc, sizeof(desc));
			pcapng_w_idb(&r->w, r->snaplen, o->name, desc);
		}
	}
}

static void text_line(struct cap_run *r, const struct nestor_cap_pkt *p,
		      const char *ifname)
{
	char sum[256], l2[24] = "";
	struct frame f;
	struct tm tm;
	time_t t = (time_t)(p->tstamp_ns / 1000000000ULL);

	localtime_r(&t, &tm);
	frame_decode(p->data, p->caplen, &f);
	frame_summary(&f, sum, sizeof(sum));
	if (p->l2_id)
		snprintf(l2, sizeof(l2), " l2 %u", p->l2_id);
	fprintf(r->out, "%02d:%02d:%02d.%09" PRIu64 " %s %s %s vm %u%s "
		"seq %" PRIu64 " len %u: %s\n", tm.tm_hour, tm.tm_min,
		tm.tm_sec, (uint64_t)(p->tstamp_ns % 1000000000ULL),
		nestor_cap_point_name(p->point), ifname,
		p->dir == NESTOR_CAP_DIR_OUT ? "out" : "in", p->vm_id, l2,
		p->seq, p->orig_len, sum);
}

static void emit(struct cap_run *r, const struct nestor_cap_pkt *p)
{
	int id = if_id(r, p->binding, p->point);
	char comment[160];

	/* The first gaps are named; the summary has them all. */
	if (p->lost_before && ++r->gaps <= 3)
		fprintf(stderr, "nestorctl: capture: %" PRIu64 " packets lost "
			"before seq %" PRIu64 "\n", p->lost_before, p->seq);
	if (id < 0) {
		/* Bound after the first GET (cannot happen today). */
		struct nestor_cap_stats st;

		if (!nestor_cap_get(r->c, r->session, &st)) {
			declare_ifs(r, &st);
			nestor_cap_free_stats(&st);
		}
		id = if_id(r, p->binding, p->point);
		if (id < 0)
			return;
	}
	r->received++;
	if (!r->pcap) {
		text_line(r, p, r->ifs[id].name);
		return;
	}
	if (p->l2_id)
		snprintf(comment, sizeof(comment),
			 "nestor point=%s seq=%" PRIu64 " vm=%u l2=%u",
			 nestor_cap_point_name(p->point), p->seq, p->vm_id,
			 p->l2_id);
	else
		snprintf(comment, sizeof(comment),
			 "nestor point=%s seq=%" PRIu64 " vm=%u",
			 nestor_cap_point_name(p->point), p->seq, p->vm_id);
	pcapng_w_epb(&r->w, (uint32_t)id, p->tstamp_ns, p->data, p->caplen,
		     p->orig_len, p->dir == NESTOR_CAP_DIR_OUT ?
		     PCAPNG_FLAG_OUT : PCAPNG_FLAG_IN, comment);
}

/* ------------------------------------------------------------------ */

/* "capture list": one line per session and per (interface, point). */
static int cmd_capture_list(int argc, char **argv)
{
	struct nestor_cap_stats *v = NULL;
	struct nestor_cap *c;
	size_t n = 0, i, k;
	int err;

	(void)argv;
	if (argc != 1)
		return cusage("list takes no arguments");
	c = nestor_cap_open(&err);
	if (!c)
		return cfail(NULL, err, "opening nestor_cap");
	err = nestor_cap_list(c, &v, &n);
	if (err) {
		err = cfail(c, err, "listing sessions");
		nestor_cap_close(c);
		return err;
	}
	nestor_cap_close(c);
	for (i = 0; i < n; i++) {
		printf("session %u owner %u points 0x%x snaplen %u captured %"
		       PRIu64 " filtered %" PRIu64 " dropped %" PRIu64
		       " messages %" PRIu64 "\n", v[i].session,
		       v[i].owner_portid, v[i].points, v[i].snaplen,
		       v[i].captured, v[i].filtered, v[i].dropped,
		       v[i].messages);
		for (k = 0; k < v[i].nr_ifs; k++)
			printf("  %s %s (binding %u, ifindex %u) vm %u pid %u%s"
			       " captured %" PRIu64 " filtered %" PRIu64
			       " dropped %" PRIu64 "\n",
			       nestor_cap_point_name(v[i].ifs[k].point),
			       v[i].ifs[k].name, v[i].ifs[k].binding,
			       v[i].ifs[k].ifindex, v[i].ifs[k].vm_id,
			       v[i].ifs[k].pid, v[i].ifs[k].gone ? " gone" : "",
			       v[i].ifs[k].captured, v[i].ifs[k].filtered,
			       v[i].ifs[k].dropped);
	}
	nestor_cap_free_list(v, n);
	return fflush(stdout) || ferror(stdout) ? EXIT_FAILURE : EXIT_SUCCESS;
}

enum { OPT_BATCH = 256, OPT_FLUSH, OPT_BUFSIZE, OPT_RCVBUF, OPT_HELP };

static int bind_target(struct nestor_cap *c, uint32_t session,
		       const char *vm)
{
	struct nestor_cap_target t = { 0 };
	uint32_t taps[NESTOR_CAP_MAX_BINDINGS];
	int err, n, i;

	if (!strncmp(vm, "dev:", 4)) {
		char *dup = strdup(vm + 4), *tok, *save = NULL;

		err = dup ? 0 : -ENOMEM;
		for (tok = dup ? strtok_r(dup, ",", &save) : NULL;
		     tok && !err; tok = strtok_r(NULL, ",", &save)) {
			memset(&t, 0, sizeof(t));
			t.ifindex = if_nametoindex(tok);
			if (!t.ifindex) {
				fprintf(stderr, "nestorctl: capture: no "
					"interface '%s'\n", tok);
				err = -ENODEV;
				break;
			}
			err = nestor_cap_bind(c, session, &t);
			if (err)
				cfail(c, err, tok);
		}
		free(dup);
		return err;
	}
	if (!strncmp(vm, "pid:", 4))
		parse_u32(vm + 4, 1, UINT32_MAX, &t.pid);
	else
		parse_u32(!strncmp(vm, "vm:", 3) ? vm + 3 : vm, 1, UINT32_MAX,
			  &t.vm_id);
	n = find_taps(t.pid ? t.pid : vm_pid(t.vm_id), taps,
		      NESTOR_CAP_MAX_BINDINGS);
	for (i = 0; i < n; i++) {
		struct nestor_cap_target tt = t;

		tt.ifindex = taps[i];
		err = nestor_cap_bind(c, session, &tt);
		if (err)
			return cfail(c, err, "binding a tap"), err;
	}
	/* The veths; none is fine when taps were found. */
	err = nestor_cap_bind(c, session, &t);
	if (err == -ENOENT && n)
		err = 0;
	if (err)
		cfail(c, err, "binding the VM's interfaces");
	return err;
}

/*
 * Reads what was captured before the stop (sequence numbers below
 * *@limit, the kernel's count at the stop), then the final counters.
 */
static int finish_run(struct cap_run *r, struct nestor_cap_stats *st,
		      uint32_t flush_ms, uint64_t *limit)
{
	struct nestor_cap_pkt p;
	struct timespec t0, t1;
	int err;

	err = nestor_cap_get(r->c, r->session, st);
	if (err)
		return err;
	*limit = st->captured;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		long ms;

		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		     (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms > (long)flush_ms + 1000 ||
		    r->received + nestor_cap_lost(r->c) >= *limit)
			break;
		err = nestor_cap_next(r->c, &p, 100);
		if (err == -ETIMEDOUT || err == -ENOBUFS)
			continue;
		if (err)
			break;
		if (p.seq < st->captured)
			emit(r, &p);
	}
	nestor_cap_free_stats(st);
	return nestor_cap_get(r->c, r->session, st);
}

int cmd_capture(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "flush-ms", required_argument, NULL, OPT_FLUSH },
		{ "bufsize", required_argument, NULL, OPT_BUFSIZE },
		{ "rcvbuf", required_argument, NULL, OPT_RCVBUF },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct nestor_cap_config cfg = { 0 };
	struct cap_run r = { 0 };
	struct nestor_cap_stats st;
	struct bpf_program prog = { 0 };
	const char *wfile = NULL, *vm = NULL, *uplink = NULL;
	char *filter = NULL;
	uint32_t count = 0, duration = 0, l2[NESTOR_CAP_MAX_L2_MAP];
	uint32_t cfg_rcvbuf = 0;
	uint8_t addrs[NESTOR_CAP_MAX_L2_MAP][16];
	size_t alens[NESTOR_CAP_MAX_L2_MAP], nr_maps = 0, flen = 0;
	struct timespec start;
	int opt, err, ret = EXIT_FAILURE, i;
	uint64_t lost_tail = 0, limit = 0, overruns = 0;

	if (argc >= 2 && !strcmp(argv[1], "diff"))
		return cmd_capture_diff(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "list"))
		return cmd_capture_list(argc - 1, argv + 1);
	/* "capture VM [OPTIONS] [FILTER]" (as documented) or options first. */
	if (argc > 1 && argv[1][0] != '-') {
		vm = argv[1];
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	opterr = 0;
	optind = 1;
	cfg.snaplen = NESTOR_CAP_SNAPLEN_DEFAULT;
	while ((opt = getopt_long(argc, argv, "+:p:s:c:w:d:u:m:h", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (!parse_points(optarg, &cfg.points))
				return cusage("bad points '%s'", optarg);
			break;
		case 's':
			if (!parse_u32(optarg, 1, NESTOR_CAP_SNAPLEN_MAX,
				       &cfg.snaplen))
				return cusage("bad snaplen '%s' (1..%u)",
					      optarg, NESTOR_CAP_SNAPLEN_MAX);
			break;
		case 'c':
			if (!parse_u32(optarg, 1, UINT32_MAX, &count))
				return cusage("bad count '%s'", optarg);
			break;
		case 'd':
			if (!parse_u32(optarg, 1, 86400, &duration))
				return cusage("bad duration '%s'", optarg);
			break;
		case 'w':
			wfile = optarg;
			break;
		case 'u':
			uplink = optarg;
			break;
		case 'm':
			if (nr_maps == NESTOR_CAP_MAX_L2_MAP)
				return cusage("at most %d -m",
					      NESTOR_CAP_MAX_L2_MAP);
			alens[nr_maps] = parse_map(optarg, &l2[nr_maps],
						   addrs[nr_maps]);
			if (!alens[nr_maps])
				return cusage("bad mapping '%s' (L2:MAC, "
					      "L2:IPv4 or L2:IPv6)", optarg);
			nr_maps++;
			break;
		case OPT_BATCH:
			if (!parse_u32(optarg, 1, NESTOR_CAP_BATCH_MAX,
				       &cfg.batch))
				return cusage("bad --batch '%s'", optarg);
			break;
		case OPT_FLUSH:
			if (!parse_u32(optarg, 1, NESTOR_CAP_FLUSH_MS_MAX,
				       &cfg.flush_ms))
				return cusage("bad --flush-ms '%s'", optarg);
			break;
		case OPT_BUFSIZE:
			if (!parse_u32(optarg, NESTOR_CAP_BUFSIZE_MIN,
				       NESTOR_CAP_BUFSIZE_MAX, &cfg.bufsize))
				return cusage("bad --bufsize '%s' (%u..%u)",
					      optarg, NESTOR_CAP_BUFSIZE_MIN,
					      NESTOR_CAP_BUFSIZE_MAX);
			break;
		case OPT_RCVBUF:
			if (!parse_u32(optarg, 1, INT32_MAX, &cfg_rcvbuf))
				return cusage("bad --rcvbuf '%s'", optarg);
			break;
		case 'h':
		case OPT_HELP:
			fputs(capture_usage, stdout);
			return EXIT_SUCCESS;
		case ':':
			return cusage("option '%s' needs a value",
				      argv[optind - 1]);
		default:
			return cusage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (!vm && optind >= argc)
		return cusage("which VM? (N, vm:N, pid:P or dev:IF,...)");
	if (!vm)
		vm = argv[optind++];
	if (strncmp(vm, "dev:", 4)) {
		uint32_t x;
		const char *v = !strncmp(vm, "pid:", 4) ? vm + 4 :
				!strncmp(vm, "vm:", 3) ? vm + 3 : vm;

		if (!parse_u32(v, 1, UINT32_MAX, &x))
			return cusage("bad VM '%s' (N, vm:N, pid:P or "
				      "dev:IF,...)", vm);
	}
	if (uplink)
		cfg.points |= cfg.points ? 1U << NESTOR_CAP_POINT_UPLINK :
			      NESTOR_CAP_POINTS_ALL;
	for (i = optind; i < argc; i++) {
		size_t l = strlen(argv[i]);
		char *nf = realloc(filter, flen + l + 2);

		if (!nf)
			return EXIT_FAILURE;
		filter = nf;
		memcpy(filter + flen, argv[i], l);
		flen += l;
		filter[flen++] = ' ';
		filter[flen] = '\0';
	}
	if (filter) {
		pcap_t *dead = pcap_open_dead(DLT_EN10MB, (int)cfg.snaplen);

		if (!dead || pcap_compile(dead, &prog, filter, 1,
					  PCAP_NETMASK_UNKNOWN)) {
			fprintf(stderr, "nestorctl: capture: invalid filter "
				"'%.*s': %s\n", (int)flen - 1, filter,
				dead ? pcap_geterr(dead) : "libpcap failed");
			if (dead)
				pcap_close(dead);
			free(filter);
			return EXIT_USAGE;
		}
		pcap_close(dead);
		/* struct bpf_insn and struct sock_filter are one layout. */
		cfg.filter = (const struct sock_filter *)prog.bf_insns;
		cfg.filter_len = prog.bf_len;
	}

	r.c = nestor_cap_open(&err);
	if (!r.c) {
		ret = cfail(NULL, err, "opening nestor_cap");
		goto out_filter;
	}
	err = nestor_cap_new(r.c, &cfg, &r.session);
	if (err) {
		ret = cfail(r.c, err, "creating the session");
		goto out;
	}
	err = nestor_cap_subscribe(r.c, r.session, cfg_rcvbuf);
	if (err) {
		ret = cfail(r.c, err, "joining the packets group");
		goto out;
	}
	if (bind_target(r.c, r.session, vm))
		goto out;
	if (uplink) {
		struct nestor_cap_target t = { .uplink = if_nametoindex(uplink) };

		if (!t.uplink) {
			fprintf(stderr, "nestorctl: capture: no interface "
				"'%s'\n", uplink);
			goto out;
		}
		err = nestor_cap_bind(r.c, r.session, &t);
		if (err) {
			ret = cfail(r.c, err, "binding the uplink");
			goto out;
		}
	}
	for (i = 0; i < (int)nr_maps; i++) {
		err = nestor_cap_l2_map(r.c, r.session, l2[i], addrs[i],
					alens[i]);
		if (err) {
			ret = cfail(r.c, err, "installing an L2 mapping");
			goto out;
		}
	}
	err = nestor_cap_get(r.c, r.session, &st);
	if (err) {
		ret = cfail(r.c, err, "reading the session");
		goto out;
	}
	r.snaplen = cfg.snaplen;
	r.out = stdout;
	r.start_ns = realtime_ns();
	if (wfile) {
		r.pcap = true;
		if (strcmp(wfile, "-")) {
			r.out = fopen(wfile, "w");
			if (!r.out) {
				fprintf(stderr, "nestorctl: capture: %s: %s\n",
					wfile, strerror(errno));
				nestor_cap_free_stats(&st);
				goto out;
			}
		}
		pcapng_w_init(&r.w, r.out);
		pcapng_w_shb(&r.w, "nestorctl capture", filter);
	}
	declare_ifs(&r, &st);
	nestor_cap_free_stats(&st);
	/* Streams: every block as soon as it is whole; files: big writes. */
	if (!wfile || !strcmp(wfile, "-"))
		setvbuf(r.out, NULL, _IOLBF, 0);
	else
		setvbuf(r.out, NULL, _IOFBF, 1 << 20);
	fflush(r.out);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	/* Tests wait for this line before they send traffic. */
	fprintf(stderr, "nestorctl: capturing (session %u)\n", r.session);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!stop && (!count || r.received < count)) {
		struct nestor_cap_pkt p;
		struct timespec now;

		if (duration) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - start.tv_sec >= (time_t)duration)
				break;
		}
		err = nestor_cap_next(r.c, &p, 200);
		if (err == -ETIMEDOUT)
			continue;
		if (err == -ENOBUFS) {
			/* The sequence numbers tell how much was lost. */
			if (!overruns++)
				fprintf(stderr, "nestorctl: capture: the "
					"receive queue overran; gaps are "
					"counted\n");
			continue;
		}
		if (err == -EINTR)
			continue;
		if (err) {
			ret = cfail(r.c, err, "receiving packets");
			goto out_file;
		}
		emit(&r, &p);
		if (ferror(r.out) || r.w.err)
			break;
	}
	err = finish_run(&r, &st, cfg.flush_ms ? cfg.flush_ms :
			 NESTOR_CAP_FLUSH_MS_DEFAULT, &limit);
	if (err) {
		/* The module went away under us (rmmod): say so. */
		ret = cfail(r.c, err, "reading the final statistics");
		if (err == -ENOENT)
			fprintf(stderr, "nestorctl: capture: the session is "
				"gone (was nestor unloaded?); %" PRIu64
				" packets were received\n", r.received);
		goto out_file;
	}
	/* Not seen at the end: lost too, and said so. */
	if (limit > r.received + nestor_cap_lost(r.c) &&
	    (!count || r.received < count))
		lost_tail = limit - r.received - nestor_cap_lost(r.c);
	if (r.pcap) {
		uint64_t now = realtime_ns();
		char comment[256];
		size_t k;

		for (k = 0; k < st.nr_ifs; k++) {
			int id = if_id(&r, st.ifs[k].binding, st.ifs[k].point);

			if (id < 0)
				continue;
			snprintf(comment, sizeof(comment),
				 "nestor session=%u captured=%" PRIu64
				 " dropped=%" PRIu64 " alloc_fail=%" PRIu64
				 " overflow=%" PRIu64 " lost_by_reader=%"
				 PRIu64, r.session, st.captured, st.dropped,
				 st.alloc_fail, st.overflow,
				 nestor_cap_lost(r.c) + lost_tail);
			pcapng_w_isb(&r.w, (uint32_t)id, now, r.start_ns,
				     st.ifs[k].captured + st.ifs[k].filtered,
				     st.ifs[k].dropped, 0, st.ifs[k].captured,
				     comment);
		}
	}
	fprintf(stderr, "nestorctl: capture: %" PRIu64 " received, %" PRIu64
		" captured, %" PRIu64 " filtered out, %" PRIu64 " dropped "
		"(%" PRIu64 " allocation failures, %" PRIu64 " overflows), "
		"%" PRIu64 " lost by the reader\n", r.received, limit,
		st.filtered, st.dropped, st.alloc_fail, st.overflow,
		nestor_cap_lost(r.c) + lost_tail);
	nestor_cap_free_stats(&st);
	ret = EXIT_SUCCESS;
out_file:
	if (r.out && r.out != stdout && fclose(r.out)) {
		fprintf(stderr, "nestorctl: capture: %s: %s\n", wfile,
			strerror(errno));
		ret = EXIT_FAILURE;
	} else if (r.out == stdout && (fflush(stdout) || ferror(stdout))) {
		ret = EXIT_FAILURE;
	}
	if (r.w.err)
		ret = EXIT_FAILURE;
out:
	nestor_cap_close(r.c);
out_filter:
	if (filter)
		pcap_freecode(&prog);
	free(filter);
	return ret;
}
