/**
 * Standalone emulator for demos and manual runs: `npx tsx src/emulator/main.ts --port 0`.
 * Prints one JSON line `{"url":…,"apiKey":…}` on stdout and runs until SIGINT or SIGTERM.
 */
import { Command, InvalidArgumentError } from 'commander';
import { startEmulator } from './index';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('expected a port, 0–65535');
  return n;
}

function factor(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

async function main(): Promise<void> {
  const options = new Command()
    .name('ticksupply-emulator')
    .option('--port <port>', 'port to listen on; 0 picks a free one', port, 0)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--api-key <key>', 'API key the emulator accepts', 'test-key')
    .option('--time-scale <factor>', 'run lifecycles and rate-limit refill this many times faster', factor, 1)
    .option('--no-rate-limit', 'disable the 200/min and 10,000/h token buckets')
    .parse()
    .opts<{ port: number; host: string; apiKey: string; timeScale: number; rateLimit: boolean }>();

  const emulator = await startEmulator({
    port: options.port,
    host: options.host,
    apiKey: options.apiKey,
    timeScale: options.timeScale,
    ...(options.rateLimit ? {} : { rateLimit: false }),
  });
  process.stdout.write(`${JSON.stringify({ url: emulator.url, apiKey: emulator.apiKey })}\n`);
  const stop = (): void => {
    emulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`emulator did not close cleanly: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`emulator failed to start: ${String(error)}\n`);
  process.exit(1);
});
