#!/usr/bin/env bash
# Build a deterministic ext4 image full of real files, without mounting:
# the first files (sorted) of /usr/share, /usr/lib and /usr/include up to
# about 75% of SIZE, put in with mkfs.ext4 -d. Fixed UUID, hash seed and
# times make the same machine produce the same image every run (but for
# inode change times, which no user-space tool can set: a few KiB).
# usage: make_image.sh OUT.img [SIZE_MiB]
set -euo pipefail
out=$1
size_mib=${2:-2048}
stage=$(mktemp -d "${TMPDIR:-/tmp}/cpbench-stage-XXXXXX")
trap 'rm -rf "$stage"' EXIT
budget=$((size_mib * 1024 * 1024 * 3 / 4))
python3 - "$stage" "$budget" <<'PY'
import os, shutil, sys
stage, budget = sys.argv[1], int(sys.argv[2])
used = 0
for top in ("/usr/share", "/usr/lib", "/usr/include"):
    for root, dirs, files in os.walk(top):
        dirs.sort()
        for name in sorted(files):
            src = os.path.join(root, name)
            if not os.path.isfile(src) or os.path.islink(src):
                continue
            size = os.path.getsize(src)
            if size == 0 or used + size > budget:
                continue
            dst = os.path.join(stage, os.path.relpath(src, "/"))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            try:
                shutil.copyfile(src, dst)
            except OSError:
                continue
            used += size
        if used >= budget * 0.99:
            break
# Fixed times: mkfs.ext4 -d copies them into the inodes (only ctime escapes us).
for root, dirs, files in os.walk(stage, topdown=False):
    for name in files + dirs:
        os.utime(os.path.join(root, name), (1700000000, 1700000000), follow_symlinks=False)
os.utime(stage, (1700000000, 1700000000))
print(f"staged {used/2**20:.0f} MiB of files", file=sys.stderr)
PY
rm -f "$out"
E2FSPROGS_FAKE_TIME=1700000000 mkfs.ext4 -q -F -U 6c6f6361-6c63-6c6f-7564-70726f746563 \
	-E hash_seed=6c6f6361-6c63-6c6f-7564-70726f746563,root_owner=0:0 \
	-d "$stage" "$out" "${size_mib}M" >/dev/null
