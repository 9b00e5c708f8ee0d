// SPDX-License-Identifier: GPL-2.0
/*
 * libnestor's capture reader keeps the packets of one message queued and
 * hands them out one by one; a request in between (nestorctl reads the
 * final counters while the last message's packets are still queued) must
 * not change the queued packets' data.  Two frames go into a tap (its
 * from-l1 point) and travel in one message; the first is read, then a
 * GET, then the second must still be the frame that was written.
 * Runs as root in the emulated L0 with nestor.ko and tun; prints TAP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_tun.h>

#include "nestor_capture.h"
#include "uapi_util.h"

#define FRAME_LEN 60

static void frame(unsigned char *f, unsigned char fill)
{
	memset(f, 0xff, 6);				/* broadcast */
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);	/* local MAC */
	f[12] = 0x88;					/* local experimental */
	f[13] = 0xb5;
	memset(f + 14, fill, FRAME_LEN - 14);
}

static int tap_up(const char *name)
{
	struct ifreq ifr = { 0 };
	int fd, s;

	fd = open("/dev/net/tun", O_RDWR);
	if (fd < 0)
		return -1;
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		goto fail;
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		goto fail;
	ifr.ifr_flags = IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
		close(s);
		goto fail;
	}
	close(s);
	return fd;
fail:
	close(fd);
	return -1;
}

int main(void)
{
	/* A long flush: both frames wait in the kernel's open message. */
	struct nestor_cap_config cfg = {
		.points = 1U << NESTOR_CAP_POINT_FROM_L1,
		.batch = 64, .flush_ms = 1000,
	};
	struct nestor_cap_target t = { 0 };
	unsigned char f1[FRAME_LEN], f2[FRAME_LEN];
	struct nestor_cap_pkt p1, p2;
	struct nestor_cap_stats st;
	struct nestor_cap *c;
	uint32_t session;
	int fd, err;

	fd = tap_up("capq0");
	if (fd < 0)
		tap_bail("cannot make the tap capq0: %s", strerror(errno));
	c = nestor_cap_open(&err);
	if (!c)
		tap_bail("nestor_cap_open: %s", strerror(-err));
	t.ifindex = if_nametoindex("capq0");
	err = nestor_cap_new(c, &cfg, &session);
	if (!err)
		err = nestor_cap_subscribe(c, session, 0);
	if (!err)
		err = nestor_cap_bind(c, session, &t);
	if (!tap_ok(!err, "a session on the tap capq0 (from-l1)"))
		tap_bail("%s", nestor_cap_last_error(c));

	frame(f1, 0xa1);
	frame(f2, 0xb2);
	tap_ok(write(fd, f1, sizeof(f1)) == sizeof(f1) &&
	       write(fd, f2, sizeof(f2)) == sizeof(f2),
	       "two frames written into the tap");
	err = nestor_cap_next(c, &p1, 5000);
	tap_ok(!err && p1.caplen == FRAME_LEN && !memcmp(p1.data, f1, FRAME_LEN),
	       "the first frame is read back (err %d)", err);
	err = nestor_cap_get(c, session, &st);
	tap_ok(!err && st.captured == 2,
	       "GET between the two reads: 2 captured (err %d)", err);
	if (!err)
		nestor_cap_free_stats(&st);
	err = nestor_cap_next(c, &p2, 5000);
	tap_ok(!err && p2.seq == p1.seq + 1,
	       "the second frame follows it (err %d)", err);
	tap_ok(!err && p2.caplen == FRAME_LEN && !memcmp(p2.data, f2, FRAME_LEN),
	       "its data is still the frame written, after the GET");
	nestor_cap_close(c);
	close(fd);
	return tap_done();
}
