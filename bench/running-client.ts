/**
 * A Lupina client process that stays up between connects, as the desktop app's main process
 * does: it loads the controller and one profile file once, then connects on each "connect" line
 * on stdin and disconnects on each "disconnect" line. It prints "connected" or "disconnected"
 * when each is done, and "failed: REASON" when a connect fails. bench/ike-bench.ts runs it in
 * the client namespace to time a connect from a running client.
 *
 * Runs from the compiled dist/ like the app: `node dist/bench/running-client.js PROFILE`, or
 * through tsx. LUPINA_CONFIG_DIR, LUPINA_RUNTIME_DIR and LUPINA_RESOLV_CONF set the directories.
 */

import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createController } from '../main/cli/cli-context.js';
import { MemorySecretStore } from '../main/controller/memory-secret-store.js';
import { Log } from '../main/controller/log.js';
import { importProfile } from '../main/profile/import.js';

async function main(): Promise<void> {
  const path = process.argv[2];
  if (!path) {
    throw new Error('usage: running-client PROFILE');
  }
  const log = new Log();
  const controller = createController(log);
  const result = await importProfile(await readFile(path), { fileName: path });
  if (!result.ok) {
    throw new Error(`the profile ${path} does not import: ${result.errors.map((issue) => issue.message).join('; ')}`);
  }
  const secrets = new MemorySecretStore(result.secrets);
  process.stdout.write('ready\n');

  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'connect') {
      try {
        await controller.connect(result.profile, secrets);
        process.stdout.write('connected\n');
      } catch (error) {
        process.stdout.write(`failed: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    } else if (line === 'disconnect') {
      await controller.disconnect('benchmark run done');
      process.stdout.write('disconnected\n');
    }
  }
  await controller.disconnect('benchmark ended');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`running-client: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
