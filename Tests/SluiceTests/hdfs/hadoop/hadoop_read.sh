#!/usr/bin/env bash
# hadoop_read.sh MODE FILE...  -- read files with Hadoop's / Avro's own reader
# classes (HadoopRead.java next to this script). See README.md.
#
#   MODE: seq | stream | avro          (used by the tests)
#         write-seq FILE CODEC|none N | write-stream FILE N [PER]
#         | write-avro FILE CODEC N    (developer aids)
#
# Jars: directory $HADOOP_CHECK_JARS if set, else the jars/ directory of an
# installed pyspark (pip install pyspark). Exit status 77 ("skip") when no
# jars, no java/javac, or the required jars are missing.
# Environment:
#   HADOOP_CHECK_JARS  directory holding hadoop-client-api-*.jar etc.
#   HADOOP_READ_CACHE  cache directory (default ${TMPDIR:-/tmp}/sluice-hadoop-read)
#   HADOOP_READ_LOG    a log4j level (WARN, DEBUG..) to see Hadoop's logging
#                      on stderr; default: Hadoop logging is off
#   HADOOP_READ_TRACE  set: print the stack trace of a failure on stderr
#   HADOOP_READ_CDS=0  do not build/use the class-data-sharing archive
#   JAVA_HOME          java/javac from $JAVA_HOME/bin instead of PATH
set -u

