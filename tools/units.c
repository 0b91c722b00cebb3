// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exact unit parsing and formatting for the ipump tools (see units.h).
 *
 * A value is a decimal number (digits, optionally '.' and more digits, with
 * a leading digit) and a unit. It is read as the exact rational M / 10^k and
 * multiplied by the unit's factor in 128-bit integer arithmetic; the result
 * must be a whole number of the destination unit and fit in @max.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"

typedef unsigned __int128 u128;

#define U128_MAX	(~(u128)0)

struct unit {
	const char *name;	/* lower case; UTF-8 for the micro sign */
	uint64_t num;		/* factor to the destination unit: num / den */
	uint64_t den;
};

/* volume -> nL */
static const struct unit vol_units[] = {
	{ "nl", 1, 1 },
	{ "ul", 1000, 1 },
	{ "\xc2\xb5l", 1000, 1 },	/* U+00B5 MICRO SIGN */
	{ "\xce\xbcl", 1000, 1 },	/* U+03BC GREEK SMALL LETTER MU */
	{ "ml", 1000000, 1 },
	{ NULL, 0, 0 }
};

/* per time -> per hour */
static const struct unit per_units[] = {
	{ "h", 1, 1 },
	{ "hr", 1, 1 },
	{ "min", 60, 1 },
	{ "day", 1, 24 },
	{ NULL, 0, 0 }
};

/* duration -> ms */
static const struct unit dur_units[] = {
	{ "ms", 1, 1 },
	{ "s", 1000, 1 },
	{ "min", 60000, 1 },
	{ "h", 3600000, 1 },
	{ NULL, 0, 0 }
};

const char *units_accepted(enum units_kind kind)
{
	switch (kind) {
	case UNITS_VOLUME:
		return "nl, ul (or \xc2\xb5l) or ml, e.g. 0.5ml";
	case UNITS_RATE:
		return "nl, ul or ml per h, min or day, e.g. 5ml/h or 100ul/min";
	case UNITS_DURATION:
		return "ms, s, min or h, e.g. 10min";
	}
	return "";
}

static const char *kind_name(enum units_kind kind)
{
	switch (kind) {
	case UNITS_VOLUME:
		return "a volume";
	case UNITS_RATE:
		return "a rate";
	case UNITS_DURATION:
		return "a duration";
	}
	return "";
}

static const char *dest_unit(enum units_kind kind)
{
	switch (kind) {
	case UNITS_VOLUME:
		return "nl";
	case UNITS_RATE:
		return "nl/h";
	case UNITS_DURATION:
		return "ms";
	}
	return "";
}

/* lower-case ASCII copy of @s (bytes >= 0x80 unchanged); 0 if too long */
static int lower_copy(char *dst, size_t len, const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (i + 1 >= len)
			return 0;
		dst[i] = (unsigned char)s[i] < 0x80 ? (char)tolower((unsigned char)s[i]) : s[i];
	}
	dst[i] = '\0';
	return 1;
}

static const struct unit *find_unit(const struct unit *tab, const char *name)
{
	for (; tab->name; tab++)
		if (!strcmp(tab->name, name))
			return tab;
	return NULL;
}

/* u128 to decimal */
static char *u128_str(u128 v, char *buf, size_t len)
{
	char tmp[48];
	int i = 0;

	do {
		tmp[i++] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v && i < (int)sizeof(tmp));
	if ((size_t)i >= len)
		i = (int)len - 1;
	for (int j = 0; j < i; j++)
		buf[j] = tmp[i - 1 - j];
	buf[i] = '\0';
	return buf;
}

#define MSG(...) do { if (msg && msglen) snprintf(msg, msglen, __VA_ARGS__); } while (0)

/*
 * Resolve the unit text @u for @kind into the factor num/den. Returns
 * UNITS_OK or UNITS_E_UNIT with a message.
 */
