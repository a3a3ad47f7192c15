#!/usr/bin/env bash
# Sets up .venv with everything the project needs; safe to run again (skips what is done).
#
# torch: a CPU build (torch==2.13.0) is installed unless torch is already in .venv, so a GPU
# user installs their CUDA build into .venv first and this script keeps it (see README).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi

stamp=.venv/.steer-setup-stamp
wanted="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] && .venv/bin/python -c "import steering_core, torch" 2>/dev/null; then
  exit 0
fi

.venv/bin/python -m pip install --quiet --upgrade pip
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  echo "setup: installing $TORCH_SPEC"
  .venv/bin/python -m pip install --quiet "$TORCH_SPEC"
fi
echo "setup: installing the project and its test tools"
.venv/bin/python -m pip install --quiet -e ".[test]"
echo "$wanted" > "$stamp"
