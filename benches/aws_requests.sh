#!/usr/bin/env bash
# AWS collection benchmark (issues 3 and 8): seed moto with N IAM users, collect with
# `evidra collect --source aws`, and report the requests moto served and the wall time.
#
#   benches/aws_requests.sh [N]     (default 1000; needs .venv from scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/null_device.sh
N="${1:-1000}"
PY="${EVIDRA_TEST_PYTHON:-$PWD/.venv/bin/python}"
empty_null_device
cargo build --release --quiet
BIN="$PWD/target/release/evidra"
WORK="$(mktemp -d)"
PORT="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$PY" -m moto.server -H 127.0.0.1 -p "$PORT" > "$WORK/moto.out" 2> "$WORK/moto.log" &
MOTO=$!
trap 'kill $MOTO 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
"$PY" tests/peers/seed_aws.py "http://127.0.0.1:$PORT" users "$N" > /dev/null
before=$(grep -c 'HTTP/1.1"' "$WORK/moto.log" || true)
cd "$WORK"
start=$(date +%s.%N)
AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
    "$BIN" collect --source aws > /dev/null 2> collect.err || true
end=$(date +%s.%N)
after=$(grep -c 'HTTP/1.1"' "$WORK/moto.log" || true)
echo "N = $N IAM users: $((after - before)) requests, $(python3 -c "print(round($end - $start, 2))") s (collect + evaluate + seal)"
grep 'HTTP/1.1"' "$WORK/moto.log" | tail -n $((after - before)) | sed -E 's/.*"(POST|GET) ([^ ]*) .*/\1 \2/' | sort | uniq -c | sort -rn | head -5 || true
