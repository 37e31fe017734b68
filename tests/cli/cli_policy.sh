#!/usr/bin/env bash
# Policies end to end on the local provider and a file:// repository: validate, plan,
# run, retention, history, schedule with SIGTERM, and the cost estimator.
. "$(dirname "$0")/lib.sh" "$1"
export CLOUDPROTECT_DATA_DIR=${CLOUDPROTECT_SOURCE_ROOT:-$(dirname "$0")/../..}/data
export CLOUDPROTECT_STATE_DIR=$WORK/state

pyrand() { python3 -c 'import random,sys; r=random.Random(int(sys.argv[2])); sys.stdout.buffer.write(r.randbytes(int(sys.argv[1])))' "$@"; }

ok "local init" -- cpx local init
ok "instance" -- cpx local create-instance --name app-1
inst=$(cat "$WORK/out")
pyrand 2000000 1 >"$WORK/base.img"
ok "disk" -- cpx local create-disk --name data --from-image "$WORK/base.img" --attach "$inst"
disk=$(cat "$WORK/out")
ok "unprotected disk" -- cpx local create-disk --name scratch --size 1M
scratch=$(cat "$WORK/out")

cat >"$WORK/policy.json" <<JSON
{
  "name": "app",
  "timezone": "Europe/Berlin",
  "selection": {"ids": ["$disk"]},
  "snapshots": {"schedule": {"every": "day", "at": "02:30"}, "retention": {"days": 7}},
  "backups": {"repository": "file://$WORK/policy-repo",
              "schedule": {"every": "day", "at": "03:00"},
              "retention": {"daily": 7, "weekly": 4}},
  "workers": {"concurrency": 2}
}
JSON
ok "validate" -- cpx policy validate "$WORK/policy.json"
grep -q "policy app is valid" "$WORK/out" || fail "validate says valid"
sed 's/"weekly": 4/"weekly": "four"/' "$WORK/policy.json" >"$WORK/bad.json"
expect_fail "invalid policy names the field" 1 "bad.json: backups.retention.weekly: must be an integer" -- cpx policy validate "$WORK/bad.json"
expect_fail "policy without a file" 2 "exactly one policy FILE" -- cpx policy run

ok "plan before the repository exists" -- cpx --json policy plan "$WORK/policy.json"
[ "$(json_get "$WORK/out" '[a["action"] for a in d["actions"]]')" = "['snapshot', 'backup']" ] || fail "plan: snapshot then backup"
expect_fail "run needs the repository" 10 "pass --create" -- cpx policy run --once "$WORK/policy.json"
ok "run --once --create" -- cpx policy run --once --create "$WORK/policy.json"
grep -q "policy app: 1 workload, 2 ok, 0 failed" "$WORK/out" || { fail "run summary"; cat "$WORK/out" >&2; }
grep -q "$scratch" "$WORK/out" && fail "unselected disk untouched"
first_snap=$(awk '$2 == "snapshot" { print $4 }' "$WORK/out")
[ -n "$first_snap" ] || fail "the run names its snapshot"
ok "nothing due right after" -- cpx policy run --once "$WORK/policy.json"
grep -q "nothing is due" "$WORK/out" || fail "second run has nothing to do"

# The backup the policy made restores the disk.
ok "restore the policy's backup" -- cpx --repo "file://$WORK/policy-repo" restore latest "$WORK/r.img" --source "$disk"
cmp -s "$WORK/base.img" "$WORK/r.img" || fail "policy backup restores byte-identical"

ok "history --json" -- cpx --json history
[ "$(json_get "$WORK/out" 'len(d)')" = 2 ] || fail "two records"
[ "$(json_get "$WORK/out" 'sorted(set(r["result"] for r in d))')" = "['ok']" ] || fail "records are ok"
ok "history" -- cpx history --policy app --last 1
[ "$(grep -c backup "$WORK/out")" = 1 ] || fail "history --last 1 shows the backup"

# Ten days on: a new snapshot and an incremental backup; the older restore points go.
ok "write through the provider" -- cpx local write "$disk" --offset 512K --random 64K --seed 7
sleep 1 # snapshots are stamped in seconds: keep "older" unambiguous
later=$(( $(date +%s) + 10 * 86400 ))
ok "run ten days later" -- cpx --json policy run "$WORK/policy.json" --now "$later"
[ "$(json_get "$WORK/out" 'd["failed"]')" = 0 ] || fail "later run ok"
[ "$(json_get "$WORK/out" '[a["bytes"] for a in d["actions"] if a["action"]=="backup"][0] < 1000000')" = True ] || fail "later backup is incremental"
ok "and an hour after" -- cpx --json policy run "$WORK/policy.json" --now $((later + 3600))
[ "$(json_get "$WORK/out" 'sorted(a["action"] for a in d["actions"] if a["result"]=="ok")')" = "['backup', 'expire-snapshot', 'forget-backup', 'prune', 'snapshot']" ] \
	|| { fail "retention acts: $(json_get "$WORK/out" '[(a["action"],a["result"],a["error"]) for a in d["actions"]]')"; }
