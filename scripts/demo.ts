/**
 * `npm run demo`: a first look at Lupina, as root on Linux. It builds a lab of three network
 * namespaces with documentation addresses only (client, gateway, office host). Then it runs
 * `lupina connect` at the client and at the gateway with static AES-CBC and HMAC-SHA2-256 keys,
 * pings the office host through the tunnel and prints the client's SA table. It removes the lab
 * at the end, also after an error or Ctrl-C. No packet leaves the namespaces.
 */

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createLab, isRoot, LAB, startLupina, writeProfile, type Lab, type LupinaProcess } from '../test/lab/lab.js';

const run = promisify(execFile);
const LUPINA = fileURLToPath(new URL('../bin/lupina.js', import.meta.url));
const CONNECT_TIMEOUT_MS = 15_000;

let lab: Lab | undefined;
const lupinas: LupinaProcess[] = [];
const interrupted = new AbortController();

/** Returns both ends' setkey.conf for an ESP tunnel from the client to the office network. */
function setkeyFiles(): { client: string; gateway: string } {
  const key = (bytes: number) => `0x${randomBytes(bytes).toString('hex')}`;
  const client = LAB.client.outer;
  const gateway = LAB.gateway.outer;
  const sas = [
    `add ${client} ${gateway} esp 0x1001 -m tunnel -E aes-cbc ${key(16)} -A hmac-sha256 ${key(32)};`,
    `add ${gateway} ${client} esp 0x2001 -m tunnel -E aes-cbc ${key(16)} -A hmac-sha256 ${key(32)};`,
  ];
  const inner = `${LAB.client.inner}/32`;
  const office = LAB.office.network;
  const out = `esp/tunnel/${client}-${gateway}/require`;
  const back = `esp/tunnel/${gateway}-${client}/require`;
  return {
    client: [...sas, `spdadd ${inner} ${office} any -P out ipsec ${out};`,
      `spdadd ${office} ${inner} any -P in ipsec ${back};`, ''].join('\n'),
    gateway: [...sas, `spdadd ${office} ${inner} any -P out ipsec ${back};`,
      `spdadd ${inner} ${office} any -P in ipsec ${out};`, ''].join('\n'),
  };
}

async function connect(namespace: string, name: string, setkey: string): Promise<LupinaProcess> {
  const lupina = startLupina(namespace, lab!.directory, name, await writeProfile(lab!, `${name}.conf`, setkey));
  lupinas.push(lupina);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`lupina connect at the ${name} timed out:\n${lupina.output()}`)),
      CONNECT_TIMEOUT_MS);
  });
  await Promise.race([lupina.connected, timeout]).finally(() => clearTimeout(timer));
  return lupina;
}

/** Stops every `lupina connect` and deletes the namespaces. Safe to call more than once. */
async function tearDown(): Promise<void> {
  const running = lupinas.splice(0);
  await Promise.allSettled(running.map((lupina) => lupina.stop()));
  const built = lab;
  lab = undefined;
  await built?.destroy();
}

/** Runs a command in a namespace and returns its stdout. Ctrl-C kills it through `interrupted`. */
async function runInNamespace(namespace: string, args: string[], env = process.env): Promise<string> {
  const { stdout } = await run('ip', ['netns', 'exec', namespace, ...args], {
    env, timeout: 15_000, signal: interrupted.signal,
  });
  return stdout;
}

/** Prints the heading of the next step, unless Ctrl-C came first. */
function step(text: string): void {
  interrupted.signal.throwIfAborted();
  console.log(text);
}

async function demo(): Promise<void> {
  step(`1/5 building the lab: client ${LAB.client.outer}, gateway ${LAB.gateway.outer}, ` +
    `office host ${LAB.office.address}`);
  lab = await createLab();

  step('2/5 connecting Lupina at the gateway and at the client ' +
    '(ESP tunnel mode, AES-CBC-128 and HMAC-SHA2-256, static keys)');
  const files = setkeyFiles();
  await connect(lab.gateway, 'gateway', files.gateway);
  const client = await connect(lab.client, 'client', files.client);

  step(`3/5 pinging the office host ${LAB.office.address} from the client through the tunnel`);
  console.log(await runInNamespace(lab.client, ['ping', '-c', '3', '-i', '0.2', '-W', '2', LAB.office.address]));

  step('4/5 the client\'s SAs (lupina status):');
  console.log(await runInNamespace(lab.client, [process.execPath, LUPINA, 'status'], client.environment));
}

async function main(): Promise<number> {
  if (process.platform !== 'linux' || !isRoot()) {
    console.error('npm run demo needs root on Linux, because it creates network namespaces and TUN ' +
      'devices; run it again with sudo.');
    return 1;
  }
  for (const [signal, exitCode] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: tearing down the lab`);
      interrupted.abort(new Error(`stopped by ${signal}`));
      void tearDown().finally(() => process.exit(exitCode));
    });
  }

  try {
    await demo();
  } catch (error) {
    if (interrupted.signal.aborted) {
      // The signal handler tears down and exits.
      return new Promise<never>(() => undefined);
    }
    console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    await tearDown();
    return 1;
  }
  console.log('5/5 tearing down the lab');
  await tearDown();
  console.log('done: the namespaces, devices and processes are gone');
  return 0;
}

process.exitCode = await main();
