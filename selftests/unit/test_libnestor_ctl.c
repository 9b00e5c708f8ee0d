// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side tests of nestorctl's output: the exact JSON shapes that other
 * tests parse with jq, JSON string escaping, the l0 clamp, the text
 * forms.  nestorctl.c is included so that its static printers can be
 * called with made-up registry contents.
 */
#define main nestorctl_main
#include "../../tools/nestorctl/nestorctl.c"
#undef main

#include "test_libnestor_tap.h"

/* Runs @fn with a memory stream and returns what it wrote (static). */
static char *captured;

static FILE *cap_open(void)
{
	static size_t len;
	FILE *f;

	free(captured);
	captured = NULL;
	f = open_memstream(&captured, &len);
	if (!f) {
		perror("open_memstream");
		exit(1);
	}
	return f;
}

static const char *cap_close(FILE *f)
{
	fclose(f);
	return captured;
}

static const char *escaped(const char *s)
{
	FILE *f = cap_open();

	json_escape(f, s);
	return cap_close(f);
}

static void test_escape(void)
{
	TAP_STREQ(escaped("plain"), "\"plain\"", "plain string");
	TAP_STREQ(escaped(""), "\"\"", "empty string");
	TAP_STREQ(escaped(NULL), "\"\"", "NULL as empty string");
	TAP_STREQ(escaped("a\"b\\c/d"), "\"a\\\"b\\\\c/d\"",
		  "quote and backslash escaped");
	TAP_STREQ(escaped("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\"",
		  "short escapes");
	TAP_STREQ(escaped("\x01\x1f\x7f"), "\"\\u0001\\u001f\\u007f\"",
		  "other control characters as \\u00XX");
	TAP_STREQ(escaped("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
		  "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
		  "valid UTF-8 passes through");
	TAP_STREQ(escaped("a\xff" "b"), "\"a\\ufffdb\"",
		  "an invalid byte becomes U+FFFD");
	TAP_STREQ(escaped("\xc0\xaf"), "\"\\ufffd\\ufffd\"",
		  "an overlong form is refused");
	TAP_STREQ(escaped("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"",
		  "a UTF-16 surrogate is refused");
	TAP_STREQ(escaped("\xe2\x82"), "\"\\ufffd\\ufffd\"",
		  "a truncated sequence at the end is refused");
}

static void test_printer(void)
{
	FILE *f = cap_open();
	struct json j;

	json_init(&j, f);
	json_obj_begin(&j);
	json_key(&j, "a");
	json_arr_begin(&j);
	json_arr_end(&j);
	json_key(&j, "b");
	json_arr_begin(&j);
	json_u64(&j, 1);
	json_obj_begin(&j);
	json_obj_end(&j);
	json_bool(&j, false);
	json_hex(&j, UINT64_MAX);
	json_str(&j, "x");
	json_arr_end(&j);
	json_key(&j, "k\"");
	json_u64(&j, UINT64_MAX);
	json_obj_end(&j);
	TAP_STREQ(cap_close(f),
		  "{\"a\":[],\"b\":[1,{},false,\"0xffffffffffffffff\",\"x\"],"
		  "\"k\\\"\":18446744073709551615}",
		  "printer places commas and colons");
}

static void test_list_json(void)
{
	uint32_t vcpus[] = { 0 };
	struct nestor_vm vm = { .id = 1, .pid = 234, .nr_vcpus = 1,
				.vcpu_ids = vcpus };
	struct nestor_l2_vcpu l2v = { .vcpu_id = 0, .cr3 = 0x5000,
				      .cr3_changes = 17 };
	struct nestor_l2 l2 = {
		.id = 3, .vm_id = 1, .vm_pid = 234,
		.isa = NESTOR_BACKEND_SVM, .vmcs12 = 0x1234000,
		.nested_root = 0xabc000, .tdp = 1, .first_seen_ns = 1,
		.last_seen_ns = 2, .entries = 123, .nr_vcpus = 1,
		.vcpus = &l2v,
	};
	struct nestor_l2 two[2];
	struct nestor_ident ids[2] = {
		{ .name = "web-1", .key_id = 7, .flags = NESTOR_IDENT_F_PRESENT,
		  .bound_ns = 1, .registrations = 2, .l2_id = 3, .vm_id = 1,
		  .vmcs12 = 0x1234000, .nested_root = 0xabc000 },
		{ .name = "db-0", .key_id = 8, .flags = 0, .registrations = 1,
		  .l2_id = 2, .vm_id = 1 },
	};
	FILE *f;

	/* The shape in the brief, byte for byte. */
	f = cap_open();
	list_out(f, true, &vm, 1, &l2, 1, NULL, 0, 100);
	TAP_STREQ(cap_close(f),
		  "{\"vms\":[{\"vm\":1,\"pid\":234,\"vcpus\":[0],"
		  "\"l1_nestor_hypercalls\":0,\"l2\":[{"
		  "\"id\":3,\"isa\":\"svm\",\"vmcs12\":\"0x1234000\","
		  "\"nested_root\":\"0xabc000\",\"tdp\":true,"
		  "\"first_seen_ns\":1,\"last_seen_ns\":2,\"entries\":123,"
		  "\"cr3\":[{\"vcpu\":0,\"cr3\":\"0x5000\",\"changes\":17}]"
		  "}]}],\"identities\":[]}\n", "list --json has the agreed shape");

	f = cap_open();
	list_out(f, true, NULL, 0, NULL, 0, NULL, 0, 100);
	TAP_STREQ(cap_close(f), "{\"vms\":[],\"identities\":[]}\n", "empty list --json");

	/* An L2 whose VM vanished between the dumps is kept. */
	two[0] = l2;
	two[1] = l2;
	two[1].id = 4;
	two[1].tdp = 0;
	two[1].nr_vcpus = 0;
	two[0].vm_id = two[1].vm_id = 9;
	two[0].vm_pid = two[1].vm_pid = 99;
	f = cap_open();
	list_out(f, true, &vm, 1, two, 2, NULL, 0, 100);
	TAP_STREQ(cap_close(f),
		  "{\"vms\":[{\"vm\":1,\"pid\":234,\"vcpus\":[0],"
		  "\"l1_nestor_hypercalls\":0,\"l2\":[]},"
		  "{\"vm\":9,\"pid\":99,\"vcpus\":[],\"l1_nestor_hypercalls\":0,"
		  "\"l2\":[{\"id\":3,"
		  "\"isa\":\"svm\",\"vmcs12\":\"0x1234000\","
		  "\"nested_root\":\"0xabc000\",\"tdp\":true,"
		  "\"first_seen_ns\":1,\"last_seen_ns\":2,\"entries\":123,"
		  "\"cr3\":[{\"vcpu\":0,\"cr3\":\"0x5000\",\"changes\":17}]},"
		  "{\"id\":4,\"isa\":\"svm\",\"vmcs12\":\"0x1234000\","
		  "\"nested_root\":\"0xabc000\",\"tdp\":false,"
		  "\"first_seen_ns\":1,\"last_seen_ns\":2,\"entries\":123,"
		  "\"cr3\":[]}]}],\"identities\":[]}\n",
		  "orphan L2s grouped under their VM id once");

	f = cap_open();
	list_out(f, false, &vm, 1, &l2, 1, NULL, 0, 2 + 1500000000ULL);
	TAP_STREQ(cap_close(f),
		  "vm 1  pid 234  vcpus 0\n"
		  "  l2 3  svm  vmcb12 0x1234000  root 0xabc000  tdp  "
		  "entries 123  last seen 1.5s ago  cr3 vcpu0=0x5000(17 changes)\n",
		  "list text form");
	/* An identity bound to L2 3, and an absent one. */
	two[0] = l2;
	snprintf(two[0].ident, sizeof(two[0].ident), "web-1");
	two[0].ident_key_id = 7;
	two[0].ident_flags = NESTOR_IDENT_F_PRESENT;
	f = cap_open();
	list_out(f, true, &vm, 1, two, 1, ids, 2, 100);
	TAP_STREQ(cap_close(f),
		  "{\"vms\":[{\"vm\":1,\"pid\":234,\"vcpus\":[0],"
		  "\"l1_nestor_hypercalls\":0,\"l2\":[{\"id\":3,\"isa\":\"svm\","
		  "\"vmcs12\":\"0x1234000\",\"nested_root\":\"0xabc000\","
		  "\"tdp\":true,\"first_seen_ns\":1,\"last_seen_ns\":2,"
		  "\"entries\":123,\"identity\":\"web-1\",\"identity_key\":7,"
		  "\"identity_unauthenticated\":false,"
		  "\"cr3\":[{\"vcpu\":0,\"cr3\":\"0x5000\",\"changes\":17}]}]}],"
		  "\"identities\":[{\"name\":\"web-1\",\"present\":true,\"l2\":3,"
		  "\"vm\":1,\"key\":7,\"unauthenticated\":false,\"uuid\":false,"
		  "\"registrations\":2},{\"name\":\"db-0\",\"present\":false,"
		  "\"l2\":2,\"vm\":1,\"key\":8,\"unauthenticated\":false,"
		  "\"uuid\":false,\"registrations\":1}]}\n",
		  "list --json with identities");
	f = cap_open();
	list_out(f, false, &vm, 1, two, 1, ids, 2, 2 + 1500000000ULL);
	TAP_STREQ(cap_close(f),
		  "vm 1  pid 234  vcpus 0\n"
		  "  l2 3  id:web-1  svm  vmcb12 0x1234000  root 0xabc000  tdp  "
		  "entries 123  last seen 1.5s ago  cr3 vcpu0=0x5000(17 changes)\n"
		  "id:db-0  absent, last on l2 2  vm 1  key 0x8  registrations 1\n",
		  "list text form with identities");
	f = cap_open();
	list_out(f, false, NULL, 0, NULL, 0, NULL, 0, 0);
	TAP_STREQ(cap_close(f), "no VMs\n", "empty list text form");
}

static void test_stats_json(void)
{
	struct nestor_exit_count exits[] = {
		{ .reason = 0x60, .total = 5, .reflected = 9, .nestor = 0 },
		{ .reason = 0x7b, .total = 10, .reflected = 10, .nestor = 0 },
		{ .reason = 0x81, .total = 7, .reflected = 2, .nestor = 5 },
	};
	struct nestor_stats s = { .l2_id = 3, .nr_exits = 3, .exits = exits,
				  .isa = NESTOR_BACKEND_SVM };
	FILE *f;

	TAP_EQ(exits_l0(&exits[0]), 0,
	       "l0 clamps at 0 when KVM synthesized reflected exits");
	TAP_EQ(exits_l0(&exits[2]), 5, "l0 = total - reflected");

	f = cap_open();
	stats_out(f, true, 3, NESTOR_BACKEND_SVM, &s);
	TAP_STREQ(cap_close(f),
		  "{\"l2\":3,\"isa\":\"svm\",\"exits\":["
		  "{\"reason\":96,\"name\":\"INTR\",\"total\":5,"
		  "\"reflected\":9,\"l0\":0,\"nestor\":0},"
		  "{\"reason\":123,\"name\":\"IOIO\",\"total\":10,"
		  "\"reflected\":10,\"l0\":0,\"nestor\":0},"
		  "{\"reason\":129,\"name\":\"VMMCALL\",\"total\":7,"
		  "\"reflected\":2,\"l0\":5,\"nestor\":5}]}\n",
		  "stats --json has the agreed shape");

	s.nr_exits = 0;
	f = cap_open();
	stats_out(f, true, 8, NESTOR_BACKEND_VMX, &s);
	TAP_STREQ(cap_close(f), "{\"l2\":8,\"isa\":\"vmx\",\"exits\":[]}\n",
		  "stats --json without exits");

	s.nr_exits = 1;
	exits[0].reason = 30;
	f = cap_open();
	stats_out(f, false, 8, NESTOR_BACKEND_VMX, &s);
	TAP_CONTAINS(cap_close(f), "30          IO_INSTRUCTION",
		     "stats text names VMX reasons");
}

static void test_events_out(void)
{
	struct nestor_event ev = { .cmd = NESTOR_CMD_L2_ROOT_CHANGE,
				   .vm_id = 1, .l2_id = 3, .vmcs12 = 0x10,
				   .nested_root = 0x20, .old_root = 0x30 };
	FILE *f;

	f = cap_open();
	event_out(f, &ev, true);
	TAP_STREQ(cap_close(f),
		  "{\"event\":\"L2_ROOT_CHANGE\",\"vm\":1,\"l2\":3,"
		  "\"vmcs12\":\"0x10\",\"nested_root\":\"0x20\","
		  "\"old_root\":\"0x30\"}\n", "event JSON line");
	f = cap_open();
	event_out(f, &ev, false);
	TAP_STREQ(cap_close(f),
		  "L2_ROOT_CHANGE vm 1 l2 3 vmcs12 0x10 root 0x20 old-root 0x30\n",
		  "event text line");
	ev.cmd = NESTOR_CMD_VM_GONE;
	f = cap_open();
	event_out(f, &ev, false);
	TAP_STREQ(cap_close(f), "VM_GONE vm 1\n", "VM_GONE text line");
	ev.cmd = 200;
	f = cap_open();
	event_out(f, &ev, false);
	TAP_STREQ(cap_close(f), "EVENT_200 vm 1 l2 3\n",
		  "an unknown event is still shown");
}

static void test_small(void)
{
	char buf[32];
	long v = 0;

	fmt_ago(buf, sizeof(buf), 250000000ULL);
	TAP_STREQ(buf, "250ms", "ago in ms");
	fmt_ago(buf, sizeof(buf), 61000000000ULL);
	TAP_STREQ(buf, "1m01s", "ago in minutes");
	fmt_ago(buf, sizeof(buf), 7325000000000ULL);
	TAP_STREQ(buf, "2h02m", "ago in hours");
	tap_ok(parse_long("100", 0, 1000, &v) && v == 100, "parse_long 100");
	tap_ok(!parse_long("", 0, 1000, &v), "parse_long rejects empty");
	tap_ok(!parse_long("-1", -5, 1000, &v), "parse_long rejects a sign");
	tap_ok(!parse_long("1001", 0, 1000, &v), "parse_long honours max");
	tap_ok(!parse_long("1x", 0, 1000, &v), "parse_long rejects junk");
}

int main(void)
{
	test_escape();
	test_printer();
	test_list_json();
	test_stats_json();
	test_events_out();
	test_small();
	free(captured);
	return tap_done();
}
