#!/usr/bin/env bash
# The demo: one example TaskInfo run end to end through the local agent and the Docker executor,
# printing its status updates and then the sandbox's stdout and stderr.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/ensure-deps.sh
bash scripts/setup-docker.sh
npm run --silent build
node dist/agent.js run "${1:-examples/hello-task.json}"
