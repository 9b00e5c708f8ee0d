// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side tests of libnestor: the pure functions (names, L2 name
 * parsing, messages), reply parsing on messages built here (unknown
 * attributes skipped, bad lengths refused, extack reported), and the
 * netlink machinery against this host's own nlctrl family (no nestor
 * module needed).
 *
 * The library source is included so that its static parsers can be fed
 * crafted messages directly.
 */
#include "../../tools/lib/libnestor.c"

#include <sys/stat.h>

#include "test_libnestor_tap.h"

#define FAKE_FAMILY	0x42

static char msgbuf[8192] __attribute__((aligned(8)));

static struct nlmsghdr *msg_start(uint16_t type, uint8_t cmd)
{
	memset(msgbuf, 0, sizeof(msgbuf));
	return genl_put(msgbuf, type, cmd, 1, 0);
}

static struct nestor *fake_handle(void)
{
	struct nestor *n = calloc(1, sizeof(*n));

	if (!n) {
		perror("calloc");
		exit(1);
	}
	n->fd = -1;
	n->family = FAKE_FAMILY;
	return n;
}

/* ------------------------------------------------------------------ */

static void test_exit_names(void)
{
	static const struct {
		uint32_t backend, reason;
		const char *name;
	} cases[] = {
		{ NESTOR_BACKEND_VMX, 0, "EXCEPTION_NMI" },
		{ NESTOR_BACKEND_VMX, 1, "EXTERNAL_INTERRUPT" },
		{ NESTOR_BACKEND_VMX, 10, "CPUID" },
		{ NESTOR_BACKEND_VMX, 12, "HLT" },
		{ NESTOR_BACKEND_VMX, 18, "VMCALL" },
		{ NESTOR_BACKEND_VMX, 28, "CR_ACCESS" },
		{ NESTOR_BACKEND_VMX, 30, "IO_INSTRUCTION" },
		{ NESTOR_BACKEND_VMX, 31, "MSR_READ" },
		{ NESTOR_BACKEND_VMX, 32, "MSR_WRITE" },
		{ NESTOR_BACKEND_VMX, 48, "EPT_VIOLATION" },
		{ NESTOR_BACKEND_VMX, 49, "EPT_MISCONFIG" },
		{ NESTOR_BACKEND_VMX, 52, "PREEMPTION_TIMER" },
		{ NESTOR_BACKEND_VMX, 55, "XSETBV" },
		{ NESTOR_BACKEND_VMX, 74, "BUS_LOCK" },
		/* bit 31 (entry failure) does not change the basic reason */
		{ NESTOR_BACKEND_VMX, 0x80000021, "INVALID_GUEST_STATE" },
		{ NESTOR_BACKEND_VMX, 35, "UNKNOWN" },
		{ NESTOR_BACKEND_VMX, 1000, "UNKNOWN" },
		{ NESTOR_BACKEND_SVM, 0x000, "CR0_READ" },
		{ NESTOR_BACKEND_SVM, 0x003, "CR3_READ" },
		{ NESTOR_BACKEND_SVM, 0x013, "CR3_WRITE" },
		{ NESTOR_BACKEND_SVM, 0x01f, "CR15_WRITE" },
		{ NESTOR_BACKEND_SVM, 0x027, "DR7_READ" },
		{ NESTOR_BACKEND_SVM, 0x037, "DR7_WRITE" },
		{ NESTOR_BACKEND_SVM, 0x04e, "EXCP_PF" },
		{ NESTOR_BACKEND_SVM, 0x060, "INTR" },
		{ NESTOR_BACKEND_SVM, 0x061, "NMI" },
		{ NESTOR_BACKEND_SVM, 0x072, "CPUID" },
		{ NESTOR_BACKEND_SVM, 0x078, "HLT" },
		{ NESTOR_BACKEND_SVM, 0x07b, "IOIO" },
		{ NESTOR_BACKEND_SVM, 0x07c, "MSR" },
		{ NESTOR_BACKEND_SVM, 0x07f, "SHUTDOWN" },
		{ NESTOR_BACKEND_SVM, 0x080, "VMRUN" },
		{ NESTOR_BACKEND_SVM, 0x081, "VMMCALL" },
		{ NESTOR_BACKEND_SVM, 0x093, "CR3_WRITE_TRAP" },
		{ NESTOR_BACKEND_SVM, 0x400, "NPF" },
		{ NESTOR_BACKEND_SVM, 0xffffffff, "INVALID" },
		{ NESTOR_BACKEND_SVM, 0x0ff, "UNKNOWN" },
		{ NESTOR_BACKEND_SVM, 0x404, "UNKNOWN" },
		{ NESTOR_BACKEND_NONE, 10, "UNKNOWN" },
		{ 77, 10, "UNKNOWN" },
	};
	size_t i, k;
	int dup = 0;

	for (i = 0; i < MNL_ARRAY_SIZE(cases); i++)
		TAP_STREQ(nestor_exit_name(cases[i].backend, cases[i].reason),
			  cases[i].name, "exit name %s 0x%x",
			  nestor_backend_name(cases[i].backend),
			  cases[i].reason);

	/* A typo that repeats a name would hide a reason. */
	for (i = 0; i < MNL_ARRAY_SIZE(vmx_exit_names); i++)
		for (k = i + 1; k < MNL_ARRAY_SIZE(vmx_exit_names); k++)
			if (vmx_exit_names[i] && vmx_exit_names[k] &&
			    !strcmp(vmx_exit_names[i], vmx_exit_names[k])) {
				tap_diag("VMX %zu and %zu: %s", i, k,
					 vmx_exit_names[i]);
				dup++;
			}
	for (i = 0; i < MNL_ARRAY_SIZE(svm_exit_names); i++)
		for (k = i + 1; k < MNL_ARRAY_SIZE(svm_exit_names); k++)
			if (svm_exit_names[i] && svm_exit_names[k] &&
			    !strcmp(svm_exit_names[i], svm_exit_names[k])) {
				tap_diag("SVM 0x%zx and 0x%zx: %s", i, k,
					 svm_exit_names[i]);
				dup++;
			}
	TAP_EQ(dup, 0, "exit name tables have no duplicate names");
	/* Every SVM code in 0x00..0x5f is architecturally defined. */
	for (i = 0, k = 0; i < 0x60; i++)
		k += svm_exit_names[i] == NULL;
	TAP_EQ(k, 0, "SVM CR/DR/exception codes 0x00-0x5f all named");
}

