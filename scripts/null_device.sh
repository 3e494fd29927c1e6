# Sourced by the scripts that run cargo. On some machines (this project's CI among
# them) /dev/null is a regular file, not the null device: what programs throw away
# there piles up, and cargo's probe of rustc (`rustc - --print=...`, whose input
# cargo takes from /dev/null) reads it back as Rust source and fails with
# "failed to run `rustc` to learn about target-specific information". Emptying that
# file before each cargo command gives the probe what the real device would: nothing.
empty_null_device() {
    if [ -f /dev/null ] && [ -w /dev/null ]; then
        : >/dev/null
    fi
}
