#!/usr/bin/env bash
# Set-up for a fresh machine, idempotent: a second run reuses what is installed.
#
#   scripts/bootstrap.sh            # Python venv + Spark/Delta/S3/JDBC jars (enough for `lakehouse demo`)
#   scripts/bootstrap.sh --test     # the above + Debian packages and servers the tests use
#
# Everything comes from the package registries' ordinary clients: pip (PyPI), mvn (Maven
# Central), apt-get (Debian). Jars land in $LAKEHOUSE_CACHE_DIR (default
# ~/.cache/customs-lakehouse) so Spark sessions start offline afterwards.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${LAKEHOUSE_CACHE_DIR:-$HOME/.cache/customs-lakehouse}"
venv="${LAKEHOUSE_VENV:-$root/.venv}"
python="${PYTHON:-python3}"
mode="${1:-}"

log() { printf '[bootstrap] %s\n' "$*" >&2; }

need_cmd() { command -v "$1" >/dev/null 2>&1; }

apt_updated=0
apt_install() {
  # Install Debian packages only when a command or package is missing.
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    log "missing Debian packages: ${missing[*]}; run as root or install them first"
    exit 1
  fi
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# 1. JVM and Maven (Java 17 runs Spark; NiFi uses a Java >= 21 found by nifi_setup.sh).
need_cmd java || apt_install openjdk-17-jre-headless
need_cmd mvn || apt_install maven

# 2. Python virtual environment with the pinned stack.
stamp="$venv/.lakehouse-installed"
want="$(sha256sum "$root/pyproject.toml" | cut -c1-16)"
if [ ! -x "$venv/bin/python" ]; then
  log "creating virtual environment $venv"
  "$python" -m venv "$venv"
fi
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "installing Python packages (pip)"
  "$venv/bin/pip" install -q -U pip setuptools wheel
  "$venv/bin/pip" install -q -e "$root[dev,compiled]"
  echo "$want" >"$stamp"
fi

# 2b. The EDIFACT parser compiled with Cython (same source, same output, ~1.4x less CPU): its
# own stamp skips it when up to date; without a C compiler it says so and the pure-Python
# modules are used.
"$venv/bin/python" "$root/scripts/build_parsers.py"

# 3. Spark jars: delta-spark + transitive, hadoop-aws + AWS SDK v2 bundle, PostgreSQL JDBC.
jars="$cache/jars/spark"
jstamp="$jars/.resolved"
jwant="$(sha256sum "$root/scripts/jvm/pom.xml" | cut -c1-16)"
if [ ! -f "$jstamp" ] || [ "$(cat "$jstamp")" != "$jwant" ]; then
  log "resolving Spark jars from Maven Central into $jars"
  rm -rf "$jars.tmp" && mkdir -p "$jars.tmp"
  mvn -q -B -f "$root/scripts/jvm/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$jars.tmp"
  # Drop what pyspark already ships (same artifact, usually a newer version): two copies of a
  # class on the classpath is how NoSuchMethodError starts.
  pyspark_jars="$("$venv/bin/python" -c 'import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), "jars"))')"
  for jar in "$jars.tmp"/*.jar; do
    artifact="$(basename "$jar" | sed -E 's/-[0-9][^-]*(\.Final)?\.jar$//')"
    if ls "$pyspark_jars/$artifact"-[0-9]*.jar >/dev/null 2>&1; then
      rm -f "$jar"
    fi
  done
  rm -rf "$jars" && mv "$jars.tmp" "$jars"
  echo "$jwant" >"$jstamp"
fi

# 3b. Kafka broker (KRaft, one node) for the ECTS stream: its own JVM and its own jar folder.
kafka_jars="$cache/jars/kafka"
kstamp="$kafka_jars/.resolved"
kwant="$(sha256sum "$root/scripts/jvm/kafka-server.pom.xml" | cut -c1-16)"
if [ ! -f "$kstamp" ] || [ "$(cat "$kstamp")" != "$kwant" ]; then
  log "resolving the Kafka broker from Maven Central into $kafka_jars"
  rm -rf "$kafka_jars.tmp" && mkdir -p "$kafka_jars.tmp"
  mvn -q -B -f "$root/scripts/jvm/kafka-server.pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$kafka_jars.tmp"
  rm -rf "$kafka_jars" && mv "$kafka_jars.tmp" "$kafka_jars"
  echo "$kwant" >"$kstamp"
fi

if [ "$mode" = "--test" ]; then
  # 4. S3Proxy: an S3-compatible server (filesystem backend) for tests of the s3a:// path.
  s3p_version="4.1.0"
  s3p="$cache/jars/s3proxy/s3proxy-$s3p_version-jar-with-dependencies.jar"
  if [ ! -f "$s3p" ]; then
    log "resolving S3Proxy $s3p_version from Maven Central"
    mvn -q -B dependency:copy -Dartifact="org.gaul:s3proxy:$s3p_version:jar:jar-with-dependencies" \
      -DoutputDirectory="$cache/jars/s3proxy"
  fi
  # 5. PostgreSQL (CMS score table, ERP database) and Mosquitto (ECTS MQTT) for the tests.
  apt_install postgresql mosquitto
  # 6. Chromium (headless) for the test that opens the data-quality report and screenshots it.
  apt_install chromium
fi

log "ready: venv=$venv cache=$cache"