static void test_l2_names(void)
{
	static const struct {
		const char *name;
		int ret;
		uint32_t id;
	} cases[] = {
		{ "7", 0, 7 },
		{ "l2:7", 0, 7 },
		{ "0", 0, 0 },
		{ "007", 0, 7 },
		{ "4294967295", 0, 4294967295U },
		{ "l2:4294967295", 0, 4294967295U },
		{ "4294967296", -EINVAL, 0 },
		{ "99999999999999999999999", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ "l2:", -EINVAL, 0 },
		{ "abc", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "+1", -EINVAL, 0 },
		{ " 7", -EINVAL, 0 },
		{ "7 ", -EINVAL, 0 },
		{ "0x10", -EINVAL, 0 },
		{ "l2:l2:7", -EINVAL, 0 },
		{ "L2:7", -EINVAL, 0 },
		{ "l3:7", -EINVAL, 0 },
		{ "id:", -EINVAL, 0 },
		{ "ID:web", -EINVAL, 0 },
	};
	uint32_t id;
	size_t i;
	int ret;

	for (i = 0; i < MNL_ARRAY_SIZE(cases); i++) {
		id = 0xdeadbeef;
		ret = nestor_parse_l2_name(cases[i].name, &id);
		if (cases[i].ret) {
			TAP_EQ(ret, cases[i].ret, "L2 name \"%s\" is malformed",
			       cases[i].name);
			continue;
		}
		if (!tap_ok(ret == 0 && id == cases[i].id,
			    "L2 name \"%s\" -> %u", cases[i].name,
			    cases[i].id))
			tap_diag("got %d, id %u", ret, id);
	}
	TAP_EQ(nestor_parse_l2_name(NULL, &id), -EINVAL, "NULL L2 name");
	/* "id:NAME" is well-formed; only the kernel knows its context. */
	TAP_EQ(nestor_parse_l2_name("id:web-1", &id), 1,
	       "\"id:web-1\" is left to the kernel");
	{
		char name[NESTOR_IDENT_NAME_MAX + 5] = "id:";

		memset(name + 3, 'a', NESTOR_IDENT_NAME_MAX);
		name[3 + NESTOR_IDENT_NAME_MAX] = 0;
		TAP_EQ(nestor_parse_l2_name(name, &id), 1,
		       "an identifier of the longest length is well-formed");
		name[3 + NESTOR_IDENT_NAME_MAX] = 'a';
		name[4 + NESTOR_IDENT_NAME_MAX] = 0;
		TAP_EQ(nestor_parse_l2_name(name, &id), -EINVAL,
		       "a longer identifier is malformed");
	}
}

