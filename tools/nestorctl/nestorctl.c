// SPDX-License-Identifier: GPL-2.0
/*
 * nestorctl: the L0 admin's view of nestor.
 *
 * Exit status: 0 success, 1 error (module, permission, no such L2...),
 * 2 usage (bad command, option or argument).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libnestor.h"
#include "json.h"
#include "console.h"
#include "mem.h"
#include "profile.h"
#include "ps.h"
#include "capture.h"

#ifndef NESTOR_TOOLS_VERSION
#define NESTOR_TOOLS_VERSION "0.1"
#endif

#define EXIT_USAGE	2

static const char usage_text[] =
"usage: nestorctl COMMAND [OPTIONS]\n"
"\n"
"Commands:\n"
"  version [--json]      module and uapi version, backend, features\n"
"  list [--json]         L1 VMs and the L2 contexts seen in each\n"
"  stats L2 [--json]     exit counts of one L2 context; L2 is N, l2:N, or\n"
"                        id:NAME (the context holding identity NAME)\n"
"  ident [--json]        L2 identities, present and absent\n"
"  ident del NAME        free an identity's name (the admin's decision)\n"
"  key add owner|monitor ID [--allow-unauth] [--no-secret]\n"
"                        add a key; its secret is read from stdin in hex\n"
"                        (16 to 64 bytes); --no-secret: an owner key that\n"
"                        allows only unauthenticated registration\n"
"  key del owner|monitor ID\n"
"                        remove a key (never readable back)\n"
"  events [--count N] [--timeout MS] [--json]\n"
"                        print registry events as they come (one a line);\n"
"                        stop after N events or MS milliseconds; with\n"
"                        --count, running out of time is an error\n"
"  console L2 [--escape C] [--log FILE] [--read-only] | --dump\n"
"                        the L2's out-of-band serial console (raw terminal,\n"
"                        Ctrl-] leaves); --dump prints what is buffered\n"
"  console L2 --remote-forced [--read-only]\n"
"                        for an SSH forced command: the client may only ask\n"
"                        for dump or read-only ($SSH_ORIGINAL_COMMAND)\n"
"  console enable L2 [--port P] [--ring BYTES] [--drop-oldest]\n"
"  console disable L2 | console status L2\n"
"  translate L2 ADDR [--space S] [--vcpu N] [--cr3 X] [--json]\n"
"                        the translation chain of ADDR: L2 page tables,\n"
"                        L1's EPT/NPT for the L2, L1 memory (introspection)\n"
"  walk L2 HEAD [--link-offset N] [--next-offset N] [--field OFF:SIZE[:DEREF]]...\n"
"     [--max N] [--space S] [--vcpu N] [--cr3 X] [--per-datum] [--stats]\n"
"                        walk a list in L2 memory in one call: one line per\n"
"                        node (address, status, fields in hex); --per-datum:\n"
"                        one READ per pointer and field instead\n"
"  --remote HOST:PORT --key-id N --key-file FILE read|walk|ps|console ...\n"
"                        the same through nestor-monitord on L0; every\n"
"                        answer's HMAC (monitor key N, hex in FILE) and\n"
"                        nonce is verified (Documentation/monitor.rst);\n"
"                        console L2 [--read-only] [--dump] [--log FILE]\n"
"                        [--escape C] signs its input with that key too\n"
"  read L2 ADDR LEN [--space S] [--vcpu N] [--cr3 X]\n"
"                        hex dump of LEN bytes (at most 1 MiB); S is\n"
"                        l2-virt (default), l2-phys or l1-phys; L2-virtual\n"
"                        addresses go through vCPU N's CR3 (default 0) or X\n"
"  profile --vmlinux FILE [--system-map FILE] [-o OUT]\n"
"  profile --btf FILE --system-map FILE [-o OUT]\n"
"                        a Linux guest profile (task_struct offsets and\n"
"                        symbols, from BTF) for ps\n"
"  ps L2 [--profile FILE] [--vcpu N] [--max N] [--per-datum] [--json]\n"
"     [--stats] [--no-cache]\n"
"                        the processes of a Linux L2 (PID, PPID, UID,\n"
"                        COMM) in one list walk; --per-datum reads one\n"
"                        datum per call; --stats: calls, time and the\n"
"                        kernel's nested walks and cache hits on stderr;\n"
"                        --no-cache: bypass the translation cache;\n"
"                        the profile may come from $NESTOR_PROFILE\n"
"  capture VM [OPTIONS] [FILTER]\n"
"                        packets around an L1 VM (pcapng or text);\n"
"                        'capture --help' for the options\n"
"  capture diff FILE     what L1 did: dropped, modified, injected, NAT\n"
"  help                  this text\n"
"\n"
"stats columns, per exit reason (VMX basic exit reason, SVM exit code):\n"
"  total      exits L0 saw while this L2 ran\n"
"  reflected  exits delivered to L1\n"
"  l0         exits that stayed in L0 (handled by KVM or nestor):\n"
"             total - reflected, clamped at 0, because KVM also\n"
"             synthesizes exits to L1 that no hardware exit caused\n"
"             (interrupt and NMI windows, for example), so reflected\n"
"             can exceed total\n"
"  nestor     exits nestor completed in L0; L1 never saw them\n"
"\n"
"nestorctl needs root: /dev/nestor needs CAP_SYS_ADMIN, the netlink\n"
"family and its events CAP_NET_ADMIN.\n"
"\n"
"Exit status: 0 success, 1 error, 2 usage error.\n";

static void usage(FILE *f)
{
	fputs(usage_text, f);
}

static int usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("nestorctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'nestorctl help'.\n", stderr);
	return EXIT_USAGE;
}

/* "nestorctl: WHAT: MESSAGE[: DETAIL]" for a library error. */
static int fail(struct nestor *n, int err, const char *what)
{
	const char *detail = n ? nestor_last_error(n) : "";

	fprintf(stderr, "nestorctl: %s: %s%s%s\n", what, nestor_strerror(err),
		*detail ? ": " : "", detail);
	return EXIT_FAILURE;
}

