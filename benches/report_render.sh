#!/usr/bin/env bash
# Times PDF and HTML (and the other formats) for a run with about 10,000 findings.
#
# Makes an exported-files folder for one AWS account with USERS IAM users (credential
# report + account authorization details), collects it into a fresh store, then renders
# every format of the SOC 2 report and prints how long each took.
#
#   benches/report_render.sh            # 1,250 users: about 10,000 findings (8 per user)
#   USERS=5000 benches/report_render.sh
#
# Uses the release build (CARGO_TARGET_DIR is honoured); EVIDRA_BIN overrides it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/null_device.sh

USERS="${USERS:-1250}"
FRAMEWORK="${FRAMEWORK:-soc2}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

if [[ -z "${EVIDRA_BIN:-}" ]]; then
    empty_null_device
    cargo build --release --quiet
    EVIDRA_BIN="${CARGO_TARGET_DIR:-target}/release/evidra"
fi

python3 - "$WORK/exports/aws-123456789012/iam" "$USERS" <<'PY'
import csv, json, os, sys

out, users = sys.argv[1], int(sys.argv[2])
os.makedirs(out)
account = "123456789012"
header = ["user", "arn", "user_creation_time", "password_enabled", "password_last_used",
          "password_last_changed", "password_next_rotation", "mfa_active", "access_key_1_active",
          "access_key_1_last_rotated", "access_key_1_last_used_date", "access_key_1_last_used_region",
          "access_key_1_last_used_service", "access_key_2_active", "access_key_2_last_rotated",
          "access_key_2_last_used_date", "access_key_2_last_used_region", "access_key_2_last_used_service",
          "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated"]
na = "N/A"
rows = [["<root_account>", f"arn:aws:iam::{account}:root", "2020-01-15T21:28:40+00:00", "not_supported",
         "2026-09-16T02:07:41+00:00", "not_supported", "not_supported", "true", "false", na, na, na, na,
         "false", na, na, na, na, "false", na, "false", na]]
details = []
for i in range(users):
    name = f"user{i:05d}"
    arn = f"arn:aws:iam::{account}:user/{name}"
    # A mix, so every IAM user control has passes and failures.
    console = i % 3 != 0
    mfa = i % 4 != 0
    key1 = i % 2 == 0
    key2 = i % 7 == 0
    rotated = "2026-01-01T00:00:00+00:00" if i % 5 == 0 else "2026-10-01T00:00:00+00:00"
    used = "2026-11-10T00:00:00+00:00" if i % 6 else "2025-01-01T00:00:00+00:00"
    rows.append([name, arn, "2024-01-01T00:00:00+00:00", str(console).lower(), used if console else na,
                 "2026-06-01T00:00:00+00:00" if console else na, na, str(mfa).lower(),
                 str(key1).lower(), rotated if key1 else na, used if key1 else na,
                 "us-east-1" if key1 else na, "s3" if key1 else na,
                 str(key2).lower(), rotated if key2 else na, used if key2 else na,
                 "us-east-1" if key2 else na, "s3" if key2 else na, "false", na, "false", na])
    user = {"Path": "/", "UserName": name, "UserId": f"AIDA{i:017d}", "Arn": arn,
            "CreateDate": "2024-01-01T00:00:00+00:00", "GroupList": [], "AttachedManagedPolicies": [],
            "Tags": []}
    if i % 9 == 0:
        user["UserPolicyList"] = [{"PolicyName": "inline", "PolicyDocument": {
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}]
    if i % 11 == 0:
        user["AttachedManagedPolicies"] = [{"PolicyName": "AdministratorAccess",
                                            "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}]
    details.append(user)
with open(os.path.join(out, "credential-report.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
with open(os.path.join(out, "account-authorization-details.json"), "w") as f:
    json.dump({"UserDetailList": details, "GroupDetailList": [], "RoleDetailList": [], "Policies": []}, f)
PY

# Seconds since $1 (an $EPOCHREALTIME), with no dependency beyond bash and awk.
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }

export EVIDRA_NOW=2026-11-20T00:00:00Z
DB="$WORK/evidra.db"
start=$EPOCHREALTIME
"$EVIDRA_BIN" collect --source files --path "$WORK/exports" --db "$DB" >/dev/null 2>"$WORK/collect.err" || {
    code=$?
    # 3 = partial (gaps): expected, this export has no Config data.
    [[ $code == 3 ]] || { cat "$WORK/collect.err" >&2; exit "$code"; }
}
collect=$(elapsed "$start")
findings=$("$EVIDRA_BIN" report --db "$DB" --framework "$FRAMEWORK" --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["findings"]))')
printf '%s users, %s findings in the %s report (collect + evaluate: %.1f s)\n' "$USERS" "$findings" "$FRAMEWORK" "$collect"

for format in pdf html json csv oscal; do
    out="$WORK/report.$format"
    start=$EPOCHREALTIME
    "$EVIDRA_BIN" report --db "$DB" --framework "$FRAMEWORK" --format "$format" -o "$out"
    took=$(elapsed "$start")
    printf '  %-5s %6.2f s  %8d bytes\n' "$format" "$took" "$(stat -c %s "$out")"
done
start=$EPOCHREALTIME
"$EVIDRA_BIN" report --db "$DB" --framework "$FRAMEWORK" --format pdf --audience customer -o "$WORK/customer.pdf"
printf '  %-5s %6.2f s  (customer)\n' pdf "$(elapsed "$start")"
