/**
 * The waits as an operator sees them in the Temporal Web UI: Debian's Chromium (`apt-get install
 * chromium`; scripts/setup.sh does) driven by playwright-core against the dev server's own UI, a
 * worker answering its queries. Screenshots of every page checked go to the git-ignored
 * `.artifacts/screenshots/`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { WorkflowFailedError } from '@temporalio/client';
import { chromium, type Browser, type FrameLocator, type Page } from 'playwright-core';
import { startAwaitExport } from '../src/client';
import { freePort } from '../src/dev-server';
import { ExportSearchAttribute, exportStatusQuery } from '../src/shared';
import { startExportWaits, type ExportWaits } from './helpers/export-waits';
import { createDevServerEnv } from './helpers/temporal';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOTS = path.resolve(__dirname, '..', '.artifacts', 'screenshots');
/** The UI is a single-page app that loads, then queries the server: wait for text, generously. */
const UI_TIMEOUT_MS = 30_000;
const NAMESPACE = 'default';

/** Retries `check` (real time, bounded) until it holds. */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let tries = 0; tries < 200; tries += 1) {
    if (await check()) return;
    await delay(50);
  }
  assert.fail(`gave up waiting until ${what}`);
}

/** The text of a markdown panel of the UI (the summary and details render in their own frames). */
async function panelText(frame: FrameLocator, expected: string): Promise<string> {
  await frame.getByText(expected).first().waitFor({ timeout: UI_TIMEOUT_MS });
  return frame.locator('body').innerText();
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

describe('the Temporal Web UI', () => {
  let waits: ExportWaits;
  let browser: Browser;
  let uiUrl: string;

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run 'bash scripts/setup.sh --browser' as root`);
    const uiPort = await freePort();
    uiUrl = `http://127.0.0.1:${uiPort}`;
    waits = await startExportWaits(() =>
      createDevServerEnv({ ip: '127.0.0.1', ui: true, uiPort, searchAttributes: Object.values(ExportSearchAttribute) }),
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    mkdirSync(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    await Promise.all([browser?.close(), waits?.close()]);
  });

  test('shows a running wait with its summary and current details, and a failed one with reason and request id', { timeout: 180_000 }, async () => {
    const { env, emulator } = waits;
    const reason = 'disk quota exceeded on the export volume';
    const queuedId = emulator.createExport({ lifecycle: [{ status: 'queued' }] });
    const failedId = emulator.createExport({ lifecycle: [{ status: 'queued' }, { status: 'failed', afterPolls: 1, reason }] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    const workflowPage = (workflowId: string) => `${uiUrl}/namespaces/${NAMESPACE}/workflows/${encodeURIComponent(workflowId)}`;

    // The worker runs throughout: the UI reads the current details by querying the workflow.
    await waits.withWorker(async (taskQueue) => {
      const running = await startAwaitExport(env.client, { exportId: queuedId, searchAttributes: true }, { taskQueue });
      const failed = await startAwaitExport(env.client, { exportId: failedId, searchAttributes: true, initialInterval: '100ms' }, { taskQueue });
      const failure = await failed.result().then(
        () => assert.fail('expected the wait to fail'),
        (error: unknown) => error,
      );
      assert.ok(failure instanceof WorkflowFailedError && failure.cause !== undefined, String(failure));
      const requestId = waits.requestsFor(failedId).at(-1)?.requestId;
      assert.equal(failure.cause.message, `export ${failedId} failed: ${reason} (request ${requestId})`);
      await eventually('the running wait has seen queued', async () => (await running.query(exportStatusQuery)).status === 'queued');
      const state = await running.query(exportStatusQuery);

      // The running wait: summary and current details under "User Metadata".
      await page.goto(workflowPage(running.workflowId));
      await page.getByRole('tab', { name: 'User Metadata' }).click();
      const summary = await panelText(page.frameLocator('#user-metadata-summary'), queuedId);
      assert.equal(summary.trim(), `Ticksupply export ${queuedId}`);
      const details = await panelText(page.frameLocator('#user-metadata-current-details'), 'Status:');
      assert.deepEqual(
        details.trim().split('\n'),
        [
          `Status: queued since ${state.statusSince}`,
          `Export: ${queuedId}`,
          'Datastream: 42',
          'Time range: 2024-01-01T00:00:00.123456789Z to 2024-01-01T01:00:00.987654321Z',
          'Polls answered: 1, plus the retries of the pending poll',
          `Deadline: ${state.deadline}`,
        ],
      );
      await screenshot(page, 'running-wait-user-metadata');

      await page.getByRole('tab', { name: 'Search Attributes' }).click();
      await page.getByText('TicksupplyExportStatus').first().waitFor();
      await page.getByText(queuedId).first().waitFor();
      await screenshot(page, 'running-wait-search-attributes');

      // What an operator lists to find the exports still queued.
      const query = `TicksupplyExportStatus="queued" AND ExecutionStatus="Running"`;
      await page.goto(`${uiUrl}/namespaces/${NAMESPACE}/workflows?query=${encodeURIComponent(query)}`);
      await page.getByRole('link', { name: running.workflowId }).first().waitFor();
      assert.equal(await page.getByText(failed.workflowId).count(), 0);
      await screenshot(page, 'queued-waits-list');

      // The failed wait: its failure, with the reason and the request id, on the workflow's page.
      await page.goto(workflowPage(failed.workflowId));
      await page.getByText(`failed: ${reason} (request ${requestId})`).first().waitFor();
      await page.getByText('ExportFailed').first().waitFor();
      await screenshot(page, 'failed-wait');
      await page.getByRole('tab', { name: 'User Metadata' }).click();
      const failedDetails = await panelText(page.frameLocator('#user-metadata-current-details'), 'Status:');
      assert.match(failedDetails.trim(), new RegExp(`^Status: failed since \\S+Z — ${reason}\\n`));
      await screenshot(page, 'failed-wait-user-metadata');
    });
  });
});
