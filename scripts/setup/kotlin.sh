#!/usr/bin/env bash
# Kotlin/JVM toolchain for the Kotlin binding: a JDK 17+ and Maven 3 (Debian's openjdk-17-jdk-headless
# and maven when missing). Everything else — the Kotlin compiler (kotlin-maven-plugin), JNA, JUnit 5,
# kotlinx-coroutines, Dokka, JMH, wechatpay-java for the benchmark — comes from Maven Central when the
# Maven builds run, into the local repository $CACHE/m2 (reused by every later run).
# stdout: the path of $CACHE/kotlin.env (MVN, MAVEN_REPO_LOCAL, JAVA_MAJOR).
set -euo pipefail
SETUP_NAME=kotlin
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ENV_FILE="$CACHE/kotlin.env"
M2="$CACHE/m2"

# ---- JDK (java + javac 17+): the machine's own, else Debian's openjdk-17-jdk-headless
jdk_works() {
    java -version >/dev/null 2>&1 && javac -version >/dev/null 2>&1
}
if ! jdk_works; then
    say "java/javac not working; installing Debian's JDK 17"
    apt_install openjdk-17-jdk-headless
    jdk_works || die "no working java/javac even after installing openjdk-17-jdk-headless"
fi
JAVA_MAJOR=$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
[ "${JAVA_MAJOR%%.*}" -ge 17 ] 2>/dev/null || die "java is version ${JAVA_MAJOR:-unknown}; 17 or newer is needed"

# ---- Maven 3.6.3+ (Surefire 3.6 needs it): the machine's own, else Debian's
if ! command -v mvn >/dev/null 2>&1; then
    say "mvn missing; installing Debian's maven"
    apt_install maven
fi
MVN=$(command -v mvn) || die "mvn is not on PATH even after installing maven"
MVN_VERSION=$("$MVN" -v 2>/dev/null | sed -n 's/^.*Apache Maven \([0-9.]*\).*$/\1/p' | head -n 1)
case "$MVN_VERSION" in
    3.[6-9].* | 3.1[0-9].* | [4-9].*) ;;
    *) die "Maven ${MVN_VERSION:-unknown} is too old; 3.6.3 or newer is needed" ;;
esac
mkdir -p "$M2"
say "java $JAVA_MAJOR, Maven $MVN_VERSION, local repository $M2"

write_env "$ENV_FILE" \
    "MVN=$MVN" \
    "MAVEN_REPO_LOCAL=$M2" \
    "JAVA_MAJOR=$JAVA_MAJOR"
echo "$ENV_FILE"
