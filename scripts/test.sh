#!/usr/bin/env bash
# The whole test run, from a fresh clone on a fresh machine: dependencies, a Docker engine and the
# test images, the build, the type check, then unit and integration tests (against the built
# dist/executor.js and a real Docker engine).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/ensure-deps.sh
bash scripts/setup-docker.sh
bash scripts/setup-registry.sh
npm run --silent build
npm run --silent typecheck

# Node's default of one file at a time on 2 cores leaves them idle while each file's process starts;
# the integration tests mostly wait on Docker, so 3 files at once is measurably faster (4 was faster
# still but made an OOM-kill test flaky under load).
# A test that hangs fails after 5 minutes instead of holding the whole run (every wait in a test
# has its own, shorter bound; this one is for a promise nothing will ever settle).
TIMEOUT=--test-timeout=300000
echo "== unit tests" >&2
node --import tsx --test --test-reporter=spec --test-concurrency=2 "$TIMEOUT" test/unit/*.test.ts
echo "== integration tests" >&2
node --import tsx --test --test-reporter=spec --test-concurrency=3 "$TIMEOUT" test/integration/*.test.ts
echo "== serial tests (orphans that any executor would sweep; restarting the Docker daemon)" >&2
node --import tsx --test --test-reporter=spec --test-concurrency=1 "$TIMEOUT" test/serial/*.test.ts
