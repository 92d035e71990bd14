#!/usr/bin/env bash
# Every toolchain the binding test suites need: python.sh, kotlin.sh, swift.sh, in that order
# (stops at the first failure), then one combined env file.
# stdout: the path of $CACHE/all.env (all the variables of python.env, kotlin.env, swift.env).
#   source "$(scripts/setup/all.sh)"
set -euo pipefail
SETUP_NAME=all
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ENV_FILE="$CACHE/all.env"
t_all=$(now_ms)
parts=()
for name in python kotlin swift; do
    t0=$(now_ms)
    out=$(bash "$SETUP_DIR/$name.sh") || die "scripts/setup/$name.sh failed (exit $?)"
    env_file=$(tail -n 1 <<<"$out")
    [ -f "$env_file" ] || die "scripts/setup/$name.sh did not print its env file (got: $env_file)"
    parts+=("$env_file")
    say "$name.sh done in $(since "$t0")"
done

{
    printf '# Written by scripts/setup/all.sh on %s. Use: source %s\n' "$(date -u +%FT%TZ)" "$ENV_FILE"
    printf 'export WECHATPAY_REFUND_CACHE=%q\n' "$CACHE"
    for f in "${parts[@]}"; do
        printf '# from %s\n' "$f"
        grep '^export ' "$f"
    done
} >"$ENV_FILE.tmp"
mv -f "$ENV_FILE.tmp" "$ENV_FILE"
say "all toolchains ready in $(since "$t_all")"
echo "$ENV_FILE"