static void test_messages(void)
{
	TAP_CONTAINS(nestor_strerror(-ENODEV), "not loaded",
		     "strerror(ENODEV) says the module is not loaded");
	TAP_CONTAINS(nestor_strerror(-EPERM), "permission",
		     "strerror(EPERM) mentions permission");
	TAP_CONTAINS(nestor_strerror(-EACCES), "permission",
		     "strerror(EACCES) mentions permission");
	TAP_CONTAINS(nestor_strerror(-EPERM), "CAP_NET_ADMIN",
		     "strerror(EPERM) names the capability");
	TAP_CONTAINS(nestor_strerror(-ENOENT), "no such L2",
		     "strerror(ENOENT) says no such L2");
	TAP_CONTAINS(nestor_strerror(ENOENT), "no such L2",
		     "strerror accepts a positive errno");
	TAP_STREQ(nestor_strerror(-EIO), strerror(EIO),
		  "strerror falls back to libc");
	TAP_STREQ(nestor_backend_name(NESTOR_BACKEND_VMX), "vmx",
		  "backend name vmx");
	TAP_STREQ(nestor_backend_name(NESTOR_BACKEND_SVM), "svm",
		  "backend name svm");
	TAP_STREQ(nestor_backend_name(NESTOR_BACKEND_NONE), "none",
		  "backend name none");
	TAP_STREQ(nestor_backend_name(9), "unknown", "backend name unknown");
	TAP_STREQ(nestor_event_name(NESTOR_CMD_L2_ROOT_CHANGE),
		  "L2_ROOT_CHANGE", "event name");
	tap_ok(nestor_event_name(NESTOR_CMD_GET_VM) == NULL,
	       "a request command is no event");
	TAP_STREQ(nestor_last_error(NULL), "", "last_error(NULL) is \"\"");
}

/* ------------------------------------------------------------------ */
/* reply parsing on crafted messages                                  */
/* ------------------------------------------------------------------ */

static struct nlmsghdr *l2_msg(bool with_unknown)
{
	struct nlmsghdr *nlh = msg_start(FAKE_FAMILY, NESTOR_CMD_GET_L2);
	struct nlattr *nest;

	mnl_attr_put_u32(nlh, NESTOR_A_L2_ID, 3);
	mnl_attr_put_u32(nlh, NESTOR_A_VM_ID, 1);
	mnl_attr_put_u32(nlh, NESTOR_A_ISA, NESTOR_BACKEND_SVM);
	mnl_attr_put_u64(nlh, NESTOR_A_L2_VMCS12, 0x1234000);
	mnl_attr_put_u64(nlh, NESTOR_A_L2_ROOT, 0xabc000);
	mnl_attr_put(nlh, NESTOR_A_L2_TDP, 0, NULL);
	mnl_attr_put_u64(nlh, NESTOR_A_L2_FIRST_SEEN_NS, 1);
	mnl_attr_put_u64(nlh, NESTOR_A_L2_LAST_SEEN_NS, 2);
	mnl_attr_put_u64(nlh, NESTOR_A_L2_ENTRIES, 123);
	if (with_unknown) {
		/* a future attribute, and padding */
		mnl_attr_put_u64(nlh, NESTOR_A_MAX + 7, 0xffff);
		mnl_attr_put(nlh, NESTOR_A_PAD, 0, NULL);
	}
	nest = mnl_attr_nest_start(nlh, NESTOR_A_L2_VCPU);
	mnl_attr_put_u32(nlh, NESTOR_A_VCPU_ID, 0);
	mnl_attr_put_u64(nlh, NESTOR_A_VCPU_CR3, 0x5000);
	mnl_attr_put_u64(nlh, NESTOR_A_VCPU_CR3_CHANGES, 17);
	if (with_unknown)
		mnl_attr_put_strz(nlh, NESTOR_A_VCPU_MAX + 1, "future");
	mnl_attr_nest_end(nlh, nest);
	nest = mnl_attr_nest_start(nlh, NESTOR_A_L2_VCPU);
	mnl_attr_put_u32(nlh, NESTOR_A_VCPU_ID, 1);
	mnl_attr_put_u64(nlh, NESTOR_A_VCPU_CR3, 0x6000);
	mnl_attr_nest_end(nlh, nest);
	return nlh;
}

