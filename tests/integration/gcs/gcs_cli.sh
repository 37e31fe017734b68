#!/usr/bin/env bash
# The gs:// store end to end on the XML API simulator (tests/cloudsim/gcs_xml.py,
# started here on a free loopback port; it checks every signature itself):
# the real CLI backs up, restores, checks, prunes and copies; retention,
# class rules, bad keys and injected 503/429 faults.
# Usage: gcs_cli.sh CLOUDPROTECT_BINARY OBJSTORE_TOOL
. "$(dirname "$0")/../../cli/lib.sh" "$1"
TOOL=$2
ROOT=${CLOUDPROTECT_SOURCE_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}

export GCS_HMAC_ACCESS_ID=GOOG1EXAMPLEHMACKEYID
export GCS_HMAC_SECRET=sim-secret-for-tests-only
unset GS_ACCESS_KEY_ID GS_SECRET_ACCESS_KEY
# The simulator lives while its stdin (our coprocess pipe) stays open.
coproc SIM { exec python3 "$ROOT/tests/cloudsim/gcs_xml.py" --key "$GCS_HMAC_ACCESS_ID:$GCS_HMAC_SECRET" \
	--bucket backups --bucket offsite --bucket locked:lock --page-size 7; }
read -r word PORT <&"${SIM[0]}"
[ "$word" = PORT ] || { echo "FAIL: the GCS simulator did not start" >&2; exit 1; }
trap 'exec {SIM[1]}>&-; wait; rm -rf "$WORK"' EXIT
SIMURL=http://127.0.0.1:$PORT
EP="?endpoint=$SIMURL"
REPO="gs://backups/vm1$EP"
export CLOUDPROTECT_REPOSITORY=$REPO
export CLOUDPROTECT_TO_PASSWORD=$CLOUDPROTECT_PASSWORD

pyrand() { python3 -c 'import random,sys; r=random.Random(int(sys.argv[2])); sys.stdout.buffer.write(r.randbytes(int(sys.argv[1])))' "$@"; }
sim_post() { python3 -c 'import sys,urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), method="POST")).read()' "$SIMURL$1" "$2"; }
sim_log() { python3 -c 'import sys,urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())' "$SIMURL/_sim/log"; }

# Round trip, incremental, check (pages of 7 keys make every listing paginate).
ok "repo init" -- cpx repo init --kdf-n 1024 --chunk-size 64K --pack-size 256K
img=$WORK/disk.img
truncate -s 6000000 "$img"
pyrand 2500000 1 | dd of="$img" bs=1M seek=1 conv=notrunc status=none iflag=fullblock
ok "full backup" -- cpx --json backup "$img"
full=$(json_get "$WORK/out" 'd["id"]')
ok "restore full" -- cpx restore "$full" "$WORK/r1.img"
cmp -s "$img" "$WORK/r1.img" || fail "full restore is byte-identical"
"$TOOL" ls "$REPO" data/ >"$WORK/packs"
[ "$(wc -l <"$WORK/packs")" -gt 7 ] || fail "more packs than one listing page ($(wc -l <"$WORK/packs"))"
pyrand 5000 3 | dd of="$img" bs=1 seek=2000000 conv=notrunc status=none
printf '2000000 5000\n' >"$WORK/changed"
ok "incremental backup" -- cpx --json backup "$img" --changed-blocks "$WORK/changed"
[ "$(json_get "$WORK/out" 'd["parent"]')" = "$full" ] || fail "incremental has the full backup as parent"
ok "restore incremental" -- cpx restore latest "$WORK/r2.img"
cmp -s "$img" "$WORK/r2.img" || fail "incremental restore is byte-identical"
ok "check --read-data" -- cpx check --read-data
ok "forget --prune" -- cpx forget --keep-last 1 --source "$img" --prune
ok "restore survivor" -- cpx restore latest "$WORK/r3.img"
cmp -s "$img" "$WORK/r3.img" || fail "survivor restores after prune"
ok "check after prune" -- cpx check --read-data

