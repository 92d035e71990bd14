# shellcheck shell=bash
# Sourced by scripts/test-kotlin, scripts/run-example-kotlin and scripts/bench-jvm (set REPO first).
#
#   kotlin_setup        JDK + Maven (scripts/setup/kotlin.sh); sets MVN and MAVEN_REPO_LOCAL
#   kotlin_check_version   the pom's version must be the crate's (Cargo.toml)
#   mvn_run ARGS...     Maven in batch mode with the project's local repository ($CACHE/m2):
#                       every dependency comes from Maven Central once, then from the cache
set -euo pipefail

KDIR="$REPO/bindings/kotlin"
# shellcheck disable=SC2034 # used by the scripts that source this file
BUILD="$KDIR/build"

say() { printf '[kotlin] %s\n' "$*" >&2; }
die() { printf '[kotlin] ERROR: %s\n' "$*" >&2; exit 1; }
now_ms() { date +%s%3N; }
since() { local ms=$(($(now_ms) - $1)); printf '%d.%ds' $((ms / 1000)) $(((ms % 1000) / 100)); }

kotlin_setup() {
    local env_file
    env_file=$(bash "$REPO/scripts/setup/kotlin.sh" | tail -n 1) || die "scripts/setup/kotlin.sh failed"
    [ -f "$env_file" ] || die "scripts/setup/kotlin.sh did not print its env file (got: $env_file)"
    # shellcheck disable=SC1090
    source "$env_file"
    [ -x "${MVN:-}" ] || die "no mvn (MVN=${MVN:-})"
    [ -n "${MAVEN_REPO_LOCAL:-}" ] || die "MAVEN_REPO_LOCAL is not set"
}

# The crate's version, and the artifact's: one number.
crate_version() { sed -n 's/^version = "\(.*\)"$/\1/p' "$REPO/Cargo.toml" | head -n 1; }
kotlin_check_version() {
    local crate pom
    crate=$(crate_version)
    pom=$(sed -n '/<artifactId>wechatpay-refund<\/artifactId>/{n;s/.*<version>\(.*\)<\/version>.*/\1/p;}' "$KDIR/pom.xml" | head -n 1)
    if [ -z "$crate" ] || [ "$crate" != "$pom" ]; then
        die "bindings/kotlin/pom.xml has version '${pom}', Cargo.toml '${crate}': they must be equal"
    fi
    # shellcheck disable=SC2034 # used by the scripts that source this file
    KOTLIN_ARTIFACT_VERSION=$crate
}

mvn_run() {
    "$MVN" -B -ntp -Dmaven.repo.local="$MAVEN_REPO_LOCAL" -Dstyle.color=never "$@"
}
