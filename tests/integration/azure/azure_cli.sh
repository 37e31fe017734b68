#!/usr/bin/env bash
# The azblob:// store end to end on Azurite (started here by scripts/azurite.sh
# on free loopback ports): the real CLI backs up, restores, checks, prunes,
# copies and runs concurrent writers; objstore_tool looks at what is stored.
# Usage: azure_cli.sh CLOUDPROTECT_BINARY OBJSTORE_TOOL
. "$(dirname "$0")/../../cli/lib.sh" "$1"
TOOL=$2
ROOT=${CLOUDPROTECT_SOURCE_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}

bash "$ROOT/scripts/azurite.sh" start "$WORK/azurite" || { echo "FAIL: Azurite did not start" >&2; exit 1; }
# shellcheck disable=SC1091
. "$WORK/azurite/azurite.env"
# Features Azurite lacks come from a proxy in front of it (azurite_features.py).
coproc PROXY { exec python3 "$(dirname "$0")/azurite_features.py" --upstream "http://127.0.0.1:$AZURITE_BLOB_PORT"; }
read -r word PPORT <&"${PROXY[0]}"
cleanup() {
	exec {PROXY[1]}>&-
	bash "$ROOT/scripts/azurite.sh" stop "$WORK/azurite"
	wait
	rm -rf "$WORK"
}
trap cleanup EXIT
[ "$word" = PORT ] || { echo "FAIL: the Azurite features proxy did not start" >&2; exit 1; }
PROXY_URL=http://127.0.0.1:$PPORT
features() { python3 -c 'import sys,urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), method="POST")).read()' "$PROXY_URL$1" "$2"; }

ACCOUNT_URL=http://127.0.0.1:$AZURITE_BLOB_PORT/devstoreaccount1
EP="?endpoint=$ACCOUNT_URL"
export AZURE_STORAGE_ACCOUNT=devstoreaccount1
# Azurite's published development key (not a secret).
export AZURE_STORAGE_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
unset AZURE_STORAGE_CONNECTION_STRING AZURE_STORAGE_SAS_TOKEN
REPO="azblob://devstoreaccount1/backups/vm1$EP"
export CLOUDPROTECT_REPOSITORY=$REPO
export CLOUDPROTECT_TO_PASSWORD=$CLOUDPROTECT_PASSWORD

pyrand() { python3 -c 'import random,sys; r=random.Random(int(sys.argv[2])); sys.stdout.buffer.write(r.randbytes(int(sys.argv[1])))' "$@"; }

# Round trip, incremental, check.
ok "repo init" -- cpx repo init --kdf-n 1024 --chunk-size 64K --pack-size 1M
img=$WORK/disk.img
truncate -s 6000000 "$img"
pyrand 2500000 1 | dd of="$img" bs=1M seek=1 conv=notrunc status=none iflag=fullblock
ok "full backup" -- cpx --json backup "$img"
full=$(json_get "$WORK/out" 'd["id"]')
ok "restore full" -- cpx restore "$full" "$WORK/r1.img"
cmp -s "$img" "$WORK/r1.img" || fail "full restore is byte-identical"
pyrand 5000 3 | dd of="$img" bs=1 seek=2000000 conv=notrunc status=none
printf '2000000 5000\n' >"$WORK/changed"
ok "incremental backup" -- cpx --json backup "$img" --changed-blocks "$WORK/changed"
[ "$(json_get "$WORK/out" 'd["parent"]')" = "$full" ] || fail "incremental has the full backup as parent"
[ "$(json_get "$WORK/out" 'd["read_bytes"] <= 2*65536')" = True ] || fail "incremental reads only changed chunks"
ok "restore incremental" -- cpx restore latest "$WORK/r2.img"
cmp -s "$img" "$WORK/r2.img" || fail "incremental restore is byte-identical"
ok "check --read-data" -- cpx check --read-data

