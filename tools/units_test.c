// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host unit test of the exact unit parser and formatter (units.c):
 * `make -C tools test`. Prints TAP; exits 1 on any mismatch.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "units.h"

#define U32 UINT32_MAX
#define U64 UINT64_MAX

struct pcase {
	enum units_kind kind;
	const char *in;
	uint64_t max;
	enum units_status want;
	uint64_t value;		/* when UNITS_OK */
};

static const struct pcase pcases[] = {
	/* the cases the tools' documentation promises */
	{ UNITS_VOLUME, "0.5ml", U32, UNITS_OK, 500000 },
	{ UNITS_RATE, "5ml/h", U32, UNITS_OK, 5000000 },
	{ UNITS_RATE, "100ul/min", U32, UNITS_OK, 6000000 },
	{ UNITS_RATE, "1ml/day", U32, UNITS_E_INEXACT, 0 },	/* 41666.67 nl/h */
	{ UNITS_RATE, "5", U32, UNITS_E_NO_UNIT, 0 },
	{ UNITS_VOLUME, "5", U32, UNITS_E_NO_UNIT, 0 },
	{ UNITS_DURATION, "10", U32, UNITS_E_NO_UNIT, 0 },
	{ UNITS_VOLUME, "5000ml", U32, UNITS_E_RANGE, 0 },	/* 5e9 nl > u32 */
	{ UNITS_VOLUME, "5000ml", U64, UNITS_OK, 5000000000ULL },
	{ UNITS_VOLUME, "99999999999999999999999999999999999999999ml", U64,
	  UNITS_E_RANGE, 0 },
	{ UNITS_VOLUME, "18446744073709.551616ml", U64, UNITS_E_RANGE, 0 },
	{ UNITS_VOLUME, "18446744073709551615nl", U64, UNITS_OK, UINT64_MAX },
	{ UNITS_VOLUME, "4294967295nl", U32, UNITS_OK, 4294967295ULL },
	{ UNITS_VOLUME, "4294967296nl", U32, UNITS_E_RANGE, 0 },
	{ UNITS_VOLUME, "-1ml", U32, UNITS_E_NEGATIVE, 0 },
	{ UNITS_RATE, "-5ml/h", U32, UNITS_E_NEGATIVE, 0 },
	{ UNITS_VOLUME, "1.5.2ml", U32, UNITS_E_SYNTAX, 0 },
	{ UNITS_DURATION, "2min", U32, UNITS_OK, 120000 },
	/* more of the grammar */
	{ UNITS_VOLUME, "", U32, UNITS_E_EMPTY, 0 },
	{ UNITS_VOLUME, ".5ml", U32, UNITS_E_NAKED_DECIMAL, 0 },
	{ UNITS_VOLUME, "1.ml", U32, UNITS_E_SYNTAX, 0 },
	{ UNITS_VOLUME, "0,5ml", U32, UNITS_E_SYNTAX, 0 },
	{ UNITS_VOLUME, "+5ml", U32, UNITS_E_SYNTAX, 0 },
	{ UNITS_VOLUME, " 5ml", U32, UNITS_E_SYNTAX, 0 },
	{ UNITS_VOLUME, "ml", U32, UNITS_E_SYNTAX, 0 },
	{ UNITS_VOLUME, "5 ml", U32, UNITS_OK, 5000000 },
	{ UNITS_VOLUME, "5ML", U32, UNITS_OK, 5000000 },
	{ UNITS_VOLUME, "5mL", U32, UNITS_OK, 5000000 },
	{ UNITS_VOLUME, "250uL", U32, UNITS_OK, 250000 },
	{ UNITS_VOLUME, "250\xc2\xb5l", U32, UNITS_OK, 250000 },	/* µl */
	{ UNITS_VOLUME, "250\xc2\xb5L", U32, UNITS_OK, 250000 },	/* µL */
	{ UNITS_VOLUME, "250\xce\xbcl", U32, UNITS_OK, 250000 },	/* μl */
	{ UNITS_VOLUME, "7nl", U32, UNITS_OK, 7 },
	{ UNITS_VOLUME, "0.0000001ml", U32, UNITS_E_INEXACT, 0 },
	{ UNITS_VOLUME, "0.000001ml", U32, UNITS_OK, 1 },
	{ UNITS_VOLUME, "1.50000000000000000000000000000000000ml", U32, UNITS_OK, 1500000 },
	{ UNITS_VOLUME, "0.5nl", U32, UNITS_E_INEXACT, 0 },
	{ UNITS_VOLUME, "0ml", U32, UNITS_OK, 0 },
	{ UNITS_VOLUME, "5mg", U32, UNITS_E_UNIT, 0 },
	{ UNITS_VOLUME, "5l", U32, UNITS_E_UNIT, 0 },
	{ UNITS_VOLUME, "5ml/h", U32, UNITS_E_UNIT, 0 },
	{ UNITS_VOLUME, "5min", U32, UNITS_E_UNIT, 0 },
	{ UNITS_RATE, "5ml", U32, UNITS_E_UNIT, 0 },
	{ UNITS_RATE, "5ml/s", U32, UNITS_E_UNIT, 0 },
	{ UNITS_RATE, "5ml/", U32, UNITS_E_UNIT, 0 },
	{ UNITS_RATE, "2ml/h", U32, UNITS_OK, 2000000 },
	{ UNITS_RATE, "2ML/HR", U32, UNITS_OK, 2000000 },
	{ UNITS_RATE, "0.1ul/h", U32, UNITS_OK, 100 },
	{ UNITS_RATE, "24ml/day", U32, UNITS_OK, 1000000 },
	{ UNITS_RATE, "1nl/min", U32, UNITS_OK, 60 },
	{ UNITS_RATE, "0.01nl/min", U32, UNITS_E_INEXACT, 0 },
	{ UNITS_RATE, "72ml/min", U32, UNITS_E_RANGE, 0 },	/* 4.32e9 nl/h */
	{ UNITS_RATE, "71.582788ml/min", U32, UNITS_OK, 4294967280ULL },
	{ UNITS_DURATION, "500ms", U32, UNITS_OK, 500 },
	{ UNITS_DURATION, "0.5s", U32, UNITS_OK, 500 },
	{ UNITS_DURATION, "0.0005s", U32, UNITS_E_INEXACT, 0 },
	{ UNITS_DURATION, "10min", U32, UNITS_OK, 600000 },
	{ UNITS_DURATION, "24h", U32, UNITS_OK, 86400000 },
	{ UNITS_DURATION, "1.5h", U32, UNITS_OK, 5400000 },
	{ UNITS_DURATION, "1200h", U32, UNITS_E_RANGE, 0 },	/* 4.32e9 ms */
	{ UNITS_DURATION, "2 min", U32, UNITS_OK, 120000 },
	{ UNITS_DURATION, "2m", U32, UNITS_E_UNIT, 0 },	/* minutes or metres? */
	{ UNITS_DURATION, "2ml", U32, UNITS_E_UNIT, 0 },
	{ UNITS_DURATION, "2min/h", U32, UNITS_E_UNIT, 0 },
};

