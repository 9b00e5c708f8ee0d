/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Packet capture around L1 (netfilter/capture.c): the "nestor_cap" generic
 * netlink family and its netdev hooks.  Documentation/capture.rst.
 */
#ifndef NESTOR_NETFILTER_CAPTURE_H
#define NESTOR_NETFILTER_CAPTURE_H

int nestor_capture_init(void);
void nestor_capture_exit(void);

#endif /* NESTOR_NETFILTER_CAPTURE_H */
