/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Exact unit parsing and formatting for the ipump tools.
 *
 * Every quantity a clinician types carries its unit; the value is converted
 * to the driver's units (nL, nL/h, ms) with integer arithmetic only, and a
 * value that is not an exact integer there, or does not fit, is refused:
 * nothing is ever rounded silently. Grammar: Documentation/userspace-api/
 * ipump-tools.rst, "Units".
 */
#ifndef IPUMP_TOOLS_UNITS_H
#define IPUMP_TOOLS_UNITS_H

#include <stddef.h>
#include <stdint.h>

enum units_kind {
	UNITS_VOLUME,		/* nl, ul (uL, µl), ml -> nL */
	UNITS_RATE,		/* volume per h, min or day -> nL/h */
	UNITS_DURATION,		/* ms, s, min, h -> ms */
};

enum units_status {
	UNITS_OK = 0,
	UNITS_E_EMPTY,		/* nothing given */
	UNITS_E_SYNTAX,		/* not a number followed by a unit */
	UNITS_E_NO_UNIT,	/* a bare number */
	UNITS_E_UNIT,		/* an unknown unit, or one of another kind */
	UNITS_E_NEGATIVE,	/* a minus sign */
	UNITS_E_NAKED_DECIMAL,	/* ".5": a leading zero is required */
	UNITS_E_INEXACT,	/* not a whole number of nL, nL/h or ms */
	UNITS_E_RANGE,		/* above @max */
};

/*
 * units_parse - parse @s as a quantity of @kind into *@out (nL, nL/h or ms)
 * @max: the largest value the destination carries (UINT32_MAX, UINT64_MAX)
 * @msg: on error, a sentence saying what is wrong and what is accepted
 *	(without the option name); may be NULL
 *
 * Returns UNITS_OK or the reason of the refusal; *@out is written only on
 * success.
 */
enum units_status units_parse(enum units_kind kind, const char *s,
			      uint64_t max, uint64_t *out,
			      char *msg, size_t msglen);

/* "nl, ul or ml" etc., for usage messages */
const char *units_accepted(enum units_kind kind);

/*
 * Exact human formatting: the value in the largest convenient unit with as
 * many decimals as needed and no more ("0.5ml", "41.666ul", "2ml/h",
 * "10min", "1.5s"); never rounded. Return @buf.
 */
char *units_fmt_volume(uint64_t nl, char *buf, size_t len);
char *units_fmt_rate(uint64_t nl_per_h, char *buf, size_t len);
char *units_fmt_duration(uint64_t ms, char *buf, size_t len);

/* A strict unsigned decimal integer without unit (counts, generations). */
int units_parse_uint(const char *s, uint64_t max, uint64_t *out);

#endif /* IPUMP_TOOLS_UNITS_H */