static enum units_status resolve_unit(enum units_kind kind, const char *s,
				      const char *u, u128 *num, u128 *den,
				      char *msg, size_t msglen)
{
	const struct unit *v, *p, *d;
	char low[32], *slash;

	if (!lower_copy(low, sizeof(low), u))
		goto unknown;
	slash = strchr(low, '/');

	switch (kind) {
	case UNITS_VOLUME:
		v = find_unit(vol_units, low);
		if (v) {
			*num = v->num;
			*den = v->den;
			return UNITS_OK;
		}
		if (slash) {
			*slash = '\0';
			if (find_unit(vol_units, low) && find_unit(per_units, slash + 1)) {
				MSG("'%s' is a rate, not a volume: accepted units: %s",
				    s, units_accepted(kind));
				return UNITS_E_UNIT;
			}
		}
		if (find_unit(dur_units, low)) {
			MSG("'%s' is a duration, not a volume: accepted units: %s",
			    s, units_accepted(kind));
			return UNITS_E_UNIT;
		}
		break;
	case UNITS_RATE:
		if (!slash) {
			if (find_unit(vol_units, low)) {
				MSG("'%s' is a volume, not a rate: give the time too, "
				    "accepted units: %s", s, units_accepted(kind));
				return UNITS_E_UNIT;
			}
			break;
		}
		*slash = '\0';
		v = find_unit(vol_units, low);
		p = find_unit(per_units, slash + 1);
		if (v && p) {
			*num = (u128)v->num * p->num;
			*den = (u128)v->den * p->den;
			return UNITS_OK;
		}
		break;
	case UNITS_DURATION:
		d = find_unit(dur_units, low);
		if (d) {
			*num = d->num;
			*den = d->den;
			return UNITS_OK;
		}
		if (find_unit(vol_units, low) || slash) {
			MSG("'%s' is not a duration: accepted units: %s",
			    s, units_accepted(kind));
			return UNITS_E_UNIT;
		}
		break;
	}
unknown:
	MSG("'%s': unknown unit '%s' for %s: accepted units: %s",
	    s, u, kind_name(kind), units_accepted(kind));
	return UNITS_E_UNIT;
}

enum units_status units_parse(enum units_kind kind, const char *s,
			      uint64_t max, uint64_t *out,
			      char *msg, size_t msglen)
{
	const char *p = s, *frac = NULL, *u;
	size_t nint = 0, nfrac = 0, k;
	u128 m = 0, num, den, q, r, pow10 = 1;
	enum units_status st;
	char a[48], b[48];

	if (!s || !*s) {
		MSG("empty value: %s needs a number and a unit: %s",
		    kind_name(kind), units_accepted(kind));
		return UNITS_E_EMPTY;
	}
	if (*p == '-') {
		MSG("'%s': negative values are not accepted", s);
		return UNITS_E_NEGATIVE;
	}
	if (*p == '.' && isdigit((unsigned char)p[1])) {
		MSG("'%s': write a leading zero (0%s): a naked decimal point is "
		    "easily missed", s, s);
		return UNITS_E_NAKED_DECIMAL;
	}
	for (; isdigit((unsigned char)*p); p++)
		nint++;
	if (!nint) {
		MSG("'%s' is not a number followed by a unit (%s)",
		    s, units_accepted(kind));
		return UNITS_E_SYNTAX;
	}
	if (*p == '.') {
		frac = ++p;
		for (; isdigit((unsigned char)*p); p++)
			nfrac++;
		if (!nfrac) {
			MSG("'%s': a decimal point needs digits after it", s);
			return UNITS_E_SYNTAX;
		}
	}
	if (*p == '.' || *p == ',' || isdigit((unsigned char)*p)) {
		MSG("'%s' is not a well-formed number (one '.' as the decimal "
		    "point, no thousands separators)", s);
		return UNITS_E_SYNTAX;
	}
	u = p;
	while (*u == ' ')
		u++;
	if (!*u) {
		MSG("'%s' has no unit: %s needs one of %s", s, kind_name(kind),
		    units_accepted(kind));
		return UNITS_E_NO_UNIT;
	}
	if (u == p && !isalpha((unsigned char)*u) && (unsigned char)*u < 0x80) {
		MSG("'%s' is not a well-formed number followed by a unit (%s)",
		    s, units_accepted(kind));
		return UNITS_E_SYNTAX;
	}
	st = resolve_unit(kind, s, u, &num, &den, msg, msglen);
	if (st)
		return st;

	/* trailing zeros of the fraction do not change the value */
	while (nfrac && frac[nfrac - 1] == '0')
		nfrac--;
	/* mantissa: integer digits then fraction digits */
	for (const char *c = s; c < s + nint; c++) {
		if (m > (U128_MAX - 9) / 10)
			goto range;
		m = m * 10 + (u128)(*c - '0');
	}
	for (k = 0; k < nfrac; k++) {
		if (m > (U128_MAX - 9) / 10)
			goto range;
		m = m * 10 + (u128)(frac[k] - '0');
	}
	/*
	 * More than 30 significant decimals can never be exact: no factor has
	 * that many 2s and 5s (and 10^30 * 24 still fits in 128 bits).
	 */
	if (nfrac > 30)
		goto inexact_tiny;
	for (k = 0; k < nfrac; k++)
		pow10 *= 10;
	den *= pow10;
	if (m && num > U128_MAX / m)
		goto range;
	num *= m;
	q = num / den;
	r = num % den;
	if (r) {
		/* two decimals, rounded, only for the message */
		u128 d = (r * 100 + den / 2) / den;

		if (d >= 100) {
			q++;
			d -= 100;
		}
		MSG("'%s' is %s.%02u %s, not a whole number of %s: refused "
		    "(values are never rounded)", s, u128_str(q, a, sizeof(a)),
		    (unsigned int)d, dest_unit(kind), dest_unit(kind));
		return UNITS_E_INEXACT;
	}
	if (q > max) {
		MSG("'%s' is %s %s, above the largest value accepted here "
		    "(%s %s)", s, u128_str(q, a, sizeof(a)), dest_unit(kind),
		    u128_str(max, b, sizeof(b)), dest_unit(kind));
		return UNITS_E_RANGE;
	}
	*out = (uint64_t)q;
	return UNITS_OK;

inexact_tiny:
	MSG("'%s' is not a whole number of %s: refused (values are never "
	    "rounded)", s, dest_unit(kind));
	return UNITS_E_INEXACT;
range:
	MSG("'%s' is too large: above the largest value accepted here "
	    "(%s %s)", s, u128_str(max, b, sizeof(b)), dest_unit(kind));
	return UNITS_E_RANGE;
}

