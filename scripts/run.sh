#!/usr/bin/env bash
# The run command: set everything up, then start the dashboard (or run a `steer` command).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "$#" -gt 0 ]; then
  exec .venv/bin/steer "$@"
fi
if .venv/bin/steer dashboard --help >/dev/null 2>&1; then
  exec .venv/bin/steer dashboard
fi
echo "The dashboard is not built yet; the CLI is ready. Try:"
echo "  bash scripts/run.sh --help"
exec .venv/bin/steer --help