static void test_parse_l2(void)
{
	struct nestor *n = fake_handle();
	struct nlmsghdr *nlh;
	struct nestor_l2 l2;
	struct nlattr *nest;
	int ret;

	ret = l2_parse_one(n, l2_msg(true), &l2);
	TAP_EQ(ret, 0, "L2 message with unknown attributes parses");
	tap_ok(l2.id == 3 && l2.vm_id == 1 && l2.isa == NESTOR_BACKEND_SVM &&
	       l2.vmcs12 == 0x1234000 && l2.nested_root == 0xabc000 &&
	       l2.tdp && l2.first_seen_ns == 1 && l2.last_seen_ns == 2 &&
	       l2.entries == 123, "L2 fields decoded");
	tap_ok(l2.nr_vcpus == 2 && l2.vcpus[0].vcpu_id == 0 &&
	       l2.vcpus[0].cr3 == 0x5000 && l2.vcpus[0].cr3_changes == 17 &&
	       l2.vcpus[1].vcpu_id == 1 && l2.vcpus[1].cr3 == 0x6000 &&
	       l2.vcpus[1].cr3_changes == 0, "repeated l2-vcpu nests decoded");
	nestor_free_l2(&l2);

	/* l2-id as a u64: a length the library must refuse */
	nlh = msg_start(FAKE_FAMILY, NESTOR_CMD_GET_L2);
	mnl_attr_put_u64(nlh, NESTOR_A_L2_ID, 3);
	TAP_EQ(l2_parse_one(n, nlh, &l2), -EPROTO,
	       "l2-id with 8 bytes is refused");
	TAP_CONTAINS(nestor_last_error(n), "attribute 9",
		     "... and the detail names the attribute");

	nlh = msg_start(FAKE_FAMILY, NESTOR_CMD_GET_L2);
	mnl_attr_put_u32(nlh, NESTOR_A_L2_ID, 3);
	mnl_attr_put_u32(nlh, NESTOR_A_L2_TDP, 1);
	TAP_EQ(l2_parse_one(n, nlh, &l2), -EPROTO,
	       "a flag with a payload is refused");

	nlh = msg_start(FAKE_FAMILY, NESTOR_CMD_GET_L2);
	mnl_attr_put_u32(nlh, NESTOR_A_VM_ID, 3);
	TAP_EQ(l2_parse_one(n, nlh, &l2), -EPROTO,
	       "an L2 message without l2-id is refused");

	nlh = msg_start(FAKE_FAMILY, NESTOR_CMD_GET_L2);
	mnl_attr_put_u32(nlh, NESTOR_A_L2_ID, 3);
	nest = mnl_attr_nest_start(nlh, NESTOR_A_L2_VCPU);
	mnl_attr_put_u64(nlh, NESTOR_A_VCPU_CR3, 0x5000);
	mnl_attr_nest_end(nlh, nest);
	ret = l2_parse_one(n, nlh, &l2);
	tap_ok(ret == -EPROTO && l2.vcpus == NULL,
	       "an l2-vcpu without vcpu-id is refused, nothing leaks");

	nlh = msg_start(FAKE_FAMILY, NESTOR_CMD_GET_L2);
	mnl_attr_put_u32(nlh, NESTOR_A_L2_ID, 3);
	nest = mnl_attr_nest_start(nlh, NESTOR_A_L2_VCPU);
	mnl_attr_put_u32(nlh, NESTOR_A_VCPU_ID, 0);
	mnl_attr_put_u32(nlh, NESTOR_A_VCPU_CR3, 0x5000);
	mnl_attr_nest_end(nlh, nest);
	TAP_EQ(l2_parse_one(n, nlh, &l2), -EPROTO,
	       "a vcpu cr3 with 4 bytes is refused");
	free(n);
}

/* Feeds one datagram to the request callbacks, as nl_run() does. */
static int run_datagram(struct req *r, size_t len, unsigned int seq)
{
	return mnl_cb_run2(msgbuf, len, seq, 0, req_data_cb, r, req_ctl_cbs,
			   MNL_ARRAY_SIZE(req_ctl_cbs));
}

