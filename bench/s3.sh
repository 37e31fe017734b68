#!/usr/bin/env bash
# Full-backup throughput into s3:// (a local Ceph RADOS Gateway, loopback)
# against file:// in the same run, on the same image, three rounds each,
# alternating. Not part of test.sh.
# usage: bench/s3.sh [CLOUDPROTECT_BINARY] [SIZE_MiB]   (defaults: build-ci-gcc, 1024)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cp_bin=${1:-$root/build-ci-gcc/tools/cloudprotect/cloudprotect}
size=${2:-1024}
work=$(mktemp -d "${TMPDIR:-/tmp}/cpbench-s3-XXXXXX")
trap '"$root/scripts/rgw.sh" stop "$work/rgw" >/dev/null 2>&1; rm -rf "$work"' EXIT

echo "image: $size MiB (bench/make_image.sh)"
"$root/bench/make_image.sh" "$work/disk.img" "$size" >/dev/null
export CLOUDPROTECT_PASSWORD=bench

# backup_mibs URL: print the MiB/s of a full backup into a fresh repository at URL.
backup_mibs() {
	"$cp_bin" --no-progress --repo "$1" repo init --kdf-n 1024 >/dev/null
	"$cp_bin" --no-progress --json --repo "$1" backup "$work/disk.img" >"$work/out.json"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.1f" % (d["size"] / d["seconds"] / 1048576))' "$work/out.json"
}
# s3_round: a fresh gateway (its memory store holds one repository), one backup.
s3_round() {
	RGW_MEMSTORE_BYTES=$(((size * 2 + 1024) * 1024 * 1024)) "$root/scripts/rgw.sh" start "$work/rgw"
	(
		. "$work/rgw/env"
		unset AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_PROFILE
		python3 -c "import boto3, os; boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT']).create_bucket(Bucket='bench-bucket')"
		backup_mibs "s3://bench-bucket/repo?endpoint=$S3_ENDPOINT"
	)
	"$root/scripts/rgw.sh" stop "$work/rgw"
}
# Page cache warm for both: the first read of the image is not what is measured.
cat "$work/disk.img" >/dev/null
files=() s3s=()
for round in 1 2 3; do
	files+=("$(backup_mibs "file://$work/repo$round")")
	rm -rf "$work/repo$round"
	s3s+=("$(s3_round)")
done
python3 - "${files[@]}" "${s3s[@]}" <<'PY'
import statistics, sys
v = list(map(float, sys.argv[1:]))
f, s = v[:3], v[3:]
fm, sm = statistics.median(f), statistics.median(s)
print("file://  " + " ".join(f"{x:7.1f}" for x in f) + f"  MiB/s, median {fm:.1f}")
print("s3://    " + " ".join(f"{x:7.1f}" for x in s) + f"  MiB/s, median {sm:.1f}")
print(f"s3 / file (medians): {100 * sm / fm:.0f}% (target: 70% or more)")
PY
