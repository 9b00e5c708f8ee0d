/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small generic netlink client for the uapi tests, on libmnl.  It is
 * apart from libnestor on purpose: these tests send malformed requests
 * that the library never would, and must not share its bugs.
 */
#ifndef NESTOR_UAPI_NL_H
#define NESTOR_UAPI_NL_H

#include <stdint.h>
#include <libmnl/libmnl.h>

#define NL_BUFSZ	32768

struct nl {
	struct mnl_socket *sock;
	unsigned int portid;
	unsigned int seq;
	uint16_t family;		/* 0 until nl_resolve() */
	uint32_t family_version;
	uint32_t events_grp;		/* 0: not advertised */
	char extack[256];		/* of the last error, "" if none */
	int nmsgs;			/* data messages last request */
	char buf[NL_BUFSZ] __attribute__((aligned(8)));
};

/* Opens the socket with extended ACKs; 0 or a positive errno. */
int nl_open(struct nl *nl);
void nl_close(struct nl *nl);
/* Resolves "nestor" and its "events" group; 0 or a positive errno. */
int nl_resolve(struct nl *nl);

/*
 * Starts a request of the nestor family in @buf (at least 512 bytes):
 * genl header with @cmd, NLM_F_REQUEST | @flags.
 */
struct nlmsghdr *nl_req(struct nl *nl, void *buf, uint8_t cmd,
			uint16_t flags);

/*
 * Sends @req (NLM_F_ACK is added to a doit) and reads up to the final
 * message; every data message goes to @cb (may be NULL) and is counted in
 * nl->nmsgs.  Returns 0 or the kernel's positive errno; nl->extack holds
 * its message.
 */
int nl_xfer(struct nl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data);

/* Joins the events group on a fresh socket; 0 or a positive errno. */
int nl_join_events(struct nl *nl);

#endif /* NESTOR_UAPI_NL_H */
