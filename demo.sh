#!/usr/bin/env bash
# ./demo.sh: install what is missing, build, then protect a disk full of real
# files end to end on the embedded "local" cloud, explaining each step:
# protection by policy: snapshot, full backup, changes, incremental backup,
# restore, verification.
#
# Everything happens in .demo/ (recreated on every run); nothing needs root
# once the packages are installed.
set -euo pipefail
# shellcheck source=scripts/setup.sh
. "$(dirname "$0")/scripts/setup.sh"
cd "$CP_ROOT"

cp_install_packages
# The demo needs only the tool (test.sh builds everything).
CP_NINJA_TARGETS=tools/cloudprotect/cloudprotect cp_build_gcc || exit 1
CLI=$CP_BUILD_GCC/tools/cloudprotect/cloudprotect
[ -x "$CLI" ] || cp_die "the build did not produce $CLI"

# (test.sh runs the demo too, in a directory of its own.)
DEMO=${CP_DEMO_DIR:-$CP_ROOT/.demo}
here=${DEMO#"$CP_ROOT"/} # as the reader sees it
rm -rf "$DEMO"
mkdir -p "$DEMO"
started=$(cp_now)

# The CLI reads where the cloud and the repository are from the environment.
unset CLOUDPROTECT_PROVIDER CLOUDPROTECT_PROVIDER_CONFIG CLOUDPROTECT_PASSWORD
export CLOUDPROTECT_LOCAL_ROOT=$DEMO/cloud
export CLOUDPROTECT_REPOSITORY=file://$DEMO/repo
export CLOUDPROTECT_PASSWORD_FILE=$DEMO/password

# Progress bars only where someone watches; a log gets no carriage returns.
progress=()
[ -t 2 ] && progress=(--progress)

if [ -t 1 ]; then
	bold=$'\e[1m' dim=$'\e[2m' green=$'\e[32m' off=$'\e[0m'
else
	bold='' dim='' green='' off=''
fi

step=0
heading()
{
	step=$((step + 1))
	printf '\n%s== %d. %s%s\n' "$bold" "$step" "$1" "$off"
}

explain()
{
	printf '   %s\n' "$@"
}

# Show a command as the reader would type it (paths shortened), then run
# it; its output is indented (SHOW=0 hides it) and kept in $DEMO/last for
# parsing. Errors and progress bars go straight to stderr (ERRS=FILE to
# divert tools that chatter there).
run()
{
	local shown="" arg
	for arg; do
		arg=${arg//$CP_ROOT\//}
		[[ $arg == *[[:space:]]* ]] && arg="'$arg'"
		shown+="${shown:+ }$arg"
	done
	printf '%s$ %s%s\n' "$dim" "$shown" "$off"
	local ok=1
	if [ -n "${ERRS:-}" ]; then
		"$@" >"$DEMO/last" 2>"$ERRS" || ok=0
	else
		"$@" >"$DEMO/last" || ok=0
	fi
	if [ $ok = 0 ]; then
		indent <"$DEMO/last" >&2
		cp_die "'$shown' failed"
	fi
	[ "${SHOW:-1}" = 0 ] || indent <"$DEMO/last"
}

indent()
{
	sed -e '/^[[:space:]]*$/d' -e 's/^/   /'
}

cloudprotect()
{
	"$CLI" "$@"
}

# One field of the JSON document the CLI printed last (python3 comes with meson).
json_field()
{
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
		"$DEMO/last" "$1"
}

human()
{
	awk -v n="$1" 'BEGIN {
		split("bytes KiB MiB GiB TiB", unit, " ")
		for (i = 1; n >= 1024 && i < 5; i++)
			n /= 1024
		printf(i == 1 ? "%d %s" : "%.1f %s", n, unit[i])
	}'
}

# ---------------------------------------------------------------------------
heading "A cloud in a directory"
explain "The embedded 'local' provider behaves like a small cloud: instances, disks," \
	"snapshots and changed-block tracking, all kept under $here/cloud."
run cloudprotect local init

# ---------------------------------------------------------------------------
heading "A disk with real files on it"
files=$DEMO/files
mkdir -p "$files/usr/include" "$files/srv/shop"
# Up to 96 MiB of header files, always the same ones in the same order.
# (Plain names only, so no quoting trouble in the debugfs script below.)
(cd /usr/include && find . -type f -printf '%s %p\n' | LC_ALL=C sort -k2 |
	awk '$2 !~ /^[A-Za-z0-9._\/+-]+$/ { next }
	     { total += $1 } total > 96 * 1048576 { exit } { print $2 }') >"$DEMO/file-list"
tar -C /usr/include -cf - -T "$DEMO/file-list" | tar -C "$files/usr/include" -xf -
nfiles=$(wc -l <"$DEMO/file-list")

# The shop's data files: fixed-width records, so a rewrite keeps their size.
make_records()
{
	# make_records FILE MiB STATUS
	awk -v n=$(($2 * 1048576 / 64)) -v status="$3" 'BEGIN {
		for (i = 1; i <= n; i++)
			printf "order %09d customer %06d amount %8.2f %-15s\n",
				i, (i * 7919) % 1000000, (i * 37 % 100000) / 100, status
	}' >"$1"
}
make_records "$files/srv/shop/orders.db" 4 "status=new"
make_records "$files/srv/shop/audit.log" 2 "checked=no"
# Fixed times, so the same files always give the same image.
find "$files" -exec touch -h -d '2026-01-01 00:00:00 UTC' {} +

image=$DEMO/web-1-data.img
uuid=6c6f6361-6c00-4000-8000-64656d6f0001
: >"$image"
E2FSPROGS_FAKE_TIME=1767225600 mkfs.ext4 -q -F -b 4096 -L web-1-data -U "$uuid" \
	-E "hash_seed=$uuid,root_owner=0:0" -d "$files" "$image" 256M
# mkfs copies each file's change time, which touch cannot set: fix it too.
(cd "$files" && find . -mindepth 1 | LC_ALL=C sort | sed 's/^\.//' |
	awk '{ printf "set_inode_field \"%s\" ctime 20260101000000\n", $0 }') >"$DEMO/ctimes"
debugfs -w -f "$DEMO/ctimes" "$image" >/dev/null 2>&1
explain "Built a 256 MiB ext4 image holding $nfiles files from /usr/include and a shop's" \
	"data in /srv/shop, with mkfs.ext4 -d: no mount, no root needed."

# Where ext4 put the shop's files, in bytes from the start of the disk.
extents()
{
	debugfs -R "blocks $1" "$image" 2>/dev/null | tr ' ' '\n' | awk 'NF {
		if ($1 == last + 1) { len++ } else { if (len) print start * 4096, len * 4096; start = $1; len = 1 }
		last = $1
	} END { if (len) print start * 4096, len * 4096 }'
}
extents /srv/shop/orders.db >"$DEMO/orders.extents"
extents /srv/shop/audit.log >"$DEMO/audit.extents"

