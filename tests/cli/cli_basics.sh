#!/usr/bin/env bash
# Every command answers --help; bad usage exits 2; --json is valid JSON.
. "$(dirname "$0")/lib.sh" "$1"

ok "version" -- cpx version
grep -q "^cloudprotect [0-9]" "$WORK/out" || fail "version text"
ok "version --json" -- cpx --json version
is_json "$WORK/out" || fail "version json"
ok "providers" -- cpx providers
grep -qx local "$WORK/out" || fail "providers lists local"
ok "--help" -- cpx --help
for c in version providers local inventory snapshot repo backup snapshots restore check \
	forget prune copy unlock; do
	ok "$c --help" -- cpx "$c" --help
	grep -q "usage: cloudprotect" "$WORK/out" || fail "$c --help prints usage"
done
expect_fail "no command" 2 "usage" -- cpx
expect_fail "unknown command" 2 "unknown command 'frobnicate'" -- cpx frobnicate
expect_fail "unknown global option" 2 "usage" -- cpx --bogus version
expect_fail "backup without source" 2 "exactly one of PATH" -- cpx backup
expect_fail "size garbage" 2 "not a size" -- cpx local create-disk --name d --size 12Q
expect_fail "forget without rules" 2 "keep" -- cpx forget
expect_fail "restore without target" 2 "target PATH" -- cpx restore latest
expect_fail "unknown provider" 1 "unknown provider 'nimbus'.*local" -- cpx --provider nimbus inventory
expect_fail "no repository" 2 "no repository given" -- env -u CLOUDPROTECT_REPOSITORY "$CP_BIN" snapshots
expect_fail "no password" 2 "CLOUDPROTECT_PASSWORD" -- env -u CLOUDPROTECT_PASSWORD "$CP_BIN" snapshots
expect_fail "bad repository URL" 1 "not a repository URL" -- cpx --repo /no/scheme snapshots
expect_fail "unsupported scheme" 1 "ftp://" -- cpx --repo ftp://host/x snapshots
expect_fail "missing repository" 10 "does not exist" -- cpx --repo "file://$WORK/nothing-here" snapshots
finish
