/**
 * Writes the workflow bundle the worker starts from in production:
 * `node --import tsx scripts/bundle-workflows.ts <out-file>` (`npm run build` writes dist/workflow-bundle.js).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../src/worker';

async function main(outFile: string | undefined): Promise<void> {
  if (outFile === undefined) throw new Error('usage: bundle-workflows.ts <out-file>');
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
  await mkdir(path.dirname(path.resolve(outFile)), { recursive: true });
  await writeFile(outFile, code);
}

main(process.argv[2]).catch((error: unknown) => {
  process.stderr.write(`bundle-workflows: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
