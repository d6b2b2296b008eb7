/**
 * Interoperability with strongSwan 5.9: the client runs in its own network namespace against
 * charon, and the test compares what charon lists and logs with what the client computed.
 * Skipped unless running as root with charon, swanctl and pki installed.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  GATEWAY_ADDRESS,
  startStrongswanGateway,
  type StrongswanGateway,
} from '../lab/strongswan.js';

const run = promisify(execFile);
const DRIVER = fileURLToPath(new URL('./fixtures/run-client.ts', import.meta.url));
const SECRET = 'lupina-interop-secret';
const available =
  process.getuid?.() === 0 &&
  existsSync('/usr/lib/ipsec/charon') &&
  existsSync('/usr/sbin/swanctl') &&
  existsSync('/usr/bin/pki');
const skip = available ? false : 'needs root, charon, swanctl and pki';

interface ClientResult {
  ok: boolean;
  error?: string;
  spiI: string;
  spiR: string;
  child: {
    inboundSpi: string;
    outboundSpi: string;
    encryption: string;
    encryptionKeyLength: number;
    integrity?: string;
    udpEncapsulation: boolean;
    local: string[];
    remote: string[];
    inboundEncryptionKey: string;
    outboundEncryptionKey: string;
    inboundIntegrityKey?: string;
    outboundIntegrityKey?: string;
  };
  virtualIp?: string;
  dns: string[];
  dnsDomains: string[];
}

/** A running client: its first output line, and a way to make it close the IKE SA. */
interface RunningClient {
  result: ClientResult;
  send(command: string): Promise<Record<string, unknown>>;
  /** Waits for the next output line without sending a command. */
  next(): Promise<Record<string, unknown>>;
  stop(): void;
}

async function startClient(gateway: StrongswanGateway, profile: object): Promise<RunningClient> {
  const encoded = Buffer.from(JSON.stringify(profile)).toString('base64');
  const child = gateway.spawnInClient(process.execPath, [
    '--import',
    'tsx',
    DRIVER,
    encoded,
    GATEWAY_ADDRESS,
  ]);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const nextLine = async () => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    const line = await lines.next();
    clearTimeout(timer);
    if (line.done === true) {
      throw new Error(`the client exited without output: ${stderr}`);
    }
    return JSON.parse(line.value) as Record<string, unknown>;
  };
  const result = (await nextLine()) as unknown as ClientResult;
  return {
    result,
    send: async (command) => {
      child.stdin?.write(`${command}\n`);
      return nextLine();
    },
    next: nextLine,
    stop: () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
      }
    },
  };
}

/** Returns the hex bytes of the charon hex dump that follows `label` nearest before `end`. */
function keyFromLog(log: string, label: string, end: number): string {
  const start = log.lastIndexOf(`${label} =>`, end);
  assert.ok(start >= 0, `charon log has no "${label}" before offset ${end}`);
  const lines = log.slice(start).split('\n').slice(1);
  let hex = '';
  for (const line of lines) {
    const match = /\[\w+\]\s+\d+: ((?:[0-9A-F]{2} ?)+)/.exec(line);
    if (match === null) {
      break;
    }
    hex += match[1]!.replace(/ /g, '');
  }
  return hex.toLowerCase();
}

const GATEWAY_IKE_PROPOSALS = [
  'aes256gcm16-prfsha384-ecp384',
  'aes128-sha256-x25519',
  'aes256-sha384-modp3072',
  'chacha20poly1305-prfsha256-ecp256',
].join(', ');
const GATEWAY_ESP_PROPOSALS = [
  'aes128gcm16-x25519',
  'aes128gcm16',
  'aes128-sha256',
  'aes256-sha512',
  'chacha20poly1305',
].join(', ');

