# shellcheck shell=bash
# Sourced by the scripts in scripts/setup/. Not meant to be run on its own.
#
# Provides:
#   CACHE         the cache root ($WECHATPAY_REFUND_CACHE or ~/.cache/wechatpay-refund), absolute
#   LOG_DIR       $CACHE/logs, where every verbose tool output goes
#   SETUP_DIR     the absolute path of scripts/setup/
#   say / die     one-line progress / fatal error, both on stderr
#   step NAME DESC CMD...   run CMD with its output in $LOG_DIR/<script>-NAME.log, print one
#                 progress line with the time it took; on failure print the log's tail and exit 1
#   apt_install PKG...      install only the Debian packages not yet installed
#   write_env FILE KEY=VALUE...  write `export KEY=VALUE` lines atomically
#   mounts_under DIR / unmount_under DIR   list / remove every mount at or below DIR
#
# Convention (see README.md): progress goes to stderr; the ONLY thing a setup script prints on
# stdout is, on its last line, the absolute path of its env file ($CACHE/<name>.env), so that
#   source "$(scripts/setup/python.sh)"
# works. The env file holds `export KEY=VALUE` lines.

set -euo pipefail

# shellcheck disable=SC2034 # used by the scripts that source this file
SETUP_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
: "${SETUP_NAME:=$(basename "${BASH_SOURCE[1]:-setup}" .sh)}"

CACHE="${WECHATPAY_REFUND_CACHE:-$HOME/.cache/wechatpay-refund}"
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd -P)"
LOG_DIR="$CACHE/logs"
mkdir -p "$LOG_DIR"
export WECHATPAY_REFUND_CACHE="$CACHE"

say() { printf '[setup/%s] %s\n' "$SETUP_NAME" "$*" >&2; }
die() { printf '[setup/%s] ERROR: %s\n' "$SETUP_NAME" "$*" >&2; exit 1; }

# Milliseconds since the epoch, and a "12.3s" formatter.
now_ms() { date +%s%3N; }
fmt_secs() { local ms=$1; printf '%d.%ds' $((ms / 1000)) $(((ms % 1000) / 100)); }
since() { fmt_secs $(($(now_ms) - $1)); }

# step NAME DESC CMD...
# Runs CMD (a command or a shell function) with `set -e` in a subshell, output to the log.
step() {
    local name=$1 desc=$2
    shift 2
    local log="$LOG_DIR/$SETUP_NAME-$name.log" t0 rc
    t0=$(now_ms)
    printf '[setup/%s] %s ... ' "$SETUP_NAME" "$desc" >&2
    {
        printf '### %s\n### %s\n### started %s\n' "$desc" "$*" "$(date -u +%FT%TZ)"
    } >"$log"
    set +e
    (set -euo pipefail; "$@") >>"$log" 2>&1 </dev/null
    rc=$?
    set -e
    if [ "$rc" -ne 0 ]; then
        printf 'FAILED (exit %d after %s)\n' "$rc" "$(since "$t0")" >&2
        say "last 40 lines of $log:"
        tail -n 40 "$log" | sed 's/^/    | /' >&2
        die "$desc failed (full log: $log)"
    fi
    printf 'ok (%s)\n' "$(since "$t0")" >&2
}

need_root() {
    [ "$(id -u)" -eq 0 ] || die "$* needs root (apt-get / mount / chroot); run this script as root"
}

# ---------------------------------------------------------------- Debian packages

_APT_UPDATED=0
# Age (hours) past which the apt lists count as old when something must be installed.
APT_LISTS_MAX_AGE_HOURS="${APT_LISTS_MAX_AGE_HOURS:-24}"

pkg_installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

