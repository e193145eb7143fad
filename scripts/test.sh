#!/usr/bin/env bash
# README command 2: set up everything the tests use (idempotent), then lint and run the tests.
# Servers (S3Proxy, PostgreSQL, Mosquitto, NiFi Stateless) are started by the test fixtures on
# loopback and stopped at the end. Extra arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh" --test
if [ -x "$root/scripts/nifi_setup.sh" ]; then
  "$root/scripts/nifi_setup.sh"
fi
cd "$root"
"$root/.venv/bin/ruff" check .
"$root/.venv/bin/ruff" format --check --exclude "*.md" . # Python only: docs' snippets are prose
"$root/scripts/iac_check.sh" # checkov + HCL format of terraform/
exec "$root/.venv/bin/pytest" -p no:cacheprovider "$@"
