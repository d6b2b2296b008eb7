/**
 * Fuzzed IKE messages against a running `lupina connect`: from the gateway's address and port
 * 4500, a raw socket in the gateway namespace sends a few thousand malformed datagrams to the
 * client's NAT-T socket. Each one must be dropped and counted, the process must live on, and
 * the tunnel must still carry traffic afterwards.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { IkeTunnelSnapshot } from '../../main/controller/ike-vpn-connection.js';
import {
  clientConf,
  gatewayConf,
  labSkip,
  pingOffice,
  runInNamespace,
  withClient,
  withGateway,
} from './ike-lab.js';
import { CLIENT_ADDRESS } from './strongswan.js';
import { seededRandom } from '../support/prng.js';

const SECRET = `lupina-${randomBytes(8).toString('hex')}`;
const PROPOSALS = { ikeProposals: 'aes128-sha256-x25519', espProposals: 'aes128gcm16' };
const psk = { method: 'psk' as const, secret: SECRET };
const FUZZ_SEED = 0x1ce2f00d;
const FUZZ_COUNT = 3000;

const EXCHANGES = [34, 35, 36, 37];

/**
 * Returns `count` IKE messages of six kinds: random bytes, truncated messages, wrong header
 * lengths, unknown critical payloads, wrong payload lengths, and SK payloads that fail the ICV.
 * The real IKE SPIs go into most of them, so they pass the SPI check and reach deeper parsing.
 */
function fuzzMessages(count: number, spiI: Uint8Array, spiR: Uint8Array): Uint8Array[] {
  const random = seededRandom(FUZZ_SEED);
  const pick = (n: number) => Math.floor(random() * n);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => pick(256));
  const message = (firstPayload: number, body: Uint8Array, length?: number) => {
    const out = new Uint8Array(28 + body.length);
    const view = new DataView(out.buffer);
    out.set(pick(10) === 0 ? bytes(8) : spiI, 0);
    out.set(pick(10) === 0 ? bytes(8) : spiR, 8);
    out[16] = firstPayload;
    out[17] = 0x20;
    out[18] = EXCHANGES[pick(EXCHANGES.length)]!;
    // The responder never sets the Initiator flag; some messages claim to be responses.
    out[19] = pick(3) === 0 ? 0x20 : 0x00;
    view.setUint32(20, pick(8));
    view.setUint32(24, length ?? out.length);
    out.set(body, 28);
    return out;
  };
  const payload = (next: number, critical: boolean, body: Uint8Array, length?: number) => {
    const out = new Uint8Array(4 + body.length);
    out[0] = next;
    out[1] = critical ? 0x80 : 0;
    new DataView(out.buffer).setUint16(2, length ?? out.length);
    out.set(body, 4);
    return out;
  };
  const sk = () => payload(0, true, bytes(16 + pick(120)));

  const messages: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    switch (i % 6) {
      case 0:
        messages.push(bytes(pick(300)));
        break;
      case 1: {
        const whole = message(46, sk());
        messages.push(whole.slice(0, pick(whole.length)));
        break;
      }
      case 2:
        messages.push(message(46, sk(), pick(2) === 0 ? pick(28) : 28 + pick(2000)));
        break;
      case 3: {
        const unknown = payload(46, true, bytes(pick(32)));
        const chain = new Uint8Array([...unknown, ...sk()]);
        messages.push(message(128 + pick(128), chain));
        break;
      }
      case 4: {
        const body = bytes(16 + pick(64));
        const wrong = pick(2) === 0 ? pick(4) : body.length + 5 + pick(500);
        messages.push(message(46, payload(0, true, body, wrong)));
        break;
      }
      default:
        messages.push(message(46, sk()));
    }
  }
  return messages;
}