const PSK_GATEWAY = `
connections {
  rw {
    version = 2
    proposals = ${GATEWAY_IKE_PROPOSALS}
    local_addrs = ${GATEWAY_ADDRESS}
    pools = pool4
    fragmentation = yes
    dpd_delay = 1s
    local {
      auth = psk
      id = gw.example.org
    }
    remote {
      auth = psk
      id = client@example.org
    }
    children {
      net {
        local_ts = 0.0.0.0/0
        esp_proposals = ${GATEWAY_ESP_PROPOSALS}
      }
    }
  }
}
pools {
  pool4 {
    addrs = 198.51.100.16/28
    dns = 203.0.113.53
    25 = corp.example.org
  }
}
secrets {
  ike-client {
    id-1 = client@example.org
    secret = "${SECRET}"
  }
}
`;

function pskProfile(ikeProposal: string, espProposal: string, secret = SECRET): object {
  return {
    localIdentity: 'client@example.org',
    remoteIdentity: 'gw.example.org',
    localAuth: { method: 'psk', secretHex: Buffer.from(secret).toString('hex') },
    remoteAuth: { method: 'psk' },
    ikeProposals: [ikeProposal],
    espProposals: [espProposal],
    requestVirtualIp: { ipv4: true },
    retransmit: { giveUpAfterMs: 10_000 },
  };
}

async function checkEstablished(
  gateway: StrongswanGateway,
  client: RunningClient,
  expected: { ikeEncryption: string; childEncryption: string; integrity: string },
): Promise<void> {
  const { result } = client;
  assert.equal(result.ok, true, result.error);
  const listing = await gateway.listSas();
  const ike = listing.ikeSas.find((sa) => sa.spiI === result.spiI);
  assert.ok(ike, `charon lists no IKE SA ${result.spiI}:\n${listing.raw}`);
  assert.equal(ike.state, 'ESTABLISHED');
  assert.equal(ike.spiR, result.spiR);
  assert.equal(ike.encryption, expected.ikeEncryption);
  assert.equal(ike.remotePort === '500', false, 'the client should have floated to port 4500');
  const child = ike.childSas[0];
  assert.ok(child, 'charon lists no CHILD_SA');
  assert.equal(child.state, 'INSTALLED');
  // The gateway's inbound SPI is our outbound one and the other way round.
  assert.equal(child.spiIn, result.child.outboundSpi);
  assert.equal(child.spiOut, result.child.inboundSpi);
  assert.equal(child.encryption, expected.childEncryption);
  assert.equal(child.integrity, expected.integrity);
  assert.equal(child.encap, true);
  assert.equal(result.child.udpEncapsulation, true);

  // Charon logs the CHILD_SA keys at level 4; ours must be the same bytes.
  const log = await gateway.log();
  const established = log.indexOf(`established with SPIs ${result.child.outboundSpi}_i`);
  assert.ok(established > 0, 'charon log lacks the CHILD_SA establishment');
  assert.equal(
    result.child.outboundEncryptionKey,
    keyFromLog(log, 'encryption initiator key', established),
  );
  assert.equal(
    result.child.inboundEncryptionKey,
    keyFromLog(log, 'encryption responder key', established),
  );
  if (result.child.outboundIntegrityKey !== undefined) {
    assert.equal(
      result.child.outboundIntegrityKey,
      keyFromLog(log, 'integrity initiator key', established),
    );
    assert.equal(
      result.child.inboundIntegrityKey,
      keyFromLog(log, 'integrity responder key', established),
    );
  }
}

