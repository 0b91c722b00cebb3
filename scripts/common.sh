# SPDX-License-Identifier: GPL-2.0-only
# Shared by the build and test scripts: where things are. Source it.

IPUMP_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${IPUMP_CACHE:-}" ]; then
	if [ -w /var/cache ] || [ -w /var/cache/ipump ]; then
		IPUMP_CACHE=/var/cache/ipump
	else
		IPUMP_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/ipump
	fi
fi
mkdir -p "$IPUMP_CACHE"

# Newest installed Debian 6.1 kernel release of a flavour ("amd64", "rt-amd64").
ipump_kernel_release() {
	local flavour=$1 f rel best=
	for f in /boot/vmlinuz-6.1.*-"$flavour"; do
		[ -e "$f" ] || continue
		rel=${f#/boot/vmlinuz-}
		# "6.1.0-56-amd64" must not match "6.1.0-56-rt-amd64"
		[ "$flavour" = amd64 ] && [[ $rel == *-rt-amd64 ]] && continue
		best=$(printf '%s\n%s\n' "$best" "$rel" | sed '/^$/d' | sort -V | tail -n1)
	done
	[ -n "$best" ] || { echo "no /boot/vmlinuz-6.1.*-$flavour: run scripts/install-deps" >&2; return 1; }
	echo "$best"
}

# The few files we use from Debian's linux-source-6.1, extracted once into
# the cache (never copied into the repository). Prints the tree's path.
ipump_ksrc() {
	local tarball dir stamp
	tarball=$(ls /usr/src/linux-source-6.1*.tar.xz 2>/dev/null | sort -V | tail -n1)
	[ -n "$tarball" ] || { echo "linux-source-6.1 is not installed: run scripts/install-deps" >&2; return 1; }
	dir=$IPUMP_CACHE/ksrc
	stamp="$dir/.stamp-$(stat -c %Y-%s "$tarball")"
	if [ ! -e "$stamp" ]; then
		rm -rf "$dir" && mkdir -p "$dir"
		tar -xJf "$tarball" -C "$dir" --strip-components=1 --wildcards \
			'linux-source-6.1/tools/testing/selftests/kselftest*' \
			'linux-source-6.1/tools/testing/selftests/lib.mk' \
			'linux-source-6.1/tools/testing/selftests/run_kselftest.sh' \
			'linux-source-6.1/scripts/checkpatch.pl' \
			'linux-source-6.1/scripts/spelling.txt' \
			'linux-source-6.1/scripts/const_structs.checkpatch' \
			'linux-source-6.1/scripts/extract-vmlinux' >&2
		touch "$stamp"
	fi
	echo "$dir"
}

# Uncompressed vmlinux of a kernel release, cached: booting it under TCG
# skips the slow in-guest decompression.
ipump_vmlinux() {
	local rel=$1 out ksrc
	out=$IPUMP_CACHE/vmlinux-$rel
	if [ ! -s "$out" ] || [ "/boot/vmlinuz-$rel" -nt "$out" ]; then
		ksrc=$(ipump_ksrc) || return 1
		sh "$ksrc/scripts/extract-vmlinux" "/boot/vmlinuz-$rel" > "$out.tmp" && mv "$out.tmp" "$out"
	fi
	echo "$out"
}

# Build the modules for kernel release $1 in build/$1 (a copy of the sources,
# so builds for several kernels do not trample each other). Extra arguments
# go to kbuild (e.g. W=1 C=2). Prints the directory holding the .ko files.
ipump_build_modules() {
	local rel=$1 out
	shift
	out=$IPUMP_TOP/build/$rel
	mkdir -p "$out"
	(cd "$IPUMP_TOP" && tar -cf - Kbuild driver) | tar -xf - -C "$out"
	make -s -C "/lib/modules/$rel/build" M="$out" CONFIG_IPUMP=m CONFIG_IPUMP_SIM=m CONFIG_IPUMP_SPI=m "$@" modules >&2 || return 1
	echo "$out/driver"
}
