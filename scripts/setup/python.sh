#!/usr/bin/env bash
# Python toolchain for the Python binding: a venv at $CACHE/venv with maturin, pytest, cryptography,
# ziglang (maturin --zig: wheels for older glibc than the build machine's) and auditwheel (all
# from PyPI). Idempotent: reused when its marker is there and the tools run.
# stdout: the path of $CACHE/python.env (export WECHATPAY_REFUND_PYTHON, MATURIN).
set -euo pipefail
SETUP_NAME=python
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

VENV="$CACHE/venv"
# Bump the spec to force a rebuild of the venv everywhere.
PIP_SPECS=("maturin>=1.9,<2" "pytest>=8,<10" "cryptography>=42" "ziglang>=0.13,<0.18" "auditwheel>=6,<7")
MARKER="$VENV/.wechatpay-refund-setup-complete"
ENV_FILE="$CACHE/python.env"

expected_marker() {
    # The spec plus the base interpreter: a different python3 means a different venv.
    printf '%s\n' "${PIP_SPECS[@]}" "base=$(python3 -c 'import sys; print(sys.version.split()[0], sys.base_prefix)' 2>/dev/null || echo none)"
}

venv_works() {
    "$VENV/bin/python" -c 'import cryptography, pytest, ziglang' >/dev/null 2>&1 &&
        "$VENV/bin/auditwheel" --version >/dev/null 2>&1 &&
        "$VENV/bin/maturin" --version >/dev/null 2>&1
}

describe() {
    printf 'Python %s, %s, pytest %s, cryptography %s' \
        "$("$VENV/bin/python" -c 'import platform; print(platform.python_version())')" \
        "$("$VENV/bin/maturin" --version)" \
        "$("$VENV/bin/python" -c 'import pytest; print(pytest.__version__)')" \
        "$("$VENV/bin/python" -c 'import cryptography; print(cryptography.__version__)')"
}

install_venv() {
    python3 -m venv "$VENV"
    PIP_CACHE_DIR="$CACHE/pip-cache" "$VENV/bin/python" -m pip install --upgrade "${PIP_SPECS[@]}"
}

if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$(expected_marker)" ] && venv_works; then
    say "reused $VENV ($(describe))"
else
    t0=$(now_ms)
    if [ -e "$VENV" ]; then
        say "removing incomplete or outdated venv at $VENV"
        rm -rf -- "$VENV"
    fi
    if ! command -v python3 >/dev/null 2>&1; then
        apt_install python3
    fi
    if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
        apt_install python3-venv
    fi
    python3 -c 'import venv, ensurepip' >/dev/null 2>&1 ||
        die "python3 ($(command -v python3)) cannot create venvs (no venv/ensurepip module)"
    step venv "python3 -m venv $VENV + pip install ${PIP_SPECS[*]}" install_venv
    venv_works || die "the venv at $VENV was built but 'import cryptography, pytest' or 'maturin --version' fails"
    expected_marker >"$MARKER"
    say "installed $VENV ($(describe)) in $(since "$t0")"
fi

write_env "$ENV_FILE" \
    "WECHATPAY_REFUND_PYTHON=$VENV/bin/python" \
    "MATURIN=$VENV/bin/maturin"
echo "$ENV_FILE"
