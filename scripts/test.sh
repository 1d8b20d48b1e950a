#!/usr/bin/env bash
# The test command: installs missing system packages, builds, runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
# One test at a time: on a 2-core machine, 300 tests that start coordinators,
# workers and openssl at once starve each other past their timeouts. Each test
# still runs its own concurrency; serial costs about 30 s over parallel.
swift test --no-parallel
