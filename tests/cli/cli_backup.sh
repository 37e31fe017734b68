#!/usr/bin/env bash
# Repository commands end to end on file:// with the local provider.
. "$(dirname "$0")/lib.sh" "$1"

pyrand() { python3 -c 'import random,sys; r=random.Random(int(sys.argv[2])); sys.stdout.buffer.write(r.randbytes(int(sys.argv[1])))' "$@"; }

expect_fail "immutability on file://" 1 "cannot lock objects.*Object Lock" -- cpx --repo "file://$WORK/imm" repo init --kdf-n 1024 --immutable-days 7
expect_fail "storage class on file://" 1 "no storage classes" -- cpx --repo "file://$WORK/cls" repo init --kdf-n 1024 --storage-class GLACIER
ok "repo init" -- cpx repo init --kdf-n 1024 --chunk-size 64K --pack-size 1M
expect_fail "repo init twice" 1 "exist" -- cpx repo init --kdf-n 1024
ok "repo info --json" -- cpx --json repo info
[ "$(json_get "$WORK/out" 'd["chunk_size"]')" = 65536 ] || fail "chunk size recorded"
expect_fail "wrong password" 12 "password" -- env CLOUDPROTECT_PASSWORD=wrong "$CP_BIN" snapshots

# A sparse image whose size is not a multiple of the chunk size.
img=$WORK/disk.img
truncate -s 5000000 "$img"
pyrand 300000 1 | dd of="$img" bs=1 seek=100000 conv=notrunc status=none
pyrand 70000 2 | dd of="$img" bs=1 seek=4900000 conv=notrunc status=none
ok "full backup" -- cpx --json backup "$img" --tag kind=test
full=$(json_get "$WORK/out" 'd["id"]')
[ "$(json_get "$WORK/out" 'd["read_bytes"] < 1000000')" = True ] || fail "holes were not read"
ok "restore full" -- cpx restore "$full" "$WORK/r1.img"
cmp -s "$img" "$WORK/r1.img" || fail "full restore is byte-identical"

# Change two ranges and tell the backup exactly which.
pyrand 5000 3 | dd of="$img" bs=1 seek=2000000 conv=notrunc status=none
pyrand 100 4 | dd of="$img" bs=1 seek=4999900 conv=notrunc status=none
printf '# offset length\n2000000 5000\n4999900 100\n' >"$WORK/changed"
ok "incremental backup" -- cpx --json backup "$img" --changed-blocks "$WORK/changed"
inc=$(json_get "$WORK/out" 'd["id"]')
[ "$(json_get "$WORK/out" 'd["parent"]')" = "$full" ] || fail "parent is the full backup"
[ "$(json_get "$WORK/out" 'd["read_bytes"] <= 4*65536')" = True ] || fail "only changed chunks read"
ok "restore latest" -- cpx restore latest "$WORK/r2.img"
cmp -s "$img" "$WORK/r2.img" || fail "incremental restore is byte-identical"
ok "restore the older one still" -- cpx restore "${full:0:10}" "$WORK/r1b.img"
cmp -s "$WORK/r1.img" "$WORK/r1b.img" || fail "older backup unchanged"
expect_fail "bad changed-block file" 2 "line 1" -- cpx backup "$img" --changed-blocks <(echo "12 x")
expect_fail "unknown backup" 1 "ffffffff" -- cpx restore ffffffff "$WORK/x.img"
[ ! -e "$WORK/x.img" ] || fail "failed restore leaves no target"

# Onto a block device (a loop device, where this machine lets us make one):
# the holes must be written as zeros over what the device held before.
pyrand 6000000 9 >"$WORK/dev.img"
if dev=$(losetup -f --show "$WORK/dev.img" 2>/dev/null); then
	ok "restore onto a block device" -- cpx restore latest "$dev"
	cmp -s -n 5000000 "$img" "$dev" || fail "block device holds the image, zeros included"
	losetup -d "$dev"
else
	echo "skipped: restore onto a block device (no loop device here)"
fi

ok "snapshots --json" -- cpx --json snapshots
[ "$(json_get "$WORK/out" 'len(d)')" = 2 ] || fail "two backups listed"
ok "check" -- cpx check
ok "check --read-data" -- cpx check --read-data