_apt_lists_usable() {
    # At least one Packages index, fresher than APT_LISTS_MAX_AGE_HOURS.
    local newest
    # (apt may date a list by the server's Last-Modified; our own stamp records when we updated.)
    ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 || return 1
    newest=$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -printf '%T@\n' 2>/dev/null | sort -n | tail -n 1)
    if [ -f "$CACHE/.apt-updated" ]; then
        newest=$(printf '%s\n%s\n' "$newest" "$(stat -c %Y "$CACHE/.apt-updated")" | sort -n | tail -n 1)
    fi
    [ $(($(date +%s) - ${newest%.*})) -lt $((APT_LISTS_MAX_AGE_HOURS * 3600)) ]
}

_apt_has_candidates() {
    local p
    local out
    for p in "$@"; do
        out=$(apt-cache policy "$p" 2>/dev/null) || return 1
        grep -q 'Candidate: [^(]' <<<"$out" || return 1
    done
}

_apt_get() { env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@"; }

apt_update() {
    step apt-update "apt-get update" _apt_get update
    _APT_UPDATED=1
    touch "$CACHE/.apt-updated"
}

# apt_install PKG...: install (no recommends) only those not installed yet.
apt_install() {
    local missing=() p
    for p in "$@"; do
        pkg_installed "$p" || missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    need_root "installing Debian packages (${missing[*]})"
    if [ "$_APT_UPDATED" -eq 0 ] && ! { _apt_lists_usable && _apt_has_candidates "${missing[@]}"; }; then
        apt_update
    fi
    if [ "$_APT_UPDATED" -eq 0 ]; then
        # Lists looked fine; if the download still fails (stale lists), update once and retry.
        local log="$LOG_DIR/$SETUP_NAME-apt-install.log"
        printf '[setup/%s] apt-get install %s ... ' "$SETUP_NAME" "${missing[*]}" >&2
        local t0
        t0=$(now_ms)
        if _apt_get install -y --no-install-recommends "${missing[@]}" >"$log" 2>&1 </dev/null; then
            printf 'ok (%s)\n' "$(since "$t0")" >&2
            return 0
        fi
        printf 'failed; retrying after apt-get update\n' >&2
        apt_update
    fi
    step apt-install "apt-get install ${missing[*]}" \
        _apt_get install -y --no-install-recommends "${missing[@]}"
    for p in "${missing[@]}"; do
        pkg_installed "$p" || die "Debian package $p is still not installed after apt-get install"
    done
}

# ---------------------------------------------------------------- env files

# write_env FILE KEY=VALUE...
write_env() {
    local file=$1 kv
    shift
    {
        printf '# Written by scripts/setup/%s.sh on %s. Use: source %s\n' \
            "$SETUP_NAME" "$(date -u +%FT%TZ)" "$file"
        for kv in "$@"; do
            printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
        done
    } >"$file.tmp"
    mv -f "$file.tmp" "$file"
}

# ---------------------------------------------------------------- mounts

# Every mount point at or below DIR (DIR must be canonical), deepest first.
mounts_under() {
    awk -v r="$1" '{
        p = $2; gsub(/\\040/, " ", p); gsub(/\\011/, "\t", p); gsub(/\\134/, "\\", p)
        if (p == r || index(p, r "/") == 1) print p
    }' /proc/mounts | sort -r
}

# Unmount everything at or below DIR (stacked mounts too); `umount -l` as the fallback.
unmount_under() {
    local root=$1 _ m ms left
    for _ in 1 2 3 4 5 6 7 8; do
        mapfile -t ms < <(mounts_under "$root")
        [ "${#ms[@]}" -eq 0 ] && return 0
        for m in "${ms[@]}"; do
            umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
        done
    done
    left=$(mounts_under "$root")
    if [ -n "$left" ]; then
        printf '[setup/%s] could not unmount: %s\n' "$SETUP_NAME" "$(tr '\n' ' ' <<<"$left")" >&2
        return 1
    fi
}

# Remove a directory tree that may have had things mounted under it: refuse while any mount is left.
safe_rm_tree() {
    local dir=$1
    [ -e "$dir" ] || return 0
    unmount_under "$dir" || die "refusing to delete $dir: mounts are still active below it"
    rm -rf --one-file-system -- "$dir"
}
