// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host test of json.c: escaping (quotes, backslashes, control characters,
 * invalid UTF-8) and nesting. Exit status 0 when every case passes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static int failures;

static void check(const char *what, const char *got, const char *want)
{
	if (strcmp(got, want)) {
		printf("FAIL %s:\n  got  %s\n  want %s\n", what, got, want);
		failures++;
	} else {
		printf("ok %s\n", what);
	}
}

static void str_case(const char *what, const char *in, const char *want)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	json_write_string(f, in);
	fclose(f);
	check(what, buf, want);
	free(buf);
}

int main(void)
{
	char *buf = NULL;
	size_t len = 0;
	struct json j;
	FILE *f;

	str_case("plain", "ipump0", "\"ipump0\"");
	str_case("quote and backslash", "a\"b\\c", "\"a\\\"b\\\\c\"");
	str_case("control characters", "l1\nl2\t\r\b\f\x01\x1f\x7f",
		 "\"l1\\nl2\\t\\r\\b\\f\\u0001\\u001f\\u007f\"");
	str_case("utf-8 kept", "5 \xc2\xb5l", "\"5 \xc2\xb5l\"");
	str_case("invalid utf-8 replaced", "a\xff" "b\xc2", "\"a\\ufffdb\\ufffd\"");
	str_case("overlong replaced", "\xc0\xaf", "\"\\ufffd\\ufffd\"");
	str_case("surrogate replaced", "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	str_case("null", NULL, "\"\"");

	f = open_memstream(&buf, &len);
	json_init(&j, f);
	json_open(&j, NULL, '[');
	json_open(&j, NULL, '{');
	json_u64(&j, "a", 18446744073709551615ULL);
	json_bool(&j, "b", 1);
	json_null(&j, "c");
	json_open(&j, "d", '[');
	json_str(&j, NULL, "x");
	json_str(&j, NULL, "y");
	json_close(&j);
	json_open(&j, "e", '{');
	json_close(&j);
	json_close(&j);
	json_open(&j, NULL, '{');
	json_close(&j);
	json_close(&j);
	fclose(f);
	check("nesting", buf,
	      "[{\"a\":18446744073709551615,\"b\":true,\"c\":null,\"d\":[\"x\",\"y\"],"
	      "\"e\":{}},{}]\n");
	free(buf);
	printf("%s\n", failures ? "json_test: FAILED" : "json_test: all passed");
	return failures ? 1 : 0;
}