struct fcase {
	enum units_kind kind;
	uint64_t v;
	const char *want;
};

static const struct fcase fcases[] = {
	{ UNITS_VOLUME, 500000, "0.5ml" },
	{ UNITS_VOLUME, 50000000, "50ml" },
	{ UNITS_VOLUME, 41666, "41.666ul" },
	{ UNITS_VOLUME, 100, "0.1ul" },
	{ UNITS_VOLUME, 99, "99nl" },
	{ UNITS_VOLUME, 0, "0nl" },
	{ UNITS_VOLUME, 1000000001, "1000.000001ml" },
	{ UNITS_RATE, 2000000, "2ml/h" },
	{ UNITS_RATE, 6000000, "6ml/h" },
	{ UNITS_RATE, 100, "0.1ul/h" },
	{ UNITS_DURATION, 600000, "10min" },
	{ UNITS_DURATION, 3600000, "1h" },
	{ UNITS_DURATION, 5400000, "90min" },
	{ UNITS_DURATION, 1500, "1.5s" },
	{ UNITS_DURATION, 999, "999ms" },
	{ UNITS_DURATION, 0, "0ms" },
};

static const char *st_name(enum units_status s)
{
	static const char *const n[] = {
		"OK", "EMPTY", "SYNTAX", "NO_UNIT", "UNIT", "NEGATIVE",
		"NAKED_DECIMAL", "INEXACT", "RANGE",
	};
	return (unsigned int)s < sizeof(n) / sizeof(n[0]) ? n[s] : "?";
}

