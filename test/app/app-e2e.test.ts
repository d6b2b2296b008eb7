/**
 * End to end through the window: the Vite-built renderer runs in Chromium against the real IPC
 * handlers and a real Controller (run-client.ts, inside the lab's client namespace), and a
 * gateway runs in the gateway namespace. The user's steps: import the profile file through the
 * file input, connect, watch the SA counters rise while ping runs, export, disconnect.
 *
 * The gateway is behind `E2eGateway`. The flow runs against strongSwan's charon with a
 * swanctl.conf client profile (IKEv2 with a PSK), and against a Lupina gateway with a
 * setkey.conf (manual keys).
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { build } from 'vite';

import { createLab, isRoot, LAB, startLupina, writeProfile, type Lab, type LupinaProcess } from '../lab/lab.js';
import { startStrongswanClient, type StrongswanClient } from '../lab/strongswan.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCREENSHOTS = join(PROJECT_ROOT, 'test-results', 'app-e2e');
const CHROMIUM = '/usr/bin/chromium';

/** A gateway for the test: it starts in the lab and hands out the client's profile file. */
interface E2eGateway {
  name: string;
  /** The format that the window must report for the client's profile file. */
  importFormat: RegExp;
  /** The SPIs that the exported table must show, when the test fixes them. */
  spis?: { out: string; in: string };
  /** Starts the gateway; resolves once it accepts traffic. */
  start(lab: Lab): Promise<void>;
  /** The client's profile file, which the test imports through the window. */
  clientProfile(lab: Lab): Promise<string>;
  /** An address behind the gateway that replies to ping through the tunnel. */
  pingTarget: string;
  stop(): Promise<void>;
}

const hexKey = (bytes: number) => `0x${randomBytes(bytes).toString('hex')}`;

/**
 * Returns a Lupina gateway with static keys: AES-CBC-128 and HMAC-SHA2-256 in tunnel mode, with a
 * replay window of 8 bytes (64 packets).
 */
function manualKeyGateway(): E2eGateway {
  const keys = { out: [hexKey(16), hexKey(32)], in: [hexKey(16), hexKey(32)] };
  const client = LAB.client.outer;
  const gateway = LAB.gateway.outer;
  const inner = `${LAB.client.inner}/32`;
  const office = LAB.office.network;
  const sas = [
    `add ${client} ${gateway} esp 0x3001 -m tunnel -r 8 -E aes-cbc ${keys.out[0]} -A hmac-sha256 ${keys.out[1]};`,
    `add ${gateway} ${client} esp 0x4001 -m tunnel -r 8 -E aes-cbc ${keys.in[0]} -A hmac-sha256 ${keys.in[1]};`,
  ];
  const clientFile = [...sas,
    `spdadd ${inner} ${office} any -P out ipsec esp/tunnel/${client}-${gateway}/require;`,
    `spdadd ${office} ${inner} any -P in ipsec esp/tunnel/${gateway}-${client}/require;`].join('\n');
  const gatewayFile = [...sas,
    `spdadd ${office} ${inner} any -P out ipsec esp/tunnel/${gateway}-${client}/require;`,
    `spdadd ${inner} ${office} any -P in ipsec esp/tunnel/${client}-${gateway}/require;`].join('\n');
  let process: LupinaProcess | null = null;

  return {
    name: 'Lupina gateway with manual keys',
    importFormat: /setkey format/,
    spis: { out: '00003001', in: '00004001' },
    pingTarget: LAB.office.address,
    async start(lab) {
      const path = await writeProfile(lab, 'e2e-gateway.conf', `${gatewayFile}\n`);
      process = startLupina(lab.gateway, lab.directory, 'e2e-gateway', path);
      await process.connected;
    },
    clientProfile: (lab) => writeProfile(lab, 'office-setkey.conf', `${clientFile}\n`),
    async stop() {
      await process?.stop();
    },
  };
}

