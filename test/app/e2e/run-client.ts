/**
 * The client side of the app's end-to-end test, run inside the lab's client namespace by
 * app-e2e.test.ts. It starts the app core: the controller, a secret store with a stand-in for
 * safeStorage, and the privileged helper, started directly because the test runs as root. It
 * serves the built renderer through the test bridge and drives it in Chromium. The steps: import
 * the profile through the file input, connect, ping while the SA counters rise, export, disconnect.
 *
 * It prints one JSON line of observations on stdout (prefix "RESULT ") for the test to check,
 * and saves a screenshot of every step. Settings come from the environment:
 *   E2E_RENDERER_DIR, E2E_PROFILE_FILE, E2E_PING_TARGET, E2E_SCREENSHOT_DIR, E2E_WORK_DIR
 */

import { execFile } from 'node:child_process';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Page } from 'playwright-core';

import { createAppCore } from '../../../main/app/app-core.js';
import { startPushes } from '../../../main/app/ipc-handlers.js';
import type { StringEncryptor } from '../../../main/app/safe-storage-secret-store.js';
import { Log } from '../../../main/controller/log.js';
import { startTestBridge } from './test-bridge.js';

const run = promisify(execFile);
const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';

function setting(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

/** Returns an encryptor with a random in-memory AES-256-GCM key, in place of Electron's safeStorage. */
function testEncryptor(): StringEncryptor {
  const key = randomBytes(32);
  return {
    isEncryptionAvailable: () => true,
    getSelectedStorageBackend: () => 'test',
    encryptString(plainText) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plainText, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]);
    },
    decryptString(encrypted) {
      const decipher = createDecipheriv('aes-256-gcm', key, encrypted.subarray(0, 12));
      decipher.setAuthTag(encrypted.subarray(12, 28));
      return Buffer.concat([decipher.update(encrypted.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}

/** Reads a number from a table cell that formatCount wrote ("1,234"). */
async function cellNumber(page: Page, testId: string): Promise<number> {
  const text = await page.getByTestId(testId).first().innerText();
  return Number(text.replace(/[^0-9]/g, ''));
}

/** Polls a table cell until it shows at least `minimum`; the status push comes every second. */
async function waitForCell(page: Page, testId: string, minimum: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (await cellNumber(page, testId) < minimum) {
    if (Date.now() > deadline) {
      throw new Error(`${testId} stayed below ${minimum} for ${timeoutMs} ms`);
    }
    await page.waitForTimeout(200);
  }
}

async function linkNames(): Promise<string[]> {
  const { stdout } = await run('ip', ['-j', 'link', 'show']);
  return (JSON.parse(stdout) as { ifname: string }[]).map((link) => link.ifname);
}

async function main(): Promise<void> {
  const rendererDirectory = setting('E2E_RENDERER_DIR');
  const profileFile = setting('E2E_PROFILE_FILE');
  const target = setting('E2E_PING_TARGET');
  const screenshots = setting('E2E_SCREENSHOT_DIR');
  const work = await mkdtemp(join(setting('E2E_WORK_DIR'), 'client-'));
  await mkdir(screenshots, { recursive: true });
  const observations: Record<string, unknown> = {};
  const log = new Log('debug');
  log.subscribe((entry) => process.stderr.write(`${entry.level} ${entry.source}: ${entry.message}\n`));

  const core = await createAppCore({
    dataDirectory: join(work, 'data'),
    encryptor: testEncryptor(),
    helperLaunch: {
      command: process.execPath,
      args: ['--import', 'tsx', join(PROJECT_ROOT, 'main/app/privileged-helper.ts'), '--journal-dir', join(work, 'helper-journals')],
    },
    log,
    appInfo: () => ({ version: 'test', platform: process.platform, tunSupported: true, trayHint: null }),
  });
  const bridge = await startTestBridge(rendererDirectory, core.handlers);
  const stopPushes = startPushes(core, core.handlers, bridge.push);
  const context = await chromium.launchPersistentContext(join(work, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  const requests: string[] = [];
  const pageErrors: string[] = [];

  try {
    const page = context.pages()[0] ?? await context.newPage();
    page.on('request', (request) => requests.push(request.url()));
    page.on('response', (response) => {
      if (response.status() >= 400) {
        pageErrors.push(`${response.status()} for ${response.url()}`);
      }
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') {
        pageErrors.push(message.text());
      }
    });
    const shot = (name: string) => page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });

    await page.goto(bridge.url);
    await page.getByRole('heading', { name: 'Profiles' }).waitFor();
    await page.getByTestId('state').filter({ hasNotText: 'Loading' }).waitFor();
    observations['initialState'] = await page.getByTestId('state').innerText();
    await shot('01-start');

    // Import through the UI's file input, as the "Import profile…" button opens it.
    await page.locator('#import-file').setInputFiles(profileFile);
    await page.getByTestId('import-ok').waitFor({ timeout: 15_000 });
    observations['importText'] = await page.getByTestId('import-ok').innerText();
    observations['profileCount'] = await page.getByTestId('profile').count();
    const secretFiles = await readdir(join(work, 'data', 'secrets'));
    observations['secretFiles'] = secretFiles.length;
    await shot('02-imported');

    await page.getByRole('button', { name: /^Connect / }).first().click();
    await page.getByTestId('state').filter({ hasText: /^Connected/ }).waitFor({ timeout: 30_000 });
    await page.getByTestId('sa-row').first().waitFor({ timeout: 5_000 });
    observations['connectedState'] = await page.getByTestId('state').innerText();
    observations['linksWhileConnected'] = await linkNames();
    const packetsOutBefore = await cellNumber(page, 'packets-out');
    const packetsInBefore = await cellNumber(page, 'packets-in');
    await shot('03-connected');

    const ping = await run('ping', ['-c', '10', '-i', '0.2', '-W', '2', target], { timeout: 30_000 });
    observations['pingOutput'] = ping.stdout;
    // The status push comes every second; wait until the table shows the pings.
    await waitForCell(page, 'packets-out', packetsOutBefore + 10, 10_000);
    await page.waitForTimeout(1500);
    observations['packetsOutBefore'] = packetsOutBefore;
    observations['packetsInBefore'] = packetsInBefore;
    observations['packetsOutAfter'] = await cellNumber(page, 'packets-out');
    observations['packetsInAfter'] = await cellNumber(page, 'packets-in');
    observations['seqOutAfter'] = await cellNumber(page, 'seq-out');
    observations['controllerPacketsOut'] = core.controller.status().tunnel?.totals.packetsOut ?? -1;
    observations['replayWindows'] = await page.getByTestId('replay-window').count();
    observations['receivedCells'] = await page.locator('.replay-window .cell.received').count();
    observations['chartPaths'] = await page.locator('[data-testid="throughput-chart"] path.line-in').getAttribute('d');
    await shot('04-traffic');

    const download = page.waitForEvent('download', { timeout: 10_000 });
    await page.getByRole('button', { name: 'Export as JSON' }).click();
    const exported = await download;
    observations['exportFileName'] = exported.suggestedFilename();
    const exportPath = join(work, 'export.json');
    await exported.saveAs(exportPath);
    observations['exportJson'] = await readFile(exportPath, 'utf8');

    await page.getByRole('button', { name: 'Disconnect' }).first().click();
    await page.getByTestId('state').filter({ hasText: /^Disconnected/ }).waitFor({ timeout: 30_000 });
    observations['disconnectedState'] = await page.getByTestId('state').innerText();
    observations['saTablesAfterDisconnect'] = await page.getByTestId('sa-table').count();
    // A fresh page, so the first Tab starts the focus order from the top.
    await page.reload();
    await page.getByTestId('state').filter({ hasText: /^Disconnected/ }).waitFor();
    await page.keyboard.press('Tab');
    observations['firstFocus'] = await page.locator(':focus').evaluate((element) => element.tagName);
    await shot('05-disconnected');

    await page.emulateMedia({ colorScheme: 'dark' });
    await shot('06-dark');

    // 200% zoom: the same window at half the CSS width. Nothing may scroll sideways but the table.
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 640, height: 900 });
    observations['horizontalOverflowAt200'] = await page.locator('html').evaluate((element) => element.scrollWidth - element.clientWidth);
    await shot('07-zoom-200');
    observations['logLines'] = await page.getByTestId('log-lines').locator('li').count();
  } finally {
    observations['pageErrors'] = pageErrors;
    observations['foreignRequests'] = requests.filter((url) => !url.startsWith(bridge.url));
    await context.close();
    stopPushes();
    await bridge.close();
    await core.shutDown();
    observations['linksAfterShutdown'] = await linkNames();
  }
  process.stdout.write(`RESULT ${JSON.stringify(observations)}\n`);
}

main().then(() => process.exit(0), (error: unknown) => {
  process.stderr.write(`e2e client failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
