#!/usr/bin/env bash
# The test command: set everything up, then lint and run the whole suite offline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/ruff check steering_core dashboard tests benchmarks
.venv/bin/ruff format --check steering_core dashboard tests benchmarks
.venv/bin/python -m pytest "$@"
