#!/usr/bin/env bash
# Scale benchmark (issue 8): collect from files + evaluate every control + JSON report,
# for N IAM users and N Config items (default 100,000 each). Prints wall time and peak
# memory of each step. Goal: the whole of it under 10 s and 1 GiB on 2 cores.
#
#   benches/scale.sh [N]        (builds the release binary first)
#
# The collect step also prints its phases (EVIDRA_TIMINGS=1: collect, evaluate, seal).
# KEEP=DIR keeps the generated exports and store in DIR instead of a temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/null_device.sh
N="${1:-100000}"
empty_null_device
cargo build --release --quiet
BIN="$PWD/target/release/evidra"
if [ -n "${KEEP:-}" ]; then
    # The last report too: replacing a 500 MB file frees its blocks first, 0.3 s that are
    # not the report's.
    WORK="$KEEP"; mkdir -p "$WORK"; rm -f "$WORK/evidra.db"* "$WORK/soc2.json"
else
    WORK="$(mktemp -d)"
    trap 'rm -rf "$WORK"' EXIT
fi
python3 - "$WORK/exports" "$N" <<'PY'
import json, os, sys
out, n = sys.argv[1], int(sys.argv[2])
acct = "123456789012"
os.makedirs(f"{out}/aws-{acct}/config/us-east-1", exist_ok=True)
header = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
rows = [header, f"<root_account>,arn:aws:iam::{acct}:root,2020-01-01T00:00:00+00:00,not_supported,2026-10-01T00:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"]
users = []
for i in range(n):
    name = f"user{i:06d}"
    pw = "true" if i % 2 == 0 else "false"
    mfa = "true" if i % 3 else "false"
    key = "true" if i % 4 == 0 else "false"
    rot = "2026-01-01T00:00:00+00:00" if i % 8 == 0 else "2026-11-01T00:00:00+00:00"
    rows.append(f"{name},arn:aws:iam::{acct}:user/{name},2024-01-01T00:00:00+00:00,{pw},2026-11-10T00:00:00+00:00,2026-01-01T00:00:00+00:00,N/A,{mfa},{key},{rot},2026-11-10T00:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A")
    users.append({"Path": "/", "UserName": name, "UserId": f"AIDA{i:016d}", "Arn": f"arn:aws:iam::{acct}:user/{name}",
                  "CreateDate": "2024-01-01T00:00:00+00:00", "GroupList": ["Developers"], "AttachedManagedPolicies": [], "Tags": []})
open(f"{out}/aws-{acct}/credential-report.csv", "w").write("\n".join(rows))
json.dump({"UserDetailList": users, "GroupDetailList": [], "RoleDetailList": [], "Policies": []}, open(f"{out}/aws-{acct}/auth.json", "w"))
json.dump({"PasswordPolicy": {"MinimumPasswordLength": 14}}, open(f"{out}/aws-{acct}/policy.json", "w"))
json.dump({"SummaryMap": {"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0}}, open(f"{out}/aws-{acct}/summary.json", "w"))
items = []
for i in range(n):
    if i % 2 == 0:
        items.append({"awsAccountId": acct, "awsRegion": "us-east-1", "resourceType": "AWS::S3::Bucket", "resourceId": f"bucket-{i}",
                      "ARN": f"arn:aws:s3:::bucket-{i}", "configurationItemStatus": "OK", "configuration": {"name": f"bucket-{i}"},
                      "supplementaryConfiguration": {"BucketVersioningConfiguration": {"status": "Enabled" if i % 4 else "Off"},
                        "PublicAccessBlockConfiguration": {"blockPublicAcls": True, "ignorePublicAcls": True, "blockPublicPolicy": True, "restrictPublicBuckets": True},
                        "ServerSideEncryptionConfiguration": {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]},
                        "BucketPolicy": {"policyText": None}}, "tags": {}})
    else:
        items.append({"awsAccountId": acct, "awsRegion": "us-east-1", "resourceType": "AWS::EC2::Volume", "resourceId": f"vol-{i}",
                      "ARN": f"arn:aws:ec2:us-east-1:{acct}:volume/vol-{i}", "configurationItemStatus": "OK",
                      "configuration": {"encrypted": i % 3 != 0, "volumeId": f"vol-{i}"}, "supplementaryConfiguration": {}, "tags": {}})
json.dump({"fileVersion": "1.0", "configSnapshotId": "bench", "configurationItems": items}, open(f"{out}/aws-{acct}/config/us-east-1/snapshot.json", "w"))
PY
# The generated exports (100 MB at N = 100000) are written out to disk now, not while
# evidra reads them: the kernel's writing them back took CPU from the collection.
sync
cd "$WORK"
rm -f steps.txt
measure() {
    local label="$1"; shift
    local status=0
    /usr/bin/time -o step.txt -f "%e %M" "$@" > /dev/null || status=$?
    read -r seconds kib < <(tail -n 1 step.txt)
    echo "$label: $seconds s wall, $kib KiB peak RSS"
    echo "$seconds $kib" >> steps.txt
    return "$status"
}
echo "N = $N IAM users + $N Config items ($(du -sh exports | cut -f1) of exports)"
measure "collect + evaluate" env EVIDRA_TIMINGS=1 EVIDRA_NOW=2026-11-20T00:00:00Z "$BIN" collect --source files --path exports || true
measure "JSON report (soc2)" "$BIN" report --framework soc2 --format json -o soc2.json
echo "findings: $(python3 -c 'import json;print(len(json.load(open("soc2.json"))["findings"]))'), store: $(du -h evidra.db | cut -f1)"
# The goal (issue 8) is for the steps together: their wall times added, the largest peak.
awk '{ t += $1; if ($2 > m) m = $2 } END {
    printf "all steps: %.1f s wall, %.2f GiB largest peak (the goal, at N = 100000: under 10 s and 1 GiB)\n", t, m / 1048576 }' steps.txt