# Copy gs -> file -> gs.
ok "file repo" -- cpx --repo "file://$WORK/local" repo init --kdf-n 1024
ok "copy gs -> file" -- cpx copy --to "file://$WORK/local"
ok "restore from file copy" -- cpx --repo "file://$WORK/local" restore latest "$WORK/r4.img"
cmp -s "$img" "$WORK/r4.img" || fail "copy to file restores identically"
REPO2="gs://offsite/copy$EP"
ok "second gs repo" -- cpx --repo "$REPO2" repo init --kdf-n 1024
ok "copy file -> gs" -- cpx --repo "file://$WORK/local" copy --to "$REPO2"
ok "restore from gs copy" -- cpx --repo "$REPO2" restore latest "$WORK/r5.img"
cmp -s "$img" "$WORK/r5.img" || fail "copy to gs restores identically"

# 16 MiB packs go up as XML multipart uploads; a killed one leaves nothing visible.
big=$WORK/big.img
pyrand 20000000 7 >"$big"
ok "multipart backup" -- cpx --repo "$REPO2" backup "$big"
sim_log | grep -q '"query": "uploads' && pass || fail "large packs used multipart uploads"
ok "multipart restore" -- cpx --repo "$REPO2" restore latest "$WORK/b1.img" --source "$big"
cmp -s "$big" "$WORK/b1.img" || fail "multipart backup restores"
# Two writers into one repository at once.
pyrand 3000000 21 >"$WORK/w1.img"
pyrand 3000000 22 >"$WORK/w2.img"
cpx --repo "$REPO2" backup "$WORK/w1.img" >"$WORK/c1" 2>&1 &
p1=$!
cpx --repo "$REPO2" backup "$WORK/w2.img" >"$WORK/c2" 2>&1 &
p2=$!
wait $p1 && wait $p2 && pass || { fail "two concurrent backups"; cat "$WORK/c1" "$WORK/c2" >&2; }
ok "check after concurrent writers" -- cpx --repo "$REPO2" check --read-data
ok "restore concurrent 2" -- cpx --repo "$REPO2" restore latest "$WORK/w2.out" --source "$WORK/w2.img"
cmp -s "$WORK/w2.img" "$WORK/w2.out" || fail "concurrent backup restores"
"$TOOL" kill-upload "$REPO2" data/ff/killed-upload 20 >/dev/null 2>&1
"$TOOL" ls "$REPO2" data/ff/killed >"$WORK/killed"
[ ! -s "$WORK/killed" ] && pass || fail "killed upload is invisible ($(cat "$WORK/killed"))"
# Killed uploads are invisible but billed: prune aborts those older than
# --stale-uploads. Nine stale ones (more than a listing page of 7), one fresh.
for i in 1 2 3 4 5 6 7 8; do "$TOOL" kill-upload "$REPO2" "data/ff/stale-$i" 9 >/dev/null 2>&1; done
sleep 3
"$TOOL" kill-upload "$REPO2" data/ff/fresh 9 >/dev/null 2>&1
ok "prune aborts stale uploads" -- cpx --repo "$REPO2" --json prune --stale-uploads 2
[ "$(json_get "$WORK/out" 'd["prune"]["uploads_aborted"]')" = 9 ] || fail "9 stale uploads aborted, the fresh one kept: $(cat "$WORK/out")"
sleep 1
ok "prune --stale-uploads 0" -- cpx --repo "$REPO2" --json prune --stale-uploads 0
[ "$(json_get "$WORK/out" 'd["prune"]["uploads_aborted"]')" = 1 ] || fail "the fresh upload aborted at age 0: $(cat "$WORK/out")"
ok "prune again" -- cpx --repo "$REPO2" --json prune --stale-uploads 0
[ "$(json_get "$WORK/out" 'd["prune"]["uploads_aborted"]')" = 0 ] || fail "aborted uploads are gone: $(cat "$WORK/out")"
ok "check after aborting uploads" -- cpx --repo "$REPO2" check --read-data