run cloudprotect local create-instance --name web-1 --tag app=shop
instance=$(head -n 1 "$DEMO/last")
run cloudprotect local create-disk --name web-1-data --from-image "$image" --attach "$instance"
disk=$(head -n 1 "$DEMO/last")
rm -f "$image" # the disk holds its own copy now
explain "Instance $instance now has disk $disk attached."

# ---------------------------------------------------------------------------
heading "Protect the instance by policy"
explain "A policy picks workloads by tag and gives snapshots and backups their own" \
	"schedules and retention. This one protects everything tagged app=shop."
policy=$DEMO/shop-policy.json
cat >"$policy" <<POLICY
{
  "name": "shop",
  "timezone": "UTC",
  "selection": {"tags": {"app": "shop"}, "kinds": ["vm"]},
  "snapshots": {"schedule": {"every": "day", "at": "01:00"}, "retention": {"days": 7}},
  "backups": {
    "repository": "$CLOUDPROTECT_REPOSITORY",
    "schedule": {"every": "day", "at": "01:00"},
    "retention": {"daily": 7, "weekly": 4, "monthly": 12}
  }
}
POLICY
indent <"$policy"
run cloudprotect policy validate "$policy"
explain "The repository is deduplicated, compressed and encrypted; its key is wrapped" \
	"by the password in $here/password (scrypt)."
echo "demo password, not for real data" >"$DEMO/password"
chmod 600 "$DEMO/password"
run cloudprotect repo init
explain "What is due now: nothing has run yet, so a snapshot and a backup."
run cloudprotect policy plan "$policy" --state "$DEMO/state"

# policy_run [--now T]: one run of the policy; sets run_read / run_secs / run_summary.
policy_run()
{
	local t0
	t0=$(cp_now)
	SHOW=0 run cloudprotect --json "${progress[@]}" policy run --once "$policy" \
		--state "$DEMO/state" "$@"
	run_secs=$(cp_elapsed "$t0")
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
for a in d["actions"]:
    print("   %-8s %-9s %s" % (a["result"], a["action"], a["snapshot"] or a["backup"] or ""))
bad = [a for a in d["actions"] if a["result"] != "ok"]
sys.exit(1 if bad or not d["actions"] else 0)' "$DEMO/last" || cp_die "the policy run did not succeed"
	run_read=$(json_field bytes)
	run_snap=$(python3 -c 'import json, sys
print([a["snapshot"] for a in json.load(open(sys.argv[1]))["actions"] if a["action"] == "snapshot"][0])' "$DEMO/last")
	SHOW=0 run cloudprotect --json snapshots
	local stored
	stored=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[-1]["new_bytes"])' "$DEMO/last")
	run_summary=$(printf '%s read, %s new data stored (compressed, encrypted), %s s for the run' \
		"$(human "$run_read")" "$(human "$stored")" "$run_secs")
}

