#!/usr/bin/env bash
# ./test.sh: install what is missing, build, and run every check:
#   1. the test suite in a gcc build;
#   2. the test suite again in a clang build with ASan and UBSan;
#   3. clang-format, clang-tidy and cppcheck on our C sources;
#   4. an install into a staging directory, building the example program
#      with pkg-config alone and running it;
#   5. ./demo.sh, in a directory of its own.
# Each meson test counts once, each other step once. The last line reads
# "N passed, N failed"; the exit status is non-zero when anything failed.
# Logs of every step are kept in build-ci-logs/.
set -uo pipefail
# shellcheck source=scripts/setup.sh
. "$(dirname "$0")/scripts/setup.sh"
cd "$CP_ROOT" || exit 1

cp_install_packages
mkdir -p "$CP_LOG_DIR"

CP_BUILD_ASAN=$CP_ROOT/build-ci-asan
passed=0
failed=0
skipped=0
failures=()

pass()
{
	passed=$((passed + $1))
}

fail()
{
	failed=$((failed + 1))
	failures+=("$1")
}

# "name: result (12.3 s)"
report()
{
	printf '%-28s %s (%s s)\n' "$1:" "$2" "$(cp_elapsed "$3")"
}

# Count the results meson recorded: prints "PASSED FAILED SKIPPED" and then
# the names of the tests that failed, one a line.
meson_results()
{
	python3 - "$1/meson-logs/testlog.json" <<'EOF'
import json, sys
ok, bad, skip, names = 0, 0, 0, []
with open(sys.argv[1]) as f:
    for line in f:
        if not line.strip():
            continue
        t = json.loads(line)
        r = t.get("result", "")
        if r in ("OK", "EXPECTEDFAIL"):
            ok += 1
        elif r == "SKIP":
            skip += 1
        else:
            bad += 1
            names.append("%s (%s)" % (t.get("name", "?"), r))
print(ok, bad, skip)
for n in names:
    print(n)
EOF
}

# run_suite LABEL BUILD_DIR TIMEOUT_MULTIPLIER BUILD_COMMAND...
run_suite()
{
	local label=$1 dir=$2 mult=$3 t0 name log
	shift 3
	t0=$(cp_now)
	name=$(basename "$dir")
	if ! "$@"; then
		fail "$label: build"
		report "$label" "build FAILED" "$t0"
		return
	fi
	log=$CP_LOG_DIR/$name-test.log
	rm -f "$dir/meson-logs/testlog.json"
	meson test -C "$dir" --no-rebuild --print-errorlogs --timeout-multiplier "$mult" \
		>"$log" 2>&1 </dev/null
	if [ ! -s "$dir/meson-logs/testlog.json" ]; then
		cp_show_log "$log"
		fail "$label: meson test ran no test"
		report "$label" "no test ran" "$t0"
		return
	fi
	local results ok bad skip
	mapfile -t results < <(meson_results "$dir")
	read -r ok bad skip <<<"${results[0]}"
	pass "$ok"
	skipped=$((skipped + skip))
	failed=$((failed + bad))
	local n
	for n in "${results[@]:1}"; do
		failures+=("$label: $n")
	done
	report "$label" "$ok passed, $bad failed$([ "$skip" -gt 0 ] && echo ", $skip skipped")" "$t0"
	if [ "$bad" -gt 0 ]; then
		failed_output "$log"
	fi
}

# What the failed tests printed (--print-errorlogs puts it under each
# failed test's line), at most 60 lines of each.
failed_output()
{
	awk '/^Summary of Failures/ { exit }
	     /^ *[0-9]+\/[0-9]+ / { block = ($0 !~ / OK / && $0 !~ / SKIP / && $0 !~ / EXPECTEDFAIL /); n = 0 }
	     block && n++ < 60 { print "  " $0 }
	     block && /^―+$/ { block = 0 }' "$1"
	echo "  (details in ${1#"$CP_ROOT"/})"
}

# LeakSanitizer stops the process with ptrace-like machinery that some
# sandboxes forbid; find out whether it works here before relying on it.
leak_detection()
{
	local dir=$CP_LOG_DIR/lsan-probe
	mkdir -p "$dir"
	printf '#include <stdlib.h>\nint main(void) { void *p = malloc(64); p = 0; return p != 0; }\n' \
		>"$dir/leak.c"
	clang -fsanitize=address -g -O0 "$dir/leak.c" -o "$dir/leak" >/dev/null 2>&1 || return 1
	local out
	out=$(ASAN_OPTIONS=detect_leaks=1 "$dir/leak" 2>&1)
	[[ $out == *"detected memory leaks"* ]]
}