/** Sends UDP datagrams from port 4500 with a raw socket, which needs no bound port 4500. */
const SENDER = `
import socket, struct, sys, time
port = int(sys.argv[1])
data = sys.stdin.buffer.read()
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
offset = 0
sent = 0
while offset < len(data):
    (n,) = struct.unpack('>H', data[offset:offset + 2])
    payload = data[offset + 2:offset + 2 + n]
    offset += 2 + n
    s.sendto(struct.pack('>HHHH', 4500, port, 8 + n, 0) + payload, ('${CLIENT_ADDRESS}', 0))
    sent += 1
    if sent % 50 == 0:
        time.sleep(0.01)
print(sent)
`;

async function sendFromGateway(namespace: string, port: number, datagrams: Uint8Array[]): Promise<number> {
  const framed = Buffer.concat(
    datagrams.map((datagram) => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(datagram.length);
      return Buffer.concat([length, datagram]);
    }),
  );
  const child = spawn('ip', ['netns', 'exec', namespace, 'python3', '-c', SENDER, String(port)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stdin.end(framed);
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  assert.equal(code, 0, output);
  return Number(output.trim());
}

function ikeDrops(snapshot: IkeTunnelSnapshot): number {
  assert.ok(snapshot.ike, 'the status has no IKE counters');
  return Object.values(snapshot.ike.drops).reduce((sum, value) => sum + value, 0);
}

describe('IKEv2 fuzzing against lupina connect', { skip: labSkip }, () => {
  it('fuzzed IKE messages are dropped', { timeout: 90_000 }, async () => {
    const conf = gatewayConf({ ...PROPOSALS, auth: psk });
    await withGateway({ swanctlConf: conf }, async (lab) => {
      const profile = clientConf({ ...PROPOSALS, auth: psk });
      const exit = await withClient(lab, 'fuzz', profile, {}, async (client) => {
        await client.waitFor(/: connected$/m, 20_000);
        const listing = await lab.gateway.listSas();
        const ike = listing.ikeSas[0];
        assert.ok(ike, listing.raw);

        const sockets = await runInNamespace(lab.gateway.clientNamespace, 'ss', ['-uanpH'], 5000);
        const line = sockets.stdout.split('\n').find(
          (entry) => entry.includes(`${CLIENT_ADDRESS}:`) && entry.includes('"node"'),
        );
        assert.ok(line, `no UDP socket of lupina in:\n${sockets.stdout}`);
        const port = Number(new RegExp(`${CLIENT_ADDRESS}:(\\d+)`).exec(line)![1]);
        assert.equal(String(port), ike.remotePort);

        const before = (await client.controllerStatus()).tunnel as IkeTunnelSnapshot;
        const marker = new Uint8Array(4);
        const messages = fuzzMessages(FUZZ_COUNT, Buffer.from(ike.spiI, 'hex'), Buffer.from(ike.spiR, 'hex'));
        const sent = await sendFromGateway(
          lab.gateway.namespace,
          port,
          messages.map((fuzzed) => new Uint8Array([...marker, ...fuzzed])),
        );
        assert.equal(sent, FUZZ_COUNT);
        await new Promise((resolve) => setTimeout(resolve, 1000));

        assert.equal(client.process.child.exitCode, null, 'lupina exited');
        const after = (await client.controllerStatus()).tunnel as IkeTunnelSnapshot;
        const received = (after.transport as Record<string, number>)['ikeReceived']! -
          (before.transport as Record<string, number>)['ikeReceived']!;
        assert.equal(received, FUZZ_COUNT);
        assert.equal(ikeDrops(after) - ikeDrops(before), FUZZ_COUNT);
        assert.ok(after.ike!.drops.integrity > 0, 'no message reached the ICV check');
        assert.ok(after.ike!.drops.malformed > 0, 'no message failed to parse');

        const status = await client.statusJson();
        assert.equal(status.state.status, 'connected');
        assert.doesNotMatch(client.output(), /reconnecting/);
        assert.match(await pingOffice(lab.gateway.clientNamespace, 3), / 0% packet loss/);
        const still = await lab.gateway.listSas();
        assert.equal(still.ikeSas[0]?.spiI, ike.spiI);
      });
      assert.equal(exit, 0);
    });
  });
});
