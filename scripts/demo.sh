#!/usr/bin/env bash
# README command 1: set up (idempotent) and run the main job on the embedded default
# (local filesystem lake in ./lake, local Spark). Extra arguments go to `lakehouse demo`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh"
cd "$root"
exec "$root/.venv/bin/lakehouse" demo "$@"