static void test_parse_vm_dump(void)
{
	struct nestor *n = fake_handle();
	struct vm_list vl = { 0 };
	struct req r = { .n = n, .type = FAKE_FAMILY, .parse = vm_parse,
			 .priv = &vl };
	struct nlmsghdr *nlh;
	char *p = msgbuf;
	int ret;

	/* Two VMs and NLMSG_DONE in one datagram, as a dump sends them. */
	memset(msgbuf, 0, sizeof(msgbuf));
	nlh = genl_put(p, FAKE_FAMILY, NESTOR_CMD_GET_VM, 1, NLM_F_MULTI);
	nlh->nlmsg_seq = 5;
	mnl_attr_put_u32(nlh, NESTOR_A_VM_ID, 1);
	mnl_attr_put_u32(nlh, NESTOR_A_VM_PID, 234);
	mnl_attr_put_u32(nlh, NESTOR_A_VM_VCPU, 0);
	mnl_attr_put_u32(nlh, NESTOR_A_VM_VCPU, 1);
	mnl_attr_put_u32(nlh, NESTOR_A_VM_VCPU, 5);
	p += nlh->nlmsg_len;
	nlh = genl_put(p, FAKE_FAMILY, NESTOR_CMD_GET_VM, 1, NLM_F_MULTI);
	nlh->nlmsg_seq = 5;
	mnl_attr_put_u32(nlh, NESTOR_A_VM_ID, 2);
	mnl_attr_put_u32(nlh, NESTOR_A_MAX + 1, 0);
	p += nlh->nlmsg_len;
	nlh = mnl_nlmsg_put_header(p);
	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = 5;
	*(int *)mnl_nlmsg_put_extra_header(nlh, sizeof(int)) = 0;
	p += nlh->nlmsg_len;

	ret = run_datagram(&r, p - msgbuf, 5);
	if (!tap_ok(ret == MNL_CB_STOP && r.err == 0,
		    "dump datagram ends at NLMSG_DONE"))
		tap_diag("ret %d err %d", ret, r.err);
	tap_ok(vl.nr == 2 && vl.v[0].id == 1 && vl.v[0].pid == 234 &&
	       vl.v[0].nr_vcpus == 3 && vl.v[0].vcpu_ids[2] == 5 &&
	       vl.v[1].id == 2 && vl.v[1].nr_vcpus == 0,
	       "VMs and repeated vm-vcpu decoded");
	nestor_free_list(vl.v, vl.nr, NULL, 0);

	/* NLMSG_DONE with an error and an extack: the dump failed. */
	memset(&vl, 0, sizeof(vl));
	r.err = 0;
	nlh = mnl_nlmsg_put_header(msgbuf);
	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_flags = NLM_F_MULTI | NLM_F_ACK_TLVS;
	nlh->nlmsg_seq = 5;
	*(int *)mnl_nlmsg_put_extra_header(nlh, sizeof(int)) = -EPERM;
	mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, "dump refused");
	ret = run_datagram(&r, nlh->nlmsg_len, 5);
	if (!tap_ok(ret == MNL_CB_STOP && r.err == -EPERM,
		    "an error in NLMSG_DONE is reported"))
		tap_diag("ret %d err %d", ret, r.err);
	TAP_STREQ(nestor_last_error(n), "kernel: dump refused",
		  "... with its extack message");
	free(n);
}

static int dummy_parse(const struct nlmsghdr *nlh, struct req *r)
{
	(void)nlh;
	(void)r;
	return 0;
}

static void test_extack(void)
{
	struct nestor *n = fake_handle();
	struct req r = { .n = n, .type = FAKE_FAMILY, .parse = dummy_parse };
	struct nlmsghdr *nlh, *echo;
	struct nlmsgerr *e;
	int ret;

	/* Capped ACK (NETLINK_CAP_ACK): TLVs right after struct nlmsgerr. */
	nlh = mnl_nlmsg_put_header(msgbuf);
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = NLM_F_CAPPED | NLM_F_ACK_TLVS;
	nlh->nlmsg_seq = 9;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = -EINVAL;
	e->msg.nlmsg_len = 64;	/* the request's length; not echoed */
	e->msg.nlmsg_type = FAKE_FAMILY;
	mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, "Missing attribute");
	mnl_attr_put_u32(nlh, NLMSGERR_ATTR_MISS_TYPE, NESTOR_A_L2_ID);
	ret = run_datagram(&r, nlh->nlmsg_len, 9);
	if (!tap_ok(ret == MNL_CB_STOP && r.err == -EINVAL,
		    "capped NLMSG_ERROR gives the errno"))
		tap_diag("ret %d err %d", ret, r.err);
	TAP_STREQ(nestor_last_error(n),
		  "kernel: Missing attribute (missing attribute 9 \"l2-id\")",
		  "extack message and missing attribute reported");

	/* Uncapped: the request is echoed, the TLVs come after it. */
	clear_err(n);
	r.err = 0;
	nlh = mnl_nlmsg_put_header(msgbuf);
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = NLM_F_ACK_TLVS;
	nlh->nlmsg_seq = 9;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = -ENOENT;
	/* echo: header + genl header + one u32 attribute */
	echo = &e->msg;
	echo->nlmsg_len = sizeof(*echo) + sizeof(struct genlmsghdr) + 8;
	echo->nlmsg_type = FAKE_FAMILY;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct genlmsghdr) + 8);
	mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, "no such context");
	ret = run_datagram(&r, nlh->nlmsg_len, 9);
	if (!tap_ok(ret == MNL_CB_STOP && r.err == -ENOENT,
		    "uncapped NLMSG_ERROR gives the errno"))
		tap_diag("ret %d err %d", ret, r.err);
	TAP_STREQ(nestor_last_error(n), "kernel: no such context",
		  "extack found after the echoed request");

	/* An ACK (error 0) ends a doit quietly. */
	clear_err(n);
	r.err = 0;
	nlh = mnl_nlmsg_put_header(msgbuf);
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = NLM_F_CAPPED;
	nlh->nlmsg_seq = 9;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = 0;
	ret = run_datagram(&r, nlh->nlmsg_len, 9);
	tap_ok(ret == MNL_CB_STOP && r.err == 0 && !n->err[0],
	       "an ACK ends the request without error");

	/* A truncated error message is a protocol error, not a crash. */
	nlh = mnl_nlmsg_put_header(msgbuf);
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = 9;
	mnl_nlmsg_put_extra_header(nlh, 4);
	r.err = 0;
	run_datagram(&r, nlh->nlmsg_len, 9);
	TAP_EQ(r.err, -EPROTO, "a short NLMSG_ERROR is -EPROTO");
	free(n);
}

