# shellcheck shell=bash
# Sourced by scripts/test-kotlin and scripts/run-example-kotlin (set REPO first). Not run on its own.
#
#   kotlin_setup            the toolchain (scripts/setup/kotlin.sh) and its env file
#   kotlin_build_binding    .so + generated Kotlin -> build/libs/{wechatpay-refund,wechatpay-refund-native}.jar;
#                           sets KOTLIN_BINDING_JAR and KOTLIN_RUNTIME_CP (binding, native, JNA, stdlib)
#   kotlin_compile_jar OUT CLASSPATH SRC...   kotlinc SRC (files or folders) into the jar OUT,
#                           reused while the sources, the classpath jars and kotlinc are unchanged
set -euo pipefail

KDIR="$REPO/bindings/kotlin"
BUILD="$KDIR/build"

say() { printf '[kotlin] %s\n' "$*" >&2; }
die() { printf '[kotlin] ERROR: %s\n' "$*" >&2; exit 1; }
now_ms() { date +%s%3N; }
since() { local ms=$(($(now_ms) - $1)); printf '%d.%ds' $((ms / 1000)) $(((ms % 1000) / 100)); }

kotlin_setup() {
    local t0 env_file
    t0=$(now_ms)
    env_file=$(bash "$REPO/scripts/setup/kotlin.sh" | tail -n 1) || die "scripts/setup/kotlin.sh failed"
    [ -f "$env_file" ] || die "scripts/setup/kotlin.sh did not print its env file (got: $env_file)"
    # shellcheck disable=SC1090
    source "$env_file"
    local v
    for v in KOTLINC KOTLIN_STDLIB_JAR JNA_JAR JUNIT_CONSOLE_JAR JUNIT_API_JAR APIGUARDIAN_JAR OPENTEST4J_JAR; do
        if [ -z "${!v:-}" ] || [ ! -e "${!v}" ]; then
            die "the Kotlin toolchain is incomplete: $v=${!v:-} is missing"
        fi
    done
    command -v java >/dev/null 2>&1 || die "java is not on PATH"
    command -v jar >/dev/null 2>&1 || die "the JDK's jar tool is not on PATH"
    say "toolchain ready ($(since "$t0")): $("$KOTLINC" -version 2>&1 | grep -o 'kotlinc-jvm [0-9.]*'), $(basename "$JNA_JAR")"
}

# Content hash of files and folders (folders: every file under them), for build caching.
hash_inputs() {
    local p
    for p in "$@"; do
        if [ -d "$p" ]; then
            find "$p" -type f -print0 | sort -z | xargs -0 -r sha256sum
        elif [ -f "$p" ]; then
            sha256sum "$p"
        else
            echo "missing $p"
        fi
    done | sha256sum | cut -d' ' -f1
}

kotlin_compile_jar() {
    local out=$1 cp=$2
    shift 2
    local srcs=() p f
    for p in "$@"; do
        if [ -d "$p" ]; then
            while IFS= read -r -d '' f; do srcs+=("$f"); done < <(find "$p" -name '*.kt' -print0 | sort -z)
        else
            srcs+=("$p")
        fi
    done
    [ "${#srcs[@]}" -gt 0 ] || die "no Kotlin sources in $*"
    local cp_files=()
    IFS=: read -r -a cp_files <<<"$cp"
    local key
    key=$(hash_inputs "${srcs[@]}" "${cp_files[@]}" "$KOTLINC")
    if [ -f "$out" ] && [ "$(cat "$out.inputs" 2>/dev/null)" = "$key" ]; then
        say "reused $(basename "$out") (sources unchanged)"
        return 0
    fi
    local t0 log
    t0=$(now_ms)
    log="$out.log"
    mkdir -p "$(dirname "$out")"
    rm -f "$out" "$out.inputs"
    say "kotlinc $(basename "$out") (${#srcs[@]} files) ..."
    # Generated code is compiled without warnings (not ours to fix); our own sources with them.
    local extra=()
    case "$out" in */wechatpay-refund.jar) extra=(-nowarn) ;; esac
    if ! "$KOTLINC" -jvm-target 17 "${extra[@]}" -cp "$cp" -d "$out" "${srcs[@]}" >"$log" 2>&1; then
        sed 's/^/    | /' "$log" >&2
        die "kotlinc failed for $(basename "$out") (log: $log)"
    fi
    grep -E '^(warning|.*: warning:)' "$log" | sed 's/^/    | /' >&2 || true
    echo "$key" >"$out.inputs"
    say "  compiled in $(since "$t0")"
}

kotlin_build_binding() {
    local so
    so=$("$REPO/scripts/lib/build-ffi.sh" --lib-dir "$BUILD/native/linux-x86-64" \
        --language kotlin --out-dir "$BUILD/generated") || die "building the .so / generating Kotlin failed"
    [ -f "$so" ] || die "no .so at $so"
    # JNA looks for <os-arch>/lib<name>.so on the classpath and extracts it: no jna.library.path.
    local native="$BUILD/libs/wechatpay-refund-native.jar" key
    mkdir -p "$BUILD/libs"
    key=$(hash_inputs "$so")
    if [ ! -f "$native" ] || [ "$(cat "$native.inputs" 2>/dev/null)" != "$key" ]; then
        rm -f "$native"
        jar --create --file "$native" -C "$BUILD/native" linux-x86-64/libwechatpay_refund.so
        echo "$key" >"$native.inputs"
        say "packaged $(basename "$native") ($(du -h "$native" | cut -f1))"
    fi
    KOTLIN_BINDING_JAR="$BUILD/libs/wechatpay-refund.jar"
    # The generated bindings and the open enums they lift into (src/main/kotlin, generated from src/wire.rs).
    kotlin_compile_jar "$KOTLIN_BINDING_JAR" "$JNA_JAR" "$BUILD/generated" "$KDIR/src/main/kotlin"
    # shellcheck disable=SC2034 # used by the scripts that source this file
    KOTLIN_RUNTIME_CP="$KOTLIN_BINDING_JAR:$native:$JNA_JAR:$KOTLIN_STDLIB_JAR"
}
