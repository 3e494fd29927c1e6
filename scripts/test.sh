#!/usr/bin/env bash
# Everything the tests need, then every check: formatting, lints, the whole suite.
# Runs the same on a fresh clone, in CI (CI=true, no terminal) and on a laptop.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/null_device.sh

step() { printf '\n==> %s\n' "$*" >&2; }

# The test peers: moto in server mode (AWS), from PyPI, in a venv of our own.
VENV="${EVIDRA_TEST_VENV:-$PWD/.venv}"
if ! "$VENV/bin/python" -c 'import moto.server' 2>/dev/null; then
    step "setting up the test venv in $VENV (moto[server])"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r scripts/test-requirements.txt
fi
export EVIDRA_TEST_PYTHON="$VENV/bin/python"

step "cargo fmt --check"
empty_null_device
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
empty_null_device
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "cargo test"
empty_null_device
cargo test --workspace --quiet 2>&1 | tee /tmp/evidra-test-$$.log
status=${PIPESTATUS[0]}
rm -f /tmp/evidra-test-$$.log
exit "$status"