# ---------------------------------------------------------------------------
heading "The first run: a snapshot and a full backup"
explain "The runner snapshots the instance (every disk at one point in time), then" \
	"backs up the snapshot: only blocks that hold data are read."
policy_run
full_summary=$run_summary
full_read=$run_read
explain "Full backup: $full_summary."

# ---------------------------------------------------------------------------
heading "The shop rewrites its data files"
explain "orders.db (4 MiB) and audit.log (2 MiB) get new contents of the same size," \
	"written through the provider at the byte offsets where ext4 keeps them," \
	"so the cloud tracks which 512 KiB blocks changed (like EBS does)."
mkdir -p "$DEMO/new"
make_records "$DEMO/new/orders.db" 4 "status=paid"
make_records "$DEMO/new/audit.log" 2 "checked=yes"
rewrite()
{
	# rewrite NEW_CONTENT EXTENTS_FILE: write each extent's share of the file
	local new=$1 written=0 part=0 offset length piece
	while read -r offset length; do
		piece=$new
		if [ "$length" -ne "$(stat -c %s "$new")" ]; then
			part=$((part + 1))
			piece=$new.part$part
			dd if="$new" of="$piece" bs=4096 skip=$((written / 4096)) \
				count=$((length / 4096)) status=none
		fi
		run cloudprotect local write "$disk" --offset "$offset" --from "$piece"
		written=$((written + length))
	done <"$2"
}
rewrite "$DEMO/new/orders.db" "$DEMO/orders.extents"
rewrite "$DEMO/new/audit.log" "$DEMO/audit.extents"

# ---------------------------------------------------------------------------
heading "A day later: the next run backs up incrementally"
explain "Tomorrow's run (rehearsed here with --now) snapshots again; the backup finds" \
	"the previous backup of the disk by itself and asks the provider which blocks" \
	"changed since that snapshot: only those are read."
policy_run --now $(($(date +%s) + 86400))
incr_summary=$run_summary
incr_read=$run_read
snap2=$run_snap # the snapshot this run took (several may share one second)
explain "Incremental backup: $incr_summary."
run cloudprotect snapshots
run cloudprotect history --state "$DEMO/state"

# ---------------------------------------------------------------------------
heading "Restore the latest backup and verify it"
restored=$DEMO/restored.img
run cloudprotect "${progress[@]}" restore latest "$restored"
reference=$CLOUDPROTECT_LOCAL_ROOT/snapshots/$snap2.img
[ -f "$reference" ] || reference=$(cloudprotect local disk-path "$disk")
explain "Byte for byte against snapshot $snap2:"
run cmp "$restored" "$reference"
explain "${green}identical${off}"
explain "The file system is consistent (read-only check):"
ERRS=/dev/null run e2fsck -fn "$restored"
explain "And the files are there, with the new contents:"
ERRS=/dev/null run debugfs -R "ls -l /" "$restored"
ERRS=/dev/null run debugfs -R "ls -l /srv/shop" "$restored"
printf "%s\$ debugfs -R 'cat /srv/shop/orders.db' %s/restored.img | head -n 3%s\n" "$dim" "$here" "$off"
debugfs -R "cat /srv/shop/orders.db" "$restored" 2>/dev/null | head -n 3 >"$DEMO/last" || true
indent <"$DEMO/last"
grep -q 'status=paid' "$DEMO/last" || cp_die "the restored orders.db lacks the new records"

# ---------------------------------------------------------------------------
heading "Summary"
repo_bytes=$(du -sb "$DEMO/repo" | cut -f1)
percent=$(awk -v a="$incr_read" -v b="$full_read" 'BEGIN { printf "%.1f", b ? 100 * a / b : 0 }')
printf '   %-20s %s\n' \
	"disk" "256 MiB ext4, $nfiles files + the shop's data" \
	"full backup" "$full_summary" \
	"incremental backup" "$incr_summary" \
	"" "(read $percent% of what the full backup read)" \
	"restore" "identical to the snapshot, e2fsck clean" \
	"repository" "$(human "$repo_bytes") on disk for 2 backups" \
	"whole demo" "$(cp_elapsed "$started") s"
echo
explain "Everything is in $here/; run ./test.sh to run the test suite."
