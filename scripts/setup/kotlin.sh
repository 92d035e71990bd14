#!/usr/bin/env bash
# Kotlin/JVM toolchain for the Kotlin binding:
#   - the Kotlin compiler 2.4.20, from the npm registry (package kotlin-compiler, the full Kotlin
#     distribution), installed with `npm install --prefix $CACHE/kotlin`;
#   - JNA and JUnit 5 from Debian (libjna-java, junit5), a JDK 17 from Debian if java/javac are missing.
# Proven on a cold install by compiling and running a Kotlin main and a JUnit 5 test class (that
# also calls libc through JNA) with junit-platform-console-standalone.
# stdout: the path of $CACHE/kotlin.env.
set -euo pipefail
SETUP_NAME=kotlin
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

KOTLIN_VERSION=2.4.20
KDIR="$CACHE/kotlin"
MARKER="$KDIR/.wechatpay-refund-setup-complete"
ENV_FILE="$CACHE/kotlin.env"
JAVA_DIR=/usr/share/java

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

# ---- JNA + JUnit 5 from Debian (a no-op when installed)
apt_install libjna-java junit5

jar_path() {
    # jar_path NAME...: the first existing /usr/share/java/NAME (symlinks resolved)
    local n
    for n in "$@"; do
        if [ -f "$JAVA_DIR/$n" ]; then
            readlink -f "$JAVA_DIR/$n"
            return 0
        fi
    done
    return 1
}
JNA_JAR=$(jar_path jna.jar) || die "jna.jar not found in $JAVA_DIR (is libjna-java installed?)"
JUNIT_CONSOLE_JAR=$(jar_path junit-platform-console-standalone.jar) ||
    die "junit-platform-console-standalone.jar not found in $JAVA_DIR (is junit5 installed?)"
JUNIT_API_JAR=$(jar_path junit-jupiter-api.jar) || die "junit-jupiter-api.jar not found in $JAVA_DIR"
APIGUARDIAN_JAR=$(jar_path apiguardian-api.jar apiguardian.jar) || die "apiguardian-api.jar not found in $JAVA_DIR"
OPENTEST4J_JAR=$(jar_path opentest4j.jar) || die "opentest4j.jar not found in $JAVA_DIR"

# ---- the Kotlin compiler from npm
KOTLIN_HOME="$KDIR/node_modules/kotlin-compiler"
KOTLINC="$KOTLIN_HOME/bin/kotlinc"

kotlinc_works() {
    local out
    [ -f "$KOTLIN_HOME/lib/kotlin-stdlib.jar" ] && out=$("$KOTLINC" -version 2>&1) &&
        [[ $out == *"kotlinc-jvm $KOTLIN_VERSION"* ]]
}

npm_install() {
    if ! command -v npm >/dev/null 2>&1; then
        echo "npm missing" >&2
        return 1
    fi
    mkdir -p "$KDIR"
    npm install --prefix "$KDIR" --no-audit --no-fund --no-package-lock --loglevel=http \
        --cache "$CACHE/npm-cache" "kotlin-compiler@$KOTLIN_VERSION"
    # Locate the distribution (bin/kotlinc next to lib/kotlin-stdlib.jar) in the package.
    local stdlib
    stdlib=$(find "$KDIR/node_modules/kotlin-compiler" -name kotlin-stdlib.jar -path '*/lib/*' | head -n 1)
    [ -n "$stdlib" ] || { echo "no lib/kotlin-stdlib.jar in the npm package" >&2; return 1; }
    local home
    home=$(dirname "$(dirname "$stdlib")")
    [ "$home" = "$KOTLIN_HOME" ] || echo "note: the distribution is at $home, not $KOTLIN_HOME"
    chmod +x "$home"/bin/*
    echo "$home" >"$KDIR/.kotlin-home"
}

prove() {
    local d="$CACHE/proof/kotlin"
    rm -rf "$d"
    mkdir -p "$d"
    cd "$d"
    cat >Hello.kt <<'EOF'
fun greeting(name: String): String = "hello, $name, from Kotlin ${KotlinVersion.CURRENT}"
fun main() = println(greeting("wechatpay-refund"))
EOF
    cat >SmokeTest.kt <<'EOF'
import com.sun.jna.Library
import com.sun.jna.Native
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

interface CLib : Library { fun getpid(): Int }

class SmokeTest {
    @Test fun greets() = assertEquals("hello, x, from Kotlin ${KotlinVersion.CURRENT}", greeting("x"))
    @Test fun callsLibcThroughJna() = assertTrue(Native.load("c", CLib::class.java).getpid() > 0)
}
EOF
    local cp="$JNA_JAR:$JUNIT_API_JAR:$APIGUARDIAN_JAR:$OPENTEST4J_JAR"
    "$KOTLINC" -cp "$cp" Hello.kt SmokeTest.kt -d proof.jar
    java -cp "proof.jar:$KOTLIN_HOME/lib/kotlin-stdlib.jar" HelloKt | tee hello.out
    grep -q "hello, wechatpay-refund, from Kotlin $KOTLIN_VERSION" hello.out
    java -jar "$JUNIT_CONSOLE_JAR" --disable-banner \
        -cp "proof.jar:$cp:$KOTLIN_HOME/lib/kotlin-stdlib.jar" --select-class SmokeTest | tee junit.out
    grep -q '2 tests successful' junit.out
    grep -q '0 tests failed' junit.out
    cd /
    rm -rf "$d"
}

if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "kotlin-compiler@$KOTLIN_VERSION" ] &&
    [ -f "$KDIR/.kotlin-home" ] && KOTLIN_HOME=$(cat "$KDIR/.kotlin-home") &&
    KOTLINC="$KOTLIN_HOME/bin/kotlinc" && kotlinc_works; then
    say "reused $KOTLIN_HOME (kotlinc $KOTLIN_VERSION, java $JAVA_MAJOR, $(basename "$JNA_JAR"), $(basename "$JUNIT_CONSOLE_JAR"))"
else
    t0=$(now_ms)
    if [ -e "$KDIR" ]; then
        say "removing incomplete or outdated Kotlin install at $KDIR"
        rm -rf -- "$KDIR"
    fi
    if ! command -v npm >/dev/null 2>&1; then
        apt_install nodejs npm
    fi
    step npm-install "npm install kotlin-compiler@$KOTLIN_VERSION into $KDIR" npm_install
    KOTLIN_HOME=$(cat "$KDIR/.kotlin-home")
    KOTLINC="$KOTLIN_HOME/bin/kotlinc"
    kotlinc_works || die "$KOTLINC -version does not report kotlinc-jvm $KOTLIN_VERSION (see $LOG_DIR)"
    step prove "prove: kotlinc + java main + JUnit 5 test with JNA" prove
    echo "kotlin-compiler@$KOTLIN_VERSION" >"$MARKER"
    say "installed $KOTLIN_HOME in $(since "$t0")"
fi

write_env "$ENV_FILE" \
    "KOTLINC=$KOTLINC" \
    "KOTLIN_HOME=$KOTLIN_HOME" \
    "KOTLIN_STDLIB_JAR=$KOTLIN_HOME/lib/kotlin-stdlib.jar" \
    "JNA_JAR=$JNA_JAR" \
    "JUNIT_CONSOLE_JAR=$JUNIT_CONSOLE_JAR" \
    "JUNIT_API_JAR=$JUNIT_API_JAR" \
    "APIGUARDIAN_JAR=$APIGUARDIAN_JAR" \
    "OPENTEST4J_JAR=$OPENTEST4J_JAR"
echo "$ENV_FILE"