int main(void)
{
	size_t np = sizeof(pcases) / sizeof(pcases[0]);
	size_t nf = sizeof(fcases) / sizeof(fcases[0]);
	unsigned int n = 0, failed = 0;
	char msg[256], buf[64];

	printf("TAP version 13\n1..%zu\n", np + nf + 2);
	for (size_t i = 0; i < np; i++) {
		const struct pcase *c = &pcases[i];
		uint64_t out = 0xdeadbeef;
		enum units_status st;
		int ok;

		msg[0] = '\0';
		st = units_parse(c->kind, c->in, c->max, &out, msg, sizeof(msg));
		ok = st == c->want && (st != UNITS_OK || out == c->value) &&
		     (st == UNITS_OK || (out == 0xdeadbeef && msg[0]));
		n++;
		if (!ok)
			failed++;
		printf("%sok %u parse '%s' -> %s", ok ? "" : "not ", n, c->in,
		       st_name(st));
		if (st == UNITS_OK)
			printf(" %" PRIu64, out);
		if (!ok)
			printf(" (expected %s %" PRIu64 ")", st_name(c->want), c->value);
		printf("\n");
		if (msg[0])
			printf("# %s\n", msg);
	}
	for (size_t i = 0; i < nf; i++) {
		const struct fcase *c = &fcases[i];
		int ok;

		if (c->kind == UNITS_VOLUME)
			units_fmt_volume(c->v, buf, sizeof(buf));
		else if (c->kind == UNITS_RATE)
			units_fmt_rate(c->v, buf, sizeof(buf));
		else
			units_fmt_duration(c->v, buf, sizeof(buf));
		ok = !strcmp(buf, c->want);
		n++;
		if (!ok)
			failed++;
		printf("%sok %u format %" PRIu64 " -> %s%s%s\n", ok ? "" : "not ",
		       n, c->v, buf, ok ? "" : " expected ", ok ? "" : c->want);
	}

	/* the refusal message of an inexact value shows the approximate value */
	units_parse(UNITS_RATE, "1ml/day", U32, &(uint64_t){0}, msg, sizeof(msg));
	n++;
	if (!strstr(msg, "41666.67 nl/h")) {
		failed++;
		printf("not ");
	}
	printf("ok %u inexact message names 41666.67 nl/h: %s\n", n, msg);

	/* strict integers for counts and generations */
	{
		uint64_t v = 0;
		int ok = !units_parse_uint("42", 100, &v) && v == 42 &&
			 units_parse_uint("101", 100, &v) &&
			 units_parse_uint("-1", 100, &v) &&
			 units_parse_uint("4x", 100, &v) &&
			 units_parse_uint("", 100, &v) &&
			 units_parse_uint("18446744073709551616", UINT64_MAX, &v) &&
			 !units_parse_uint("18446744073709551615", UINT64_MAX, &v) &&
			 v == UINT64_MAX;

		n++;
		if (!ok)
			failed++;
		printf("%sok %u units_parse_uint\n", ok ? "" : "not ", n);
	}
	printf("# %u/%u passed\n", n - failed, n);
	return failed ? 1 : 0;
}
