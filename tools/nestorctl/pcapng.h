/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small pcapng writer and reader (draft-ietf-opsawg-pcapng): section
 * header, interface description (nanosecond resolution), enhanced packet
 * with flags and comment, interface statistics.  Little-endian host order
 * on write; the reader takes either byte order.
 */
#ifndef NESTORCTL_PCAPNG_H
#define NESTORCTL_PCAPNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PCAPNG_LINKTYPE_ETHERNET	1
#define PCAPNG_FLAG_IN			1	/* epb_flags bits 0-1 */
#define PCAPNG_FLAG_OUT			2

struct pcapng_w {
	FILE *f;
	bool err;
};

void pcapng_w_init(struct pcapng_w *w, FILE *f);
void pcapng_w_shb(struct pcapng_w *w, const char *app, const char *comment);
/* Interface ids count from 0 in the order of these calls. */
void pcapng_w_idb(struct pcapng_w *w, uint32_t snaplen, const char *name,
		  const char *desc);
void pcapng_w_epb(struct pcapng_w *w, uint32_t ifid, uint64_t ts_ns,
		  const void *data, uint32_t caplen, uint32_t origlen,
		  uint32_t flags, const char *comment);
/* Interface statistics; @comment may be NULL. */
void pcapng_w_isb(struct pcapng_w *w, uint32_t ifid, uint64_t ts_ns,
		  uint64_t start_ns, uint64_t recv, uint64_t drop,
		  uint64_t osdrop, uint64_t accepted, const char *comment);

struct pcapng_if {
	char name[64];
	char desc[256];
	uint32_t linktype;
};

struct pcapng_pkt {
	uint32_t ifid;
	uint64_t ts_ns;
	uint32_t caplen, origlen;
	uint32_t flags;
	char comment[256];
	uint8_t *data;			/* malloc'ed */
};

struct pcapng_file {
	size_t nr_ifs;
	struct pcapng_if *ifs;
	size_t nr_pkts;
	struct pcapng_pkt *pkts;
	uint64_t isb_drops;		/* sum of isb_ifdrop */
};

/* 0, or -1 with a message in @err. */
int pcapng_read(FILE *f, struct pcapng_file *out, char *err, size_t errlen);
void pcapng_free(struct pcapng_file *pf);

#endif /* NESTORCTL_PCAPNG_H */
