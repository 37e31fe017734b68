#!/usr/bin/env bash
# Start a Ceph RADOS Gateway, make the buckets test_s3_store expects, run it.
# Usage: s3_store.sh TEST_BINARY
set -u
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
if ! command -v radosgw >/dev/null || ! python3 -c 'import boto3' 2>/dev/null; then
	echo "SKIP: radosgw or python3's boto3 is missing (scripts/setup.sh installs both)"
	exit 77
fi
RGW=$(mktemp -d "${TMPDIR:-/tmp}/cps3store-XXXXXX")
trap '"$ROOT/scripts/rgw.sh" stop "$RGW"' EXIT
"$ROOT/scripts/rgw.sh" start "$RGW" || exit 1
. "$RGW/env"
unset AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3
python3 -c "
import boto3, os
s3 = boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT'])
s3.create_bucket(Bucket='plain-bucket')
s3.create_bucket(Bucket='locked-bucket', ObjectLockEnabledForBucket=True)
s3.create_bucket(Bucket='versioned-bucket')
s3.put_bucket_versioning(Bucket='versioned-bucket', VersioningConfiguration={'Status': 'Enabled'})
" || exit 1
"$1"
