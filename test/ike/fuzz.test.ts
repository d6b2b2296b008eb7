/**
 * Fuzzing of the IKE parser: 100,000 mutated and random inputs from a fixed seed. The parser
 * must return a typed result for every one and never throw.
 */

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parseTrafficSelector } from '../../main/engine/traffic-selector.js';
import { fromHex } from '../../main/ike/bytes.js';
import { encodeMessage, parseMessageSafe } from '../../main/ike/message.js';
import type { PlainPayload } from '../../main/ike/payloads/chain.js';
import { parseProposalSpec, proposalFromSpec } from '../../main/ike/proposal.js';
import { seededRandom as generator } from '../support/prng.js';

const ITERATIONS = 100_000;
const CODES = new Set([
  'truncated',
  'invalid-length',
  'invalid-value',
  'trailing-data',
  'unsupported-critical-payload',
  'invalid-major-version',
  'invalid-nesting',
]);

function seedMessages(): Uint8Array[] {
  const fields = {
    spiI: fromHex('0102030405060708'),
    spiR: fromHex('1112131415161718'),
    exchangeType: 34,
    initiator: true,
    response: false,
    messageId: 0,
  };
  const proposals = ['aes256gcm16-prfsha384-ecp384', 'aes128-sha256-x25519-modp2048'].map(
    (text, index) => proposalFromSpec(parseProposalSpec(text, 'ike'), index + 1, new Uint8Array(0)),
  );
  const all: PlainPayload[] = [
    { type: 33, proposals },
    { type: 34, group: 31, data: new Uint8Array(32).fill(9) },
    { type: 40, data: new Uint8Array(32).fill(7) },
    {
      type: 41,
      protocolId: 0,
      spi: new Uint8Array(0),
      notifyType: 16388,
      data: new Uint8Array(20),
    },
    { type: 35, idType: 3, data: new TextEncoder().encode('client@example.org') },
    { type: 37, encoding: 4, data: new Uint8Array(40).fill(0x30) },
    { type: 38, encoding: 4, data: new Uint8Array(20) },
    { type: 39, method: 14, data: new Uint8Array(40).fill(1) },
    { type: 42, protocolId: 3, spiSize: 4, spis: [fromHex('01020304')] },
    { type: 43, data: fromHex('deadbeef') },
    {
      type: 44,
      selectors: [parseTrafficSelector('0.0.0.0/0'), parseTrafficSelector('::/0')],
      unknownSelectors: [],
    },
    { type: 47, configType: 2, attributes: [{ type: 1, value: fromHex('c6336401') }] },
    { type: 48, code: 1, identifier: 1, eapType: 1, data: fromHex('41') },
  ];
  const sk = encodeMessage(fields, [{ type: 40, data: new Uint8Array(16) }]);
  sk[16] = 46; // Turn the single payload into an SK payload with opaque contents.
  const skf = encodeMessage(fields, [{ type: 40, data: fromHex('00010002' + 'ab'.repeat(16)) }]);
  skf[16] = 53;
  return [encodeMessage(fields, all), encodeMessage(fields, all.slice(0, 4)), sk, skf];
}

function mutate(seed: Uint8Array, random: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(random() * n);
  let bytes = seed.slice();
  const rounds = 1 + pick(4);
  for (let round = 0; round < rounds; round++) {
    switch (pick(6)) {
      case 0:
        bytes[pick(bytes.length)]! ^= 1 << pick(8);
        break;
      case 1:
        bytes[pick(bytes.length)] = pick(256);
        break;
      case 2:
        bytes = bytes.slice(0, pick(bytes.length + 1));
        break;
      case 3: {
        const extra = new Uint8Array(pick(64)).map(() => pick(256));
        const joined = new Uint8Array(bytes.length + extra.length);
        joined.set(bytes);
        joined.set(extra, bytes.length);
        bytes = joined;
        break;
      }
      case 4: {
        // Overwrite a 16-bit field somewhere past the header, often a payload length.
        const at = 28 + pick(Math.max(bytes.length - 29, 1));
        const value = pick(4) === 0 ? 0xffff : pick(64);
        if (at + 1 < bytes.length) {
          bytes[at] = value >> 8;
          bytes[at + 1] = value & 0xff;
        }
        break;
      }
      default:
        bytes = new Uint8Array(pick(200)).map(() => pick(256));
    }
  }
  // Mostly keep the header length right, so that the payload parsers are reached.
  if (bytes.length >= 28 && pick(4) !== 0) {
    new DataView(bytes.buffer).setUint32(24, bytes.length);
    bytes[17] = 0x20;
  }
  return bytes;
}

it('parser survives 100k mutated inputs', () => {
  const random = generator(0x1ce2);
  const seeds = seedMessages();
  let accepted = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const input = mutate(seeds[i % seeds.length]!, random);
    let result;
    try {
      result = parseMessageSafe(input);
    } catch (error) {
      assert.fail(
        `parseMessageSafe threw on input ${Buffer.from(input).toString('hex')}: ${String(error)}`,
      );
    }
    if (result.ok) {
      accepted++;
      continue;
    }
    assert.ok(CODES.has(result.error.code), `unknown error code ${result.error.code}`);
    assert.doesNotMatch(result.error.message, /parser bug/, Buffer.from(input).toString('hex'));
    assert.equal(typeof result.error.notify, 'number');
  }
  // Some mutations leave the message valid; the rest must be rejected, so both occur.
  assert.ok(accepted > 0, 'no input was accepted');
  assert.ok(accepted < ITERATIONS, 'every input was accepted');
});

it('seed messages parse cleanly', () => {
  for (const seed of seedMessages()) {
    const result = parseMessageSafe(seed);
    assert.equal(result.ok, true, result.ok ? '' : result.error.message);
  }
});