describe('strongSwan PSK interop', { skip }, () => {
  let gateway: StrongswanGateway;

  before(async () => {
    gateway = await startStrongswanGateway({ swanctlConf: PSK_GATEWAY });
  });

  after(async () => {
    await gateway?.stop();
  });

  it('gcm16 ecp384 with gcm ESP', async () => {
    const client = await startClient(
      gateway,
      pskProfile('aes256gcm16-prfsha384-ecp384', 'aes128gcm16'),
    );
    try {
      await checkEstablished(gateway, client, {
        ikeEncryption: 'AES_GCM_16/256',
        childEncryption: 'AES_GCM_16/128',
        integrity: '',
      });
      assert.equal(client.result.child.encryption, 'ENCR_AES_GCM_16');
      assert.equal(client.result.child.encryptionKeyLength, 16);
      assert.equal(client.result.child.outboundEncryptionKey.length, 2 * 20);
      assert.equal(client.result.virtualIp?.startsWith('198.51.100.'), true);
      assert.deepEqual(client.result.dns, ['203.0.113.53']);
      assert.deepEqual(client.result.dnsDomains, ['corp.example.org']);
      assert.deepEqual(client.result.child.local, [`${client.result.virtualIp}/32`]);
      assert.deepEqual(client.result.child.remote, ['0.0.0.0/0']);

      const liveness = await client.send('liveness');
      assert.equal(liveness.liveness, true);
      const closed = await client.send('close');
      assert.equal(closed.closed, true);
      assert.equal(closed.keysZeroed, true);
      const listing = await gateway.listSas();
      assert.equal(
        listing.ikeSas.some((sa) => sa.spiI === client.result.spiI),
        false,
      );
    } finally {
      client.stop();
    }
  });

  it('cbc sha256 x25519 with cbc ESP', async () => {
    const client = await startClient(gateway, pskProfile('aes128-sha256-x25519', 'aes128-sha256'));
    try {
      await checkEstablished(gateway, client, {
        ikeEncryption: 'AES_CBC/128',
        childEncryption: 'AES_CBC/128',
        integrity: 'HMAC_SHA2_256_128',
      });
      assert.equal(client.result.child.encryption, 'ENCR_AES_CBC');
      assert.equal(client.result.child.integrity, 'AUTH_HMAC_SHA2_256_128');
      assert.equal(client.result.child.outboundIntegrityKey?.length, 2 * 32);
      await client.send('close');
    } finally {
      client.stop();
    }
  });

  it('chacha20poly1305 ecp256 for both', async () => {
    const profile = pskProfile('chacha20poly1305-prfsha256-ecp256', 'chacha20poly1305');
    const client = await startClient(gateway, profile);
    try {
      // Charon lists no key size for ChaCha20-Poly1305, whose key is always 256 bits.
      await checkEstablished(gateway, client, {
        ikeEncryption: 'CHACHA20_POLY1305/',
        childEncryption: 'CHACHA20_POLY1305/',
        integrity: '',
      });
      assert.equal(client.result.child.encryption, 'ENCR_CHACHA20_POLY1305');
      assert.equal(client.result.child.outboundEncryptionKey.length, 2 * 36);
      await client.send('close');
    } finally {
      client.stop();
    }
  });

  it('modp3072 retry after INVALID_KE', async () => {
    // The client sends its KE for x25519, but the only gateway proposal with AES-256 and
    // SHA-384 names modp3072, so the gateway returns INVALID_KE_PAYLOAD for group 15.
    const client = await startClient(gateway, {
      ...pskProfile('aes256-sha384-modp3072', 'aes256-sha512'),
      ikeProposals: ['aes256-sha384-x25519-modp3072'],
    });
    try {
      await checkEstablished(gateway, client, {
        ikeEncryption: 'AES_CBC/256',
        childEncryption: 'AES_CBC/256',
        integrity: 'HMAC_SHA2_512_256',
      });
      await client.send('close');
    } finally {
      client.stop();
    }
  });

  it('rekeys CHILD_SA with PFS', async () => {
    const client = await startClient(
      gateway,
      pskProfile('aes128-sha256-x25519', 'aes128gcm16-x25519'),
    );
    try {
      await checkEstablished(gateway, client, {
        ikeEncryption: 'AES_CBC/128',
        childEncryption: 'AES_GCM_16/128',
        integrity: '',
      });
      const rekeyed = (await client.send('rekey-child')).child as ClientResult['child'] & {
        pfsGroup: number;
      };
      assert.equal(rekeyed.pfsGroup, 31);
      assert.notEqual(rekeyed.inboundSpi, client.result.child.inboundSpi);
      const listing = await gateway.listSas();
      const ike = listing.ikeSas.find((sa) => sa.spiI === client.result.spiI);
      // Charon keeps a rekeyed CHILD_SA for a few seconds in state DELETED.
      const installed = ike?.childSas.filter((c) => c.state === 'INSTALLED');
      assert.deepEqual(
        installed?.map((c) => [c.spiIn, c.spiOut]),
        [[rekeyed.outboundSpi, rekeyed.inboundSpi]],
      );
      assert.match(listing.raw, /dh-group=CURVE_25519/);
      const log = await gateway.log();
      const established = log.indexOf(`established with SPIs ${rekeyed.outboundSpi}_i`);
      assert.ok(established > 0, 'charon log lacks the rekeyed CHILD_SA');
      assert.equal(
        rekeyed.outboundEncryptionKey,
        keyFromLog(log, 'encryption initiator key', established),
      );
      assert.equal(
        rekeyed.inboundEncryptionKey,
        keyFromLog(log, 'encryption responder key', established),
      );
      await client.send('close');
    } finally {
      client.stop();
    }
  });

  it('rekeys CHILD_SA without PFS', async () => {
    const client = await startClient(
      gateway,
      pskProfile('aes256gcm16-prfsha384-ecp384', 'aes128-sha256'),
    );
    try {
      const rekeyed = (await client.send('rekey-child')).child as ClientResult['child'] & {
        pfsGroup: number;
      };
      assert.equal(rekeyed.pfsGroup, 0);
      const listing = await gateway.listSas();
      const ike = listing.ikeSas.find((sa) => sa.spiI === client.result.spiI);
      const installed = ike?.childSas.filter((c) => c.state === 'INSTALLED');
      assert.deepEqual(
        installed?.map((c) => c.spiIn),
        [rekeyed.outboundSpi],
      );
      const old = ike?.childSas.find((c) => c.spiIn === client.result.child.outboundSpi);
      assert.notEqual(old?.state, 'INSTALLED');
      const log = await gateway.log();
      const established = log.indexOf(`established with SPIs ${rekeyed.outboundSpi}_i`);
      assert.ok(established > 0, 'charon log lacks the rekeyed CHILD_SA');
      assert.equal(
        rekeyed.outboundEncryptionKey,
        keyFromLog(log, 'encryption initiator key', established),
      );
      assert.equal(
        rekeyed.outboundIntegrityKey,
        keyFromLog(log, 'integrity initiator key', established),
      );
      assert.equal(
        rekeyed.inboundIntegrityKey,
        keyFromLog(log, 'integrity responder key', established),
      );
      await client.send('close');
    } finally {
      client.stop();
    }
  });

  it('rekeys IKE SA', async () => {
    const client = await startClient(gateway, pskProfile('aes128-sha256-x25519', 'aes128gcm16'));
    try {
      const rekeyed = await client.send('rekey-ike');
      assert.notEqual(rekeyed.spiI, client.result.spiI);
      const listing = await gateway.listSas();
      assert.equal(
        listing.ikeSas.some((sa) => sa.spiI === client.result.spiI),
        false,
      );
      const ike = listing.ikeSas.find((sa) => sa.spiI === rekeyed.spiI);
      assert.equal(ike?.state, 'ESTABLISHED');
      assert.equal(ike?.spiR, rekeyed.spiR);
      assert.deepEqual(
        ike?.childSas.map((c) => c.spiIn),
        [client.result.child.outboundSpi],
      );
      // The new IKE SA carries traffic: a liveness check and the final delete.
      assert.equal((await client.send('liveness')).liveness, true);
      assert.equal((await client.send('close')).closed, true);
      const after = await gateway.listSas();
      assert.equal(
        after.ikeSas.some((sa) => sa.spiI === rekeyed.spiI),
        false,
      );
    } finally {
      client.stop();
    }
  });

  it('answers gateway DPD and delete', async () => {
    const client = await startClient(gateway, pskProfile('aes128-sha256-x25519', 'aes128gcm16'));
    try {
      assert.equal(client.result.ok, true, client.result.error);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const listing = await gateway.listSas();
      const ike = listing.ikeSas.find((sa) => sa.spiI === client.result.spiI);
      assert.equal(ike?.state, 'ESTABLISHED');
      const log = await gateway.log();
      assert.match(log, /generating INFORMATIONAL request \d+ \[ \]/);
      assert.match(log, /parsed INFORMATIONAL response \d+ \[ \]/);

      const closedLine = client.next();
      await gateway.swanctl(['--terminate', '--ike-id', ike!.uniqueId]);
      const closed = await closedLine;
      assert.equal(closed.closedBy, 'deleted by the gateway');
      assert.equal(closed.keysZeroed, true);
      const after = await gateway.listSas();
      assert.equal(
        after.ikeSas.some((sa) => sa.spiI === client.result.spiI),
        false,
      );
    } finally {
      client.stop();
    }
  });

  it('wrong PSK fails clearly', async () => {
    const started = Date.now();
    const client = await startClient(
      gateway,
      pskProfile('aes128-sha256-x25519', 'aes128gcm16', 'wrong-secret'),
    );
    client.stop();
    assert.equal(client.result.ok, false);
    assert.match(
      client.result.error ?? '',
      /authentication failed: the gateway rejected the pre-shared key/,
    );
    assert.ok(Date.now() - started < 15_000, 'the failure took too long');
  });
});

