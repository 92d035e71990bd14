#!/usr/bin/env bash
# Build the FFI pieces of wechatpay-refund and (optionally) generate one language's bindings.
#
#   scripts/lib/build-ffi.sh --lib-dir DIR [--language kotlin|swift|python --out-dir DIR]
#
#   1. cargo build --release --features jvm       -> target/release/libwechatpay_refund.so
#      (the UniFFI exports + the JNI fast path of the Kotlin binding, src/jvm.rs; inert for Swift)
#   2. cargo build --features uniffi-cli --bin uniffi-bindgen -> target/debug/uniffi-bindgen
#      (the very build maturin makes for the wheel: one build serves both)
#   3. copies the .so into --lib-dir at once (another build of the crate WITHOUT the ffi feature
#      rewrites target/release/libwechatpay_refund.so; the copy is what callers use) and checks
#      that the copy really carries the UniFFI exports;
#   4. with --language: wipes --out-dir and generates the bindings there from the copy
#      (`uniffi-bindgen generate --no-format --library`, run from the repo root because bindgen
#      reads uniffi.toml through `cargo metadata`).
#
# Progress goes to stderr; stdout is one line: the absolute path of the copied .so.
# Generated code is never committed and never edited by hand: callers generate into build folders.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
LIB_NAME=libwechatpay_refund.so

say() { printf '[build-ffi] %s\n' "$*" >&2; }
die() { printf '[build-ffi] ERROR: %s\n' "$*" >&2; exit 1; }
now_ms() { date +%s%3N; }
since() { local ms=$(($(now_ms) - $1)); printf '%d.%ds' $((ms / 1000)) $(((ms % 1000) / 100)); }

LANGUAGE="" OUT_DIR="" LIB_DIR=""
while [ $# -gt 0 ]; do
    case "$1" in
        --language) LANGUAGE=${2:?--language needs a value}; shift 2 ;;
        --out-dir) OUT_DIR=${2:?--out-dir needs a value}; shift 2 ;;
        --lib-dir) LIB_DIR=${2:?--lib-dir needs a value}; shift 2 ;;
        -h | --help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
[ -n "$LIB_DIR" ] || die "--lib-dir DIR is required"
case "$LANGUAGE" in
    "") [ -z "$OUT_DIR" ] || die "--out-dir needs --language" ;;
    kotlin | swift | python) [ -n "$OUT_DIR" ] || die "--language needs --out-dir" ;;
    *) die "--language must be kotlin, swift or python (got $LANGUAGE)" ;;
esac

command -v cargo >/dev/null 2>&1 || die "cargo is not on PATH (install Rust: https://rustup.rs)"

# Is FILE a build of the library with the UniFFI exports (the ffi feature)?
has_ffi_exports() { grep -qa 'uniffi_wechatpay_refund_checksum_' "$1"; }
# Is FILE the Python wheel's build (feature "python": a CPython extension too, with undefined
# libpython symbols that the JVM or a Swift program cannot resolve)?
is_python_build() { grep -qa 'PyInit__speedups' "$1"; }

cd "$REPO"
# Cargo's output folder: CARGO_TARGET_DIR when set (relative to the repo, as cargo reads it here).
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$REPO/$TARGET_DIR" ;; esac
mkdir -p "$LIB_DIR"
LIB_DIR="$(cd "$LIB_DIR" && pwd -P)"
COPY="$LIB_DIR/$LIB_NAME"

for attempt in 1 2; do
    t0=$(now_ms)
    say "cargo build --release --features jvm (the .so: UniFFI exports + the JNI fast path) ..."
    cargo build --release --features jvm >&2 || die "cargo build --release --features jvm failed"
    say "  built in $(since "$t0")"
    # Copy through a temporary name: a process may have the previous copy mapped.
    cp -f "$TARGET_DIR/release/$LIB_NAME" "$COPY.tmp"
    mv -f "$COPY.tmp" "$COPY"
    if has_ffi_exports "$COPY" && ! is_python_build "$COPY"; then
        break
    fi
    # Another cargo build (without the ffi feature, or the wheel's with "python") replaced the
    # file between our build and copy.
    [ "$attempt" -eq 1 ] || die "$TARGET_DIR/release/$LIB_NAME is not a plain ffi build even after a rebuild"
    say "the .so was rewritten by another build with other features; building again"
done

t0=$(now_ms)
say "cargo build --features uniffi-cli --bin uniffi-bindgen ..."
cargo build --features uniffi-cli --bin uniffi-bindgen >&2 ||
    die "cargo build --features uniffi-cli --bin uniffi-bindgen failed"
say "  built in $(since "$t0")"
BINDGEN="$TARGET_DIR/debug/uniffi-bindgen"
[ -x "$BINDGEN" ] || die "$BINDGEN is missing after the build"

if [ -n "$LANGUAGE" ]; then
    t0=$(now_ms)
    mkdir -p "$OUT_DIR"
    OUT_DIR="$(cd "$OUT_DIR" && pwd -P)"
    case "$OUT_DIR/" in
        "$REPO"/bindings/*/build/* | "$REPO"/examples/*/build/* | /tmp/*) ;;
        *) die "refusing to wipe $OUT_DIR: generate into a build folder (bindings/<lang>/build/...)" ;;
    esac
    rm -rf -- "$OUT_DIR"
    mkdir -p "$OUT_DIR"
    "$BINDGEN" generate --no-format --library "$COPY" --language "$LANGUAGE" --out-dir "$OUT_DIR" >&2 ||
        die "uniffi-bindgen generate --language $LANGUAGE failed"
    say "generated $LANGUAGE bindings in $OUT_DIR ($(since "$t0")): $(cd "$OUT_DIR" && find . -type f | sed 's|^\./||' | tr '\n' ' ')"
fi
echo "$COPY"
