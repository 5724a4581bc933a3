/**
 * Where `scripts/install-temporal.sh` puts the real Temporal servers. Tests, the demo, the CLI's
 * embedded mode and the benchmarks all start them from here; nothing downloads at run time.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';

const VENV_BIN = path.resolve(__dirname, '..', '.temporal-venv', 'bin');

export const TEMPORAL_CLI = path.join(VENV_BIN, 'temporal');
export const TEMPORAL_TEST_SERVER = path.join(VENV_BIN, 'temporal-test-server');

/** Returns `binary` if it exists, else throws one line that says how to install it. */
export function requireBinary(binary: string): string {
  if (!existsSync(binary)) {
    throw new Error(`${binary} is missing: run 'bash scripts/install-temporal.sh' (npm test does)`);
  }
  return binary;
}
