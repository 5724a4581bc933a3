#!/usr/bin/env bash
# What production runs: src/ compiled to JavaScript and the workflow code bundled beside it, so that
# the worker (`node <out>/worker.js`, which `npm start` runs) starts without tsx and without bundling.
# Usage: scripts/build.sh [out-dir]   (default dist/; emptied first)
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-dist}
# Emptying only what is empty or a previous build guards against a mistyped directory.
if [[ -d $out && -n "$(ls -A "$out")" && ! -f $out/worker.js ]]; then
  echo "build: $out is neither empty nor a previous build; refusing to empty it" >&2
  exit 1
fi
rm -rf "$out"
npx tsc -p tsconfig.build.json --outDir "$out"
node --import tsx scripts/bundle-workflows.ts "$out/workflow-bundle.js"
echo "build: wrote $out/worker.js and $out/workflow-bundle.js"
