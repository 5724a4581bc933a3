#!/usr/bin/env bash
# Everything a fresh clone needs before it runs: npm dependencies exactly as locked, and the
# pinned Temporal servers. Idempotent: a second run with nothing changed takes well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."

lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ "$(cat node_modules/.setup-stamp 2>/dev/null)" != "$lock_hash" ]]; then
  # The SDK's native core and swc ship prebuilt in their npm packages: no install script is needed.
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$lock_hash" >node_modules/.setup-stamp
fi
bash scripts/install-temporal.sh
