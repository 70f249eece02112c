#!/usr/bin/env bash
# Soak benchmark (issue 10): 10 minutes of mixed load on a release build, RSS and p99 per
# minute. Writes Benchmarks/results/soak-<date>.txt. Not a test: figures, not pass/fail.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
swift build -c release --product fhir-sandbox
bin="$(swift build -c release --show-bin-path)"
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/pip install -q --disable-pip-version-check -r Tests/blackbox/requirements.txt
.venv/bin/python Benchmarks/soak.py --bin "$bin" "$@" | tee "Benchmarks/results/soak-$(date -u +%Y-%m-%d).txt"