/**
 * strongSwan's charon (kernel-libipsec) in the lab's gateway namespace, PSK, handing out
 * 192.0.2.200 from its pool. The client profile asks for UDP encapsulation (`encap = yes`),
 * because the window's engine has no raw sockets.
 */
function strongswanGateway(): E2eGateway {
  const secret = `e2e-${randomBytes(8).toString('hex')}`;
  let charon: StrongswanClient | null = null;
  const gatewayConf = `
connections {
  rw {
    version = 2
    proposals = aes128-sha256-x25519
    local_addrs = ${LAB.gateway.outer}
    pools = pool4
    local {
      auth = psk
      id = gw.example
    }
    remote {
      auth = psk
      id = client.example
    }
    children {
      office {
        local_ts = ${LAB.office.network}
        esp_proposals = aes128gcm16
      }
    }
  }
}
pools {
  pool4 {
    addrs = ${LAB.client.inner}/32
  }
}
secrets {
  ike-client {
    id-gw = gw.example
    id-client = client.example
    secret = "${secret}"
  }
}
`;
  const clientConf = `
connections {
  office {
    remote_addrs = ${LAB.gateway.outer}
    vips = 0.0.0.0
    encap = yes
    proposals = aes128-sha256-x25519
    local {
      auth = psk
      id = client.example
    }
    remote {
      auth = psk
      id = gw.example
    }
    children {
      office {
        remote_ts = ${LAB.office.network}
        esp_proposals = aes128gcm16
      }
    }
  }
}
secrets {
  ike-office {
    id = gw.example
    secret = "${secret}"
  }
}
`;
  return {
    name: 'strongSwan gateway with IKEv2',
    importFormat: /swanctl format/,
    pingTarget: LAB.office.address,
    async start(lab) {
      charon = await startStrongswanClient(lab.gateway, { swanctlConf: gatewayConf });
    },
    clientProfile: (lab) => writeProfile(lab, 'office.swanctl.conf', clientConf),
    async stop() {
      await charon?.stop();
    },
  };
}

interface Observations {
  initialState: string;
  importText: string;
  profileCount: number;
  secretFiles: number;
  connectedState: string;
  linksWhileConnected: string[];
  pingOutput: string;
  packetsOutBefore: number;
  packetsInBefore: number;
  packetsOutAfter: number;
  packetsInAfter: number;
  seqOutAfter: number;
  controllerPacketsOut: number;
  replayWindows: number;
  receivedCells: number;
  chartPaths: string | null;
  exportFileName: string;
  exportJson: string;
  disconnectedState: string;
  saTablesAfterDisconnect: number;
  firstFocus: string | null;
  logLines: number;
  horizontalOverflowAt200: number;
  pageErrors: string[];
  foreignRequests: string[];
  linksAfterShutdown: string[];
}