# Provider snapshots: the incremental reads only the blocks written through the provider.
ok "local init" -- cpx local init
ok "instance" -- cpx local create-instance --name db-1
inst=$(cat "$WORK/out")
pyrand 4000000 5 >"$WORK/base.img"
ok "disk" -- cpx local create-disk --name data --from-image "$WORK/base.img" --attach "$inst"
disk=$(cat "$WORK/out")
ok "snapshot 1" -- cpx --json snapshot create "$disk"
s1=$(json_get "$WORK/out" 'd[0]["id"]')
ok "backup snapshot 1" -- cpx --json backup --snapshot "$s1"
b1=$(json_get "$WORK/out" 'd["id"]')
ok "write through provider" -- cpx local write "$disk" --offset 1M --random 64K --seed 9
ok "snapshot 2" -- cpx --json snapshot create "$disk"
s2=$(json_get "$WORK/out" 'd[0]["id"]')
ok "backup snapshot 2" -- cpx --json backup --snapshot "$s2"
[ "$(json_get "$WORK/out" 'd["parent"]')" = "$b1" ] || fail "snapshot backup is incremental to the previous one"
[ "$(json_get "$WORK/out" 'd["read_bytes"] <= 2*524288')" = True ] || fail "CBT incremental reads only changed blocks ($(json_get "$WORK/out" 'd["read_bytes"]'))"
ok "full backup of a snapshot on request" -- cpx --json backup --snapshot "$s2" --full
[ "$(json_get "$WORK/out" 'd["parent"]')" = None ] || fail "--full has no parent"
[ "$(json_get "$WORK/out" 'd["read_bytes"] >= 4000000')" = True ] || fail "--full reads the whole disk"
ok "restore snapshot backup" -- cpx restore latest "$WORK/r3.img" --source "$disk"
cmp -s "$("$CP_BIN" local disk-path "$disk")" "$WORK/r3.img" || fail "provider backup restores the disk"
ok "restore to a new provider disk" -- cpx --json restore "$b1" --to-disk restored
newdisk=$(json_get "$WORK/out" 'd["target"]')
newpath=$("$CP_BIN" local disk-path "$newdisk")
cmp -s "$WORK/base.img" "$newpath" || fail "restored provider disk equals the first snapshot"

# Retention, prune, copy, locks.
ok "forget keep-last 1 (dry run)" -- cpx --json forget --keep-last 1 --source "$img" --dry-run
[ "$(json_get "$WORK/out" 'sum(1 for b in d["backups"] if not b["keep"])')" = 1 ] || fail "dry run marks one to remove"
ok "forget keep-last 1 --prune" -- cpx forget --keep-last 1 --source "$img" --prune
ok "restore survivor after prune" -- cpx restore latest "$WORK/r4.img" --source "$img"
cmp -s "$img" "$WORK/r4.img" || fail "survivor intact after prune"
ok "check after prune" -- cpx check --read-data
ok "offsite repo" -- env CLOUDPROTECT_PASSWORD=other CLOUDPROTECT_REPOSITORY="file://$WORK/offsite" "$CP_BIN" repo init --kdf-n 1024
ok "copy" -- env CLOUDPROTECT_TO_PASSWORD=other "$CP_BIN" copy --to "file://$WORK/offsite"
ok "restore from the copy" -- env CLOUDPROTECT_PASSWORD=other "$CP_BIN" --repo "file://$WORK/offsite" restore latest "$WORK/r5.img" --source "$img"
cmp -s "$img" "$WORK/r5.img" || fail "copy restores identically"
ok "unlock" -- cpx unlock

# Damage: a flipped byte in a pack is found by check --read-data and by restore.
pack=$(find "$WORK/repo/data" -type f | head -n 1)
python3 -c 'import sys; f=open(sys.argv[1],"r+b"); f.seek(40); b=f.read(1); f.seek(40); f.write(bytes([b[0]^0xff]))' "$pack"
expect_fail "check finds flipped byte" 13 "problem" -- cpx check --read-data
finish
