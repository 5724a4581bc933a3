/** Runs a command's main function so that Ctrl-C unwinds it cleanly instead of killing it. */
import { ExitCode } from './exit-codes';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Calls `main` and sets `process.exitCode` from its result. The first SIGINT, SIGTERM or SIGHUP
 * aborts the signal `main` gets, so its `finally` blocks stop the worker and the dev server in
 * order; a rejection after that counts as interrupted. A second signal exits at once (the dev
 * server is then killed by its exit hook).
 */
export function runMain(main: (signal: AbortSignal) => Promise<number>): void {
  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) process.exit(ExitCode.Interrupted);
    controller.abort(new Error('interrupted'));
  };
  for (const name of SIGNALS) process.on(name, onSignal);
  main(controller.signal)
    .then(
      (code) => {
        process.exitCode = code;
      },
      (error: unknown) => {
        if (controller.signal.aborted) {
          process.exitCode = ExitCode.Interrupted;
          return;
        }
        const message = error instanceof Error ? error.message : String(error);
        process.stderr.write(`error: ${message.split('\n', 1)[0]}\n`);
        process.exitCode = ExitCode.Error;
      },
    )
    .finally(() => {
      for (const name of SIGNALS) process.off(name, onSignal);
    });
}