static struct nestor *open_nestor(unsigned int flags, int *ret)
{
	struct nestor *n;
	int err;

	n = nestor_open_flags(flags, &err);
	if (!n)
		*ret = fail(NULL, err, "cannot open nestor");
	return n;
}

/* Output errors (a closed pipe, a full disk) must not pass as success. */
static int finish(int ret)
{
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "nestorctl: writing the output: %s\n",
			strerror(errno));
		return EXIT_FAILURE;
	}
	return ret;
}

/* Strict decimal in [min, max]: digits only, no sign, no spaces. */
static bool parse_long(const char *s, long min, long max, long *out)
{
	const char *p;
	char *end;
	long v;

	for (p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

struct opts {
	bool json;
	long count;		/* events: 0 = unlimited */
	long timeout_ms;	/* events: -1 = none */
};

enum { OPT_JSON = 1, OPT_COUNT, OPT_TIMEOUT, OPT_HELP };

/*
 * Options of a command (--count and --timeout for events only).  Returns
 * -1 when parsing went fine (optind at the first operand), or an exit
 * code.
 */
static int parse_opts(int argc, char **argv, bool events, struct opts *o)
{
	static const struct option all[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ NULL, 0, NULL, 0 },
	};
	static const struct option common[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->json = false;
	o->count = 0;
	o->timeout_ms = -1;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", events ? all : common,
				NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			o->json = true;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			return finish(EXIT_SUCCESS);
		case OPT_COUNT:
			if (!parse_long(optarg, 1, LONG_MAX, &o->count))
				return usage_error("%s: bad --count '%s' "
						   "(a positive number)",
						   argv[0], optarg);
			break;
		case OPT_TIMEOUT:
			if (!parse_long(optarg, 0, INT_MAX, &o->timeout_ms))
				return usage_error("%s: bad --timeout '%s' "
						   "(milliseconds)",
						   argv[0], optarg);
			break;
		case ':':
			return usage_error("%s: option '%s' needs a value",
					   argv[0], argv[optind - 1]);
		default:
			return usage_error("%s: unknown option '%s'", argv[0],
					   argv[optind - 1]);
		}
	}
	return -1;
}

static int no_operands(int argc, char **argv)
{
	if (optind < argc)
		return usage_error("%s: unexpected argument '%s'", argv[0],
				   argv[optind]);
	return -1;
}

/* ------------------------------------------------------------------ */
/* version                                                            */
/* ------------------------------------------------------------------ */

static const struct {
	uint64_t bit;
	const char *name;
} feature_names[] = {
	{ NESTOR_FEAT_REGISTRY, "registry" },
	{ NESTOR_FEAT_DIVERT, "divert" },
	{ NESTOR_FEAT_PING, "ping" },
	{ NESTOR_FEAT_MEM, "mem" },
	{ NESTOR_FEAT_CONSOLE, "console" },
	{ NESTOR_FEAT_CONSOLE_ARM, "console-arm" },
	{ NESTOR_FEAT_CONSOLE_SIGNED, "console-signed" },
	{ NESTOR_FEAT_IDENTITY, "identity" },
};

#define NR_FEATURES	(sizeof(feature_names) / sizeof(*feature_names))

