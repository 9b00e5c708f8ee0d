/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny streaming JSON writer: compact output, commas placed for the
 * caller, strings escaped (always valid JSON, even for invalid UTF-8).
 */
#ifndef NESTOR_JSON_H
#define NESTOR_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH	16

struct json {
	FILE *f;
	int depth;
	bool first[JSON_MAX_DEPTH];	/* no element yet at this level */
	bool after_key;			/* next value ends a member */
};

void json_init(struct json *j, FILE *f);
void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s);
void json_u64(struct json *j, uint64_t v);
void json_bool(struct json *j, bool v);
/* A "0x..." string: addresses do not fit a double exactly. */
void json_hex(struct json *j, uint64_t v);

/* Writes @s as a quoted JSON string. */
void json_escape(FILE *f, const char *s);

#endif /* NESTOR_JSON_H */
