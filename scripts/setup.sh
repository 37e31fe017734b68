# shellcheck shell=bash
# Sourced by demo.sh and test.sh: install what is missing, then build.
#
# Both scripts must work on a fresh Debian 12 machine (CI runs as root with
# no stdin and nothing installed by hand) and stay silent when everything is
# already there, so tools print only on failure: their output goes to logs
# under $CP_LOG_DIR and is shown when something goes wrong.

CP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CP_LOG_DIR=${CP_LOG_DIR:-$CP_ROOT/build-ci-logs}
# The gcc build is shared: demo.sh runs from it and test.sh tests it.
CP_BUILD_GCC=${CP_BUILD_GCC:-$CP_ROOT/build-ci-gcc}

# mkfs.ext4, e2fsck and debugfs live in sbin, which a normal user's PATH lacks.
PATH=$PATH:/usr/sbin:/sbin

# Everything the library, its tests, the demo and the checks need.
CP_PACKAGES=(
	meson ninja-build pkg-config make gcc libc6-dev clang libclang-rt-dev
	libcurl4-openssl-dev libssl-dev libyajl-dev libxml2-dev libzstd-dev check
	e2fsprogs diffutils clang-tidy cppcheck clang-format
	tzdata python3 python3-azure python3-botocore python3-cryptography
	radosgw ceph-mon ceph-osd ceph-common python3-boto3 curl
)

cp_die()
{
	echo "error: $*" >&2
	exit 1
}

# Show the end of a log that explains a failure.
cp_show_log()
{
	echo "---- last lines of $1 ----" >&2
	tail -n "${2:-60}" "$1" >&2
	echo "----" >&2
}

# Commands the tests need that may come from outside Debian's packages
# (this machine image ships its own Node.js): "command package...".
CP_COMMANDS=(
	"npm nodejs npm" # Azurite, the Azure Storage emulator (scripts/azurite.sh)
)

cp_missing_packages()
{
	local pkg entry
	for pkg in "${CP_PACKAGES[@]}"; do
		# dpkg-query reports "install ok installed" only when fully installed.
		case $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) in
		*" installed") ;;
		*) printf '%s\n' "$pkg" ;;
		esac
	done
	for entry in "${CP_COMMANDS[@]}"; do
		read -ra pkg <<<"$entry"
		command -v "${pkg[0]}" >/dev/null || printf '%s\n' "${pkg[@]:1}"
	done
}

cp_install_packages()
{
	command -v dpkg-query >/dev/null ||
		cp_die "this set-up needs Debian or Ubuntu (dpkg and apt-get); install by hand: ${CP_PACKAGES[*]}"
	local missing
	mapfile -t missing < <(cp_missing_packages)
	[ ${#missing[@]} -eq 0 ] && return 0

	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null ||
			cp_die "missing packages: ${missing[*]}; run as root: apt-get install ${missing[*]}"
		sudo=(sudo)
	fi
	mkdir -p "$CP_LOG_DIR"
	local log=$CP_LOG_DIR/apt.log
	echo "Installing missing packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if ! "${sudo[@]}" apt-get update -q >"$log" 2>&1 </dev/null ||
		! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" \
			>>"$log" 2>&1 </dev/null; then
		cp_show_log "$log"
		cp_die "could not install ${missing[*]} (see $log)"
	fi
}

# cp_build DIR [meson setup options...]: configure once, then build.
# Set CC in the environment to choose the compiler (used at set-up only)
# and CP_NINJA_TARGETS to build less than everything.
cp_build()
{
	local dir=$1
	shift
	local name log
	name=$(basename "$dir")
	mkdir -p "$CP_LOG_DIR"
	log=$CP_LOG_DIR/$name.log
	: >"$log"
	# Start afresh when the directory was set up with other options or
	# another compiler, or was left half-configured by an interrupted run.
	local want="CC=${CC:-} $*"
	if [ ! -f "$dir/build.ninja" ] || [ "$(cat "$dir/.cp-setup" 2>/dev/null)" != "$want" ]; then
		rm -rf "$dir"
		if ! meson setup "$dir" "$CP_ROOT" "$@" >>"$log" 2>&1; then
			cp_show_log "$log"
			echo "error: meson setup of $name failed (full log: $log)" >&2
			return 1
		fi
		printf '%s\n' "$want" >"$dir/.cp-setup"
	fi
	# shellcheck disable=SC2086 # target names are words
	if ! ninja -C "$dir" ${CP_NINJA_TARGETS:-} >>"$log" 2>&1; then
		# Compiler errors are at the end, after the ninja progress lines.
		cp_show_log "$log" 80
		echo "error: building $name failed (full log: $log)" >&2
		return 1
	fi
}

# The gcc build that demo.sh runs from and test.sh tests; the same set-up in
# both, so neither makes the other configure it again.
cp_build_gcc()
{
	CC=gcc cp_build "$CP_BUILD_GCC"
}

# Seconds since the epoch with tenths, for "took N s" lines.
cp_now()
{
	date +%s.%N
}

cp_elapsed()
{
	awk -v a="$1" -v b="$(cp_now)" 'BEGIN { printf "%.1f", b - a }'
}
