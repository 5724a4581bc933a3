#!/usr/bin/env bash
# Everything a fresh clone needs before it runs: npm dependencies exactly as locked, and the
# pinned Temporal servers. Idempotent: a second run with nothing changed takes well under a second.
#
#   --browser   also Debian's Chromium, which the Web UI test (test/ui.test.ts) drives; Playwright's
#               own browser downloads are not used. Installed with apt-get when running as root.
set -euo pipefail
cd "$(dirname "$0")/.."

lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ "$(cat node_modules/.setup-stamp 2>/dev/null)" != "$lock_hash" ]]; then
  # The SDK's native core and swc ship prebuilt in their npm packages: no install script is needed.
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$lock_hash" >node_modules/.setup-stamp
fi
bash scripts/install-temporal.sh

if [[ "${1:-}" == "--browser" ]] && ! command -v chromium >/dev/null; then
  if [[ "$(id -u)" -ne 0 ]]; then
    echo "setup: the Web UI test needs Debian's Chromium, which only root can install: run 'sudo apt-get install -y chromium'" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