# Class rules: STANDARD active, ARCHIVE archive tier, others refused with the reason.
expect_fail "NEARLINE refused" 1 "NEARLINE is refused.*STANDARD.*ARCHIVE" -- cpx --repo "gs://offsite/n$EP" repo init --kdf-n 1024 --storage-class NEARLINE
expect_fail "COLDLINE refused" 1 "COLDLINE is refused" -- cpx --repo "gs://offsite/c$EP" repo init --kdf-n 1024 --storage-class COLDLINE
ARCH="gs://offsite/archive$EP"
ok "ARCHIVE accepted" -- cpx --repo "$ARCH" repo init --kdf-n 1024 --storage-class ARCHIVE
ok "backup to ARCHIVE" -- cpx --repo "$ARCH" backup "$img"
[ "$("$TOOL" ls "$ARCH" data/ | awk '{print $3}' | sort -u)" = ARCHIVE ] && pass || fail "packs are stored ARCHIVE"
[ "$("$TOOL" ls "$ARCH" config | awk '{print $3}')" = STANDARD ] && pass || fail "metadata stays STANDARD"
ok "rehydrate ARCHIVE (online in GCS: nothing to thaw)" -- cpx --repo "$ARCH" rehydrate latest --wait --poll 1
ok "restore from ARCHIVE (online in GCS)" -- cpx --repo "$ARCH" restore latest "$WORK/r6.img"
cmp -s "$img" "$WORK/r6.img" || fail "ARCHIVE restore identical"
# ARCHIVE bills 365 days: unreferenced packs stay that long unless --early-delete.
pyrand 600000 31 >"$WORK/arch-b.img"
ok "backup b to ARCHIVE" -- cpx --repo "$ARCH" --json backup "$WORK/arch-b.img"
ab=$(json_get "$WORK/out" 'd["id"]')
ok "forget b" -- cpx --repo "$ARCH" forget "$ab"
ok "prune keeps young ARCHIVE packs" -- cpx --repo "$ARCH" --json prune
[ "$(json_get "$WORK/out" 'd["prune"]["packs_kept_young"] >= 1 and d["prune"]["packs_removed"] == 0')" = True ] ||
	fail "ARCHIVE packs kept: $(cat "$WORK/out")"
[ "$(json_get "$WORK/out" 'd["prune"]["young_until"] > __import__("time").time() + 364 * 86400')" = True ] ||
	fail "kept for 365 days: $(cat "$WORK/out")"
ok "prune --early-delete on ARCHIVE" -- cpx --repo "$ARCH" --json prune --early-delete
[ "$(json_get "$WORK/out" 'd["prune"]["packs_deleted_early"] >= 1 and d["prune"]["packs_removed"] >= 1')" = True ] ||
	fail "--early-delete removes them: $(cat "$WORK/out")"
ok "restore from ARCHIVE after prune" -- cpx --repo "$ARCH" restore latest "$WORK/r6b.img" --source "$img"
cmp -s "$img" "$WORK/r6b.img" || fail "ARCHIVE survivor restores after prune"

# Retention: refused on a bucket without it; on one with it, objects are locked.
expect_fail "immutability needs object retention" 1 "cannot lock objects.*object retention.*enable-per-object-retention" -- cpx --repo "gs://offsite/imm$EP" repo init --kdf-n 1024 --immutable-days 2
LOCKED="gs://locked/imm$EP"
ok "immutable repo" -- cpx --repo "$LOCKED" repo init --kdf-n 1024 --pack-size 256K --immutable-days 1
ok "locked backup 1" -- cpx --repo "$LOCKED" backup "$img"
pack=$("$TOOL" ls "$LOCKED" data/ | head -n 1 | awk '{print $1}')
"$TOOL" head "$LOCKED" "$pack" | awk -v now="$(date +%s)" '{exit !($3 > now + 80000)}' && pass || fail "packs are retained about a day"
"$TOOL" rm "$LOCKED" "$pack" >"$WORK/rm"
grep -q "^error -11 .*retained until" "$WORK/rm" && pass || fail "delete of a retained pack is CP_ELOCKED ($(cat "$WORK/rm"))"
until=$(( $(date +%s) + 3 * 86400 ))
"$TOOL" retain "$LOCKED" "$pack" "$until" | grep -q '^ok' || fail "retain extends a lock"
[ "$("$TOOL" head "$LOCKED" "$pack" | awk '{print $3}')" = "$until" ] && pass || fail "the lock now ends at $until"
"$TOOL" retain "$LOCKED" "$pack" "$(( until - 86400 ))" | grep -q '^ok' || fail "retain with an earlier time is a no-op"
[ "$("$TOOL" head "$LOCKED" "$pack" | awk '{print $3}')" = "$until" ] && pass || fail "retain never shortens a lock"
before=$("$TOOL" ls "$LOCKED" data/ | wc -l)
pyrand 3000000 11 | dd of="$img" bs=1 seek=0 conv=notrunc status=none
ok "locked backup 2" -- cpx --repo "$LOCKED" backup "$img"
expect_fail "forget of a retained backup" 11 "retained until" -- cpx --repo "$LOCKED" forget --keep-last 1 --source "$img"
ok "prune on locked" -- cpx --repo "$LOCKED" prune
after=$("$TOOL" ls "$LOCKED" data/ | wc -l)
[ "$after" -gt "$before" ] && pass || fail "prune keeps retained packs ($before before, $after after)"
"$TOOL" head "$LOCKED" "$pack" | grep -q . && pass || fail "the retained pack is still there"
ok "restore from locked" -- cpx --repo "$LOCKED" restore latest "$WORK/r8.img" --source "$img"
cmp -s "$img" "$WORK/r8.img" || fail "locked repository restores"
ok "check locked" -- cpx --repo "$LOCKED" check --read-data
# A leftover pack (in no index) under retention: prune reports it and does not try to delete it.
left=data/ab/ab$(printf '%062d' 0)
"$TOOL" put "$LOCKED" "$left" 5000 | grep -q '^ok' || fail "put a leftover pack"
luntil=$(( $(date +%s) + 2 * 86400 ))
"$TOOL" retain "$LOCKED" "$left" "$luntil" | grep -q '^ok' || fail "lock the leftover pack"
ok "prune --dry-run on locked" -- cpx --repo "$LOCKED" prune --dry-run
grep -q "packs (.*) locked until $(date -u -d "@$luntil" +%F); prune again after then" "$WORK/out" ||
	fail "prune says until when: $(cat "$WORK/out")"
