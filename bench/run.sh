#!/usr/bin/env bash
# Benchmark: cloudprotect against restic and borg on one deterministic ext4
# image, in one run on one machine, so the ratios hold however busy it is.
# usage: bench/run.sh [SIZE_MiB]     (default 2048; set BENCH_DIR to move the scratch space)
# Prints a table and writes bench/results.txt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
size_mib=${1:-2048}
work=${BENCH_DIR:-$here/work}

need=()
for p in restic borgbackup time e2fsprogs python3; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "installing ${need[*]}" >&2
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

build=$top/build-bench
if [ ! -d "$build" ]; then
	meson setup "$build" "$top" -Dbuildtype=release -Dtests=false >/dev/null
fi
ninja -C "$build" >/dev/null
cp_bin=$build/tools/cloudprotect/cloudprotect

rm -rf "$work"
mkdir -p "$work"
img=$work/disk.img
echo "building the ${size_mib} MiB ext4 image..." >&2
"$here/make_image.sh" "$img" "$size_mib"
cat "$img" >/dev/null # every tool starts with the image in the page cache

export CLOUDPROTECT_PASSWORD=bench RESTIC_PASSWORD=bench BORG_PASSPHRASE=bench
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
export RESTIC_CACHE_DIR=$work/restic-cache BORG_BASE_DIR=$work/borg-base

declare -A secs rss
# measure NAME CMD...: wall seconds and peak RSS (KiB) of one command.
measure() {
	local name=$1
	shift
	/usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/$name.out" 2>"$work/$name.err" || {
		echo "$name failed:" >&2
		tail -5 "$work/$name.err" >&2
		exit 1
	}
	read -r secs[$name] rss[$name] <"$work/time"
}

"$cp_bin" --repo "file://$work/cp-repo" repo init >/dev/null
restic init --repo "$work/restic-repo" >/dev/null 2>&1
borg init -e repokey-blake2 "$work/borg-repo" >/dev/null 2>&1

echo "full backups..." >&2
measure cp_full "$cp_bin" --no-progress --repo "file://$work/cp-repo" backup "$img"
measure restic_full restic --repo "$work/restic-repo" backup "$img"
measure borg_full borg create --compression zstd,3 "$work/borg-repo::full" "$img"

python3 "$here/change_blocks.py" "$img" 40 "$work/changed.txt"
cat "$img" >/dev/null
echo "incremental backups after 40 changed 512 KiB blocks..." >&2
cp_stats() { "$cp_bin" --json --repo "file://$work/cp-repo" snapshots; }
measure cp_incr "$cp_bin" --no-progress --json --repo "file://$work/cp-repo" backup "$img" \
	--changed-blocks "$work/changed.txt"
new_bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["new_stored_bytes"])' "$work/cp_incr.out")
measure restic_incr restic --repo "$work/restic-repo" backup "$img"
measure borg_incr borg create --compression zstd,3 "$work/borg-repo::incr" "$img"

# Restores read a cold repository, as after any real disaster: whatever
# the backups left in the page cache (buffered writers leave everything,
# O_DIRECT writers nothing) is written back and dropped first.
evict() {
	sync
	python3 -c 'import os,sys
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        fd = os.open(os.path.join(root, f), os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)' "$1"
}
echo "restores (cold repositories)..." >&2
evict "$work/cp-repo"
measure cp_restore "$cp_bin" --no-progress --repo "file://$work/cp-repo" restore latest "$work/cp-restored.img"
cmp "$img" "$work/cp-restored.img"
mkdir -p "$work/restic-out" "$work/borg-out"
evict "$work/restic-repo"
measure restic_restore restic --repo "$work/restic-repo" restore latest --target "$work/restic-out"
# Ours returns once the image is on disk (fsync); restic leaves it in the page cache.
measure restic_sync sync
evict "$work/borg-repo"
measure borg_restore bash -c "cd '$work/borg-out' && borg extract --sparse '$work/borg-repo::incr'"

# The disk's floor for a durable restore: read our repository and write the
# image's data at once, with no decoding (see disk_floor.py).
data_bytes=$("$cp_bin" --json --repo "file://$work/cp-repo" snapshots |
	python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["data_bytes"])')
evict "$work/cp-repo"
secs[floor]=$(python3 "$here/disk_floor.py" "$work/cp-repo" "$data_bytes" "$work/floor.tmp")

size_of() { du -sb "$1" | cut -f1; }
cp_size=$(size_of "$work/cp-repo")
restic_size=$(size_of "$work/restic-repo")
borg_size=$(size_of "$work/borg-repo")
changed_bytes=$((40 * 512 * 1024))

{
	printf 'image %s MiB ext4, %s\n' "$size_mib" "$(date -u +%Y-%m-%dT%H:%MZ)"
	printf '%-22s %10s %10s %10s %14s %14s\n' metric cloudprotect restic borg "vs restic" "vs borg"
	row() { # name ours restic borg  (ratios: theirs/ours, so >1 means we are better)
		printf '%-22s %10s %10s %10s %14s %14s\n' "$1" "$2" "$3" "$4" \
			"$(python3 -c "print(f'{$3/$2:.2f}x')" 2>/dev/null || echo -)" \
			"$(python3 -c "print(f'{$4/$2:.2f}x')" 2>/dev/null || echo -)"
	}
	row "full backup s" "${secs[cp_full]}" "${secs[restic_full]}" "${secs[borg_full]}"
	row "incremental s" "${secs[cp_incr]}" "${secs[restic_incr]}" "${secs[borg_incr]}"
	row "restore s" "${secs[cp_restore]}" "${secs[restic_restore]}" "${secs[borg_restore]}"
	row "  restic + sync s" "${secs[cp_restore]}" \
		"$(python3 -c "print(f'{${secs[restic_restore]}+${secs[restic_sync]}:.2f}')")" "-"
	printf '%-22s %10s %10s\n' "  disk floor s" "${secs[floor]}" \
		"($(python3 -c "print(f'restore = {${secs[cp_restore]}/${secs[floor]}:.2f}x the floor')"))"
	row "repo size MiB" "$((cp_size >> 20))" "$((restic_size >> 20))" "$((borg_size >> 20))"
	maxrss() { local m=0; for k in "$@"; do [ "${rss[$k]}" -gt $m ] && m=${rss[$k]}; done; echo $((m / 1024)); }
	row "peak RSS MiB" "$(maxrss cp_full cp_incr cp_restore)" "$(maxrss restic_full restic_incr restic_restore)" "$(maxrss borg_full borg_incr borg_restore)"
	printf 'incremental new data: %s bytes stored for %s bytes changed (%.2fx)\n' "$new_bytes" \
		"$changed_bytes" "$(python3 -c "print($new_bytes/$changed_bytes)")"
	echo "targets: full >= 2x restic, incremental >= 20x restic, restore >= 2x restic,"
	echo "         repo <= borg, new data <= 1.2x changed, peak RSS <= 64 MiB"
} | tee "$here/results.txt"