static int cmd_version(int argc, char **argv)
{
	struct nestor_version_info vi, vg;
	struct nestor *n;
	struct opts o;
	struct json j;
	uint64_t rest;
	size_t i;
	int ret;

	ret = parse_opts(argc, argv, false, &o);
	if (ret < 0)
		ret = no_operands(argc, argv);
	if (ret >= 0)
		return ret;
	n = open_nestor(NESTOR_OPEN_DEV | NESTOR_OPEN_GENL, &ret);
	if (!n)
		return ret;
	ret = nestor_version_ioctl(n, &vi);
	if (ret) {
		ret = fail(n, ret, "NESTOR_IOC_VERSION");
		goto out;
	}
	ret = nestor_version_genl(n, &vg);
	if (ret) {
		ret = fail(n, ret, "netlink GET_VERSION");
		goto out;
	}
	/* Two views of one module: a difference is a module bug. */
	if (vi.uapi_version != vg.uapi_version || vi.backend != vg.backend ||
	    vi.features != vg.features ||
	    strcmp(vi.module_version, vg.module_version)) {
		fprintf(stderr, "nestorctl: the ioctl and netlink disagree: "
			"uapi %u/%u, backend %u/%u, features 0x%" PRIx64
			"/0x%" PRIx64 ", module \"%s\"/\"%s\"\n",
			vi.uapi_version, vg.uapi_version, vi.backend,
			vg.backend, vi.features, vg.features,
			vi.module_version, vg.module_version);
		ret = EXIT_FAILURE;
		goto out;
	}
	if (vi.uapi_version != NESTOR_UAPI_VERSION)
		fprintf(stderr, "nestorctl: warning: module uapi %u, tools "
			"built for %u\n", vi.uapi_version, NESTOR_UAPI_VERSION);

	if (o.json) {
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_key(&j, "module");
		json_str(&j, vi.module_version);
		json_key(&j, "uapi");
		json_u64(&j, vi.uapi_version);
		json_key(&j, "tools");
		json_str(&j, NESTOR_TOOLS_VERSION);
		json_key(&j, "backend");
		json_str(&j, nestor_backend_name(vi.backend));
		json_key(&j, "features");
		json_arr_begin(&j);
		for (i = 0; i < NR_FEATURES; i++)
			if (vi.features & feature_names[i].bit)
				json_str(&j, feature_names[i].name);
		json_arr_end(&j);
		json_key(&j, "feature_bits");
		json_hex(&j, vi.features);
		json_obj_end(&j);
		putchar('\n');
	} else {
		printf("module:   %s\n", vi.module_version);
		printf("uapi:     %u (tools %s, built for uapi %u)\n",
		       vi.uapi_version, NESTOR_TOOLS_VERSION,
		       NESTOR_UAPI_VERSION);
		printf("backend:  %s\n", nestor_backend_name(vi.backend));
		printf("features:");
		rest = vi.features;
		for (i = 0; i < NR_FEATURES; i++) {
			if (vi.features & feature_names[i].bit) {
				printf(" %s", feature_names[i].name);
				rest &= ~feature_names[i].bit;
			}
		}
		if (rest)
			printf(" unknown:0x%" PRIx64, rest);
		printf(" (0x%" PRIx64 ")\n", vi.features);
	}
	ret = EXIT_SUCCESS;
out:
	nestor_close(n);
	return finish(ret);
}

/* ------------------------------------------------------------------ */
/* list                                                               */
/* ------------------------------------------------------------------ */

static uint64_t boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) +
	       (uint64_t)ts.tv_nsec;
}

/* "1.2s", "3m04s", "2h05m", from a duration in ns. */
static void fmt_ago(char *buf, size_t len, uint64_t ns)
{
	uint64_t s = ns / UINT64_C(1000000000);

	if (ns < UINT64_C(1000000000))
		snprintf(buf, len, "%" PRIu64 "ms", ns / UINT64_C(1000000));
	else if (s < 60)
		snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "s", s,
			 (ns / UINT64_C(100000000)) % 10);
	else if (s < 3600)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60,
			 s % 60);
	else
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600,
			 (s / 60) % 60);
}

static void l2_text(FILE *out, const struct nestor_l2 *l2, uint64_t now)
{
	char ago[32];
	size_t i;

	fmt_ago(ago, sizeof(ago),
		now > l2->last_seen_ns ? now - l2->last_seen_ns : 0);
	fprintf(out, "  l2 %u  ", l2->id);
	if (l2->ident[0])
		fprintf(out, "id:%s%s  ", l2->ident,
			l2->ident_flags & NESTOR_IDENT_F_UNAUTH ?
			" (unauthenticated)" : "");
	fprintf(out, "%s  %s 0x%" PRIx64 "  root 0x%" PRIx64 "  %s"
		"  entries %" PRIu64 "  last seen %s ago  cr3",
		nestor_backend_name(l2->isa),
		l2->isa == NESTOR_BACKEND_SVM ? "vmcb12" : "vmcs12",
		l2->vmcs12, l2->nested_root, l2->tdp ? "tdp" : "no-tdp",
		l2->entries, ago);
	if (!l2->nr_vcpus)
		fputs(" -", out);
	for (i = 0; i < l2->nr_vcpus; i++)
		fprintf(out, " vcpu%u=0x%" PRIx64 "(%" PRIu64 " changes)",
			l2->vcpus[i].vcpu_id, l2->vcpus[i].cr3,
			l2->vcpus[i].cr3_changes);
	fputc('\n', out);
}