ok "prune leaves the locked leftover" -- cpx --repo "$LOCKED" --json prune
[ "$(json_get "$WORK/out" 'd["prune"]["locked_until"]')" = "$luntil" ] || fail "locked_until: $(cat "$WORK/out")"
"$TOOL" head "$LOCKED" "$left" | grep -q . && pass || fail "the locked leftover is still there"
sim_log | python3 -c 'import json,sys; sys.exit(any(e["method"] == "DELETE" and sys.argv[1] in e["path"] for e in json.load(sys.stdin)))' "$left" &&
	pass || fail "prune tried to delete a locked pack"

# Faults: a 503 and a 429 with Retry-After are retried without the caller noticing.
sim_post /_sim/faults '[{"kind": "status", "method": "PUT", "status": 503, "code": "ServiceUnavailable", "count": 1},
  {"kind": "status", "method": "GET", "status": 429, "code": "SlowDown", "retry_after": "1", "count": 1}]'
ok "backup through a 503" -- cpx backup "$img"
ok "restore through a 429" -- cpx restore latest "$WORK/r7.img"
cmp -s "$img" "$WORK/r7.img" || fail "restore after faults identical"
sim_log | python3 -c 'import json,sys; l=json.load(sys.stdin); sys.exit(not (any(e["fault"]=="status" and e["method"]=="PUT" for e in l) and any(e["fault"]=="status" and e["method"]=="GET" for e in l)))' && pass || fail "both faults were injected"

# URLs without a bucket, and buckets that do not exist.
expect_fail "URL without a bucket" 1 "not a Google Cloud Storage URL.*gs://BUCKET" -- cpx --repo "gs://$EP" snapshots
expect_fail "missing bucket" 10 "bucket 'nosuch' does not exist.*buckets create" -- cpx --repo "gs://nosuch/x$EP" snapshots

# A wrong secret is an authentication error naming the variables to check.
GCS_HMAC_SECRET=wrong "$TOOL" open "$REPO" >"$WORK/auth"
grep -q "^error -6 " "$WORK/auth" && pass || fail "bad secret gives CP_EAUTH ($(cat "$WORK/auth"))"
expect_fail "bad secret via CLI" 1 "refused the HMAC key.*GCS_HMAC_SECRET" -- env GCS_HMAC_SECRET=wrong "$CP_BIN" snapshots
expect_fail "no key" 1 "GCS_HMAC_ACCESS_ID and GCS_HMAC_SECRET" -- env -u GCS_HMAC_ACCESS_ID "$CP_BIN" snapshots
finish
