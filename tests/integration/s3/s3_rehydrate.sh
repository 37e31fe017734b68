#!/usr/bin/env bash
# The archive tier end to end against moto's S3 server (RGW stores GLACIER as
# a label only): packs in GLACIER refuse reads until `cloudprotect rehydrate`
# has thawed them. Usage: s3_rehydrate.sh CLOUDPROTECT_BINARY
. "$(dirname "$0")/../../cli/lib.sh" "$1"

if ! python3 -c 'import moto.server' 2>/dev/null; then
	echo "SKIP: python3 has no moto server (pip install 'moto[server]')"
	exit 77
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m moto.server -H 127.0.0.1 -p "$port" >"$WORK/moto.log" 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null; wait $moto 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do
	curl -s -o /dev/null "http://127.0.0.1:$port/" && break
	sleep 0.1
done
export AWS_ACCESS_KEY_ID=AKIAMOTOTESTKEY00001 AWS_SECRET_ACCESS_KEY=moto-test-secret AWS_REGION=us-east-1
unset AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3
export S3_ENDPOINT=http://127.0.0.1:$port
export CLOUDPROTECT_REPOSITORY="s3://archive-bucket/repo?endpoint=$S3_ENDPOINT"
pyrand() { python3 -c 'import random,sys; r=random.Random(int(sys.argv[2])); sys.stdout.buffer.write(r.randbytes(int(sys.argv[1])))' "$@"; }

ok "repo init --storage-class GLACIER" -- cpx repo init --kdf-n 1024 --pack-size 4M --storage-class GLACIER
pyrand 10000000 1 >"$WORK/disk.img"
ok "backup into GLACIER" -- cpx backup "$WORK/disk.img"
ok "snapshots need no thaw (metadata stays hot)" -- cpx snapshots
expect_fail "restore before rehydrate" 1 "archive tier.*rehydrate" -- cpx restore latest "$WORK/r.img"
[ ! -e "$WORK/r.img" ] || fail "failed restore leaves no target"
expect_fail "bad tier" 2 "Expedited, Standard or Bulk" -- cpx rehydrate latest --tier Fast

ok "rehydrate --dry-run" -- cpx --json rehydrate latest --dry-run
packs=$(json_get "$WORK/out" 'd["packs"]')
[ "$packs" -ge 3 ] || fail "a 10 MB backup in 4 MiB packs has 3 or more packs ($packs)"
[ "$(json_get "$WORK/out" 'd["archived"]')" = "$packs" ] || fail "every pack is archived"
[ "$(json_get "$WORK/out" 'd["archived_bytes"] >= 10000000')" = True ] || fail "archived bytes counted"
[ "$(json_get "$WORK/out" 'd["requested"]')" = 0 ] || fail "a dry run requests nothing"
expect_fail "dry run thaws nothing" 1 "archive tier" -- cpx restore latest "$WORK/r.img"

# Prune never reads archived packs: a partly used one stays until wholly unused.
first=$(cpx --json snapshots | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
{ head -c 1000000 "$WORK/disk.img"; pyrand 9000000 2; } >"$WORK/second.img"
ok "backup sharing 1 MB with the first" -- cpx backup "$WORK/second.img"
ok "forget the first" -- cpx forget "$first"
# GLACIER bills 90 days anyway: by default prune keeps the unused packs, and says what deleting costs.
ok "prune keeps packs younger than 90 days" -- cpx --json prune
[ "$(json_get "$WORK/out" 'd["prune"]["packs_removed"] == 0 and d["prune"]["packs_kept_young"] >= 1')" = True ] ||
	fail "young GLACIER packs kept: $(cat "$WORK/out")"
[ "$(json_get "$WORK/out" 'd["prune"].get("early_delete_cost", 0) > 0 or d["prune"]["early_delete_byte_days"] > 0')" = True ] ||
	fail "the early-deletion charge is estimated: $(cat "$WORK/out")"
ok "prune --early-delete without a thaw" -- cpx --json prune --early-delete
[ "$(json_get "$WORK/out" 'd["prune"]["packs_removed"] >= 1')" = True ] || fail "unused archived packs removed whole: $(cat "$WORK/out")"
[ "$(json_get "$WORK/out" 'd["prune"]["packs_rewritten"]')" = 0 ] || fail "archived packs are not repacked"
ok "check after prune" -- cpx check
cp "$WORK/second.img" "$WORK/disk.img"

ok "rehydrate --wait" -- cpx rehydrate latest --tier Expedited --days 2 --wait --poll 1
grep -Eq "^([1-9][0-9]*) of \1 packs" "$WORK/out" || fail "rehydrate says how many packs: $(cat "$WORK/out")"
grep -q "all packs are readable" "$WORK/out" || fail "rehydrate waits until readable: $(cat "$WORK/out")"
python3 -c "
import boto3, os
s3 = boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT'])
for o in s3.list_objects_v2(Bucket='archive-bucket', Prefix='repo/data/')['Contents']:
    h = s3.head_object(Bucket='archive-bucket', Key=o['Key'])
    assert h.get('StorageClass') == 'GLACIER', h
    assert 'ongoing-request=\"false\"' in h.get('Restore', ''), h
" || fail "packs stay GLACIER with a finished restore"
ok "restore after rehydrate" -- cpx restore latest "$WORK/r.img"
cmp -s "$WORK/disk.img" "$WORK/r.img" || fail "restore after rehydrate is byte-identical"
ok "rehydrate again is a no-op" -- cpx --json rehydrate latest
[ "$(json_get "$WORK/out" 'd["archived"]')" = 0 ] || fail "nothing left to thaw"

finish