static void l2_json(struct json *j, const struct nestor_l2 *l2)
{
	size_t i;

	json_obj_begin(j);
	json_key(j, "id");
	json_u64(j, l2->id);
	json_key(j, "isa");
	json_str(j, nestor_backend_name(l2->isa));
	json_key(j, "vmcs12");
	json_hex(j, l2->vmcs12);
	json_key(j, "nested_root");
	json_hex(j, l2->nested_root);
	json_key(j, "tdp");
	json_bool(j, l2->tdp);
	json_key(j, "first_seen_ns");
	json_u64(j, l2->first_seen_ns);
	json_key(j, "last_seen_ns");
	json_u64(j, l2->last_seen_ns);
	json_key(j, "entries");
	json_u64(j, l2->entries);
	if (l2->ident[0]) {
		json_key(j, "identity");
		json_str(j, l2->ident);
		json_key(j, "identity_key");
		json_u64(j, l2->ident_key_id);
		json_key(j, "identity_unauthenticated");
		json_bool(j, l2->ident_flags & NESTOR_IDENT_F_UNAUTH);
	}
	json_key(j, "cr3");
	json_arr_begin(j);
	for (i = 0; i < l2->nr_vcpus; i++) {
		json_obj_begin(j);
		json_key(j, "vcpu");
		json_u64(j, l2->vcpus[i].vcpu_id);
		json_key(j, "cr3");
		json_hex(j, l2->vcpus[i].cr3);
		json_key(j, "changes");
		json_u64(j, l2->vcpus[i].cr3_changes);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
}

/* One L1 VM and its L2 contexts; JSON when @j, else text on @out. */
static void vm_out(FILE *out, struct json *j, const struct nestor_vm *vm,
		   const struct nestor_l2 *l2s, size_t nr_l2s, uint64_t now)
{
	size_t i;

	if (j) {
		json_obj_begin(j);
		json_key(j, "vm");
		json_u64(j, vm->id);
		json_key(j, "pid");
		json_u64(j, vm->pid);
		json_key(j, "vcpus");
		json_arr_begin(j);
		for (i = 0; i < vm->nr_vcpus; i++)
			json_u64(j, vm->vcpu_ids[i]);
		json_arr_end(j);
		json_key(j, "l1_nestor_hypercalls");
		json_u64(j, vm->l1_hypercalls);
		json_key(j, "l2");
		json_arr_begin(j);
	} else {
		fprintf(out, "vm %u  pid %u  vcpus ", vm->id, vm->pid);
		if (!vm->nr_vcpus)
			fputc('-', out);
		for (i = 0; i < vm->nr_vcpus; i++)
			fprintf(out, "%s%u", i ? "," : "", vm->vcpu_ids[i]);
		/* L1 tried to speak for an L2: nestor refused and counted. */
		if (vm->l1_hypercalls)
			fprintf(out, "  l1-nestor-hypercalls %" PRIu64
				" (refused)", vm->l1_hypercalls);
		fputc('\n', out);
	}
	for (i = 0; i < nr_l2s; i++) {
		if (l2s[i].vm_id != vm->id)
			continue;
		if (j)
			l2_json(j, &l2s[i]);
		else
			l2_text(out, &l2s[i], now);
	}
	if (j) {
		json_arr_end(j);
		json_obj_end(j);
	}
}

static bool vm_known(const struct nestor_vm *vms, size_t nr, uint32_t id)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (vms[i].id == id)
			return true;
	return false;
}

/*
 * The registry as text or as one JSON line:
 * {"vms":[{"vm":..,"pid":..,"vcpus":[..],"l2":[{..}]}]}
 * @l2s sorted by vm_id (nestor_list() does that).
 */
static void idents_out(FILE *out, struct json *j,
		       const struct nestor_ident *ids, size_t nr, bool all);

static void list_out(FILE *out, bool json, const struct nestor_vm *vms,
		     size_t nr_vms, const struct nestor_l2 *l2s,
		     size_t nr_l2s, const struct nestor_ident *ids,
		     size_t nr_ids, uint64_t now)
{
	struct json j, *jp = NULL;
	size_t i;

	if (json) {
		jp = &j;
		json_init(jp, out);
		json_obj_begin(jp);
		json_key(jp, "vms");
		json_arr_begin(jp);
	} else if (!nr_vms && !nr_l2s) {
		fputs("no VMs\n", out);
	}
	for (i = 0; i < nr_vms; i++)
		vm_out(out, jp, &vms[i], l2s, nr_l2s, now);
	/*
	 * An L2 whose VM went away between the two dumps: show it under a
	 * VM with what the L2 message said rather than drop it.
	 */
	for (i = 0; i < nr_l2s; i++) {
		struct nestor_vm ghost = { .id = l2s[i].vm_id,
					   .pid = l2s[i].vm_pid };

		if (vm_known(vms, nr_vms, ghost.id) ||
		    (i && l2s[i - 1].vm_id == ghost.id))
			continue;
		vm_out(out, jp, &ghost, l2s, nr_l2s, now);
	}
	if (jp) {
		json_arr_end(jp);
		json_key(jp, "identities");
	}
	/* Present ones are on their contexts above; absent ones here. */
	idents_out(out, jp, ids, nr_ids, false);
	if (jp) {
		json_obj_end(jp);
		fputc('\n', out);
	}
}