async function pki(directory: string, args: string, input?: string): Promise<void> {
  const command = input === undefined ? `pki ${args}` : `pki ${input} | pki ${args}`;
  await run('sh', ['-c', `${command} 2>/dev/null`], { cwd: directory });
}

interface TestPki {
  directory: string;
  caPem: string;
  gatewayPem: string;
  gatewayKey: string;
  clientPem: string;
  clientKey: string;
  clientRsaPem: string;
  clientRsaKey: string;
}

async function createPki(): Promise<TestPki> {
  const directory = await mkdtemp(join(tmpdir(), 'lupina-pki-'));
  const dn = (cn: string) => `"C=CH, O=Lupina Test, CN=${cn}"`;
  await pki(directory, '--gen --type rsa --size 2048 --outform pem > ca.key');
  await pki(
    directory,
    `--self --ca --lifetime 30 --in ca.key --dn ${dn('Lupina Test CA')} --outform pem > ca.pem`,
  );

  await pki(directory, '--gen --type rsa --size 2048 --outform pem > gw.key');
  await pki(
    directory,
    `--issue --cacert ca.pem --cakey ca.key --lifetime 30 --dn ${dn('gw.example.org')} ` +
      '--san gw.example.org --flag serverAuth --outform pem > gw.pem',
    '--pub --in gw.key',
  );

  await pki(directory, '--gen --type ecdsa --size 256 --outform pem > client.key');
  await pki(
    directory,
    `--issue --cacert ca.pem --cakey ca.key --lifetime 30 --dn ${dn('client@example.org')} ` +
      '--san client@example.org --outform pem > client.pem',
    '--pub --in client.key',
  );

  await pki(directory, '--gen --type rsa --size 2048 --outform pem > client-rsa.key');
  await pki(
    directory,
    `--issue --cacert ca.pem --cakey ca.key --lifetime 30 --dn ${dn('rsa@example.org')} ` +
      '--san rsa@example.org --outform pem > client-rsa.pem',
    '--pub --in client-rsa.key',
  );

  const read = (name: string) => readFile(join(directory, name), 'utf8');
  return {
    directory,
    caPem: await read('ca.pem'),
    gatewayPem: await read('gw.pem'),
    gatewayKey: await read('gw.key'),
    clientPem: await read('client.pem'),
    clientKey: await read('client.key'),
    clientRsaPem: await read('client-rsa.pem'),
    clientRsaKey: await read('client-rsa.key'),
  };
}

