#!/usr/bin/env bash
# Swift toolchain for the Swift binding. Debian 12 has no Swift; Debian 13 (trixie) packages
# swiftlang (6.0.x), which needs trixie's glibc, so Swift lives in a trixie chroot:
#   - debootstrap (Debian package) builds a minbase trixie at $CACHE/swift-trixie from
#     http://deb.debian.org/debian;
#   - inside it: apt-get install --no-install-recommends swiftlang libc6-dev; apt-get clean.
# Proven on a cold install by `swift build`, running, and `swift test` (XCTest) of a tiny SwiftPM
# package through scripts/setup/swift-chroot-run.sh. Needs root (debootstrap, mount, chroot).
# stdout: the path of $CACHE/swift.env (SWIFT_CHROOT, SWIFT_CHROOT_RUN, SWIFT_VERSION).
set -euo pipefail
SETUP_NAME=swift
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SUITE=trixie
MIRROR=http://deb.debian.org/debian
PACKAGES=(swiftlang libc6-dev)
ROOT="$CACHE/swift-trixie"
MARKER="$ROOT/.wechatpay-refund-setup-complete"
SPEC="debootstrap --variant=minbase $SUITE $MIRROR + ${PACKAGES[*]}"
RUN="$SETUP_DIR/swift-chroot-run.sh"
ENV_FILE="$CACHE/swift.env"
PROBE_DIR="$CACHE/swift-probe" # an empty HOSTDIR for checks that need no sources

need_root "building/using the Swift chroot"

# Hold the chroot's lock for the whole script: no run of the chroot overlaps its (re)build.
exec 9>"$ROOT.lock"
if ! flock -n 9; then
    say "waiting for another user of $ROOT to finish ..."
    flock 9
fi
export _SWIFT_CHROOT_LOCKED=1
# debootstrap mounts proc/sys in the target itself; never leave anything behind.
trap 'unmount_under "$ROOT" || true' EXIT

mkdir -p "$PROBE_DIR"

swift_version() {
    # Prints e.g. "6.0.3" (runs swift inside the chroot, with its mounts).
    local out
    out=$("$RUN" "$PROBE_DIR" -- swift --version 2>&1) || return 1
    sed -n 's/.*Swift version \([0-9][0-9.]*\).*/\1/p' <<<"$out" | head -n 1
}

do_debootstrap() {
    mkdir -p "$CACHE/debootstrap-debs"
    debootstrap --variant=minbase --cache-dir="$CACHE/debootstrap-debs" "$SUITE" "$ROOT" "$MIRROR"
    # No service starts inside the chroot.
    printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
    chmod +x "$ROOT/usr/sbin/policy-rc.d"
}

install_swift() {
    _SWIFT_SETUP_INSTALLING=1 "$RUN" "$PROBE_DIR" -- \
        "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${PACKAGES[*]} && apt-get clean"
}

prove() {
    local d="$CACHE/proof/swift-hello"
    rm -rf "$d"
    mkdir -p "$d/Sources/Greeter" "$d/Sources/Hello" "$d/Tests/GreeterTests"
    cat >"$d/Package.swift" <<'EOF'
// swift-tools-version:5.9
import PackageDescription

let package = Package(
    name: "Hello",
    targets: [
        .target(name: "Greeter"),
        .executableTarget(name: "Hello", dependencies: ["Greeter"]),
        .testTarget(name: "GreeterTests", dependencies: ["Greeter"]),
    ]
)
EOF
    cat >"$d/Sources/Greeter/Greeter.swift" <<'EOF'
public func greeting(_ name: String) -> String { "hello, \(name), from Swift" }
EOF
    cat >"$d/Sources/Hello/main.swift" <<'EOF'
import Greeter
print(greeting("wechatpay-refund"))
EOF
    cat >"$d/Tests/GreeterTests/GreeterTests.swift" <<'EOF'
import XCTest
@testable import Greeter

final class GreeterTests: XCTestCase {
    func testGreeting() { XCTAssertEqual(greeting("x"), "hello, x, from Swift") }
}
EOF
    _SWIFT_SETUP_INSTALLING=1 "$RUN" "$d" -- \
        'set -o pipefail; swift build && .build/debug/Hello | tee hello.out && swift test 2>&1 | tee test.out'
    grep -q 'hello, wechatpay-refund, from Swift' "$d/hello.out"
    grep -Eq "Executed 1 test, with 0 failures" "$d/test.out"
    rm -rf "$d"
}

if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$SPEC" ] && SWIFT_VERSION=$(swift_version) && [ -n "$SWIFT_VERSION" ]; then
    say "reused $ROOT (Swift $SWIFT_VERSION)"
else
    t0=$(now_ms)
    if [ -e "$ROOT" ]; then
        say "removing incomplete or outdated chroot at $ROOT"
        safe_rm_tree "$ROOT"
    fi
    apt_install debootstrap debian-archive-keyring
    step debootstrap "debootstrap --variant=minbase $SUITE into $ROOT" do_debootstrap
    step apt-swift "apt-get install ${PACKAGES[*]} in the chroot" install_swift
    step prove "prove: swift build + run + swift test (XCTest) in the chroot" prove
    SWIFT_VERSION=$(_SWIFT_SETUP_INSTALLING=1 swift_version) || SWIFT_VERSION=
    [ -n "$SWIFT_VERSION" ] || die "swift --version fails in $ROOT"
    echo "$SPEC" >"$MARKER"
    say "installed $ROOT (Swift $SWIFT_VERSION, $(du -sh --one-file-system "$ROOT" | cut -f1)) in $(since "$t0")"
fi

write_env "$ENV_FILE" \
    "SWIFT_CHROOT=$ROOT" \
    "SWIFT_CHROOT_RUN=$RUN" \
    "SWIFT_VERSION=$SWIFT_VERSION"
echo "$ENV_FILE"
