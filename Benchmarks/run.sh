#!/usr/bin/env bash
# Benchmark: builds release binaries, then measures the sandbox against two ceilings measured in
# the same run (nginx serving the same Patient JSON, and a bare Hummingbird route returning the
# same bytes). Writes Benchmarks/results/<date>.txt. Not a test: figures, not pass/fail.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
swift build -c release --product fhir-sandbox
swift build -c release --product bench-ceiling
bin="$(swift build -c release --show-bin-path)"
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/pip install -q --disable-pip-version-check -r Tests/blackbox/requirements.txt
python3 Benchmarks/bench.py --bin "$bin" "$@" | tee "Benchmarks/results/$(date -u +%Y-%m-%d).txt"
