#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Check the man pages tools/man/ipumpctl.8 and ipumpmon.8:
#  (a) lint: mandoc -T lint -W warning (exits non-zero on a warning) and,
#      where groff is installed, groff -man -ww -z with an empty stderr;
#  (b) every option (long, and short like -j) and every command name that
#      the program's --help prints (ipumpmon: every event type too) appears
#      in its page, so the
#      pages cannot fall behind the option tables.
#
# usage: tests/check-man.sh [--man-dir DIR] [--bin-dir DIR]
#   defaults: tools/man and tools (built first with make -C tools).
# Exit status: 0 pass, 1 a check failed, 2 bad usage or a missing tool.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
man_dir=$root/tools/man
bin_dir=
while [ $# -gt 0 ]; do
	case $1 in
	--man-dir) man_dir=${2:?--man-dir needs a directory}; shift 2 ;;
	--bin-dir) bin_dir=${2:?--bin-dir needs a directory}; shift 2 ;;
	*) echo "check-man: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
if ! command -v mandoc >/dev/null; then
	echo "check-man: mandoc not found: install it (scripts/install-deps does)" >&2
	exit 2
fi
if [ -z "$bin_dir" ]; then
	bin_dir=$root/tools
	make -s -C "$bin_dir" ipumpctl ipumpmon
fi

failed=0
problem() {
	echo "check-man: $*" >&2
	failed=1
}

for tool in ipumpctl ipumpmon; do
	page=$man_dir/$tool.8
	[ -f "$page" ] || { problem "$page: missing"; continue; }

	# (a) lint
	if ! out=$(mandoc -T lint -W warning "$page" 2>&1); then
		problem "$page: mandoc lint:"
		echo "$out" >&2
	fi
	if command -v groff >/dev/null; then
		out=$(groff -man -ww -z "$page" 2>&1 || true)
		[ -z "$out" ] || { problem "$page: groff warnings:"; echo "$out" >&2; }
	fi

	# (b) the names --help prints, looked for in the rendered page (wide,
	# so that no name is split over two lines)
	help=$("$bin_dir/$tool" --help) || { problem "$tool --help: exit status $?"; continue; }
	text=$(mandoc -T ascii -O width=500 "$page" | col -bx)
	# long options, and short ones such as -j
	names=$(grep -oE -- '--[a-z][a-z0-9-]*' <<<"$help" | sort -u)
	names+=$'\n'$(grep -oE -- '(^|[][ ,|])-[a-zA-Z]([][ ,|]|$)' <<<"$help" | tr -d '][ ,|')
	if [ "$tool" = ipumpctl ]; then
		# "  ipumpctl [-j] CMD ..." lines, and the console-only commands
		names+=$'\n'$(sed -nE 's/^  ipumpctl (\[-j\] )?([a-z][a-z-]*).*/\2/p' <<<"$help")
		names+=$'\n'$(sed -nE "s/^Inside 'ipumpctl console' also: (.*)\.$/\1/p" <<<"$help" |
			      tr -s ', ' '\n\n')
	else
		# the event types, after "Event types:"
		names+=$'\n'$(sed -n '/Event types:/,$p' <<<"$help" | tail -n +2 | tr -s ' ' '\n')
	fi
	missing=()
	count=0
	while read -r name; do
		[ -n "$name" ] || continue
		count=$((count + 1))
		grep -qE -- "(^|[^a-z0-9-])${name}([^a-z0-9-]|\$)" <<<"$text" || missing+=("$name")
	done < <(sort -u <<<"$names")
	if [ ${#missing[@]} -gt 0 ]; then
		problem "$page: not documented (printed by '$tool --help'): ${missing[*]}"
	else
		echo "check-man: $tool.8: lint clean, all $count names of '$tool --help' documented"
	fi
done
exit $failed