# The store holds only whole packs, under the prefix, in the Hot default tier.
"$TOOL" ls "$REPO" data/ >"$WORK/packs"
[ "$(wc -l <"$WORK/packs")" -ge 2 ] || fail "packs are listed under data/ ($(cat "$WORK/packs"))"
"$TOOL" ls "azblob://devstoreaccount1/backups$EP" "" | grep -q '^vm1/config ' || fail "objects live under the URL's prefix"

# Listings page with markers: more blobs than one List Blobs answer holds (1000).
"$TOOL" put-many "$REPO" many/obj- 1203 | grep -q '^ok' || fail "1203 small objects written"
[ "$("$TOOL" ls "$REPO" many/ | wc -l)" = 1203 ] && pass || fail "listing pages through every blob"
[ "$("$TOOL" ls "$REPO" many/obj-0119 | wc -l)" = 10 ] && pass || fail "listing honours the prefix"

# Prune after forget.
ok "forget --prune" -- cpx forget --keep-last 1 --source "$img" --prune
ok "restore survivor" -- cpx restore latest "$WORK/r3.img"
cmp -s "$img" "$WORK/r3.img" || fail "survivor restores after prune"
ok "check after prune" -- cpx check --read-data

# Copy azblob -> file and back to a second container.
ok "file repo" -- env CLOUDPROTECT_REPOSITORY="file://$WORK/local" "$CP_BIN" repo init --kdf-n 1024
ok "copy azblob -> file" -- cpx copy --to "file://$WORK/local"
ok "restore from file copy" -- cpx --repo "file://$WORK/local" restore latest "$WORK/r4.img"
cmp -s "$img" "$WORK/r4.img" || fail "copy to file restores identically"
REPO2="azblob://devstoreaccount1/offsite$EP"
ok "second azblob repo" -- cpx --repo "$REPO2" repo init --kdf-n 1024
ok "copy file -> azblob" -- cpx --repo "file://$WORK/local" copy --to "$REPO2"
ok "restore from azblob copy" -- cpx --repo "$REPO2" restore latest "$WORK/r5.img"
cmp -s "$img" "$WORK/r5.img" || fail "copy to azblob restores identically"

# Large packs go up as blocks through the streaming writer; two writers at once.
big1=$WORK/big1.img big2=$WORK/big2.img
pyrand 20000000 7 >"$big1"
pyrand 12000000 8 >"$big2"
cpx --repo "$REPO2" backup "$big1" >"$WORK/c1" 2>&1 &
p1=$!
cpx --repo "$REPO2" backup "$big2" >"$WORK/c2" 2>&1 &
p2=$!
wait $p1 && wait $p2 && pass || { fail "two concurrent backups"; cat "$WORK/c1" "$WORK/c2" >&2; }
ok "restore concurrent 1" -- cpx --repo "$REPO2" restore latest "$WORK/b1.img" --source "$big1"
cmp -s "$big1" "$WORK/b1.img" || fail "concurrent backup 1 restores"
ok "restore concurrent 2" -- cpx --repo "$REPO2" restore latest "$WORK/b2.img" --source "$big2"
cmp -s "$big2" "$WORK/b2.img" || fail "concurrent backup 2 restores"
ok "check concurrent" -- cpx --repo "$REPO2" check --read-data

# A killed upload leaves nothing visible: 10 MiB streamed, then SIGKILL before commit.
"$TOOL" kill-upload "$REPO2" data/ff/killed-upload 10 >/dev/null 2>&1
"$TOOL" ls "$REPO2" data/ff/killed >"$WORK/killed"
[ ! -s "$WORK/killed" ] && pass || fail "killed upload is invisible ($(cat "$WORK/killed"))"
# A backup killed mid-run leaves a repository that checks clean and takes the next backup.
pyrand 40000000 9 >"$WORK/big3.img"
cpx --repo "$REPO2" backup "$WORK/big3.img" >/dev/null 2>&1 &
p3=$!
sleep 0.3
kill -9 $p3 2>/dev/null
wait $p3 2>/dev/null
ok "unlock after kill" -- cpx --repo "$REPO2" unlock
ok "check after kill" -- cpx --repo "$REPO2" check --read-data
ok "backup after kill" -- cpx --repo "$REPO2" backup "$WORK/big3.img"
ok "check after retry" -- cpx --repo "$REPO2" check

