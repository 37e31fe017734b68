#!/usr/bin/env bash
# EBS direct throughput (issue 8): restore into and back up from the EBS
# direct simulator (tests/cloudsim/aws/ebs_direct.py) with LATENCY_MS of
# latency added to every GetSnapshotBlock / PutSnapshotBlock answer and
# max_block_requests=32. Target: 80% of 32 x 512 KiB / 0.1 s, i.e.
# 128 MiB/s (ideal 160 MiB/s), for both directions, over the data bytes.
#
# Data: bench/make_image.sh (an ext4 image of real files: text, binaries,
# compressed files, zeros). It goes into a file:// repository first; then
#   restore --to-disk  (PutSnapshotBlock path) makes a snapshot in the
#                      simulator whose blocks are the image's;
#   backup --snapshot  (ListSnapshotBlocks + GetSnapshotBlock path) reads
#                      that snapshot back into a second file:// repository;
# and a restore of that backup to a file must equal the image.
# Baseline, same run: the same restore and backup with 0 ms latency, i.e.
# what this machine's simulator and client reach when nothing waits.
#
# usage: bench/ebs.sh [CLOUDPROTECT_BINARY] [SIZE_MiB]
#        (defaults: the release build in build-bench, as run.sh, and 1024; env
#        LATENCY_MS=100, REQUESTS=32, SIM_FAST=1, IMAGE=an existing image
#        to use instead of building one, which takes minutes)
# SIM_FAST=1 starts the simulator in its bench mode (--bench): it checks the
# SigV4 signature and PUT checksum of one block request in 16, trusts the
# others, and remembers the checksums of the blocks it serves, so that its
# own CPU (Python, one GIL) is not what is measured; every other request is
# checked as usual, and the data is compared end to end. The output says
# which mode ran. SIM_FAST=0 checks everything.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cp_bin=${1:-}
size=${2:-1024}
latency=${LATENCY_MS:-100}
requests=${REQUESTS:-32}
fast=${SIM_FAST:-1}
if [ -z "$cp_bin" ]; then
	build=$root/build-bench
	[ -d "$build" ] || meson setup "$build" "$root" -Dbuildtype=release -Dtests=false >/dev/null
	ninja -C "$build" >/dev/null
	cp_bin=$build/tools/cloudprotect/cloudprotect
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/cpbench-ebs-XXXXXX")
sim_pid=
cleanup() {
	[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

if [ -n "${IMAGE:-}" ]; then
	ln -s "$(realpath "$IMAGE")" "$work/disk.img"
	size=$(($(stat -L -c %s "$IMAGE") >> 20))
	echo "image: $IMAGE ($size MiB)" >&2
else
	echo "image: $size MiB (bench/make_image.sh)" >&2
	"$root/bench/make_image.sh" "$work/disk.img" "$size" >/dev/null 2>&1
fi
export CLOUDPROTECT_PASSWORD=bench
"$cp_bin" --no-progress --repo "file://$work/src" repo init --kdf-n 1024 >/dev/null
"$cp_bin" --no-progress --json --repo "file://$work/src" backup "$work/disk.img" >"$work/src.json"

# The simulator announces its port on stdout and exits when its stdin closes.
key=AKIABENCHEBS00001 secret=bench-secret-ebs
sim_args=(--key "$key:$secret")
[ "$fast" = 1 ] && sim_args+=(--bench)
mkfifo "$work/sim.in"
python3 "$root/tests/cloudsim/aws/ebs_direct.py" "${sim_args[@]}" <"$work/sim.in" >"$work/sim.out" &
sim_pid=$!
exec 9>"$work/sim.in"
for _ in $(seq 100); do
	grep -q PORT "$work/sim.out" 2>/dev/null && break
	sleep 0.1
done
url=http://127.0.0.1:$(awk '/PORT/ {print $2}' "$work/sim.out")
sim() { # sim PATH [JSON]: a control call
	if [ $# -gt 1 ]; then
		curl -sf -X POST -d "$2" "$url$1"
	else
		curl -sf "$url$1"
	fi
}

export AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret AWS_ENDPOINT_URL=$url
export AWS_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL_EC2 AWS_ENDPOINT_URL_EBS
cfg="{\"region\": \"us-east-1\", \"poll_ms\": 50, \"max_block_requests\": $requests}"
aws() { "$cp_bin" --no-progress --json --provider aws --provider-config "$cfg" "$@"; }

# round LATENCY: restore into the simulator, back the snapshot up; prints
# "restore_MiBs backup_MiBs put_requests_in_flight get_requests_in_flight".
round=0
one_round() {
	local lat=$1
	round=$((round + 1))
	sim /_sim/config "{\"latency_ms\": $lat}" >/dev/null
	sim /_sim/reset '{}' >/dev/null
	aws --repo "file://$work/src" restore latest --to-disk "bench$round" >"$work/restore.json"
	local made snap
	made=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["target"])' "$work/restore.json")
	snap=$(sim /_sim/state | python3 -c 'import json,sys; print(json.load(sys.stdin)["volumes"][sys.argv[1]]["snapshot"])' "$made")
	sim /_sim/stats >"$work/put-stats.json"
	sim /_sim/reset '{}' >/dev/null
	rm -rf "$work/dst"
	"$cp_bin" --no-progress --repo "file://$work/dst" repo init --kdf-n 1024 >/dev/null
	aws --repo "file://$work/dst" backup --snapshot "$snap" >"$work/backup.json"
	sim /_sim/stats >"$work/get-stats.json"
	# The data went through the simulator and back unchanged.
	rm -f "$work/check.img"
	"$cp_bin" --no-progress --repo "file://$work/dst" restore latest "$work/check.img" >/dev/null
	cmp -n "$((size * 1024 * 1024))" "$work/disk.img" "$work/check.img" >&2
	python3 - "$work" "$lat" <<'PY'
import json, sys
w, lat = sys.argv[1], float(sys.argv[2])
src = json.load(open(w + "/src.json"))
r = json.load(open(w + "/restore.json"))
b = json.load(open(w + "/backup.json"))
data = src["data_bytes"]
assert b["data_bytes"] == data, (b["data_bytes"], data)
put_mibs = data / r["seconds"] / 2**20
get_mibs = b["data_bytes"] / b["seconds"] / 2**20
# Little's law: requests in flight on average = rate x time each one takes.
blocks = data / (512 * 1024)
put_inflight = blocks / r["seconds"] * lat / 1000
get_inflight = blocks / b["seconds"] * lat / 1000
ps, gs = json.load(open(w + "/put-stats.json")), json.load(open(w + "/get-stats.json"))
print("%.1f %.1f %.1f %.1f %d %d" % (put_mibs, get_mibs, put_inflight, get_inflight,
                                     ps["max_active"], gs["max_active"]))
PY
}

data=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["data_bytes"])' "$work/src.json")
echo "data: $((data >> 20)) MiB of $size MiB in non-zero 512 KiB blocks; $requests requests in flight at most" >&2
echo "baseline round (0 ms latency)..." >&2
read -r base_put base_get _ _ base_put_max base_get_max < <(one_round 0)
echo "measured round ($latency ms latency)..." >&2
read -r put get put_fl get_fl put_max get_max < <(one_round "$latency")

python3 - "$latency" "$requests" "$fast" "$base_put" "$base_get" "$put" "$get" "$put_fl" \
	"$get_fl" "$put_max" "$get_max" "$base_put_max" "$base_get_max" <<'PY'
import sys
lat, req, fast = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
bp, bg, p, g, pf, gf = map(float, sys.argv[4:10])
pm, gm, bpm, bgm = map(int, sys.argv[10:14])
ideal = req * 0.5 / (lat / 1000) if lat else float("inf")
target = 0.8 * ideal
print("EBS direct, %d requests in flight at most, %g ms latency per block request" % (req, lat))
print("ideal %d x 512 KiB / %g s = %.0f MiB/s; target 80%% = %.0f MiB/s" % (req, lat / 1000, ideal,
                                                                         target))
print("%-27s %7s %10s %15s %14s %12s" % ("", "MiB/s", "of target", "in flight", "0 ms baseline",
                                         "of baseline"))
for name, v, fl, mx, base in (("restore (PutSnapshotBlock)", p, pf, pm, bp),
                              ("backup (GetSnapshotBlock)", g, gf, gm, bg)):
    print("%-27s %7.1f %9.0f%% %9.1f avg/%-3d %8.1f MiB/s %11.0f%%" % (
        name, v, 100 * v / target, fl, mx, base, 100 * v / base))
print("in flight: average = block requests a second x latency (Little's law), and the most "
      "seen at once by the simulator")
print("0 ms baseline: the same restore and backup without latency, in this run: what this "
      "machine's CPUs (client and simulator together) allow")
print("simulator: %s" % ("bench mode: 1 in 16 block requests' signatures checked, PUT checksums "
                         "trusted (--bench)" if fast else "every signature and checksum checked"))
ok = p >= target and g >= target
print("result: %s" % ("both at or above target" if ok else "BELOW target" + (
    "; the 0 ms baseline is below it too, so this machine's CPU, not latency, is the limit"
    if min(bp, bg) < target else "")))
PY
