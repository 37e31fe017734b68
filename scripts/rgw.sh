#!/usr/bin/env bash
# rgw.sh - a throwaway Ceph RADOS Gateway (the S3 API) on 127.0.0.1 for tests:
# one monitor, one OSD keeping its data in memory, one radosgw.
#
#   scripts/rgw.sh start DIR   start a fresh gateway with its state in DIR; prints
#                              nothing on success and writes DIR/env (AWS_* keys,
#                              S3_ENDPOINT) for `. DIR/env`
#   scripts/rgw.sh stop DIR    stop what `start DIR` started (by pid file) and
#                              remove DIR
#
# Ports are free ones picked at start, so several gateways can run side by side
# (RGW_PORT fixes the S3 port). Needs Debian's radosgw, ceph-mon, ceph-osd and
# ceph-common (scripts/setup.sh installs them). Cold start takes about 5 s.
set -euo pipefail

usage() {
	echo "usage: $0 start|stop DIR" >&2
	exit 2
}
[ $# -eq 2 ] || usage
cmd=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)
conf=$dir/ceph.conf
run=$dir/run

# A pid file counts only while its process runs with our ceph.conf, so a
# recycled pid never gets a signal from us.
ours() {
	local pid
	pid=$(cat "$1" 2>/dev/null) || return 1
	[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] &&
		tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$conf"
}

stop_all() {
	local name f pid
	for name in rgw osd.0 mon.a; do
		f=$run/$name.pid
		ours "$f" || continue
		pid=$(cat "$f")
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do ours "$f" || break; sleep 0.1; done
		! ours "$f" || kill -KILL "$pid" 2>/dev/null || true
	done
}

if [ "$cmd" = stop ]; then
	stop_all
	rm -rf "$dir"
	exit 0
fi
[ "$cmd" = start ] || usage

for tool in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool; do
	command -v "$tool" >/dev/null ||
		{ echo "rgw.sh: $tool is missing; install radosgw ceph-mon ceph-osd ceph-common" >&2; exit 1; }
done

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
s3_port=${RGW_PORT:-$(free_port)}
mon_port=$(free_port)
mon_port_v1=$(free_port)
access_key=CPTESTACCESSKEY$(printf '%05d' $((RANDOM % 100000)))
secret_key=$(head -c 30 /dev/urandom | base64 | tr -d '/+=' | head -c 40)

stop_all
rm -rf "${dir:?}"/*
mkdir -p "$dir"/{mon,osd/ceph-0,log,run}
trap 'status=$?; if [ $status != 0 ]; then echo "rgw.sh: start failed; logs in $dir/log" >&2; stop_all; fi' EXIT

fsid=$(cat /proc/sys/kernel/random/uuid)
cat >"$conf" <<CONF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$mon_port,v1:127.0.0.1:$mon_port_v1]
mon initial members = a
public addr = 127.0.0.1
ms bind ipv6 = false
# The daemons trust each other; S3 clients still sign every request (SigV4).
auth cluster required = none
auth service required = none
auth client required = none
run dir = $run
pid file = $run/\$name.pid
admin socket = $run/\$name.asok
log file = $dir/log/\$name.log
crash dir = $dir/log
keyring = $dir/\$name.keyring
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
# With one monitor nothing needs the default 1 s to agree; radosgw creates
# a dozen pools at start and waits for each commit.
paxos propose interval = 0.1
log to stderr = false
err to stderr = false

[mon]
mon data = $dir/mon/\$cluster-\$id
mon cluster log file = $dir/log/cluster.log

[osd]
osd data = $dir/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = ${RGW_MEMSTORE_BYTES:-6442450944}
osd op num shards = 2
osd op num threads per shard = 2

[client.rgw]
ms mon client mode = crc secure
rgw frontends = beast endpoint=127.0.0.1:$s3_port
rgw data = $dir/rgw
rgw thread pool size = 64
rgw enable usage log = false
CONF

monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port,v1:127.0.0.1:$mon_port_v1]" \
	"$dir/monmap" >/dev/null
ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" >"$dir/log/mon-mkfs.log" 2>&1
ceph-mon -c "$conf" -i a
timeout 60 ceph -c "$conf" -s --connect-timeout 5 >/dev/null

osd_uuid=$(cat /proc/sys/kernel/random/uuid)
timeout 60 ceph -c "$conf" osd new "$osd_uuid" >/dev/null
ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$osd_uuid" >"$dir/log/osd-mkfs.log" 2>&1
ceph-osd -c "$conf" -i 0
up=0
for _ in $(seq 1 120); do
	if timeout 10 ceph -c "$conf" osd dump 2>/dev/null | grep -q '^osd\.0 up'; then up=1; break; fi
	sleep 0.25
done
[ $up = 1 ] || { echo "rgw.sh: the OSD did not come up; see $dir/log/osd.0.log" >&2; exit 1; }

admin() { timeout 60 radosgw-admin -c "$conf" -n client.rgw "$@" >>"$dir/log/admin.log" 2>&1; }
admin user create --uid=cptest --display-name="cloudprotect tests" \
	--access-key="$access_key" --secret-key="$secret_key"
# Archive classes as labels, so PUTs naming them are accepted (RGW moves nothing).
for class in GLACIER DEEP_ARCHIVE; do
	admin zonegroup placement add --rgw-zonegroup default --placement-id default-placement \
		--storage-class "$class"
	admin zone placement add --rgw-zone default --placement-id default-placement \
		--storage-class "$class" --data-pool default.rgw.buckets.data
done

# radosgw -f writes no pid file; the shell records its own pid, then becomes radosgw.
setsid -f sh -c 'echo $$ >"$1"; shift; exec "$@"' rgw "$run/rgw.pid" \
	radosgw -f -c "$conf" -n client.rgw </dev/null >>"$dir/log/radosgw.out" 2>&1
ready=0
for _ in $(seq 1 240); do
	if curl -s -o /dev/null -m 2 "http://127.0.0.1:$s3_port/"; then ready=1; break; fi
	sleep 0.25
done
[ $ready = 1 ] || { echo "rgw.sh: radosgw does not answer on port $s3_port; see $dir/log" >&2; exit 1; }

cat >"$dir/env" <<ENV
export AWS_ACCESS_KEY_ID=$access_key
export AWS_SECRET_ACCESS_KEY=$secret_key
export AWS_DEFAULT_REGION=us-east-1
export AWS_REGION=us-east-1
export S3_ENDPOINT=http://127.0.0.1:$s3_port
ENV
