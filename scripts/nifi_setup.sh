#!/usr/bin/env bash
# Installs a runnable NiFi Stateless (NiFi 2.3.0) into a cache directory, from Maven Central only.
#
#   scripts/nifi_setup.sh [CACHE_DIR]      default: $NIFI_STATELESS_CACHE or
#                                          $HOME/.cache/customs-lakehouse/nifi
#
# Why a build: the Stateless binary tarball is not a Maven artifact, and the Maven Central mirror
# this project can reach lacks nifi-stateless-bootstrap / nifi-stateless-nar / nifi-standard-nar /
# nifi-update-attribute-nar at 2.x. nifi_flows/jvm re-packages those NARs from their published
# jars with NiFi's own nar plugin and builds our launcher (see nifi_flows/jvm/pom.xml).
#
# Idempotent: the result is keyed by a fingerprint of nifi_flows/jvm (poms + launcher sources).
# A second run with unchanged inputs only verifies the files and exits. The build happens in a
# copy under CACHE_DIR/build so the work tree gets no target/ directories.
#
# Environment:
#   NIFI_JAVA_HOME     JDK >= 21 for the build and for running Stateless
#                      (default /usr/lib/jvm/temurin-25-jdk-amd64)
#   MAVEN_REPO_LOCAL   Maven local repository (default: Maven's own, ~/.m2/repository)
#   NIFI_SETUP_FORCE=1 rebuild even when the fingerprint matches
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src_dir="$repo_root/nifi_flows/jvm"
cache_dir="${1:-${NIFI_STATELESS_CACHE:-$HOME/.cache/customs-lakehouse/nifi}}"
java_home="${NIFI_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
install_dir="$cache_dir/stateless"

log() { printf 'nifi_setup: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ -x "$java_home/bin/java" ]] || die "no JDK at $java_home (NiFi 2 needs Java >= 21); set NIFI_JAVA_HOME"
java_major="$("$java_home/bin/java" -XshowSettings:properties -version 2>&1 \
  | sed -n 's/^ *java.specification.version = //p')"
[[ "${java_major:-0}" -ge 21 ]] || die "JDK at $java_home is Java $java_major; NiFi 2 needs >= 21"
command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"

# Fingerprint of everything that determines the build output.
fingerprint="$(cd "$src_dir" && find . -type f \( -name pom.xml -o -path './launcher/src/*' \) \
  -not -path '*/target/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"

verify_install() {
  [[ -f "$install_dir/manifest.json" ]] || return 1
  grep -q "\"fingerprint\": \"$fingerprint\"" "$install_dir/manifest.json" || return 1
  ls "$install_dir"/lib/lakehouse-nifi-stateless-launcher-*.jar >/dev/null 2>&1 || return 1
  ls "$install_dir"/nar/nifi-stateless-nar-*.nar "$install_dir"/nar/nifi-jetty-nar-*.nar >/dev/null 2>&1 || return 1
  ls "$install_dir"/extensions/nifi-standard-nar-*.nar >/dev/null 2>&1 || return 1
}

if [[ "${NIFI_SETUP_FORCE:-0}" != 1 ]] && verify_install; then
  log "up to date: $install_dir (fingerprint $fingerprint)"
  exit 0
fi

log "building NiFi Stateless into $install_dir (fingerprint $fingerprint); the first run downloads NiFi jars, NARs and Maven plugins"
build_dir="$cache_dir/build"
rm -rf "$build_dir"
mkdir -p "$build_dir"
# Copy the sources (no target/ dirs) so the work tree stays clean.
(cd "$src_dir" && find . -type f \( -name pom.xml -o -path './launcher/src/*' \) -not -path '*/target/*' -print0 \
  | xargs -0 -I{} cp --parents {} "$build_dir/")

mvn_args=(-B -q -f "$build_dir/pom.xml" package)
[[ -n "${MAVEN_REPO_LOCAL:-}" ]] && mvn_args+=("-Dmaven.repo.local=$MAVEN_REPO_LOCAL")
start=$SECONDS
if ! JAVA_HOME="$java_home" mvn "${mvn_args[@]}" >"$cache_dir/build.log" 2>&1; then
  tail -n 40 "$cache_dir/build.log" >&2
  die "maven build failed (full log: $cache_dir/build.log)"
fi
log "maven build done in $((SECONDS - start)) s"

staged="$build_dir/runtime/target/stateless"
new_dir="$cache_dir/stateless.new"
rm -rf "$new_dir"
cp -r "$staged" "$new_dir"

# The stamp changes whenever any NAR changes: nifi_flows/stateless.py keys its NAR working
# directory on it, because Stateless never re-unpacks an extension NAR that it unpacked before.
stamp="$(cd "$new_dir" && find nar extensions -name '*.nar' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum \
  | sha256sum | cut -c1-16)"
nifi_version="$(sed -n 's:.*<nifi.version>\(.*\)</nifi.version>.*:\1:p' "$src_dir/pom.xml" | head -n1)"
{
  printf '{\n'
  printf '  "nifi_version": "%s",\n' "$nifi_version"
  printf '  "fingerprint": "%s",\n' "$fingerprint"
  printf '  "stamp": "%s",\n' "$stamp"
  printf '  "java_home": "%s",\n' "$java_home"
  printf '  "main_class": "org.customs.lakehouse.nifi.StatelessRunner",\n'
  printf '  "lib": [%s],\n' "$(cd "$new_dir/lib" && ls | sed 's/.*/"&"/' | paste -sd, -)"
  printf '  "nar": [%s],\n' "$(cd "$new_dir/nar" && ls | sed 's/.*/"&"/' | paste -sd, -)"
  printf '  "extensions": [%s]\n' "$(cd "$new_dir/extensions" && ls | sed 's/.*/"&"/' | paste -sd, -)"
  printf '}\n'
} >"$new_dir/manifest.json"

rm -rf "$install_dir"
mv "$new_dir" "$install_dir"
# Unpacked-NAR working dirs of previous installs (~140 MB each) can never be used again.
find "$cache_dir" -maxdepth 1 -name 'work-*' ! -name "work-$stamp" ! -name "work-$stamp.lock" \
  -exec rm -rf {} +
rm -rf "$build_dir"
verify_install || die "install at $install_dir is incomplete after the build"
log "installed: $install_dir ($(du -sh "$install_dir" | cut -f1))"
