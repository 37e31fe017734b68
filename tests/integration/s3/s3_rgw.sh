#!/usr/bin/env bash
# The s3:// store end to end against a real S3 server (Ceph RADOS Gateway,
# started here by scripts/rgw.sh): every repository feature through the CLI,
# storage class rules, Object Lock immutability, a backup killed mid-upload,
# and bad credentials. Usage: s3_rgw.sh CLOUDPROTECT_BINARY
. "$(dirname "$0")/../../cli/lib.sh" "$1"
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)

if ! command -v radosgw >/dev/null || ! python3 -c 'import boto3' 2>/dev/null; then
	echo "SKIP: radosgw or python3's boto3 is missing (scripts/setup.sh installs both)"
	exit 77
fi
RGW=$WORK/rgw
trap '"$ROOT/scripts/rgw.sh" stop "$RGW"; rm -rf "$WORK"' EXIT
"$ROOT/scripts/rgw.sh" start "$RGW" || exit 1
. "$RGW/env"
unset AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3

py() { python3 - "$@"; }
# s3py CODE: run python with `s3`, a boto3 client for the gateway.
s3py() {
	python3 -c "import boto3, os, sys, datetime
s3 = boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT'])
$1" "${@:2}"
}
pyrand() { python3 -c 'import random,sys; r=random.Random(int(sys.argv[2])); sys.stdout.buffer.write(r.randbytes(int(sys.argv[1])))' "$@"; }

s3py "s3.create_bucket(Bucket='plain-bucket'); s3.create_bucket(Bucket='locked-bucket', ObjectLockEnabledForBucket=True)" ||
	fail "create buckets"