int units_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		uint64_t d = (uint64_t)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* @v / @div in exact decimal, trailing zeros trimmed, then @unit */
static char *fmt_exact(uint64_t v, uint64_t div, int digits, const char *unit,
		       char *buf, size_t len)
{
	uint64_t ip = v / div, fp = v % div;
	char f[24];
	int n;

	if (!fp) {
		snprintf(buf, len, "%llu%s", (unsigned long long)ip, unit);
		return buf;
	}
	snprintf(f, sizeof(f), "%0*llu", digits, (unsigned long long)fp);
	n = (int)strlen(f);
	while (n > 0 && f[n - 1] == '0')
		f[--n] = '\0';
	snprintf(buf, len, "%llu.%s%s", (unsigned long long)ip, f, unit);
	return buf;
}

static char *fmt_vol(uint64_t nl, const char *per, char *buf, size_t len)
{
	char unit[16];

	if (nl >= 100000) {
		snprintf(unit, sizeof(unit), "ml%s", per);
		return fmt_exact(nl, 1000000, 6, unit, buf, len);
	}
	if (nl >= 100) {
		snprintf(unit, sizeof(unit), "ul%s", per);
		return fmt_exact(nl, 1000, 3, unit, buf, len);
	}
	snprintf(unit, sizeof(unit), "nl%s", per);
	return fmt_exact(nl, 1, 0, unit, buf, len);
}

char *units_fmt_volume(uint64_t nl, char *buf, size_t len)
{
	return fmt_vol(nl, "", buf, len);
}

char *units_fmt_rate(uint64_t nl_per_h, char *buf, size_t len)
{
	return fmt_vol(nl_per_h, "/h", buf, len);
}

char *units_fmt_duration(uint64_t ms, char *buf, size_t len)
{
	if (ms && ms % 3600000 == 0)
		return fmt_exact(ms, 3600000, 0, "h", buf, len);
	if (ms && ms % 60000 == 0)
		return fmt_exact(ms, 60000, 0, "min", buf, len);
	if (ms >= 1000)
		return fmt_exact(ms, 1000, 3, "s", buf, len);
	return fmt_exact(ms, 1, 0, "ms", buf, len);
}