static int cmd_list(int argc, char **argv)
{
	struct nestor_ident *ids = NULL;
	size_t nr_ids = 0;
	struct nestor_vm *vms = NULL;
	struct nestor_l2 *l2s = NULL;
	size_t nr_vms = 0, nr_l2s = 0;
	struct nestor *n;
	struct opts o;
	int ret;

	ret = parse_opts(argc, argv, false, &o);
	if (ret < 0)
		ret = no_operands(argc, argv);
	if (ret >= 0)
		return ret;
	n = open_nestor(NESTOR_OPEN_GENL, &ret);
	if (!n)
		return ret;
	ret = nestor_list(n, &vms, &nr_vms, &l2s, &nr_l2s);
	if (ret) {
		ret = fail(n, ret, "listing VMs and L2 contexts");
		nestor_close(n);
		return ret;
	}
	ret = nestor_idents(n, &ids, &nr_ids);
	if (ret) {
		ret = fail(n, ret, "listing identities");
		nestor_free_list(vms, nr_vms, l2s, nr_l2s);
		nestor_close(n);
		return ret;
	}
	nestor_close(n);
	list_out(stdout, o.json, vms, nr_vms, l2s, nr_l2s, ids, nr_ids,
		 boottime_ns());
	nestor_free_list(vms, nr_vms, l2s, nr_l2s);
	free(ids);
	return finish(EXIT_SUCCESS);
}

/* ------------------------------------------------------------------ */
/* stats                                                              */
/* ------------------------------------------------------------------ */

/*
 * Exits that stayed in L0.  Clamped: KVM synthesizes some exits to L1
 * without a hardware exit, so reflected can exceed total.
 */
static uint64_t exits_l0(const struct nestor_exit_count *e)
{
	return e->total > e->reflected ? e->total - e->reflected : 0;
}

/*
 * Text, or one JSON line:
 * {"l2":..,"isa":..,"exits":[{"reason":..,"name":..,"total":..,
 *  "reflected":..,"l0":..,"nestor":..}]}
 */
