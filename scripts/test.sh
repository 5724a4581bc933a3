#!/usr/bin/env bash
# The whole check, from a fresh clone: set-up, type-check, lint, then every test against the real
# Temporal servers and the local Ticksupply emulator.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh --browser
echo "== type-check"
npx tsc --noEmit -p .
echo "== lint"
npx eslint --max-warnings 0 .
echo "== tests"
node --import tsx --test --test-force-exit --test-reporter=spec test/*.test.ts