const CERT_GATEWAY = `
connections {
  rw {
    version = 2
    proposals = aes256gcm16-prfsha384-ecp384, aes128-sha256-x25519
    local_addrs = ${GATEWAY_ADDRESS}
    pools = pool4
    fragmentation = yes
    send_certreq = yes
    local {
      auth = pubkey
      certs = gw.pem
      id = gw.example.org
    }
    remote {
      auth = pubkey
      cacerts = ca.pem
      id = %any
    }
    children {
      net {
        local_ts = 0.0.0.0/0
        esp_proposals = aes128gcm16, aes128-sha256
      }
    }
  }
}
pools {
  pool4 {
    addrs = 198.51.100.32/28
  }
}
`;

describe('strongSwan certificate interop', { skip }, () => {
  let gateway: StrongswanGateway;
  let testPki: TestPki;

  before(async () => {
    testPki = await createPki();
    gateway = await startStrongswanGateway({
      swanctlConf: CERT_GATEWAY,
      files: {
        'x509ca/ca.pem': testPki.caPem,
        'x509/gw.pem': testPki.gatewayPem,
        'private/gw.key': testPki.gatewayKey,
      },
      // RSA-PSS for the gateway's signature, so that the client checks PSS too.
      charonSettings: 'rsa_pss = yes',
    });
  });

  after(async () => {
    await gateway?.stop();
    if (testPki !== undefined) {
      await rm(testPki.directory, { recursive: true, force: true });
    }
  });

  const certProfile = (
    certificate: string,
    key: string,
    identity: string,
    rsaPadding?: string,
  ) => ({
    localIdentity: identity,
    remoteIdentity: 'gw.example.org',
    localAuth: { method: 'pubkey', certificatesPem: [certificate], privateKeyPem: key, rsaPadding },
    remoteAuth: { method: 'pubkey', caCertificatesPem: [testPki.caPem] },
    ikeProposals: ['aes256gcm16-prfsha384-ecp384'],
    espProposals: ['aes128gcm16'],
    requestVirtualIp: { ipv4: true },
    retransmit: { giveUpAfterMs: 10_000 },
  });

  it('ECDSA client, RSA-PSS gateway', async () => {
    const client = await startClient(
      gateway,
      certProfile(testPki.clientPem, testPki.clientKey, 'client@example.org'),
    );
    try {
      await checkEstablished(gateway, client, {
        ikeEncryption: 'AES_GCM_16/256',
        childEncryption: 'AES_GCM_16/128',
        integrity: '',
      });
      const log = await gateway.log();
      assert.match(
        log,
        /authentication of 'client@example.org' with ECDSA[-_]WITH[-_]SHA256[^\n]* successful/i,
      );
      await client.send('close');
    } finally {
      client.stop();
    }
  });

  it('RSA-PSS client with DN identity', async () => {
    const client = await startClient(gateway, {
      ...certProfile(testPki.clientRsaPem, testPki.clientRsaKey, 'unused', 'pss'),
      localIdentity: undefined,
    });
    try {
      await checkEstablished(gateway, client, {
        ikeEncryption: 'AES_GCM_16/256',
        childEncryption: 'AES_GCM_16/128',
        integrity: '',
      });
      const log = await gateway.log();
      assert.match(
        log,
        /authentication of 'C=CH, O=Lupina Test, CN=rsa@example.org' with RSA[-_]EMSA[-_]PSS/i,
      );
      await client.send('close');
    } finally {
      client.stop();
    }
  });

  it('untrusted gateway CA is rejected', async () => {
    const other = await createPki();
    try {
      const client = await startClient(gateway, {
        ...certProfile(testPki.clientPem, testPki.clientKey, 'client@example.org'),
        remoteAuth: { method: 'pubkey', caCertificatesPem: [other.caPem] },
      });
      client.stop();
      assert.equal(client.result.ok, false);
      assert.match(
        client.result.error ?? '',
        /gateway authentication failed: no trusted CA issued/,
      );
    } finally {
      await rm(other.directory, { recursive: true, force: true });
    }
  });
});