/** Runs run-client.ts in the client namespace and returns its observations. */
function runClient(lab: Lab, environment: Record<string, string>): Promise<{ observations: Observations | null; output: string }> {
  const child = spawn('ip', ['netns', 'exec', lab.client, process.execPath, '--import', 'tsx',
    join(PROJECT_ROOT, 'test/app/e2e/run-client.ts')], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const timer = setTimeout(() => child.kill('SIGTERM'), 150_000);
  return new Promise((resolve) => child.on('close', () => {
    clearTimeout(timer);
    const line = output.split('\n').find((candidate) => candidate.startsWith('RESULT '));
    resolve({ observations: line ? JSON.parse(line.slice('RESULT '.length)) as Observations : null, output });
  }));
}

function skipReason(): string | false {
  if (!isRoot()) {
    return 'needs root for network namespaces';
  }
  if (!existsSync(CHROMIUM)) {
    return `needs Chromium at ${CHROMIUM} (apt-get install chromium)`;
  }
  return false;
}

const GATEWAYS = existsSync('/usr/lib/ipsec/charon') ? [strongswanGateway(), manualKeyGateway()] : [manualKeyGateway()];
if (GATEWAYS.length === 1 && process.env['CI']) {
  throw new Error('charon is missing: install strongswan-charon, strongswan-swanctl, libcharon-extra-plugins and libstrongswan-standard-plugins');
}

for (const gateway of GATEWAYS) describe(`app end to end, ${gateway.name}`, { skip: skipReason() }, () => {
  let lab: Lab;
  let work: string;
  let rendererDirectory: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'lupina-app-e2e-'));
    rendererDirectory = join(work, 'renderer');
    await build({
      configFile: join(PROJECT_ROOT, 'renderer/vite.config.ts'),
      logLevel: 'warn',
      build: { outDir: rendererDirectory, emptyOutDir: true },
    });
    lab = await createLab();
    await gateway.start(lab);
  });

  after(async () => {
    await gateway.stop();
    await lab?.destroy();
    await rm(work, { recursive: true, force: true });
  });

  it('window imports, connects, counts, disconnects', { timeout: 180_000 }, async () => {
    const { observations, output } = await runClient(lab, {
      E2E_RENDERER_DIR: rendererDirectory,
      E2E_PROFILE_FILE: await gateway.clientProfile(lab),
      E2E_PING_TARGET: gateway.pingTarget,
      E2E_SCREENSHOT_DIR: join(SCREENSHOTS, gateway.name.split(' ')[0]!.toLowerCase()),
      E2E_WORK_DIR: work,
    });
    assert.ok(observations, `the client printed no result:\n${output}`);
    const seen = observations;

    assert.match(seen.initialState, /Disconnected/);
    assert.match(seen.importText, /imported as/);
    assert.match(seen.importText, gateway.importFormat);
    assert.equal(seen.profileCount, 1);
    assert.equal(seen.secretFiles, 1, 'the profile keys go to the secret store');

    assert.match(seen.connectedState, /Connected/);
    assert.ok(seen.linksWhileConnected.some((name) => name.startsWith('lupina')), 'the helper created a TUN device');
    assert.match(seen.pingOutput, / 0% packet loss/);
    assert.ok(seen.packetsOutAfter >= seen.packetsOutBefore + 10, `packets out ${seen.packetsOutBefore} -> ${seen.packetsOutAfter}`);
    assert.ok(seen.packetsInAfter >= seen.packetsInBefore + 10, `packets in ${seen.packetsInBefore} -> ${seen.packetsInAfter}`);
    assert.ok(seen.seqOutAfter >= 10);
    assert.ok(seen.controllerPacketsOut >= seen.packetsOutAfter, 'the table never shows more than the engine counted');
    assert.equal(seen.replayWindows, 1);
    assert.ok(seen.receivedCells >= 10, `${seen.receivedCells} received cells in the replay window`);
    assert.ok(seen.chartPaths, 'the throughput chart has no line');
    assert.match(seen.chartPaths, /^M/);

    assert.match(seen.exportFileName, /^lupina-sas-.*\.json$/);
    const exported = JSON.parse(seen.exportJson) as { connection: { pairs: { spiOut: string; spiIn: string; packetsOut: number }[] } };
    if (gateway.spis) {
      assert.equal(exported.connection.pairs[0]?.spiOut, gateway.spis.out);
      assert.equal(exported.connection.pairs[0]?.spiIn, gateway.spis.in);
    }
    assert.ok((exported.connection.pairs[0]?.packetsOut ?? 0) >= 10);

    assert.match(seen.disconnectedState, /Disconnected/);
    assert.match(seen.disconnectedState, /disconnected by the user/);
    assert.equal(seen.saTablesAfterDisconnect, 0);
    assert.equal(seen.firstFocus, 'SELECT', 'the theme selector is the first stop in the focus order');
    assert.ok(seen.logLines > 0);
    assert.equal(seen.horizontalOverflowAt200, 0, 'the page scrolls sideways at 200% zoom');
    assert.deepEqual(seen.pageErrors, []);
    assert.deepEqual(seen.foreignRequests, []);
    assert.ok(!seen.linksAfterShutdown.some((name) => name.startsWith('lupina')), 'quitting deleted the TUN device');
  });
});