static void test_parse_stats_version(void)
{
	struct nestor *n = fake_handle();
	struct nestor_stats s;
	struct stats_parse sp = { .n = n, .s = &s };
	struct nestor_version_info vi;
	struct version_parse vp = { .n = n, .out = &vi };
	struct req r = { .n = n, .type = FAKE_FAMILY };
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	static const uint32_t reasons[] = { 0x7b, 0x60, 0x81 };
	size_t i;
	int ret;

	memset(&s, 0, sizeof(s));
	nlh = msg_start(FAKE_FAMILY, NESTOR_CMD_GET_STATS);
	mnl_attr_put_u32(nlh, NESTOR_A_L2_ID, 3);
	mnl_attr_put_u32(nlh, NESTOR_A_ISA, NESTOR_BACKEND_SVM);
	for (i = 0; i < MNL_ARRAY_SIZE(reasons); i++) {
		nest = mnl_attr_nest_start(nlh, NESTOR_A_STATS_EXIT);
		mnl_attr_put_u32(nlh, NESTOR_A_EXIT_REASON, reasons[i]);
		mnl_attr_put_u64(nlh, NESTOR_A_EXIT_TOTAL, 10 * (i + 1));
		mnl_attr_put_u64(nlh, NESTOR_A_EXIT_REFLECTED, 10 * (i + 1));
		mnl_attr_put_u64(nlh, NESTOR_A_EXIT_NESTOR, i);
		mnl_attr_put_u32(nlh, NESTOR_A_EXIT_MAX + 3, 1);
		mnl_attr_nest_end(nlh, nest);
	}
	r.parse = stats_parse;
	r.priv = &sp;
	ret = stats_parse(nlh, &r);
	qsort(s.exits, s.nr_exits, sizeof(*s.exits), exit_cmp);
	if (!tap_ok(ret == 0 && s.isa == NESTOR_BACKEND_SVM &&
		    s.nr_exits == 3 && s.exits[0].reason == 0x60 &&
		    s.exits[0].total == 20 && s.exits[1].reason == 0x7b &&
		    s.exits[2].reason == 0x81 && s.exits[2].nestor == 2,
		    "stats exits decoded and sorted"))
		tap_diag("ret %d nr %zu", ret, s.nr_exits);
	nestor_free_stats(&s);

	memset(&s, 0, sizeof(s));
	memset(&sp, 0, sizeof(sp));
	sp.n = n;
	sp.s = &s;
	nlh = msg_start(FAKE_FAMILY, NESTOR_CMD_GET_STATS);
	nest = mnl_attr_nest_start(nlh, NESTOR_A_STATS_EXIT);
	mnl_attr_put_u64(nlh, NESTOR_A_EXIT_TOTAL, 1);
	mnl_attr_nest_end(nlh, nest);
	TAP_EQ(stats_parse(nlh, &r), -EPROTO,
	       "a stats-exit without reason is refused");
	nestor_free_stats(&s);

	memset(&vi, 0, sizeof(vi));
	nlh = msg_start(FAKE_FAMILY, NESTOR_CMD_GET_VERSION);
	mnl_attr_put_u32(nlh, NESTOR_A_UAPI_VERSION, 1);
	mnl_attr_put_strz(nlh, NESTOR_A_MODULE_VERSION,
			  "a-very-long-module-version-string-0123456789");
	mnl_attr_put_u32(nlh, NESTOR_A_BACKEND, NESTOR_BACKEND_VMX);
	mnl_attr_put_u64(nlh, NESTOR_A_FEATURES, NESTOR_FEAT_REGISTRY);
	r.parse = version_parse;
	r.priv = &vp;
	ret = version_parse(nlh, &r);
	tap_ok(ret == 0 && vi.uapi_version == 1 &&
	       vi.backend == NESTOR_BACKEND_VMX &&
	       vi.features == NESTOR_FEAT_REGISTRY &&
	       strlen(vi.module_version) == sizeof(vi.module_version) - 1,
	       "version decoded, long module version truncated safely");

	nlh = msg_start(FAKE_FAMILY, NESTOR_CMD_GET_VERSION);
	mnl_attr_put(nlh, NESTOR_A_MODULE_VERSION, 3, "abc");
	TAP_EQ(version_parse(nlh, &r), -EPROTO,
	       "a module version without NUL is refused");
	free(n);
}

