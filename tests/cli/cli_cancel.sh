#!/usr/bin/env bash
# Ctrl-C and SIGTERM cancel a running job cleanly: the CLI exits 130 (143)
# within a couple of seconds, says what is true, and the repository stays
# valid with no backup recorded. The backups go to a gs:// repository on
# the GCS simulator (tests/cloudsim/gcs_xml.py) through a proxy
# (tests/cloudsim/http_proxy.py) that holds chosen uploads mid-flight, so
# the signal always lands while a transfer hangs, even the last one.
# Usage: cli_cancel.sh CLOUDPROTECT_BINARY
. "$(dirname "$0")/lib.sh" "$1"
ROOT=${CLOUDPROTECT_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# Job control: background jobs then get SIGINT like a foreground command would.
set -m

export GCS_HMAC_ACCESS_ID=GOOG1CLICANCELKEYID
export GCS_HMAC_SECRET=sim-secret-for-cli-cancel
unset GS_ACCESS_KEY_ID GS_SECRET_ACCESS_KEY http_proxy https_proxy HTTP_PROXY HTTPS_PROXY \
	all_proxy ALL_PROXY no_proxy NO_PROXY
# Each simulator lives while its stdin (our coprocess pipe) stays open.
coproc GCS { exec python3 "$ROOT/tests/cloudsim/gcs_xml.py" \
	--key "$GCS_HMAC_ACCESS_ID:$GCS_HMAC_SECRET" --bucket backups; }
read -r word GCS_PORT <&"${GCS[0]}"
[ "$word" = PORT ] || { echo "FAIL: the GCS simulator did not start" >&2; exit 1; }
GCS_IN=${GCS[1]}
coproc PROXY { exec python3 "$ROOT/tests/cloudsim/http_proxy.py"; }
read -r word PROXY_PORT <&"${PROXY[0]}"
[ "$word" = PORT ] || { echo "FAIL: the proxy did not start" >&2; exit 1; }
PROXY_IN=${PROXY[1]}
trap 'exec {GCS_IN}>&- {PROXY_IN}>&-; wait; rm -rf "$WORK"' EXIT
PROXY_URL=http://127.0.0.1:$PROXY_PORT
export CLOUDPROTECT_REPOSITORY="gs://backups/cli?endpoint=http://127.0.0.1:$GCS_PORT"

# Every request goes through the proxy that can hold it.
cpp() { "$CP_BIN" --no-progress --proxy "$PROXY_URL" --no-proxy "" "$@"; }
proxy_post() { python3 -c 'import sys,urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), method="POST")).read()' "$PROXY_URL$1" "$2"; }
held() { python3 -c 'import json,sys,urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1]))["stalled"])' "$PROXY_URL/_proxy/stats"; }
hold() { proxy_post /_proxy/stall "{\"method\": \"PUT\", \"contains\": \"$1\", \"seconds\": 60}"; }
release() { proxy_post /_proxy/reset '{}'; }
now() { date +%s.%N; }

# One pack is larger than the image's data, so the only pack upload is the
# last one, made after the readers ended.
ok "repo init" -- cpp repo init --kdf-n 1024 --chunk-size 64K --pack-size 16M
img=$WORK/sparse.img
truncate -s 256M "$img"
python3 -c 'import random,sys; sys.stdout.buffer.write(random.Random(5).randbytes(3 << 20))' |
	dd of="$img" bs=1M seek=100 conv=notrunc status=none iflag=fullblock

# interrupt SIGNAL HELD_PART [OPTION...]: back up while HELD_PART uploads hang, send
# SIGNAL once one is held; sets STATUS and LATE (seconds from the signal to the exit).
interrupt() {
	local sig=$1 part=$2 t0 i
	shift 2
	release
	hold "$part"
	# Not through cpp: $! must be the CLI itself, not a subshell running a function.
	"$CP_BIN" --no-progress --proxy "$PROXY_URL" --no-proxy "" "$@" backup "$img" \
		>"$WORK/out" 2>"$WORK/err" &
	local pid=$!
	for ((i = 0; i < 200; i++)); do
		[ "$(held)" -gt 0 ] && break
		sleep 0.1
	done
	[ "$i" -lt 200 ] || fail "no $part upload was held"
	t0=$(now)
	kill -s "$sig" "$pid"
	wait "$pid"
	STATUS=$?
	LATE=$(python3 -c 'import sys; print(float(sys.argv[2]) - float(sys.argv[1]))' "$t0" "$(now)")
	release
}

prompt() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 2.0 else 1)' "$1"; }

no_backups() {
	ok "snapshots after $1" -- cpp --json snapshots
	[ "$(json_get "$WORK/out" 'len(d)')" = 0 ] || fail "$1 recorded a backup"
}

# SIGINT while the last pack upload hangs.
interrupt INT /cli/data/
[ "$STATUS" = 130 ] && pass || { fail "SIGINT exit status $STATUS, wanted 130"; sed 's/^/  | /' "$WORK/err" >&2; }
prompt "$LATE" && pass || fail "SIGINT took $LATE s to stop the backup"
grep -q "interrupted: cancelled; no backup was recorded" "$WORK/err" && pass ||
	{ fail "SIGINT message"; sed 's/^/  | /' "$WORK/err" >&2; }
no_backups "SIGINT"
ok "check after SIGINT" -- cpp check --read-data

# SIGTERM while the manifest upload hangs: 128 + 15.
interrupt TERM /cli/manifests/
[ "$STATUS" = 143 ] && pass || { fail "SIGTERM exit status $STATUS, wanted 143"; sed 's/^/  | /' "$WORK/err" >&2; }
prompt "$LATE" && pass || fail "SIGTERM took $LATE s to stop the backup"
grep -q "terminated: cancelled" "$WORK/err" && pass || { fail "SIGTERM message"; sed 's/^/  | /' "$WORK/err" >&2; }
no_backups "SIGTERM"
ok "check after SIGTERM" -- cpp check --read-data

# With --json the cancel is an error document on stdout. New data, so that
# there is a new pack and an index to store.
python3 -c 'import random,sys; sys.stdout.buffer.write(random.Random(6).randbytes(1 << 20))' |
	dd of="$img" bs=1M seek=200 conv=notrunc status=none iflag=fullblock
interrupt INT /cli/index/ --json
[ "$STATUS" = 130 ] && pass || fail "SIGINT during the index upload: exit status $STATUS"
[ "$(json_get "$WORK/out" 'd["error"]["code"]')" = "$(json_get "$WORK/out" 'd["error"]["code"]' | grep -i cancel)" ] &&
	[ -n "$(json_get "$WORK/out" 'd["error"]["code"]')" ] && pass ||
	{ fail "SIGINT with --json: error document"; sed 's/^/  | /' "$WORK/out" >&2; }
no_backups "SIGINT during the index upload"

# The repository works on: nothing is locked, the next backup and restore succeed.
ok "backup after the cancels" -- cpp --json backup "$img"
ok "check --read-data" -- cpp --json check --read-data
[ "$(json_get "$WORK/out" 'd["backups"]')" = 1 ] || fail "one backup after the cancels"
ok "restore" -- cpp restore latest "$WORK/restored.img"
cmp -s "$img" "$WORK/restored.img" && pass || fail "the backup after the cancels restores"

finish