# kill_mid_upload BUCKET PREFIX: back up big.img and kill -9 the backup as soon
# as it has begun to store packs (an open multipart upload or a new pack).
kill_mid_upload() {
	s3py "
import signal, subprocess, time
bucket, prefix = sys.argv[1], sys.argv[2]
def packs():
    return s3.list_objects_v2(Bucket=bucket, Prefix=prefix + 'data/').get('KeyCount', 0)
before = packs()
p = subprocess.Popen(sys.argv[3:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
while p.poll() is None:
    if s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get('Uploads') or packs() > before:
        p.send_signal(signal.SIGKILL)
        p.wait()
        sys.exit(0)
    time.sleep(0.005)
sys.exit(1)
" "$1" "$2" "$CP_BIN" --no-progress backup "$WORK/big.img"
}
url() { echo "s3://$1?endpoint=$S3_ENDPOINT&region=us-east-1"; }
export CLOUDPROTECT_REPOSITORY=$(url plain-bucket/repo)

# --- round trip, incremental, check, prune, copy on a plain bucket -----------
ok "repo init" -- cpx repo init --kdf-n 1024 --chunk-size 256K --pack-size 4M
expect_fail "repo init twice" 1 "exist" -- cpx repo init --kdf-n 1024
img=$WORK/disk.img
truncate -s 20000000 "$img"
pyrand 9000000 1 | dd of="$img" bs=1M seek=1 conv=notrunc status=none
pyrand 3000000 2 | dd of="$img" bs=1M seek=16 conv=notrunc status=none
ok "full backup" -- cpx --json backup "$img"
full=$(json_get "$WORK/out" 'd["id"]')
ok "restore full" -- cpx restore "$full" "$WORK/r1.img"
cmp -s "$img" "$WORK/r1.img" || fail "full restore is byte-identical"
pyrand 300000 3 | dd of="$img" bs=1 seek=5000000 conv=notrunc status=none
printf '5000000 300000\n' >"$WORK/changed"
ok "incremental backup" -- cpx --json backup "$img" --changed-blocks "$WORK/changed"
[ "$(json_get "$WORK/out" 'd["parent"]')" = "$full" ] || fail "incremental has the full as parent"
[ "$(json_get "$WORK/out" 'd["read_bytes"] <= 3*262144')" = True ] || fail "incremental reads only changed chunks"
ok "restore incremental" -- cpx restore latest "$WORK/r2.img"
cmp -s "$img" "$WORK/r2.img" || fail "incremental restore is byte-identical"
ok "check --read-data" -- cpx check --read-data
# Packs of 4 MiB go up as one PUT; one larger object takes the multipart path.
s3py "
sizes = [o['Size'] for o in s3.list_objects_v2(Bucket='plain-bucket', Prefix='repo/data/')['Contents']]
assert len(sizes) >= 3, sizes
" || fail "packs are listed under data/"

ok "forget keep-last 1 --prune" -- cpx forget --keep-last 1 --source "$img" --prune
ok "restore after prune" -- cpx restore latest "$WORK/r3.img"
cmp -s "$img" "$WORK/r3.img" || fail "survivor intact after prune"
ok "check after prune" -- cpx check --read-data

ok "file repo for copies" -- env CLOUDPROTECT_PASSWORD=other CLOUDPROTECT_REPOSITORY="file://$WORK/offsite" "$CP_BIN" repo init --kdf-n 1024
ok "copy s3 -> file" -- env CLOUDPROTECT_TO_PASSWORD=other "$CP_BIN" copy --to "file://$WORK/offsite"
ok "restore from the file copy" -- env CLOUDPROTECT_PASSWORD=other "$CP_BIN" --repo "file://$WORK/offsite" restore latest "$WORK/r4.img"
cmp -s "$img" "$WORK/r4.img" || fail "copy to file restores"
ok "s3 repo for copies" -- env CLOUDPROTECT_PASSWORD=third CLOUDPROTECT_REPOSITORY="$(url plain-bucket/copy)" "$CP_BIN" repo init --kdf-n 1024
ok "copy file -> s3" -- env CLOUDPROTECT_PASSWORD=other CLOUDPROTECT_TO_PASSWORD=third "$CP_BIN" --repo "file://$WORK/offsite" copy --to "$(url plain-bucket/copy)"
ok "restore from the s3 copy" -- env CLOUDPROTECT_PASSWORD=third "$CP_BIN" --repo "$(url plain-bucket/copy)" restore latest "$WORK/r5.img"
cmp -s "$img" "$WORK/r5.img" || fail "copy to s3 restores"

# --- concurrent writers -------------------------------------------------------
pyrand 6000000 4 >"$WORK/a.img"
pyrand 6000000 5 >"$WORK/b.img"
cpx --json backup "$WORK/a.img" >"$WORK/a.json" 2>"$WORK/a.err" &
pa=$!
cpx --json backup "$WORK/b.img" >"$WORK/b.json" 2>"$WORK/b.err" &
pb=$!
wait $pa || fail "concurrent backup a: $(cat "$WORK/a.err")"
wait $pb || fail "concurrent backup b: $(cat "$WORK/b.err")"
ok "restore a" -- cpx restore "$(json_get "$WORK/a.json" 'd["id"]')" "$WORK/ra.img"
ok "restore b" -- cpx restore "$(json_get "$WORK/b.json" 'd["id"]')" "$WORK/rb.img"
cmp -s "$WORK/a.img" "$WORK/ra.img" || fail "concurrent writer a restores"
cmp -s "$WORK/b.img" "$WORK/rb.img" || fail "concurrent writer b restores"
ok "check after concurrent writers" -- cpx check --read-data

# --- a backup killed mid-upload -----------------------------------------------
export CLOUDPROTECT_REPOSITORY=$(url plain-bucket/killed)
ok "repo init (kill test)" -- cpx repo init --kdf-n 1024
pyrand 120000000 6 >"$WORK/big.img"
kill_mid_upload "plain-bucket" "killed/" || fail "no multipart upload was seen before the backup ended"
s3py "
objs = s3.list_objects_v2(Bucket='plain-bucket', Prefix='killed/').get('Contents', [])
assert not any(o['Key'].startswith('killed/manifests/') for o in objs), 'a manifest of the killed backup'
for o in objs:
    if o['Key'].startswith('killed/data/'):
        # A listed pack is whole: its last 4 bytes give the sealed header length.
        body = s3.get_object(Bucket='plain-bucket', Key=o['Key'])['Body'].read()
        assert len(body) == o['Size'] and len(body) > 4, o['Key']
" || fail "a killed backup leaves no partial object"
ok "unlock after the kill" -- cpx unlock --all
ok "check after the kill" -- cpx check
ok "backup after the kill" -- cpx backup "$WORK/a.img"
ok "restore after the kill" -- cpx restore latest "$WORK/rk.img"
cmp -s "$WORK/a.img" "$WORK/rk.img" || fail "repository usable after a killed backup"
ok "prune after the kill" -- cpx prune
ok "check --read-data after the kill" -- cpx check --read-data

# --- stale multipart uploads ----------------------------------------------------
# A killed backup's open upload is invisible but billed; prune aborts uploads
# older than --stale-uploads (default 24h), here one started with boto3, while
# uploads younger than the limit, and uploads outside the repository, stay.
s3py "
for key in ('killed/data/ff/stale-test', 'repo/data/ff/not-this-repository'):
    s3.create_multipart_upload(Bucket='plain-bucket', Key=key)
" || fail "start multipart uploads"
uploads() { s3py "print(len(s3.list_multipart_uploads(Bucket='plain-bucket', Prefix=sys.argv[1]).get('Uploads', [])))" "$1"; }
n_killed=$(uploads killed/)
[ "$n_killed" -ge 1 ] || fail "the boto3 upload is listed"
sleep 2
ok "prune leaves uploads younger than 1h" -- cpx --json prune --stale-uploads 1h
[ "$(json_get "$WORK/out" 'd["prune"]["uploads_aborted"]')" = 0 ] || fail "young uploads aborted: $(cat "$WORK/out")"
[ "$(uploads killed/)" = "$n_killed" ] || fail "a young upload stays"
ok "prune --dry-run aborts nothing" -- cpx prune --dry-run --stale-uploads 0
[ "$(uploads killed/)" = "$n_killed" ] || fail "a dry run aborted uploads"
ok "prune --stale-uploads 0 aborts them" -- cpx prune --stale-uploads 0
grep -q "aborted $n_killed unfinished upload" "$WORK/out" || fail "prune reports the aborted uploads: $(cat "$WORK/out")"
[ "$(uploads killed/)" = 0 ] || fail "stale uploads remain under killed/"
[ "$(uploads repo/)" = 1 ] || fail "an upload of another repository was aborted"
expect_fail "a bad --stale-uploads" 2 "not an age" -- cpx prune --stale-uploads soon
ok "check after aborting uploads" -- cpx check --read-data

# --- storage classes ----------------------------------------------------------
for class in STANDARD_IA ONEZONE_IA GLACIER_IR INTELLIGENT_TIERING; do
	expect_fail "class $class refused" 1 "storage class $class is refused.*STANDARD" -- \
		cpx --repo "$(url plain-bucket/c-$class)" repo init --kdf-n 1024 --storage-class "$class"
done
expect_fail "unknown class refused" 1 "not an S3 storage class" -- \
	cpx --repo "$(url plain-bucket/c-x)" repo init --kdf-n 1024 --storage-class COLD
ok "GLACIER as archive tier" -- cpx --repo "$(url plain-bucket/glacier)" repo init --kdf-n 1024 --storage-class GLACIER
ok "backup into GLACIER" -- cpx --repo "$(url plain-bucket/glacier)" backup "$WORK/a.img"
s3py "
for o in s3.list_objects_v2(Bucket='plain-bucket', Prefix='glacier/')['Contents']:
    want = 'GLACIER' if o['Key'].startswith('glacier/data/') else 'STANDARD'
    got = s3.head_object(Bucket='plain-bucket', Key=o['Key']).get('StorageClass', 'STANDARD')
    assert got == want, (o['Key'], got)
" || fail "only packs go to GLACIER; metadata stays STANDARD"
# Packs younger than GLACIER's 90 days are kept by prune: deleting them is billed anyway.
export CLOUDPROTECT_REPOSITORY=$(url plain-bucket/glacier)
ok "backup b into GLACIER" -- cpx --json backup "$WORK/b.img"
gb=$(json_get "$WORK/out" 'd["id"]')
ok "forget b --dry-run --prune" -- cpx forget "$gb" --dry-run --prune
grep -q "packs (.*) kept until .* to avoid early-deletion charges of" "$WORK/out" ||
	fail "forget --dry-run --prune reports the minimum duration: $(cat "$WORK/out")"
ok "forget b" -- cpx forget "$gb"
ok "prune --dry-run keeps young GLACIER packs" -- env CLOUDPROTECT_DATA_DIR="$ROOT/data" "$CP_BIN" --no-progress prune --dry-run
grep -q 'kept until .* to avoid early-deletion charges of ~\$[0-9]' "$WORK/out" ||
	fail "prune --dry-run report with the charge from the price tables: $(cat "$WORK/out")"
ngl() { s3py "print(len(s3.list_objects_v2(Bucket='plain-bucket', Prefix='glacier/data/')['Contents']))"; }
before=$(ngl)
ok "prune keeps young GLACIER packs" -- cpx --json prune
[ "$(json_get "$WORK/out" 'd["prune"]["packs_kept_young"] >= 1 and d["prune"]["packs_removed"] == 0')" = True ] ||
	fail "prune keeps packs under 90 days: $(cat "$WORK/out")"
[ "$(json_get "$WORK/out" 'd["prune"]["young_until"] - __import__("time").time() > 89 * 86400')" = True ] ||
	fail "kept until 90 days after upload: $(cat "$WORK/out")"
[ "$(ngl)" = "$before" ] || fail "young GLACIER packs were deleted"
ok "prune --early-delete" -- cpx --json prune --early-delete
[ "$(json_get "$WORK/out" 'd["prune"]["packs_deleted_early"] >= 1 and d["prune"]["packs_removed"] >= 1')" = True ] ||
	fail "prune --early-delete deletes them: $(cat "$WORK/out")"
[ "$(ngl)" -lt "$before" ] || fail "--early-delete removed no pack"
ok "backups listed in the GLACIER repository" -- cpx snapshots

# --- immutability -------------------------------------------------------------
expect_fail "immutability on a bucket without Object Lock" 1 "cannot be retrofitted.*object-lock-enabled-for-bucket" -- \
	cpx --repo "$(url plain-bucket/imm)" repo init --kdf-n 1024 --immutable-days 1
export CLOUDPROTECT_REPOSITORY=$(url locked-bucket/imm)
ok "repo init --immutable-days 1" -- cpx repo init --kdf-n 1024 --immutable-days 1 --pack-size 4M
ok "locked backup 1" -- cpx --json backup "$WORK/a.img"
first=$(json_get "$WORK/out" 'd["id"]')
sleep 2
t2=$(date +%s)
ok "locked backup 2 (all deduplicated)" -- cpx --json backup "$WORK/a.img"
[ "$(json_get "$WORK/out" 'd["new_chunks"]')" = 0 ] || fail "second backup reuses every chunk"
ok "copy into the locked repository" -- env CLOUDPROTECT_PASSWORD=other CLOUDPROTECT_TO_PASSWORD="$CLOUDPROTECT_PASSWORD" \
	"$CP_BIN" --no-progress --repo "file://$WORK/offsite" copy --to "$CLOUDPROTECT_REPOSITORY"
s3py "
import time
t2 = int(sys.argv[1])
objs = s3.list_objects_v2(Bucket='locked-bucket', Prefix='imm/')['Contents']
for o in objs:
    if o['Key'].startswith('imm/locks/'):
        continue
    r = s3.get_object_retention(Bucket='locked-bucket', Key=o['Key'])['Retention']
    assert r['Mode'] == 'COMPLIANCE', o['Key']
    until = r['RetainUntilDate'].timestamp()
    # Packs reused by backup 2 and the config/keys outlast backup 2's retention.
    if o['Key'].startswith(('imm/data/', 'imm/config', 'imm/keys/')):
        assert until >= t2 + 86400 - 1, (o['Key'], until, t2)
" "$t2" || fail "every object is locked, reused packs until backup 2 ends"
pack=$(s3py "print([o['Key'] for o in s3.list_objects_v2(Bucket='locked-bucket', Prefix='imm/data/')['Contents']][0])")
ver=$(s3py "print(s3.head_object(Bucket='locked-bucket', Key=sys.argv[1])['VersionId'])" "$pack")
if ! command -v aws >/dev/null; then
	echo "note: no aws command; the delete attempt is made with boto3 only"
elif aws --endpoint-url "$S3_ENDPOINT" s3api delete-object --bucket locked-bucket --key "$pack" --version-id "$ver" >/dev/null 2>&1; then
	fail "awscli deleted a locked pack"
else pass; fi
s3py "
try:
    s3.delete_object(Bucket='locked-bucket', Key=sys.argv[1], VersionId=sys.argv[2])
    sys.exit(1)
except s3.exceptions.ClientError as e:
    assert e.response['Error']['Code'] == 'AccessDenied', e.response
" "$pack" "$ver" || fail "boto3 deletes a locked pack"
expect_fail "forget of a locked backup" 11 "locked until .*Object Lock" -- cpx forget "$first"
ok "restore a locked backup" -- cpx restore "$first" "$WORK/rl.img"
cmp -s "$WORK/a.img" "$WORK/rl.img" || fail "locked backup restores"
# Packs of a killed backup are referenced by nothing but locked: prune keeps them.
kill_mid_upload "locked-bucket" "imm/" || fail "no multipart upload was seen in the locked repository"
ok "unlock after the kill (locked repo)" -- cpx unlock --all
before=$(s3py "print(len(s3.list_objects_v2(Bucket='locked-bucket', Prefix='imm/data/')['Contents']))")
ok "prune --dry-run reports locked packs" -- cpx prune --dry-run
grep -q "packs (.*) locked until [0-9-]*; prune again after then" "$WORK/out" ||
	fail "prune says until when packs are locked: $(cat "$WORK/out")"
ok "prune keeps locked packs" -- cpx --json prune
[ "$(json_get "$WORK/out" 'd["prune"]["packs_kept_locked"]')" -ge 1 ] || fail "prune reports locked packs: $(cat "$WORK/out")"
[ "$(json_get "$WORK/out" 'd["prune"]["locked_until"] > __import__("time").time() + 3600')" = True ] ||
	fail "prune reports the lock end: $(cat "$WORK/out")"
after=$(s3py "print(len(s3.list_objects_v2(Bucket='locked-bucket', Prefix='imm/data/')['Contents']))")
[ "$before" = "$after" ] || fail "prune deleted locked packs ($before -> $after)"
s3py "s3.head_object(Bucket='locked-bucket', Key=sys.argv[1])" "$pack" || fail "locked pack still there after prune"
ok "check the locked repository" -- cpx check --read-data

# The config and key are locked from the moment repo init writes them.
export CLOUDPROTECT_REPOSITORY=$(url locked-bucket/fresh)
ok "repo init --immutable-days 2 (no backup yet)" -- cpx repo init --kdf-n 1024 --immutable-days 2
s3py "
import time
keys = ['fresh/config'] + [o['Key'] for o in s3.list_objects_v2(Bucket='locked-bucket', Prefix='fresh/keys/')['Contents']]
assert len(keys) == 2, keys
for k in keys:
    r = s3.get_object_retention(Bucket='locked-bucket', Key=k)['Retention']
    assert r['Mode'] == 'COMPLIANCE', (k, r)
    assert r['RetainUntilDate'].timestamp() > time.time() + 2 * 86400 - 600, (k, r)
    ver = s3.head_object(Bucket='locked-bucket', Key=k)['VersionId']
    try:
        s3.delete_object(Bucket='locked-bucket', Key=k, VersionId=ver)
        sys.exit('boto3 deleted ' + k)
    except s3.exceptions.ClientError as e:
        assert e.response['Error']['Code'] == 'AccessDenied', e.response
    print(k, ver)
" >"$WORK/cfgkeys" || fail "config and key are locked at init: $(cat "$WORK/cfgkeys")"
if command -v aws >/dev/null; then
	while read -r k ver; do
		if aws --endpoint-url "$S3_ENDPOINT" s3api delete-object --bucket locked-bucket --key "$k" \
			--version-id "$ver" >/dev/null 2>&1; then
			fail "awscli deleted the locked $k"
		fi
	done <"$WORK/cfgkeys"
	pass
fi
ok "the fresh locked repository opens" -- cpx snapshots

# --- bad credentials ----------------------------------------------------------
export CLOUDPROTECT_REPOSITORY=$(url plain-bucket/repo)
AWS_SECRET_ACCESS_KEY=not-the-secret-value cpx snapshots >"$WORK/out" 2>"$WORK/err"
rc=$?
[ $rc != 0 ] || fail "bad secret accepted"
grep -q "$AWS_ACCESS_KEY_ID" "$WORK/err" || fail "auth error names the access key id: $(cat "$WORK/err")"
! grep -q "not-the-secret-value" "$WORK/err" || fail "auth error shows the secret"
pass

finish
