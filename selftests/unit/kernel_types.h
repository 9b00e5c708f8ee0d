/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel types for building kmod/'s pure files in userspace unit tests. */
#ifndef NESTOR_UNIT_KERNEL_TYPES_H
#define NESTOR_UNIT_KERNEL_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef int32_t s32;
typedef uint64_t u64;

#define BIT(n)	(1UL << (n))

#endif
