#!/usr/bin/env bash
# Run a command inside the Swift (Debian trixie) chroot built by scripts/setup/swift.sh.
#
#   scripts/setup/swift-chroot-run.sh HOSTDIR -- CMD...
#
# HOSTDIR (e.g. the repo checkout) is bind-mounted at /src inside the chroot, and CMD runs as
#   chroot $ROOT /bin/bash -lc "cd /src && CMD"
# CMD's words are joined with spaces (like ssh), so `-- 'swift build && swift test'` and
# `-- swift test --filter Foo` both work. The environment inside is clean (HOME=/root, PATH,
# LANG=C.UTF-8, TERM): set variables inside CMD. The exit code is CMD's.
#
# Mounts: proc, sys, dev, dev/pts and /src. They are made in a private mount namespace
# (unshare) when the kernel allows it, so they are never visible outside and vanish even if this
# script is killed; they are ALSO unmounted by a trap on exit, failure or interrupt, and mounts
# left under the chroot by an earlier run (e.g. one killed with SIGKILL) are removed first.
#
# Environment: SWIFT_CHROOT (default $CACHE/swift-trixie), WECHATPAY_REFUND_CACHE,
# SWIFT_CHROOT_UNSHARE=0 to mount in the current namespace instead (trap-only cleanup).
# shellcheck disable=SC2317 # trap handlers are reached indirectly
set -euo pipefail
SETUP_NAME=swift-chroot-run
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() { die "usage: $0 HOSTDIR -- CMD..."; }
[ $# -ge 3 ] || usage
HOSTDIR_ARG=$1
[ "$2" = "--" ] || usage
shift 2
[ -d "$HOSTDIR_ARG" ] || die "HOSTDIR $HOSTDIR_ARG is not a directory"
HOSTDIR=$(cd "$HOSTDIR_ARG" && pwd -P)
need_root "running the Swift chroot"

ROOT="${SWIFT_CHROOT:-$CACHE/swift-trixie}"
[ -d "$ROOT" ] || die "no Swift chroot at $ROOT: run scripts/setup/swift.sh first"
ROOT=$(cd "$ROOT" && pwd -P)
[ -x "$ROOT/bin/bash" ] || die "$ROOT is not a usable chroot (no /bin/bash): run scripts/setup/swift.sh"
if [ ! -f "$ROOT/.wechatpay-refund-setup-complete" ] && [ "${_SWIFT_SETUP_INSTALLING:-0}" != 1 ]; then
    die "the Swift chroot at $ROOT is unfinished: run scripts/setup/swift.sh"
fi
case "$HOSTDIR/" in
    "$ROOT"/*) die "HOSTDIR must not be inside the chroot ($HOSTDIR)" ;;
esac

if [ "${_SWIFT_CHROOT_CHILD:-0}" != 1 ]; then
    # One lock per chroot: runs, builds and cleanups of the same chroot never overlap.
    # (swift.sh holds it already and says so with _SWIFT_CHROOT_LOCKED=1.)
    if [ "${_SWIFT_CHROOT_LOCKED:-0}" != 1 ]; then
        exec 9>"$ROOT.lock"
        if ! flock -n 9; then
            say "waiting for another run of the chroot $ROOT to finish ..."
            flock 9
        fi
        export _SWIFT_CHROOT_LOCKED=1
    fi
    # Leftovers of an earlier run in this (the host's) namespace.
    if [ -n "$(mounts_under "$ROOT")" ]; then
        say "removing mounts left under $ROOT by an earlier run"
        unmount_under "$ROOT" || die "could not remove the mounts left under $ROOT"
    fi
    if [ "${SWIFT_CHROOT_UNSHARE:-1}" = 1 ] && unshare --mount --propagation private true 2>/dev/null; then
        export _SWIFT_CHROOT_CHILD=1
        exec unshare --mount --propagation private "$BASH" "${BASH_SOURCE[0]}" "$HOSTDIR" -- "$@"
    fi
fi

cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if ! unmount_under "$ROOT"; then
        say "ERROR: mounts are left under $ROOT (see above)"
        [ "$rc" -ne 0 ] || rc=1
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

bind() {
    mount --bind "$1" "$2"
    mount --make-rslave "$2" 2>/dev/null || true # never propagate back to the host's tree
}

mkdir -p "$ROOT/proc" "$ROOT/sys" "$ROOT/dev" "$ROOT/src"
mount -t proc proc "$ROOT/proc"
mount -t sysfs sysfs "$ROOT/sys"
bind /dev "$ROOT/dev"
mkdir -p "$ROOT/dev/pts"
bind /dev/pts "$ROOT/dev/pts"
bind "$HOSTDIR" "$ROOT/src"
cp --remove-destination -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true

# CMD runs as its own process group (setsid) in the background so that a TERM/INT/HUP sent to
# this script stops all of it before the mounts are removed. The lock fd is not passed on.
setsid chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/bash -lc "cd /src && $*" <&0 9>&- &
child=$!
stop_child() {
    kill -TERM -- "-$child" 2>/dev/null || kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
    exit "$1"
}
trap 'stop_child 130' INT
trap 'stop_child 143' TERM
trap 'stop_child 129' HUP
set +e
wait "$child"
rc=$?
set -e
exit "$rc"
