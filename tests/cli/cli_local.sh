#!/usr/bin/env bash
# The local provider through the CLI: instances, disks, writes, snapshots, bad input.
. "$(dirname "$0")/lib.sh" "$1"

expect_fail "uninitialised cloud" 1 "local init" -- cpx inventory
ok "init" -- cpx local init
ok "init again (idempotent)" -- cpx local init
ok "create instance" -- cpx local create-instance --name web-1 --tag env=prod
inst=$(cat "$WORK/out")
[[ $inst == i-* ]] || fail "instance id looks like i-...: $inst"
ok "create disk" -- cpx local create-disk --name root --size 8M --attach "$inst" --tag role=root
disk=$(cat "$WORK/out")
[[ $disk == vol-* ]] || fail "disk id looks like vol-...: $disk"
head -c 3000000 /dev/urandom >"$WORK/img"
ok "import disk" -- cpx local create-disk --name data --from-image "$WORK/img" --attach "$inst"
disk2=$(cat "$WORK/out")

ok "inventory --json" -- cpx --json inventory
is_json "$WORK/out" || fail "inventory json"
[ "$(json_get "$WORK/out" 'len(d)')" = 3 ] || fail "inventory has 1 instance + 2 disks"
[ "$(json_get "$WORK/out" "[r['kind'] for r in d if r['id']=='$inst'][0]")" = vm ] || fail "instance is a vm"
[ "$(json_get "$WORK/out" "[r['size'] for r in d if r['id']=='$disk2'][0]")" = 3000000 ] || fail "imported size"
ok "inventory by tag" -- cpx --json inventory --tag env=prod
[ "$(json_get "$WORK/out" 'len(d)')" = 1 ] || fail "tag filter"
ok "inventory by kind" -- cpx --json inventory --kind disk
[ "$(json_get "$WORK/out" 'len(d)')" = 2 ] || fail "kind filter"
expect_fail "bad kind" 2 "unknown resource kind" -- cpx inventory --kind spaceship

# Tags: tag adds or overwrites, untag removes by key; the other keys stay.
tags_of() { cpx --json inventory >"$WORK/inv" && json_get "$WORK/inv" "sorted((k, v) for r in d if r['id']=='$1' for k, v in r['tags'].items())"; }
ok "tag adds" -- cpx tag "$inst" tier=gold owner=ops
ok "tag overwrites" -- cpx tag "$inst" tier=silver
[ "$(tags_of "$inst")" = "[('env', 'prod'), ('owner', 'ops'), ('tier', 'silver')]" ] || fail "tag keeps other keys: $(tags_of "$inst")"
ok "untag" -- cpx --json untag "$inst" owner absent-key
[ "$(json_get "$WORK/out" 'd["removed"]')" = "['owner', 'absent-key']" ] || fail "untag --json names the keys"
[ "$(tags_of "$inst")" = "[('env', 'prod'), ('tier', 'silver')]" ] || fail "untag removes only the keys given: $(tags_of "$inst")"
ok "untag a snapshot-less disk" -- cpx untag "$disk" role
[ "$(tags_of "$disk")" = "[]" ] || fail "disk untagged: $(tags_of "$disk")"
expect_fail "untag without keys" 2 "at least one KEY" -- cpx untag "$inst"
expect_fail "untag KEY=VALUE" 2 "not a tag KEY" -- cpx untag "$inst" env=prod
expect_fail "untag unknown id" 1 "i-0000" -- cpx untag i-00000000000000000 env

ok "write random" -- cpx local write "$disk" --offset 1M --random 600K --seed 3
ok "snapshot instance" -- cpx --json snapshot create "$inst"
[ "$(json_get "$WORK/out" 'len(d)')" = 2 ] || fail "one snapshot per disk"
[ "$(json_get "$WORK/out" 'len(set(s["group"] for s in d))')" = 1 ] || fail "one consistency group"
snap1=$(json_get "$WORK/out" "[s['id'] for s in d if s['resource']=='$disk'][0]")
ok "snapshot list" -- cpx --json snapshot list "$disk"
[ "$(json_get "$WORK/out" 'len(d)')" = 1 ] || fail "snapshot list by disk"
ok "disk-path" -- cpx local disk-path "$disk"
path=$(cat "$WORK/out")
[ -f "$path" ] || fail "disk path exists"
[ "$(stat -c %s "$path")" = 8388608 ] || fail "disk is 8 MiB"

expect_fail "missing disk" 1 "vol-0000000000000000" -- cpx local write vol-0000000000000000 --offset 0 --zero 4K
expect_fail "write past the end" 1 "8388608|8 MiB|end of" -- cpx local write "$disk" --offset 8M --random 4K
expect_fail "snapshot of missing resource" 1 "i-ffffffffffffffff" -- cpx snapshot create i-ffffffffffffffff
ok "delete instance" -- cpx local delete-instance "$inst"
expect_fail "snapshot of deleted instance" 1 "$inst" -- cpx snapshot create "$inst"
ok "snapshot delete" -- cpx snapshot delete "$snap1"
expect_fail "snapshot delete twice" 1 "$snap1" -- cpx snapshot delete "$snap1"

expect_fail "malformed provider config" 1 "JSON|json" -- cpx --provider-config '{"root": ' inventory
expect_fail "config without root" 1 "root" -- cpx --provider-config '{}' inventory
expect_fail "config file missing" 2 "cannot read provider config" -- cpx --provider-config @/nonexistent inventory

# A full host filesystem: the file size limit makes writes fail with EFBIG.
ok "disk for the full test" -- cpx local create-disk --name big --size 64M
big=$(cat "$WORK/out")
expect_fail "full disk on write" 1 "space|too large|File too large" -- \
	bash -c 'ulimit -f 1024; trap "" XFSZ; exec "$0" --no-progress local write "$1" --offset 16M --random 4M' "$CP_BIN" "$big"
ok "disk still usable after a failed write" -- cpx local write "$big" --offset 0 --random 4K
finish