cpx snapshot list "$disk" | grep -q "$first_snap" && fail "oldest snapshot expired"
[ "$(cpx --json snapshot list "$disk" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ] || fail "two snapshots remain"
ok "newest backup still restores" -- cpx --repo "file://$WORK/policy-repo" restore latest "$WORK/r2.img" --source "$disk"
cmp -s "$("$CP_BIN" local disk-path "$disk")" "$WORK/r2.img" || fail "newest backup is the current disk"
ok "check after policy prune" -- cpx --repo "file://$WORK/policy-repo" check

# schedule: runs in the foreground and stops cleanly on SIGTERM.
"$CP_BIN" --no-progress policy schedule "$WORK/policy.json" >"$WORK/sched.out" 2>"$WORK/sched.err" &
pid=$!
for _ in $(seq 50); do grep -q "next run at" "$WORK/sched.out" && break; sleep 0.1; done
grep -q "next run at" "$WORK/sched.out" || fail "schedule reports its next run"
kill -TERM "$pid"
wait "$pid"
status=$?
[ "$status" = 0 ] || { fail "schedule exits 0 on SIGTERM (got $status)"; cat "$WORK/sched.err" >&2; }
grep -q "^stopped" "$WORK/sched.out" || fail "schedule says it stopped"

# Cost: a priced inventory, the design comparison, and precise failures.
cat >"$WORK/inventory.json" <<JSON
[{"id": "$disk", "kind": "disk", "cloud": "aws", "region": "us-east-1", "size_gb": 200, "used_gb": 100},
 {"id": "not-selected", "kind": "disk", "cloud": "aws", "region": "us-east-1", "size_gb": 50}]
JSON
ok "cost --json" -- cpx --json cost --policy "$WORK/policy.json" --inventory "$WORK/inventory.json" --no-measure
[ "$(json_get "$WORK/out" 'len(d["workloads"])')" = 1 ] || fail "only selected workloads are priced"
[ "$(json_get "$WORK/out" 'round(d["workloads"][0]["snapshot_gib"], 6)')" = 112.0 ] || fail "snapshots: 100 GiB + 6 * 2 GiB"
[ "$(json_get "$WORK/out" 'd["total"]["total"] > d["total"]["snapshot_storage"] > 0')" = True ] || fail "cost adds up"
ok "cost with measurement" -- cpx cost --policy "$WORK/policy.json" --inventory "$WORK/inventory.json"
grep -q "measured from the repository" "$WORK/out" || fail "measures from the repository"
ok "cost --compare" -- cpx --json cost --policy "$WORK/policy.json" --inventory "$WORK/inventory.json" --compare --no-measure
[ "$(json_get "$WORK/out" 'next(x["total"]["total"] for x in d if x["design"]=="snapshots kept 90 days") > next(x["total"]["total"] for x in d if x["design"]=="snapshots kept 30 days")')" = True ] || fail "90 days cost more than 30"
[ "$(json_get "$WORK/out" 'next(x["total"]["total"] for x in d if x["design"]=="snapshots only") < d[0]["total"]["total"]')" = True ] || fail "snapshots only is cheaper"
echo '[{"id": "'"$disk"'", "cloud": "aws", "region": "mars-1", "size_gb": 1}]' >"$WORK/mars.json"
expect_fail "unknown region" 1 "no price table for aws/mars-1" -- cpx cost --policy "$WORK/policy.json" --inventory "$WORK/mars.json" --no-measure
cat >"$WORK/myprices.json" <<'JSON'
{"cloud": "aws", "currency": "USD", "taken": "2026-11-01", "source": "my negotiated rates",
 "regions": {"mars-1": {"snapshot_gb_month": 1, "storage_gb_month": 0, "put_per_1000": 0,
  "get_per_1000": 0, "worker_hour": 0, "transfer_region_gb": 0, "transfer_internet_gb": 0}}}
JSON
ok "a user price file adds a region" -- cpx --json cost --policy "$WORK/policy.json" --inventory "$WORK/mars.json" --prices "$WORK/myprices.json" --no-measure
[ "$(json_get "$WORK/out" 'round(d["total"]["snapshot_storage"], 6)')" = 0.672 ] || fail "user prices: 0.6 GiB * 1.12 at 1.00 ($(json_get "$WORK/out" 'd["total"]'))"
finish