skip() {
    echo "hadoop_read.sh: SKIP: $*" >&2
    exit 77
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$here/HadoopRead.java

if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    java=$JAVA_HOME/bin/java javac=$JAVA_HOME/bin/javac jar=$JAVA_HOME/bin/jar
    [ -x "$javac" ] && [ -x "$jar" ] || skip "JAVA_HOME=$JAVA_HOME has no javac/jar (a JDK is needed)"
else
    java=$(command -v java) || skip "no java on PATH"
    javac=$(command -v javac) || skip "no javac on PATH (a JDK is needed)"
    jar=$(command -v jar) || skip "no jar tool on PATH (a JDK is needed)"
fi

cache_root=${HADOOP_READ_CACHE:-${TMPDIR:-/tmp}/sluice-hadoop-read}
mkdir -p "$cache_root" || { echo "hadoop_read.sh: cannot create $cache_root" >&2; exit 1; }

# Jars, by file name prefix (highest version wins):
#   required: Hadoop's shaded client (api + its relocated third-party
#   classes), slf4j-api (no slf4j provider: Hadoop's logging goes nowhere),
#   avro (HadoopRead.java is compiled against it)
required="hadoop-client-api- hadoop-client-runtime- slf4j-api- avro-"
#   optional, a missing one only fails what needs it: snappy-java, lz4-java
#   (Hadoop's SnappyCodec/Lz4Codec, Avro's snappy); jackson (any Avro file);
#   commons-compress + commons-io (Avro bzip2/xz), xz, zstd-jni (Avro zstandard)
optional="snappy-java- lz4-java- jackson-core- jackson-databind- jackson-annotations- \
commons-compress- commons-io- xz- zstd-jni-"

# pick JAR-PREFIX: the highest version of $jars/PREFIX<digit>*.jar
pick() {
    local found
    found=$(cd "$jars" && ls -1 "$1"[0-9]*.jar 2>/dev/null | sort -V | tail -n 1)
    [ -n "$found" ] && echo "$jars/$found"
}

# The resolved class path is remembered (python3 and the ls calls cost more
# than the JVM start); it is re-resolved if any of its jars has gone.
cp=""
key=${HADOOP_CHECK_JARS:+dir}${HADOOP_CHECK_JARS:-pyspark}
resolved=$cache_root/classpath.${key//\//_}
if [ -f "$resolved" ] && IFS= read -r cp <"$resolved" && [ -n "$cp" ]; then
    IFS=: read -r -a entries <<<"$cp"
    for j in "${entries[@]}"; do [ -f "$j" ] || { cp=""; break; }; done
fi
if [ -z "$cp" ]; then
    if [ -n "${HADOOP_CHECK_JARS:-}" ]; then
        jars=$HADOOP_CHECK_JARS
        [ -d "$jars" ] || skip "HADOOP_CHECK_JARS=$jars is not a directory"
    else
        # find_spec does not import pyspark (much cheaper than 'import pyspark')
        jars=$(python3 -c 'import importlib.util, os, sys
s = importlib.util.find_spec("pyspark")
if s is None or s.origin is None: sys.exit(1)
print(os.path.join(os.path.dirname(s.origin), "jars"))' 2>/dev/null) ||
            skip "no Hadoop jars: set HADOOP_CHECK_JARS to a directory of jars, or 'python3 -m pip install pyspark'"
        [ -d "$jars" ] || skip "pyspark has no jars directory ($jars)"
    fi
    for p in $required; do
        j=$(pick "$p") || skip "no ${p}*.jar in $jars"
        cp=$cp:$j
    done
    for p in $optional; do
        j=$(pick "$p") && cp=$cp:$j
    done
    cp=${cp#:}
    printf '%s\n' "$cp" >"$resolved.$$" && mv -f "$resolved.$$" "$resolved"
fi

log_level=${HADOOP_READ_LOG:-}
if [ -n "$log_level" ]; then
    jars=$(dirname "${cp%%:*}")
    for p in log4j-slf4j2-impl- log4j-api- log4j-core-; do
        j=$(pick "$p") && cp=$cp:$j
    done
fi

# --- compile once per source version --------------------------------------
src_sha=$(sha256sum "$src" | cut -d' ' -f1) || exit 1
cache=$cache_root/$src_sha
mkdir -p "$cache" || { echo "hadoop_read.sh: cannot create $cache" >&2; exit 1; }
app=$cache/HadoopRead.jar
if [ ! -f "$app" ]; then
    tmp=$(mktemp -d "$cache/build.XXXXXX") || exit 1
    if ! "$javac" -nowarn -encoding UTF-8 -d "$tmp/classes" -cp "$cp" "$src" >"$tmp/javac.log" 2>&1; then
        echo "hadoop_read.sh: compiling $src failed:" >&2
        cat "$tmp/javac.log" >&2
        rm -rf "$tmp"
        exit 1
    fi
    "$jar" cf "$tmp/HadoopRead.jar" -C "$tmp/classes" . || { rm -rf "$tmp"; exit 1; }
    mv -f "$tmp/HadoopRead.jar" "$app"   # atomic: parallel runs are safe
    rm -rf "$tmp"
    # forget builds of other versions of HadoopRead.java not touched for a day
    find "$cache_root" -mindepth 1 -maxdepth 1 -type d -name '????????????????????????????????????????????????????????????????' \
        ! -name "$src_sha" -mmin +1440 -exec rm -rf {} + 2>/dev/null
fi

# --- JVM options: start as cheaply as possible ------------------------------
jvm=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData -Xss1m -Xmx512m
     -Djava.awt.headless=true -Dslf4j.internal.verbosity=ERROR
     # the crash log of a native crash (e.g. in snappy-java) not in the cwd
     "-XX:ErrorFile=${TMPDIR:-/tmp}/hadoop_read_hs_err_%p.log")
if [ -n "$log_level" ]; then
    props=$cache/log4j2-$log_level.properties
    if [ ! -f "$props" ]; then
        printf '%s\n' "status = error" \
            "appender.err.type = Console" "appender.err.name = err" \
            "appender.err.target = SYSTEM_ERR" \
            "appender.err.layout.type = PatternLayout" \
            "appender.err.layout.pattern = %d{HH:mm:ss.SSS} %p %c: %m%n" \
            "rootLogger.level = $log_level" "rootLogger.appenderRef.err.ref = err" >"$props.$$"
        mv -f "$props.$$" "$props"
    fi
    jvm+=("-Dlog4j2.configurationFile=$props")
fi

full_cp=$app:$cp

# Application class-data sharing: an archive of the classes a seq/stream/avro
# run loads, built once (a few seconds) per source+classpath+JVM; it roughly
# halves JVM start-up. Any mismatch makes the JVM ignore it (-Xshare:auto).
if [ "${HADOOP_READ_CDS:-1}" != 0 ] && [ -z "$log_level" ]; then
    cds_key=$(printf '%s\n' "$full_cp" "$(readlink -f "$java")" | sha256sum | cut -c1-16)
    jsa=$cache/cds-$cds_key.jsa
    if [ ! -f "$jsa" ] && [ ! -f "$jsa.failed" ]; then
        tmp=$(mktemp -d "$cache/cds.XXXXXX") || exit 1
        if "$java" "${jvm[@]}" -XX:DumpLoadedClassList="$tmp/classes.lst" -cp "$full_cp" \
                HadoopRead warmup "$tmp" >/dev/null 2>"$tmp/log" &&
           "$java" -Xshare:dump -XX:SharedClassListFile="$tmp/classes.lst" \
                -XX:SharedArchiveFile="$tmp/a.jsa" -cp "$full_cp" >>"$tmp/log" 2>&1; then
            mv -f "$tmp/a.jsa" "$jsa"
        else
            cp "$tmp/log" "$jsa.failed" 2>/dev/null || : >"$jsa.failed"
        fi
        rm -rf "$tmp"
    fi
    [ -f "$jsa" ] && jvm+=(-Xshare:auto "-XX:SharedArchiveFile=$jsa" -Xlog:cds=off -Xlog:cds+dynamic=off)
fi

# The JVM writes some reports (e.g. on a crash in native code) to its fd 1:
# give it stderr as fd 1 and the real stdout as fd 3, where HadoopRead writes.
export HADOOP_READ_OUT_FD=3
exec "$java" "${jvm[@]}" --add-opens java.base/java.io=ALL-UNNAMED --enable-native-access=ALL-UNNAMED -cp "$full_cp" \
    HadoopRead "$@" 3>&1 1>&2