static void test_event_parse(void)
{
	struct nestor *n = fake_handle();
	struct ev_parse p = { .n = n };
	struct nlmsghdr *nlh;
	int ret;

	nlh = msg_start(FAKE_FAMILY, NESTOR_CMD_L2_ROOT_CHANGE);
	mnl_attr_put_u32(nlh, NESTOR_A_VM_ID, 1);
	mnl_attr_put_u32(nlh, NESTOR_A_L2_ID, 3);
	mnl_attr_put_u64(nlh, NESTOR_A_L2_VMCS12, 0x1000);
	mnl_attr_put_u64(nlh, NESTOR_A_L2_ROOT, 0x2000);
	mnl_attr_put_u64(nlh, NESTOR_A_L2_OLD_ROOT, 0x3000);
	mnl_attr_put_u32(nlh, NESTOR_A_MAX + 1, 0);
	ret = mnl_cb_run(msgbuf, nlh->nlmsg_len, 0, 0, ev_data_cb, &p);
	tap_ok(ret >= 0 && n->evq_len == 1 &&
	       n->evq[0].cmd == NESTOR_CMD_L2_ROOT_CHANGE &&
	       n->evq[0].vm_id == 1 && n->evq[0].l2_id == 3 &&
	       n->evq[0].vmcs12 == 0x1000 && n->evq[0].nested_root == 0x2000 &&
	       n->evq[0].old_root == 0x3000, "root-change event decoded");

	nlh = msg_start(0x77, NESTOR_CMD_L2_NEW);
	ret = mnl_cb_run(msgbuf, nlh->nlmsg_len, 0, 0, ev_data_cb, &p);
	tap_ok(ret >= 0 && n->evq_len == 1,
	       "a message of another family is no event");

	nlh = msg_start(FAKE_FAMILY, NESTOR_CMD_L2_GONE);
	mnl_attr_put_u64(nlh, NESTOR_A_L2_ID, 3);
	ret = mnl_cb_run(msgbuf, nlh->nlmsg_len, 0, 0, ev_data_cb, &p);
	tap_ok(ret < 0 && p.err == -EPROTO && n->evq_len == 1,
	       "a malformed event is refused, not queued");
	free(n->evq);
	free(n);
}

/* ------------------------------------------------------------------ */
/* against this host's kernel: nlctrl stands in for the nestor family */
/* ------------------------------------------------------------------ */

struct fam_count {
	int families;
	bool saw_nlctrl;
};

static int fam_count_attr(const struct nlattr *a, void *data)
{
	struct fam_count *c = data;

	if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_NAME &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0 &&
	    !strcmp(mnl_attr_get_str(a), "nlctrl"))
		c->saw_nlctrl = true;
	return MNL_CB_OK;
}

static int fam_count_parse(const struct nlmsghdr *nlh, struct req *r)
{
	struct fam_count *c = r->priv;

	c->families++;
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), fam_count_attr, c);
	return 0;
}