static void stats_out(FILE *out, bool json, uint32_t id, uint32_t isa,
		      const struct nestor_stats *s)
{
	struct json j;
	size_t i;

	if (json) {
		json_init(&j, out);
		json_obj_begin(&j);
		json_key(&j, "l2");
		json_u64(&j, id);
		json_key(&j, "isa");
		json_str(&j, nestor_backend_name(isa));
		json_key(&j, "exits");
		json_arr_begin(&j);
		for (i = 0; i < s->nr_exits; i++) {
			const struct nestor_exit_count *e = &s->exits[i];

			json_obj_begin(&j);
			json_key(&j, "reason");
			json_u64(&j, e->reason);
			json_key(&j, "name");
			json_str(&j, nestor_exit_name(isa, e->reason));
			json_key(&j, "total");
			json_u64(&j, e->total);
			json_key(&j, "reflected");
			json_u64(&j, e->reflected);
			json_key(&j, "l0");
			json_u64(&j, exits_l0(e));
			json_key(&j, "nestor");
			json_u64(&j, e->nestor);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		fputc('\n', out);
		return;
	}
	fprintf(out, "l2 %u (%s): %zu exit reason%s\n", id,
		nestor_backend_name(isa), s->nr_exits,
		s->nr_exits == 1 ? "" : "s");
	if (s->nr_exits)
		fprintf(out, "%-10s  %-22s %12s %12s %12s %12s\n", "reason",
			"name", "total", "reflected", "l0", "nestor");
	for (i = 0; i < s->nr_exits; i++) {
		const struct nestor_exit_count *e = &s->exits[i];
		char reason[16];

		/* SVM codes read best in hex, as the APM lists them. */
		if (isa == NESTOR_BACKEND_SVM)
			snprintf(reason, sizeof(reason), "0x%03x", e->reason);
		else
			snprintf(reason, sizeof(reason), "%u", e->reason);
		fprintf(out, "%-10s  %-22s %12" PRIu64 " %12" PRIu64
			" %12" PRIu64 " %12" PRIu64 "\n", reason,
			nestor_exit_name(isa, e->reason), e->total,
			e->reflected, exits_l0(e), e->nestor);
	}
}

static int cmd_stats(int argc, char **argv)
{
	struct nestor_stats s;
	struct nestor_l2 l2;
	struct nestor *n;
	const char *name;
	struct opts o;
	uint32_t id;
	uint32_t isa;
	int ret;

	ret = parse_opts(argc, argv, false, &o);
	if (ret >= 0)
		return ret;
	if (optind >= argc)
		return usage_error("stats: which L2? (N, l2:N or id:NAME)");
	if (optind + 1 < argc)
		return usage_error("stats: unexpected argument '%s'",
				   argv[optind + 1]);
	name = argv[optind];
	/* A malformed name is a usage error, module or not. */
	if (nestor_parse_l2_name(name, &id) < 0)
		return usage_error("stats: bad L2 name '%s' "
				   "(expected N, l2:N or id:NAME)", name);

	n = open_nestor(NESTOR_OPEN_GENL, &ret);
	if (!n)
		return ret;
	ret = nestor_resolve_l2(n, name, &id);
	if (!ret)
		ret = nestor_stats(n, id, &s);
	if (ret == -ENOENT) {
		const char *detail = nestor_last_error(n);

		fprintf(stderr, "nestorctl: no such L2: %s%s%s\n", name,
			*detail ? ": " : "", detail);
		nestor_close(n);
		return EXIT_FAILURE;
	}
	if (ret) {
		ret = fail(n, ret, "stats");
		nestor_close(n);
		return ret;
	}
	isa = s.isa;
	if (isa == NESTOR_BACKEND_NONE && !nestor_l2_get(n, id, &l2)) {
		isa = l2.isa;
		nestor_free_l2(&l2);
	}
	nestor_close(n);
	stats_out(stdout, o.json, id, isa, &s);
	nestor_free_stats(&s);
	return finish(EXIT_SUCCESS);
}

/* ------------------------------------------------------------------ */
/* events                                                             */
/* ------------------------------------------------------------------ */

/* One event: a text line, or a JSON object on one line. */
static void event_out(FILE *out, const struct nestor_event *ev, bool json)
{
	const char *name = nestor_event_name(ev->cmd);
	bool has_l2 = ev->cmd != NESTOR_CMD_VM_GONE;
	bool has_root = ev->cmd == NESTOR_CMD_L2_NEW ||
			ev->cmd == NESTOR_CMD_L2_ROOT_CHANGE;
	char unknown[16];
	struct json j;

	if (!name) {
		snprintf(unknown, sizeof(unknown), "EVENT_%u", ev->cmd);
		name = unknown;
	}
	if (json) {
		json_init(&j, out);
		json_obj_begin(&j);
		json_key(&j, "event");
		json_str(&j, name);
		json_key(&j, "vm");
		json_u64(&j, ev->vm_id);
		if (has_l2) {
			json_key(&j, "l2");
			json_u64(&j, ev->l2_id);
		}
		if (has_root) {
			json_key(&j, "vmcs12");
			json_hex(&j, ev->vmcs12);
			json_key(&j, "nested_root");
			json_hex(&j, ev->nested_root);
		}
		if (ev->cmd == NESTOR_CMD_L2_ROOT_CHANGE) {
			json_key(&j, "old_root");
			json_hex(&j, ev->old_root);
		}
		if (ev->ident[0]) {
			json_key(&j, "identity");
			json_str(&j, ev->ident);
		}
		if (ev->holder_l2_id) {
			json_key(&j, "holder_l2");
			json_u64(&j, ev->holder_l2_id);
		}
		json_obj_end(&j);
		fputc('\n', out);
		return;
	}
	fprintf(out, "%s vm %u", name, ev->vm_id);
	if (has_l2)
		fprintf(out, " l2 %u", ev->l2_id);
	if (has_root)
		fprintf(out, " vmcs12 0x%" PRIx64 " root 0x%" PRIx64,
			ev->vmcs12, ev->nested_root);
	if (ev->cmd == NESTOR_CMD_L2_ROOT_CHANGE)
		fprintf(out, " old-root 0x%" PRIx64, ev->old_root);
	if (ev->ident[0])
		fprintf(out, " id:%s", ev->ident);
	if (ev->holder_l2_id)
		fprintf(out, " holder-l2 %u", ev->holder_l2_id);
	fputc('\n', out);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cmd_events(int argc, char **argv)
{
	struct nestor_event ev;
	struct nestor *n;
	struct opts o;
	int64_t deadline = 0, left;
	long seen = 0;
	bool lost = false;
	int ret;

	ret = parse_opts(argc, argv, true, &o);
	if (ret < 0)
		ret = no_operands(argc, argv);
	if (ret >= 0)
		return ret;
	n = open_nestor(NESTOR_OPEN_GENL, &ret);
	if (!n)
		return ret;
	ret = nestor_events_subscribe(n);
	if (ret) {
		ret = fail(n, ret, "subscribing to events");
		nestor_close(n);
		return ret;
	}
	/* Tests wait for this line before they cause events. */
	fprintf(stderr, "nestorctl: listening for events\n");
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (o.timeout_ms >= 0)
		deadline = mono_ms() + o.timeout_ms;

	ret = EXIT_SUCCESS;
	while (!o.count || seen < o.count) {
		left = -1;
		if (o.timeout_ms >= 0) {
			left = deadline - mono_ms();
			if (left < 0)
				left = 0;
		}
		ret = nestor_event_next(n, &ev, (int)left);
		if (ret == -ETIMEDOUT) {
			if (o.count) {
				fprintf(stderr, "nestorctl: timed out after "
					"%ld of %ld events\n", seen, o.count);
				ret = EXIT_FAILURE;
			} else {
				ret = EXIT_SUCCESS;
			}
			break;
		}
		if (ret == -ENOBUFS) {
			/* Keep going; the caller learns it from the status. */
			fprintf(stderr, "nestorctl: warning: %s\n",
				nestor_strerror(ret));
			lost = true;
			ret = EXIT_SUCCESS;
			continue;
		}
		if (ret) {
			ret = fail(n, ret, "receiving events");
			break;
		}
		event_out(stdout, &ev, o.json);
		seen++;
		if (ferror(stdout))
			break;
	}
	nestor_close(n);
	if (lost && ret == EXIT_SUCCESS)
		ret = EXIT_FAILURE;
	return finish(ret);
}

/* ------------------------------------------------------------------ */
/* identities and keys (Documentation/identity.rst)                   */
/* ------------------------------------------------------------------ */

/* Identities as text lines, or a JSON array at @j; @all: present too. */
static void idents_out(FILE *out, struct json *j,
		       const struct nestor_ident *ids, size_t nr, bool all)
{
	size_t i;

	if (j)
		json_arr_begin(j);
	for (i = 0; i < nr; i++) {
		const struct nestor_ident *id = &ids[i];
		bool present = id->flags & NESTOR_IDENT_F_PRESENT;

		if (!all && present && !j)
			continue;
		if (j) {
			json_obj_begin(j);
			json_key(j, "name");
			json_str(j, id->name);
			json_key(j, "present");
			json_bool(j, present);
			json_key(j, "l2");
			json_u64(j, id->l2_id);
			json_key(j, "vm");
			json_u64(j, id->vm_id);
			json_key(j, "key");
			json_u64(j, id->key_id);
			json_key(j, "unauthenticated");
			json_bool(j, id->flags & NESTOR_IDENT_F_UNAUTH);
			json_key(j, "uuid");
			json_bool(j, id->flags & NESTOR_IDENT_F_UUID);
			json_key(j, "registrations");
			json_u64(j, id->registrations);
			json_obj_end(j);
			continue;
		}
		fprintf(out, "id:%s  %s l2 %u  vm %u  key 0x%x%s  registrations %"
			PRIu64 "\n", id->name, present ? "on" : "absent, last on",
			id->l2_id, id->vm_id, id->key_id,
			id->flags & NESTOR_IDENT_F_UNAUTH ?
			" (unauthenticated)" : "", id->registrations);
	}
	if (j)
		json_arr_end(j);
}

static int cmd_ident(int argc, char **argv)
{
	struct nestor_ident *ids = NULL;
	size_t nr = 0;
	struct nestor *n;
	struct opts o;
	struct json j;
	int ret;

	ret = parse_opts(argc, argv, false, &o);
	if (ret >= 0)
		return ret;
	if (optind < argc && !strcmp(argv[optind], "del")) {
		if (optind + 2 != argc)
			return usage_error("ident del: which name?");
		n = open_nestor(NESTOR_OPEN_DEV, &ret);
		if (!n)
			return ret;
		ret = nestor_ident_del(n, argv[optind + 1]);
		if (ret == -ENOENT)
			fprintf(stderr, "nestorctl: no identity %s\n",
				argv[optind + 1]);
		else if (ret)
			fail(n, ret, "ident del");
		nestor_close(n);
		return finish(ret ? EXIT_FAILURE : EXIT_SUCCESS);
	}
	ret = no_operands(argc, argv);
	if (ret >= 0)
		return ret;
	n = open_nestor(NESTOR_OPEN_GENL, &ret);
	if (!n)
		return ret;
	ret = nestor_idents(n, &ids, &nr);
	if (ret) {
		ret = fail(n, ret, "listing identities");
		nestor_close(n);
		return ret;
	}
	nestor_close(n);
	if (o.json) {
		json_init(&j, stdout);
		idents_out(stdout, &j, ids, nr, true);
		fputc('\n', stdout);
	} else if (!nr) {
		puts("no identities");
	} else {
		idents_out(stdout, NULL, ids, nr, true);
	}
	free(ids);
	return finish(EXIT_SUCCESS);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A hex secret from stdin (whitespace ignored); its length or -1. */
static int read_hex_secret(uint8_t *key, size_t max)
{
	int c, hi = -1, v;
	size_t len = 0;

	while ((c = getchar()) != EOF) {
		if (c == ' ' || c == '\n' || c == '\t' || c == '\r')
			continue;
		v = hexval(c);
		if (v < 0 || (hi < 0 && len == max))
			return -1;
		if (hi < 0) {
			hi = v;
		} else {
			key[len++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return hi < 0 ? (int)len : -1;
}

static int cmd_key(int argc, char **argv)
{
	bool add, allow_unauth = false, no_secret = false;
	uint8_t key[NESTOR_KEY_MAX_LEN];
	uint32_t kind, flags = 0;
	struct nestor *n;
	long id;
	int i, len = 0, ret;

	if (argc < 4)
		return usage_error("key: add|del owner|monitor ID");
	add = !strcmp(argv[1], "add");
	if (!add && strcmp(argv[1], "del"))
		return usage_error("key: unknown action '%s'", argv[1]);
	if (!strcmp(argv[2], "owner"))
		kind = NESTOR_KEY_OWNER;
	else if (!strcmp(argv[2], "monitor"))
		kind = NESTOR_KEY_MONITOR;
	else
		return usage_error("key: kind is owner or monitor, not '%s'",
				   argv[2]);
	if (!parse_long(argv[3], 1, UINT32_MAX, &id))
		return usage_error("key: bad id '%s'", argv[3]);
	for (i = 4; i < argc; i++) {
		if (add && !strcmp(argv[i], "--allow-unauth"))
			allow_unauth = true;
		else if (add && !strcmp(argv[i], "--no-secret"))
			no_secret = true;
		else
			return usage_error("key: unexpected argument '%s'",
					   argv[i]);
	}
	if (add && !no_secret) {
		len = read_hex_secret(key, sizeof(key));
		if (len < NESTOR_KEY_MIN_LEN) {
			memset(key, 0, sizeof(key));
			fprintf(stderr, "nestorctl: key add: stdin must hold %d to %d bytes in hex\n",
				NESTOR_KEY_MIN_LEN, NESTOR_KEY_MAX_LEN);
			return EXIT_FAILURE;
		}
	}
	if (allow_unauth)
		flags |= NESTOR_KEY_F_ALLOW_UNAUTH;
	n = open_nestor(NESTOR_OPEN_DEV, &ret);
	if (!n) {
		memset(key, 0, sizeof(key));
		return ret;
	}
	if (add)
		ret = nestor_key_add(n, kind, (uint32_t)id, flags, key, len);
	else
		ret = nestor_key_del(n, kind, (uint32_t)id);
	memset(key, 0, sizeof(key));
	if (ret == -ENOENT)
		fprintf(stderr, "nestorctl: no %s key %ld\n", argv[2], id);
	else if (ret == -EEXIST)
		fprintf(stderr, "nestorctl: %s key %ld exists\n", argv[2], id);
	else if (ret)
		fail(n, ret, add ? "key add" : "key del");
	nestor_close(n);
	return finish(ret ? EXIT_FAILURE : EXIT_SUCCESS);
}

/* ------------------------------------------------------------------ */

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "version", cmd_version },
	{ "list", cmd_list },
	{ "stats", cmd_stats },
	{ "events", cmd_events },
	{ "console", cmd_console },
	{ "translate", nestorctl_translate },
	{ "read", nestorctl_read },
	{ "walk", nestorctl_walk },
	{ "profile", nestorctl_profile },
	{ "ps", nestorctl_ps },
	{ "ident", cmd_ident },
	{ "key", cmd_key },
	{ "capture", cmd_capture },
};

int main(int argc, char **argv)
{
	const char *cmd, *remote = NULL, *key_id = NULL, *key_file = NULL;
	size_t i;
	int ret;

	/* Global options of remote monitoring (tools/nestorctl/mem.c). */
	while (argc >= 3 && (!strcmp(argv[1], "--remote") ||
			     !strcmp(argv[1], "--key-id") ||
			     !strcmp(argv[1], "--key-file"))) {
		if (!strcmp(argv[1], "--remote"))
			remote = argv[2];
		else if (!strcmp(argv[1], "--key-id"))
			key_id = argv[2];
		else
			key_file = argv[2];
		argv[2] = argv[0];
		argv += 2;
		argc -= 2;
	}
	if (argc < 2)
		return usage_error("missing command");
	cmd = argv[1];
	if (remote) {
		if (strcmp(cmd, "read") && strcmp(cmd, "walk") &&
		    strcmp(cmd, "ps") && strcmp(cmd, "console"))
			return usage_error("--remote goes with read, walk, ps and console");
		ret = nctl_remote_setup(remote, key_id, key_file);
		if (ret >= 0)
			return ret;
	} else if (key_id || key_file) {
		return usage_error("--key-id and --key-file go with --remote");
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") ||
	    !strcmp(cmd, "-h")) {
		usage(stdout);
		return finish(EXIT_SUCCESS);
	}
	for (i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	if (cmd[0] == '-')
		return usage_error("unknown option '%s'", cmd);
	return usage_error("unknown command '%s'", cmd);
}
