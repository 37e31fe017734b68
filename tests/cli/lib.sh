# Helpers for CLI tests. Usage: . lib.sh CLOUDPROTECT_BINARY
set -u
CP_BIN=$1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cpcli-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export CLOUDPROTECT_LOCAL_ROOT=$WORK/cloud
export CLOUDPROTECT_REPOSITORY=file://$WORK/repo
export CLOUDPROTECT_PASSWORD=correct-horse-battery
unset CLOUDPROTECT_PROVIDER CLOUDPROTECT_PROVIDER_CONFIG CLOUDPROTECT_PASSWORD_FILE
PASSED=0
FAILED=0

cpx() { "$CP_BIN" --no-progress "$@"; }

fail() {
	echo "FAIL: $*" >&2
	FAILED=$((FAILED + 1))
}

pass() {
	PASSED=$((PASSED + 1))
}

# ok DESCRIPTION -- COMMAND...: the command must exit 0.
ok() {
	local what=$1; shift; shift
	if "$@" >"$WORK/out" 2>"$WORK/err"; then pass; else
		fail "$what: exit $? from: $*"; sed 's/^/  | /' "$WORK/err" >&2; fi
}

# expect_fail DESCRIPTION STATUS PATTERN -- COMMAND...: exit STATUS, stderr matching PATTERN.
expect_fail() {
	local what=$1 want=$2 pattern=$3; shift 4
	"$@" >"$WORK/out" 2>"$WORK/err"
	local got=$?
	if [ "$got" != "$want" ]; then
		fail "$what: wanted exit $want, got $got from: $*"; sed 's/^/  | /' "$WORK/err" >&2
	elif ! grep -Eq -- "$pattern" "$WORK/err"; then
		fail "$what: stderr does not match /$pattern/"; sed 's/^/  | /' "$WORK/err" >&2
	else pass; fi
}

# is_json FILE: valid JSON document(s).
is_json() { python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1"; }

# json_get FILE EXPR: evaluate a python expression on the document `d`.
json_get() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

finish() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}