static void test_live_nlctrl(void)
{
	struct nestor *n = fake_handle();
	struct fam_count fc = { 0 };
	struct req r = { .n = n, .type = GENL_ID_CTRL,
			 .parse = fam_count_parse, .priv = &fc };
	struct nestor_event ev;
	struct genlmsghdr *g;
	struct nlmsghdr *nlh;
	union reqbuf rb;
	uint16_t id = 0;
	uint32_t grp = 0;
	int64_t t0;
	int ret;

	ret = genl_socket(n);
	if (ret) {
		tap_skip("no generic netlink socket here", "live nlctrl tests");
		nestor_close(n);
		return;
	}
	ret = genl_resolve(n, "nlctrl", "notify", &id, &grp);
	if (!tap_ok(ret == 0 && id == GENL_ID_CTRL && grp != 0,
		    "nlctrl resolves, with its \"notify\" group"))
		tap_diag("ret %d id %u grp %u (%s)", ret, id, grp,
			 nestor_last_error(n));

	ret = genl_resolve(n, "nestor-nosuch", NULL, &id, &grp);
	TAP_EQ(ret, -ENOENT, "an unknown family is -ENOENT");

	/* A real dump: many messages, then NLMSG_DONE. */
	nlh = genl_put(rb.b, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, NLM_F_DUMP);
	ret = nl_run(n, nlh, &r);
	tap_ok(ret == 0 && fc.families > 1 && fc.saw_nlctrl,
	       "GETFAMILY dump runs to NLMSG_DONE (%d families)",
	       fc.families);

	/* The kernel's own extack: reserved genl header bits. */
	nlh = genl_put(rb.b, GENL_ID_CTRL, 0xf0, 1, NLM_F_ACK);
	g = mnl_nlmsg_get_payload(nlh);
	g->reserved = 1;
	r.parse = dummy_parse;
	r.err = 0;
	ret = nl_run(n, nlh, &r);
	if (ret == -EINVAL)
		TAP_CONTAINS(nestor_last_error(n), "kernel: ",
			     "kernel extack message is reported");
	else
		tap_skip("this kernel does not check genl reserved bits",
			 "kernel extack message is reported (got %d)", ret);

	/* A reply left unread by an aborted request is drained. */
	nlh = genl_put(rb.b, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, NLM_F_DUMP);
	nlh->nlmsg_seq = 4242;
	mnl_socket_sendto(n->nl, nlh, nlh->nlmsg_len);
	n->nl_dirty = true;
	ret = genl_resolve(n, "nlctrl", NULL, &id, &grp);
	if (!tap_ok(ret == 0 && id == GENL_ID_CTRL,
		    "stale replies are drained before the next request"))
		tap_diag("ret %d (%s)", ret, nestor_last_error(n));

	/* Events: nlctrl's group is quiet, so the wait must time out. */
	genl_resolve(n, "nlctrl", "notify", &id, &grp);
	n->family = GENL_ID_CTRL;
	n->events_grp = grp;
	TAP_EQ(nestor_events_subscribe(n), 0,
	       "joining a multicast group works");
	t0 = now_ms();
	ret = nestor_event_next(n, &ev, 60);
	if (!tap_ok(ret == -ETIMEDOUT && now_ms() - t0 >= 55,
		    "event wait times out after the timeout"))
		tap_diag("ret %d after %lld ms", ret,
			 (long long)(now_ms() - t0));
	/* a queued event is returned without waiting */
	n->evq = calloc(1, sizeof(*n->evq));
	n->evq_cap = 1;
	n->evq_len = 1;
	n->evq[0].cmd = NESTOR_CMD_L2_GONE;
	n->evq[0].l2_id = 7;
	ret = nestor_event_next(n, &ev, 0);
	tap_ok(ret == 0 && ev.cmd == NESTOR_CMD_L2_GONE && ev.l2_id == 7 &&
	       n->evq_len == 0, "a queued event is returned first");
	nestor_close(n);
}

static void test_open_errors(void)
{
	struct nestor_version_info vi;
	struct nestor_event ev;
	struct nestor_stats s;
	struct nestor *h;
	struct stat st;
	int err;

	h = fake_handle();
	TAP_EQ(nestor_event_next(h, &ev, 0), -ENOTCONN,
	       "event_next without subscription is -ENOTCONN");
	TAP_EQ(nestor_stats(h, 1, &s), -ENOTCONN,
	       "netlink call on a handle without netlink is -ENOTCONN");
	TAP_EQ(nestor_version_ioctl(h, &vi), -ENOTCONN,
	       "ioctl on a handle without the device is -ENOTCONN");
	nestor_close(h);

	h = nestor_open_flags(0, &err);
	tap_ok(!h && err == -EINVAL, "nestor_open_flags(0) is -EINVAL");

	if (stat(NESTOR_DEVICE_PATH, &st) == 0) {
		tap_skip(NESTOR_DEVICE_PATH " exists here",
			 "no /dev/nestor is -ENODEV");
	} else {
		h = nestor_open_flags(NESTOR_OPEN_DEV, &err);
		if (!tap_ok(!h && err == -ENODEV, "no /dev/nestor is -ENODEV"))
			tap_diag("got %d", err);
		nestor_close(h);
	}
	h = nestor_open_flags(NESTOR_OPEN_GENL, &err);
	if (h) {
		tap_skip("a nestor family is registered here",
			 "no nestor family is -ENODEV");
		nestor_close(h);
	} else {
		TAP_EQ(err, -ENODEV, "no nestor family is -ENODEV");
	}
}

int main(void)
{
	test_exit_names();
	test_l2_names();
	test_messages();
	test_parse_l2();
	test_parse_vm_dump();
	test_extack();
	test_parse_stats_version();
	test_event_parse();
	test_live_nlctrl();
	test_open_errors();
	return tap_done();
}
