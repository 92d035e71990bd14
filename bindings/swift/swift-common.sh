# shellcheck shell=bash
# Sourced by scripts/test-swift and scripts/run-example-swift (set REPO first). Not run on its own.
#
#   swift_setup            the trixie chroot with swiftlang (scripts/setup/swift.sh), reused when present
#   swift_build_binding    the .so (built on the host) into bindings/swift/build/lib, and the generated
#                          Swift + C header + module.modulemap placed into the package's Sources/
#   swift_in_chroot DIR CMD...   run CMD inside the chroot with the repository at /src, cwd /src/DIR
#                          (mounts are always removed: scripts/setup/swift-chroot-run.sh)
set -euo pipefail

SDIR="$REPO/bindings/swift"
SBUILD="$SDIR/build"

say() { printf '[swift] %s\n' "$*" >&2; }
die() { printf '[swift] ERROR: %s\n' "$*" >&2; exit 1; }
now_ms() { date +%s%3N; }
since() { local ms=$(($(now_ms) - $1)); printf '%d.%ds' $((ms / 1000)) $(((ms % 1000) / 100)); }

swift_setup() {
    local t0 env_file
    t0=$(now_ms)
    [ "$(id -u)" -eq 0 ] || die "the Swift chroot needs root (debootstrap, mount, chroot)"
    env_file=$(bash "$REPO/scripts/setup/swift.sh" | tail -n 1) || die "scripts/setup/swift.sh failed"
    [ -f "$env_file" ] || die "scripts/setup/swift.sh did not print its env file (got: $env_file)"
    # shellcheck disable=SC1090
    source "$env_file"
    if [ -z "${SWIFT_CHROOT:-}" ] || [ ! -d "$SWIFT_CHROOT" ]; then
        die "no Swift chroot (SWIFT_CHROOT=${SWIFT_CHROOT:-})"
    fi
    [ -x "${SWIFT_CHROOT_RUN:-}" ] || die "scripts/setup/swift-chroot-run.sh is missing"
    [ -n "${SWIFT_VERSION:-}" ] || die "swift --version did not work in the chroot"
    say "toolchain ready ($(since "$t0")): Swift $SWIFT_VERSION in $SWIFT_CHROOT"
}

# Copy only when the content changed, so that SwiftPM does not rebuild what did not change.
place() {
    local src=$1 dst=$2
    mkdir -p "$(dirname "$dst")"
    if ! cmp -s "$src" "$dst"; then
        cp -f "$src" "$dst"
    fi
}

swift_build_binding() {
    local so gen="$SBUILD/generated"
    so=$("$REPO/scripts/lib/build-ffi.sh" --lib-dir "$SBUILD/lib" --language swift --out-dir "$gen") ||
        die "building the .so / generating Swift failed"
    [ -f "$so" ] || die "no .so at $so"
    for f in WechatpayRefund.swift WechatpayRefundFFI.h WechatpayRefundFFI.modulemap; do
        [ -f "$gen/$f" ] || die "uniffi-bindgen did not generate $f"
    done
    # SwiftPM's .systemLibrary target wants the module map named module.modulemap.
    place "$gen/WechatpayRefundFFI.h" "$SDIR/Sources/WechatpayRefundFFI/WechatpayRefundFFI.h"
    place "$gen/WechatpayRefundFFI.modulemap" "$SDIR/Sources/WechatpayRefundFFI/module.modulemap"
    place "$gen/WechatpayRefund.swift" "$SDIR/Sources/WechatpayRefund/WechatpayRefund.swift"
    say "placed the generated Swift, header and module.modulemap in bindings/swift/Sources/"
}

swift_in_chroot() {
    local dir=$1
    shift
    "$SWIFT_CHROOT_RUN" "$REPO" -- "cd /src/$dir && $*"
}
