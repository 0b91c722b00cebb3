/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A minimal JSON writer for ipumpctl's -j output: one document, compact, on
 * one line. Keys are the program's own ASCII names; strings from elsewhere
 * (the kernel's extended-ACK text, card names) go through json_str(), which
 * escapes them and replaces bytes that are not UTF-8, so the output is
 * always valid JSON.
 */
#ifndef IPUMP_TOOLS_JSON_H
#define IPUMP_TOOLS_JSON_H

#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH	8

struct json {
	FILE *f;
	int depth;
	int first[JSON_MAX_DEPTH + 1];	/* nothing written yet at that level */
	char close[JSON_MAX_DEPTH + 1];	/* its closing bracket */
};

void json_init(struct json *j, FILE *f);
/*
 * @key NULL inside an array (or at the top). Nesting deeper than
 * JSON_MAX_DEPTH is a programming error (abort). A newline ends the document.
 */
void json_open(struct json *j, const char *key, char bracket);	/* '{' or '[' */
void json_close(struct json *j);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_bool(struct json *j, const char *key, int v);
void json_null(struct json *j, const char *key);
void json_str(struct json *j, const char *key, const char *s);

/* @s as a JSON string literal, quotes included */
void json_write_string(FILE *f, const char *s);

#endif /* IPUMP_TOOLS_JSON_H */