# Tier rules.
expect_fail "Archive refused" 1 "Archive tier is refused.*Hot or Cool" -- cpx --repo "azblob://devstoreaccount1/arch$EP" repo init --kdf-n 1024 --storage-class Archive
expect_fail "Cold refused" 1 "Cold tier is refused.*Hot or Cool" -- cpx --repo "azblob://devstoreaccount1/cold$EP" repo init --kdf-n 1024 --storage-class Cold
COOL="azblob://devstoreaccount1/cool$EP"
ok "Cool accepted" -- cpx --repo "$COOL" repo init --kdf-n 1024 --storage-class Cool
ok "backup to Cool" -- cpx --repo "$COOL" backup "$img"
"$TOOL" ls "$COOL" data/ | awk '{print $3}' | sort -u >"$WORK/tiers"
[ "$(cat "$WORK/tiers")" = Cool ] && pass || fail "packs are stored Cool ($(cat "$WORK/tiers"))"
"$TOOL" ls "$COOL" config | awk '{print $3}' | grep -qv Cool && pass || fail "metadata stays in the default tier"
# Cool bills 30 days: unreferenced packs stay that long unless --early-delete.
pyrand 600000 41 >"$WORK/cool-b.img"
ok "backup b to Cool" -- cpx --repo "$COOL" --json backup "$WORK/cool-b.img"
cb=$(json_get "$WORK/out" 'd["id"]')
ok "forget b --dry-run --prune" -- cpx --repo "$COOL" forget "$cb" --dry-run --prune
grep -q "packs (.*) kept until .* to avoid early-deletion charges of" "$WORK/out" ||
	fail "forget --dry-run --prune reports Cool's minimum duration: $(cat "$WORK/out")"
ok "forget b" -- cpx --repo "$COOL" forget "$cb"
ok "prune keeps young Cool packs" -- cpx --repo "$COOL" --json prune
[ "$(json_get "$WORK/out" 'd["prune"]["packs_kept_young"] >= 1 and d["prune"]["packs_removed"] == 0')" = True ] ||
	fail "Cool packs kept: $(cat "$WORK/out")"
[ "$(json_get "$WORK/out" 'd["prune"]["young_until"] > __import__("time").time() + 29 * 86400')" = True ] ||
	fail "kept for 30 days: $(cat "$WORK/out")"
ok "prune --early-delete on Cool" -- cpx --repo "$COOL" --json prune --early-delete
[ "$(json_get "$WORK/out" 'd["prune"]["packs_deleted_early"] >= 1 and d["prune"]["packs_removed"] >= 1')" = True ] ||
	fail "--early-delete removes them: $(cat "$WORK/out")"
ok "check Cool after prune" -- cpx --repo "$COOL" check --read-data
expect_fail "immutability needs version-level immutability" 1 "version-level immutability" -- cpx --repo "azblob://devstoreaccount1/imm$EP" repo init --kdf-n 1024 --immutable-days 7

# Soft delete on the account is refused, naming the setting; off again, it opens.
soft='<?xml version="1.0" encoding="utf-8"?><StorageServiceProperties><DeleteRetentionPolicy><Enabled>%s</Enabled>%s</DeleteRetentionPolicy></StorageServiceProperties>'
# shellcheck disable=SC2059
"$TOOL" azure-service "$ACCOUNT_URL" "$(printf "$soft" true '<Days>7</Days>')" | grep -q '^ok' || fail "soft delete switched on"
expect_fail "blob soft delete refused" 1 "soft delete is on.*DeleteRetentionPolicy.*enable-delete-retention false" -- cpx snapshots
# shellcheck disable=SC2059
"$TOOL" azure-service "$ACCOUNT_URL" "$(printf "$soft" false '')" | grep -q '^ok' || fail "soft delete switched off"
ok "opens with soft delete off" -- cpx snapshots

