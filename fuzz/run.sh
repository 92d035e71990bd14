#!/usr/bin/env bash
# Run one fuzz target for a bounded time, single process, without touching the committed seeds.
#
#   fuzz/run.sh TARGET [SECONDS] [extra libFuzzer flags...]
#
# New inputs go to fuzz/work/TARGET (git-ignored); fuzz/corpus/TARGET (the committed seeds) is
# only read. Crashes land in fuzz/artifacts/TARGET/. Uses `cargo +nightly fuzz` when a nightly
# toolchain is installed, else the stable toolchain with RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: fuzz/run.sh TARGET [SECONDS] [libFuzzer flags...]}
seconds=${2:-60}
shift $(( $# >= 2 ? 2 : 1 ))
command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz missing: cargo install cargo-fuzz" >&2; exit 1; }
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    fuzz=(cargo +nightly fuzz)
else
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
fi
mkdir -p "fuzz/work/$target"
exec "${fuzz[@]}" run "$target" "fuzz/work/$target" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -print_final_stats=1 -dict=fuzz/wechatpay.dict "$@"
