// RawIpSocket and the lupina_native addon against the real kernel: two namespaces joined by
// a veth pair, 198.51.100.1/24 and 2001:db8:100::1/64 in the first, .2 and ::2 in the
// second. The tests need root; without root they are skipped.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { afterEach, beforeEach, describe, test } from 'node:test';

import {
  createNamespace,
  deleteNamespace,
  ipIn,
  NOBODY,
  needsRoot,
  runInNamespace,
  startInNamespace,
  type ChildOutcome,
} from './fixtures/netns.js';
import { parseIpv4 } from './fixtures/packets.js';

const SCENARIOS = './raw-scenarios.ts';

/** ESP header (SPI 0x1001, sequence number 1) and 12 bytes standing in for ciphertext. */
const ESP_PAYLOAD = '0000100100000001' + 'c0ffee00112233445566778899';

/** AH header (next header 4, length 4 words, SPI 0x2002, sequence 1, 12-byte ICV). */
const AH_PAYLOAD = '04040000000020020000000100112233445566778899aabb';

interface Received {
  source: string;
  hex: string;
}

type Result = Record<string, any>;

function resultOf(outcome: ChildOutcome): Result {
  assert.equal(outcome.code, 0, `scenario failed:\n${outcome.stderr}`);
  assert.ok(outcome.result, `scenario printed no result:\n${outcome.stdout}${outcome.stderr}`);
  return outcome.result as Result;
}