# Through the proxy: a hierarchical-namespace account and container soft delete are refused.
PREPO="azblob://devstoreaccount1/backups/vm1?endpoint=$PROXY_URL/devstoreaccount1"
ok "opens through the proxy" -- cpx --repo "$PREPO" snapshots
features /_features '{"hns": true}'
expect_fail "hierarchical namespace refused" 1 "hierarchical namespace.*without hierarchical namespace" -- cpx --repo "$PREPO" snapshots
features /_features '{"hns": false, "container_soft_delete": true}'
expect_fail "container soft delete refused" 1 "ContainerDeleteRetentionPolicy.*enable-container-delete-retention false" -- cpx --repo "$PREPO" snapshots
features /_features '{"container_soft_delete": false}'

# Version-level immutability: every object is locked; deletes and prune respect it.
features /_features '{"vlw": true}'
IMM="azblob://devstoreaccount1/immutable?endpoint=$PROXY_URL/devstoreaccount1"
ok "immutable repo" -- cpx --repo "$IMM" repo init --kdf-n 1024 --pack-size 256K --immutable-days 1
ok "locked backup 1" -- cpx --repo "$IMM" backup "$img"
pack=$("$TOOL" ls "$IMM" data/ | head -n 1 | awk '{print $1}')
"$TOOL" head "$IMM" "$pack" | awk -v now="$(date +%s)" '{exit !($3 > now + 80000 && $3 < now + 90000)}' && pass || fail "packs are locked about a day"
"$TOOL" head "$IMM" config | awk -v now="$(date +%s)" '{exit !($3 > now + 80000)}' && pass || fail "metadata is locked too"
"$TOOL" rm "$IMM" "$pack" >"$WORK/rm"
grep -q "^error -11 .*immutability policy" "$WORK/rm" && pass || fail "delete of a locked pack is CP_ELOCKED ($(cat "$WORK/rm"))"
until=$(( $(date +%s) + 3 * 86400 ))
"$TOOL" retain "$IMM" "$pack" "$until" | grep -q '^ok' || fail "retain extends a lock"
[ "$("$TOOL" head "$IMM" "$pack" | awk '{print $3}')" = "$until" ] && pass || fail "the lock now ends at $until"
"$TOOL" retain "$IMM" "$pack" "$(( until - 86400 ))" | grep -q '^ok' || fail "retain with an earlier time is a no-op"
[ "$("$TOOL" head "$IMM" "$pack" | awk '{print $3}')" = "$until" ] && pass || fail "retain never shortens a lock"
before=$("$TOOL" ls "$IMM" data/ | wc -l)
pyrand 3000000 11 | dd of="$img" bs=1 seek=0 conv=notrunc status=none
ok "locked backup 2" -- cpx --repo "$IMM" backup "$img"
expect_fail "forget of a locked backup" 11 "immutability policy" -- cpx --repo "$IMM" forget --keep-last 1 --source "$img"
ok "prune on locked" -- cpx --repo "$IMM" prune
[ "$("$TOOL" ls "$IMM" data/ | wc -l)" -gt "$before" ] && pass || fail "prune keeps locked packs"
ok "restore from locked" -- cpx --repo "$IMM" restore latest "$WORK/r8.img" --source "$img"
cmp -s "$img" "$WORK/r8.img" || fail "locked repository restores"
# A leftover pack (in no index) under a policy: prune reports it and never tries a delete.
left=data/ab/ab$(printf '%062d' 0)
"$TOOL" put "$IMM" "$left" 5000 | grep -q '^ok' || fail "put a leftover pack"
luntil=$(( $(date +%s) + 2 * 86400 ))
"$TOOL" retain "$IMM" "$left" "$luntil" | grep -q '^ok' || fail "lock the leftover pack"
ok "prune --dry-run on locked" -- cpx --repo "$IMM" prune --dry-run
grep -q "packs (.*) locked until $(date -u -d "@$luntil" +%F); prune again after then" "$WORK/out" ||
	fail "prune says until when: $(cat "$WORK/out")"
