#!/usr/bin/env bash
# The run command: set everything up, then start the dashboard (or run a `steer` command).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "$#" -gt 0 ]; then
  exec .venv/bin/steer "$@"
fi
exec .venv/bin/steer dashboard