describe('RawIpSocket', { skip: needsRoot }, () => {
  let left = '';
  let right = '';

  beforeEach(() => {
    left = createNamespace();
    right = createNamespace();
    execFileSync('ip', [
      ...['link', 'add', 'lupina-l', 'netns', left, 'type', 'veth'],
      ...['peer', 'name', 'lupina-r', 'netns', right],
    ]);
    for (const [namespace, device, host] of [
      [left, 'lupina-l', '1'],
      [right, 'lupina-r', '2'],
    ] as const) {
      ipIn(namespace, 'address', 'add', `198.51.100.${host}/24`, 'dev', device);
      ipIn(namespace, 'address', 'add', `2001:db8:100::${host}/64`, 'dev', device, 'nodad');
      ipIn(namespace, 'link', 'set', device, 'up');
    }
  });

  afterEach(() => {
    deleteNamespace(left);
    deleteNamespace(right);
  });

  /** Starts a receiver on the right, then runs each sender scenario on the left. */
  async function exchangeWith(
    receiverArgs: string[],
    senders: string[][],
  ): Promise<{ received: Received[]; sent: Result[] }> {
    const receiver = startInNamespace(right, SCENARIOS, ['receive', ...receiverArgs]);
    await receiver.ready;

    const sent: Result[] = [];
    for (const senderArgs of senders) {
      sent.push(resultOf(await runInNamespace(left, SCENARIOS, senderArgs)));
    }
    const received = resultOf(await receiver.done).packets as Received[];
    return { received, sent };
  }

  /** Starts a receiver on the right, sends each (destination, payload) from the left. */
  function exchange(
    receiverArgs: string[],
    sends: { family: string; protocol: string; destination: string; payload: string }[],
  ): Promise<{ received: Received[]; sent: Result[] }> {
    const senders = sends.map(({ family, protocol, destination, payload }) => [
      ...['send', family, protocol, destination, payload],
    ]);
    return exchangeWith(receiverArgs, senders);
  }

  test('IPv4 ESP packet reaches peer', async () => {
    const { received, sent } = await exchange(
      ['4', '50'],
      [{ family: '4', protocol: '50', destination: '198.51.100.2', payload: ESP_PAYLOAD }],
    );
    const [first] = received;
    const packet = parseIpv4(Buffer.from(first?.hex ?? '', 'hex'));

    assert.equal(sent[0]?.sent, true);
    assert.equal(sent[0]?.stats.packetsSent, 1);
    assert.equal(received.length, 1);
    assert.equal(first?.source, '198.51.100.1');
    assert.equal(packet.protocol, 50);
    assert.equal(packet.source, '198.51.100.1');
    assert.equal(packet.destination, '198.51.100.2');
    assert.equal(packet.totalLength, packet.headerLength + ESP_PAYLOAD.length / 2);
    assert.equal(packet.payload.toString('hex'), ESP_PAYLOAD);
  });

  test('IPv4 AH packet reaches peer', async () => {
    const { received } = await exchange(
      ['4', '51'],
      [{ family: '4', protocol: '51', destination: '198.51.100.2', payload: AH_PAYLOAD }],
    );
    const packet = parseIpv4(Buffer.from(received[0]?.hex ?? '', 'hex'));

    assert.equal(received[0]?.source, '198.51.100.1');
    assert.equal(packet.protocol, 51);
    assert.equal(packet.payload.toString('hex'), AH_PAYLOAD);
  });

  test('IPv4 AH with included header', async () => {
    const { received, sent } = await exchangeWith(
      ['4', '51'],
      [['send-whole', '51', '198.51.100.1', '198.51.100.2', AH_PAYLOAD]],
    );
    const packet = parseIpv4(Buffer.from(received[0]?.hex ?? '', 'hex'));

    assert.equal(sent[0]?.sent, true);
    assert.equal(received.length, 1);
    assert.equal(packet.identification, 0x4242);
    assert.equal(packet.ttl, 33);
    assert.equal(packet.protocol, 51);
    assert.equal(packet.source, '198.51.100.1');
    assert.equal(packet.payload.toString('hex'), AH_PAYLOAD);
  });

  test('IPv6 ESP payload without header', async () => {
    const { received } = await exchange(
      ['6', '50'],
      [{ family: '6', protocol: '50', destination: '2001:db8:100::2', payload: ESP_PAYLOAD }],
    );

    assert.equal(received.length, 1);
    assert.equal(received[0]?.source, '2001:db8:100::1');
    assert.equal(received[0]?.hex, ESP_PAYLOAD);
  });

  test('bound socket filters destination', async () => {
    ipIn(right, 'address', 'add', '198.51.100.3/24', 'dev', 'lupina-r');
    const { received } = await exchange(
      ['4', '50', '198.51.100.2'],
      [
        { family: '4', protocol: '50', destination: '198.51.100.3', payload: ESP_PAYLOAD },
        { family: '4', protocol: '50', destination: '198.51.100.2', payload: ESP_PAYLOAD },
      ],
    );
    const destinations = received.map(
      (packet) => parseIpv4(Buffer.from(packet.hex, 'hex')).destination,
    );

    assert.deepEqual(destinations, ['198.51.100.2']);
  });

  test('errors carry code and hint', async () => {
    const result = await runInNamespace(left, SCENARIOS, ['errors']).then(resultOf);

    assert.equal(result.bindNotLocal?.code, 'EADDRNOTAVAIL');
    assert.equal(result.bindNotLocal?.syscall, 'bind');
    assert.match(result.bindNotLocal?.message, /No local interface has this address/);
    assert.equal(result.bindWrongFamily?.code, 'ERR_INVALID_ARG_VALUE');
    assert.equal(result.badProtocol?.code, 'ERR_INVALID_ARG_VALUE');
    assert.equal(result.headerIncludedOnIpv6?.code, 'ERR_INVALID_ARG_VALUE');
    assert.equal(result.badDestination?.code, 'ERR_INVALID_ARG_VALUE');
    assert.equal(result.noRoute?.code, 'ENETUNREACH');
    assert.equal(result.noRoute?.errno, -101);
    assert.equal(result.closeAgain, null);
    assert.equal(result.sendAfterClose?.code, 'ERR_LUPINA_CLOSED');
  });

  test('unprivileged open explains CAP_NET_RAW', async () => {
    const outcome = await runInNamespace(left, SCENARIOS, ['unprivileged'], {
      unprivilegedAs: NOBODY,
    });
    const error = resultOf(outcome).open;

    assert.equal(error?.code, 'EPERM');
    assert.equal(error?.syscall, 'socket');
    assert.match(error?.message, /root or the CAP_NET_RAW capability/);
  });
});
