#!/usr/bin/env bash
# tests/install/run.sh BUILD_DIR STAGE_DIR
#
# Install a build into STAGE_DIR (meson install --destdir), check what was
# installed, then build examples/local the way a program outside this tree
# would: a copy of its Makefile and source, flags from the installed
# libcloudprotect.pc and nothing else, and run it against the staged library.
set -euo pipefail

build=$(cd "${1:?usage: $0 BUILD_DIR STAGE_DIR}" && pwd)
stage=${2:?usage: $0 BUILD_DIR STAGE_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)

fail()
{
	echo "install test: $*" >&2
	exit 1
}

rm -rf "$stage"
mkdir -p "$stage"
stage=$(cd "$stage" && pwd)
meson install -C "$build" --no-rebuild --destdir "$stage/root" >"$stage/install.log" 2>&1 ||
	{ cat "$stage/install.log" >&2; fail "meson install failed"; }

# What a distribution package would ship.
pc=$(find "$stage/root" -name libcloudprotect.pc)
[ "$(printf '%s\n' "$pc" | grep -c .)" -eq 1 ] || fail "expected one libcloudprotect.pc, found: $pc"
libdir=$(dirname "$(dirname "$pc")")
prefix=$(dirname "$(find "$stage/root" -path '*/include/cloudprotect.h')")/..
for f in "$prefix/include/cloudprotect.h" "$prefix/include/cloudprotect/backup.h" \
	"$prefix/include/cloudprotect/sys/provider.h" "$prefix/include/cloudprotect/sys/objstore.h" \
	"$prefix/share/man/man1/cloudprotect.1" "$prefix/share/man/man3/libcloudprotect.3" \
	"$prefix/bin/cloudprotect" "$libdir/libcloudprotect.so"; do
	[ -e "$f" ] || fail "not installed: ${f#"$stage"/root}"
done
soname=$(readelf -d "$libdir/libcloudprotect.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libcloudprotect.so.0 ] || fail "soname is '$soname', want libcloudprotect.so.0"
[ -e "$libdir/$soname" ] || fail "$soname is not installed beside libcloudprotect.so"

# Only the public API is exported: every defined dynamic symbol is cp_*.
leaked=$(nm -D --defined-only "$libdir/libcloudprotect.so" | awk '$2 ~ /[TDBRVWi]/ { print $3 }' |
	grep -v '^cp_' || true)
[ -z "$leaked" ] || fail "symbols outside the cp_ API are exported: $(echo "$leaked" | head -n 10 | tr '\n' ' ')"

# pkg-config sees the staged package first; the sysroot maps its
# /usr/local paths into the staging directory.
PKG_CONFIG_PATH=$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export PKG_CONFIG_PATH
export PKG_CONFIG_SYSROOT_DIR=$stage/root
[ "$(pkg-config --variable=pcfiledir libcloudprotect)" = "$(dirname "$pc")" ] ||
	fail "pkg-config finds another libcloudprotect.pc than the staged one"

example=$stage/example
mkdir -p "$example"
cp "$root/examples/local/protect_local.c" "$root/examples/local/Makefile" "$example/"
make -s -C "$example" CFLAGS="-std=c11 -O2 -Wall -Wextra -Werror -pedantic" ||
	fail "the example does not build with the installed headers and pkg-config flags"

# The headers also work from C++ (CP_BEGIN_DECL), when a C++ compiler is here.
if command -v c++ >/dev/null; then
	read -ra cxxflags <<<"$(pkg-config --cflags libcloudprotect)"
	echo '#include <cloudprotect.h>' | c++ -x c++ -fsyntax-only -Wall -Werror "${cxxflags[@]}" - ||
		fail "<cloudprotect.h> does not compile as C++"
fi

export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
ldd "$example/protect_local" | grep -q "libcloudprotect.so.0 => $libdir/" ||
	fail "the example does not load the staged library: $(ldd "$example/protect_local" | grep cloudprotect)"
"$prefix/bin/cloudprotect" version >/dev/null || fail "the installed cloudprotect does not run"
mkdir -p "$stage/run"
TMPDIR=$stage/run "$example/protect_local" "$stage/run" || fail "the example failed"
echo "install test: ok"
