#!/bin/bash
# Azurite (the Azure Storage emulator) for the tests: install it into the
# project's .cache/npm, start it on free loopback ports, stop it.
#
#   scripts/azurite.sh install        npm install azurite@3.35.0 unless present
#   scripts/azurite.sh start DIR      start in the background; writes DIR/azurite.env
#                                     (AZURITE_BLOB_PORT, AZURITE_QUEUE_PORT, AZURITE_PID)
#   scripts/azurite.sh stop DIR       stop what start left in DIR
#   scripts/azurite.sh serve          install, start, print "PORT <blob> <queue>", and
#                                     stop when stdin closes (how the unit tests use it)
#
# 3.35.0 is the newest Azurite that runs on Node 20. It fails loudly when npm
# cannot reach its registry: a test that needs Azurite must not pass without it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PREFIX=${AZURITE_PREFIX:-$ROOT/.cache/npm}
VERSION=3.35.0
BIN=$PREFIX/node_modules/.bin/azurite

die()
{
	echo "azurite.sh: $*" >&2
	exit 1
}

install()
{
	if [ -x "$BIN" ] && grep -q "\"version\": \"$VERSION\"" \
		"$PREFIX/node_modules/azurite/package.json" 2>/dev/null; then
		return 0
	fi
	command -v npm >/dev/null || die "npm is missing; install Node.js 20 and npm (apt-get install nodejs npm)"
	mkdir -p "$PREFIX"
	local log=$PREFIX/install.log
	if ! npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error \
		"azurite@$VERSION" >"$log" 2>&1; then
		tail -n 20 "$log" >&2
		die "could not install azurite@$VERSION with npm (see $log); the Azure tests need it"
	fi
}

free_port()
{
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port()
{
	local port=$1 pid=$2 i
	for i in $(seq 1 150); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# launch DIR: start Azurite with its work files in DIR; sets BLOB, QUEUE, PID.
launch()
{
	local dir=$1
	mkdir -p "$dir"
	BLOB=$(free_port)
	QUEUE=$(free_port)
	TABLE=$(free_port)
	# In the work directory, so nothing lands in the caller's.
	(cd "$dir" && exec "$BIN" --silent --inMemoryPersistence --disableTelemetry \
		--skipApiVersionCheck --blobHost 127.0.0.1 --blobPort "$BLOB" \
		--queueHost 127.0.0.1 --queuePort "$QUEUE" \
		--tableHost 127.0.0.1 --tablePort "$TABLE" >"$dir/azurite.log" 2>&1 </dev/null) &
	PID=$!
	if ! wait_port "$BLOB" "$PID" || ! wait_port "$QUEUE" "$PID"; then
		kill "$PID" 2>/dev/null || true
		tail -n 20 "$dir/azurite.log" >&2
		die "azurite did not start (log: $dir/azurite.log)"
	fi
}

case ${1:-} in
install)
	install
	;;
start)
	[ -n "${2:-}" ] || die "usage: $0 start DIR"
	install
	launch "$2"
	printf 'AZURITE_BLOB_PORT=%s\nAZURITE_QUEUE_PORT=%s\nAZURITE_PID=%s\n' \
		"$BLOB" "$QUEUE" "$PID" >"$2/azurite.env"
	;;
stop)
	[ -n "${2:-}" ] || die "usage: $0 stop DIR"
	if [ -f "$2/azurite.env" ]; then
		# shellcheck disable=SC1091
		. "$2/azurite.env"
		kill "$AZURITE_PID" 2>/dev/null || true
		rm -f "$2/azurite.env"
	fi
	;;
serve)
	install
	dir=$(mktemp -d "${TMPDIR:-/tmp}/azurite-XXXXXX")
	launch "$dir"
	trap 'kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; rm -rf "$dir"' EXIT
	echo "PORT $BLOB $QUEUE"
	# Until the test closes our stdin.
	cat >/dev/null || true
	;;
*)
	die "usage: $0 install | start DIR | stop DIR | serve"
	;;
esac