# Our C sources: everything but build output and scratch directories.
c_sources()
{
	find . \( -path './build*' -o -path ./.git -o -path ./.demo -o -path ./.cache \
		-o -path '*/node_modules' -o -path ./bench/work \) -prune \
		-o -type f \( -name '*.c' -o -name '*.h' \) -print | LC_ALL=C sort
}

# The compiler-style findings of a log, one a line with a path from the
# top of the tree, or else the end of the log.
show_findings()
{
	local findings
	findings=$(grep -E '^[^ ]+:[0-9]+:[0-9]+: (error|warning):' "$1" |
		sed -E -e 's#^([^:]*/)?\.\./##' -e 's#^\./##' -e "s#^$CP_ROOT/##" | LC_ALL=C sort -u)
	if [ -z "$findings" ]; then
		cp_show_log "$1" 60
		return
	fi
	if [ "$(printf '%s\n' "$findings" | wc -l)" -le 30 ]; then
		printf '%s\n' "$findings" | sed 's/^/  /'
	else # too many to read: how many in each file
		printf '%s\n' "$findings" | cut -d: -f1 | uniq -c |
			awk '{ printf "  %s: %d findings\n", $2, $1 }'
	fi
	echo "  (details in ${1#"$CP_ROOT"/})"
}

# run_lint LABEL LOG COMMAND...: one step that passes when COMMAND does.
run_lint()
{
	local label=$1 log=$CP_LOG_DIR/$2 t0
	shift 2
	t0=$(cp_now)
	if "$@" >"$log" 2>&1 </dev/null; then
		pass 1
		report "$label" "ok" "$t0"
	else
		fail "$label"
		report "$label" "FAILED" "$t0"
		show_findings "$log"
	fi
}

check_format()
{
	c_sources | xargs -r clang-format --dry-run -Werror
}

check_tidy()
{
	local db=$1
	# Only files the build compiles have the flags clang-tidy needs.
	c_sources | grep '\.c$' | while read -r f; do
		if grep -qF "${f#./}\"" "$db/compile_commands.json"; then
			printf '%s\0' "$f"
		fi
	done | xargs -0 -r -n 4 -P 2 "$CP_ROOT/scripts/clang-tidy-files.sh" "$db"
}

check_cppcheck()
{
	local dirs=() d
	for d in lib format backends tools examples tests bench bindings; do
		[ -d "$d" ] && dirs+=("$d")
	done
	cppcheck --enable=warning,performance,portability --error-exitcode=1 --inline-suppr \
		--std=c11 -D_GNU_SOURCE -I include -I lib -q -j 2 "${dirs[@]}"
}

# ---------------------------------------------------------------------------
run_suite "tests (gcc)" "$CP_BUILD_GCC" 2 cp_build_gcc

export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
if leak_detection; then
	export ASAN_OPTIONS=detect_leaks=1
else
	export ASAN_OPTIONS=detect_leaks=0
	echo "note: LeakSanitizer does not work in this sandbox (ptrace denied?); leak checks are off"
fi
# -Dfuzzing=true also compiles the libFuzzer targets, so they cannot rot.
CC=clang run_suite "tests (clang ASan+UBSan)" "$CP_BUILD_ASAN" 4 cp_build "$CP_BUILD_ASAN" \
	-Db_sanitize=address,undefined -Db_lundef=false -Dfuzzing=true
unset ASAN_OPTIONS UBSAN_OPTIONS

run_lint "clang-format" clang-format.log check_format
# clang-tidy reads the flags of the clang build; the gcc one will do without it.
tidy_db=$CP_BUILD_ASAN
[ -f "$tidy_db/compile_commands.json" ] || tidy_db=$CP_BUILD_GCC
run_lint "clang-tidy" clang-tidy.log check_tidy "$tidy_db"
run_lint "cppcheck" cppcheck.log check_cppcheck
run_lint "install + example" install-test.log \
	"$CP_ROOT/tests/install/run.sh" "$CP_BUILD_GCC" "$CP_ROOT/build-ci-install"
# The README's first command must keep working too.
run_lint "demo" demo.log env CP_DEMO_DIR="$CP_ROOT/build-ci-demo" "$CP_ROOT/demo.sh"

if [ ${#failures[@]} -gt 0 ]; then
	echo
	echo "Failed:"
	printf '  %s\n' "${failures[@]}"
	echo "Logs are in ${CP_LOG_DIR#"$CP_ROOT"/}/."
fi
echo
summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
