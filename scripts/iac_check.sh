#!/usr/bin/env bash
# Checks of terraform/ that CI runs (from scripts/test.sh): checkov's security policies and the
# HCL canonical format. Neither needs a provider download or the network once the tools exist.
#
# The tools are installed here, once, into the ignored .cache/tools/ folder:
#   - checkov (PyPI) in a venv of its own: it pins boto3==1.35.x, which the project's
#     boto3>=1.36 excludes, so it cannot share the project's venv;
#   - hclfmt from hashicorp/hcl (Go module proxy, `go install`): the formatter `terraform fmt`
#     is built on (hclwrite). Terraform and OpenTofu binaries are not on an allowed registry,
#     and OpenTofu's go.mod has replace directives, so `go install` cannot build it.
# Re-running reuses the installed tools (a few seconds); a version change reinstalls.
#
#   scripts/iac_check.sh          # install if needed, then check
#   scripts/iac_check.sh --fix    # rewrite the .tf files in the canonical format
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.cache/tools"
cache="${LAKEHOUSE_CACHE_DIR:-$HOME/.cache/customs-lakehouse}"
checkov_version="3.3.30"
hcl_version="v2.20.1" # go 1.18 in its go.mod: Debian 12's golang-go (1.19) builds it too

log() { printf '[iac] %s\n' "$*" >&2; }

install_checkov() {
  # The stamp is written last: an interrupted install is redone, never half-used.
  local venv="$tools/checkov-$checkov_version"
  if [ ! -f "$venv/.installed" ]; then
    log "installing checkov $checkov_version (PyPI) into $venv"
    rm -rf "$venv"
    "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/pip" install -q "checkov==$checkov_version" >&2
    touch "$venv/.installed"
  fi
  echo "$venv/bin/checkov"
}

find_go() {
  if command -v go >/dev/null 2>&1; then command -v go; return; fi
  if [ -x /usr/local/go/bin/go ]; then echo /usr/local/go/bin/go; return; fi
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing golang-go (Debian)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends golang-go >/dev/null
    command -v go
    return
  fi
  log "go is needed once to build hclfmt: install golang-go (Debian) or Go from go.dev"
  exit 1
}

install_hclfmt() {
  local bin="$tools/hclfmt-$hcl_version/hclfmt"
  if [ ! -x "$bin" ]; then
    local go
    go="$(find_go)"
    log "building hclfmt $hcl_version (Go module proxy)"
    GOBIN="$(dirname "$bin")" GOPATH="$cache/go" GOMODCACHE="$cache/go/mod" \
      GOCACHE="$cache/go/build" GOFLAGS=-modcacherw \
      "$go" install "github.com/hashicorp/hcl/v2/cmd/hclfmt@$hcl_version"
  fi
  echo "$bin"
}

mkdir -p "$tools"
hclfmt="$(install_hclfmt)"
checkov="$(install_checkov)"
mapfile -t files < <(find "$root/terraform" -name '*.tf' | sort)

if [ "${1:-}" = "--fix" ]; then
  "$hclfmt" -w "${files[@]}"
  exit 0
fi

bad=()
for f in "${files[@]}"; do
  "$hclfmt" -require-no-change "$f" >/dev/null 2>&1 || bad+=("${f#"$root"/}")
done
if [ ${#bad[@]} -gt 0 ]; then
  log "not in canonical HCL format (run scripts/iac_check.sh --fix): ${bad[*]}"
  exit 1
fi
log "format: ${#files[@]} files canonical"

# --skip-download: no call to Prisma Cloud (offline); every skip is justified beside it.
"$checkov" -d "$root/terraform" --framework terraform --quiet --compact --skip-download
