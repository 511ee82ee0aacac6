#!/usr/bin/env bash
# The benchmark: the executor beside bare docker doing the same work, measured in the same run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-deps.sh >&2
bash scripts/setup-docker.sh >&2
npm run --silent build
node --import tsx bench/bench.ts
