#!/usr/bin/env bash
# clang-tidy-files.sh BUILD_DIR FILE...: clang-tidy (config: .clang-tidy)
# with the compile flags of BUILD_DIR; exits non-zero on any finding.
# test.sh runs several of these in parallel.
build=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
status=0
for file in "$@"; do
	# The hints wrap the error setters, which lib/error.c itself defines.
	hints=(--extra-arg=-include --extra-arg="$here/clang-tidy-hints.h")
	case $file in
	*lib/error.c) hints=() ;;
	esac
	clang-tidy -p "$build" --quiet --use-color=false "${hints[@]}" "$file" || status=1
done
exit $status