ok "prune leaves the locked leftover" -- cpx --repo "$IMM" --json prune
[ "$(json_get "$WORK/out" 'd["prune"]["locked_until"]')" = "$luntil" ] || fail "locked_until: $(cat "$WORK/out")"
"$TOOL" head "$IMM" "$left" | grep -q . && pass || fail "the locked leftover is still there"
python3 -c 'import json,sys,urllib.request; l=json.load(urllib.request.urlopen(sys.argv[1])); sys.exit(any(e["method"] == "DELETE" and sys.argv[2] in e["path"] for e in l))' "$PROXY_URL/_sim/log" "$left" &&
	pass || fail "prune tried to delete a locked pack"

# A 503 ServerBusy from Azure is retried without the caller noticing.
features /_sim/faults '[{"kind": "status", "method": "PUT", "status": 503, "code": "ServerBusy", "style": "azure", "count": 2}]'
ok "backup through 503s" -- cpx --repo "$IMM" backup "$img"
python3 -c 'import json,sys,urllib.request; l=json.load(urllib.request.urlopen(sys.argv[1])); sys.exit(sum(e["fault"]=="status" for e in l) != 2)' "$PROXY_URL/_sim/log" && pass || fail "both 503s were injected"
ok "check after faults" -- cpx --repo "$IMM" check --read-data

# A SAS instead of the key; a connection string naming the endpoint.
sas=$("$TOOL" azure-sas racwdl)
ok "SAS: backup" -- env -u AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN="$sas" "$CP_BIN" --no-progress backup "$img"
ok "SAS: check" -- env -u AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN="$sas" "$CP_BIN" --no-progress check
ro=$("$TOOL" azure-sas rl)
expect_fail "read-only SAS cannot back up" 1 "refused access.*SAS" -- env -u AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN="$ro" "$CP_BIN" --no-progress backup "$img"
grep -qF "${ro##*sig=}" "$WORK/err" && fail "the SAS signature appears in the message" || pass
CS="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZURE_STORAGE_KEY;BlobEndpoint=$ACCOUNT_URL;"
ok "connection string endpoint" -- env -u AZURE_STORAGE_KEY -u AZURE_STORAGE_ACCOUNT AZURE_STORAGE_CONNECTION_STRING="$CS" "$CP_BIN" --no-progress --repo azblob://devstoreaccount1/backups/vm1 restore latest "$WORK/r9.img" --source "$img"
cmp -s "$img" "$WORK/r9.img" || fail "restore with a connection string"
expect_fail "credentials for another account" 1 "account 'other'.*names account 'devstoreaccount1'" -- env AZURE_STORAGE_ACCOUNT=other "$CP_BIN" snapshots

# URLs that name no container, and containers that do not exist.
expect_fail "URL without a container" 1 "not an Azure Blob URL.*azblob://ACCOUNT/CONTAINER" -- cpx --repo "azblob://devstoreaccount1$EP" snapshots
expect_fail "missing container" 10 "container 'nosuch' does not exist.*repo init" -- cpx --repo "azblob://devstoreaccount1/nosuch/x$EP" snapshots

# A wrong key is an authentication error that says what to check.
BAD=d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25n
AZURE_STORAGE_KEY=$BAD "$TOOL" open "$REPO" >"$WORK/auth"
grep -q "^error -6 " "$WORK/auth" && pass || fail "bad key gives CP_EAUTH ($(cat "$WORK/auth"))"
expect_fail "bad key via CLI" 1 "refused access to account 'devstoreaccount1'.*account key" -- env AZURE_STORAGE_KEY=$BAD "$CP_BIN" snapshots
grep -q "$BAD" "$WORK/err" && fail "the key appears in the message" || pass
finish
