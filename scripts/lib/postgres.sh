# A throwaway PostgreSQL server for the ledger's tests (sourced by scripts/test and the binding
# scripts): `postgres_start` exports WECHATPAY_REFUND_TEST_POSTGRES_URL
# (postgresql://refunds@127.0.0.1:PORT/postgres, trust auth, 127.0.0.1 only) and stops the
# server when the calling shell exits. With that variable already set (a server of your own, or
# an outer script's), it does nothing. Needs the PostgreSQL server programs (initdb, pg_ctl;
# `pg_config --bindir` names their folder); initdb refuses root, so as root they run as
# `nobody` (runuser).

postgres_start() {
    if [ -n "${WECHATPAY_REFUND_TEST_POSTGRES_URL:-}" ]; then
        return 0
    fi
    local bin
    bin=$(pg_config --bindir 2>/dev/null || true)
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
        bin=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")
    fi
    if { [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; } && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        # Not installed: the distribution's package (its registry), as the other toolchains are.
        echo "installing the PostgreSQL server programs (apt-get install postgresql) ..." >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null 2>&1 ||
            { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null 2>&1; } || true
        bin=$(pg_config --bindir 2>/dev/null || ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    fi
    if [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; then
        echo "the ledger's tests need a PostgreSQL server (initdb, pg_ctl): install postgresql (15 or later)" >&2
        return 1
    fi
    local as=()
    if [ "$(id -u)" = 0 ]; then
        as=(runuser -u nobody --)
    fi
    WECHATPAY_REFUND_PG_DIR=$(mktemp -d /tmp/wechatpay-refund-pg.XXXXXX)
    chmod 755 "$WECHATPAY_REFUND_PG_DIR"
    [ "$(id -u)" = 0 ] && chown nobody "$WECHATPAY_REFUND_PG_DIR"
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    (
        cd "$WECHATPAY_REFUND_PG_DIR"
        "${as[@]}" "$bin/initdb" -D "$WECHATPAY_REFUND_PG_DIR/data" -A trust -U refunds >"$WECHATPAY_REFUND_PG_DIR/initdb.log" 2>&1 \
            || { cat "$WECHATPAY_REFUND_PG_DIR/initdb.log" >&2; exit 1; }
        "${as[@]}" "$bin/pg_ctl" -D "$WECHATPAY_REFUND_PG_DIR/data" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $WECHATPAY_REFUND_PG_DIR -c max_connections=200 -c fsync=off" \
            -l "$WECHATPAY_REFUND_PG_DIR/log" start >/dev/null \
            || { cat "$WECHATPAY_REFUND_PG_DIR/log" >&2; exit 1; }
    ) || return 1
    export WECHATPAY_REFUND_TEST_POSTGRES_URL="postgresql://refunds@127.0.0.1:$port/postgres"
    export WECHATPAY_REFUND_PG_BIN="$bin"
    trap postgres_stop EXIT
    echo "PostgreSQL for the ledger's tests: $WECHATPAY_REFUND_TEST_POSTGRES_URL ($("$bin/postgres" --version))"
}

postgres_stop() {
    if [ -n "${WECHATPAY_REFUND_PG_DIR:-}" ] && [ -d "$WECHATPAY_REFUND_PG_DIR/data" ]; then
        local as=()
        [ "$(id -u)" = 0 ] && as=(runuser -u nobody --)
        (cd "$WECHATPAY_REFUND_PG_DIR" && "${as[@]}" "$WECHATPAY_REFUND_PG_BIN/pg_ctl" -D "$WECHATPAY_REFUND_PG_DIR/data" -m fast stop >/dev/null 2>&1) || true
        rm -rf "$WECHATPAY_REFUND_PG_DIR"
    fi
}
