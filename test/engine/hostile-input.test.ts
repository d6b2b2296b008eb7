/**
 * Hostile inbound packets: every truncation, a bit flip in every byte, bad padding with a valid
 * ICV, random bytes, and a seeded fuzz loop. None may throw, and none may deliver plaintext.
 */

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseAddress } from '../../main/engine/address.js';
import { updateIpv4Checksum } from '../../main/engine/ip-packet.js';
import { SaDatabase } from '../../main/engine/sa-database.js';
import { SecurityAssociation } from '../../main/engine/security-association.js';
import { parseTrafficSelector } from '../../main/engine/traffic-selector.js';
import { SeededRandom } from '../support/prng.js';
import { echoPacket, makeSaPair, TRANSFORM_CASES } from './fixtures.js';

const REPRESENTATIVE = TRANSFORM_CASES.filter((transform) =>
  ['ESP AES-GCM-128', 'ESP AES-GMAC-256', 'ESP ChaCha20-Poly1305', 'ESP AES-CBC-128 AUTH_HMAC_SHA2_256_128',
    'ESP NULL AUTH_HMAC_SHA1_96', 'AH AUTH_HMAC_SHA2_512_256'].includes(transform.name));

describe('hostile inbound packets', () => {
  for (const transform of REPRESENTATIVE) {
    it(`${transform.name} every truncation is dropped`, () => {
      const { outbound, inbound } = makeSaPair({ transform, replayWindow: 0 });
      const result = outbound.protect(echoPacket(4, 64));
      assert.ok(result.ok);
      for (let length = 0; length < result.packet.length; length++) {
        const truncated = Uint8Array.prototype.slice.call(result.packet, 0, length);
        // Keep the IPv4 total length consistent with the cut, so the check reaches ESP or AH.
        if (length >= 20) {
          truncated[2] = length >> 8;
          truncated[3] = length & 0xff;
          updateIpv4Checksum(truncated);
        }
        const outcome = inbound.unprotect(truncated);
        assert.equal(outcome.ok, false, `a ${length}-byte truncation was accepted`);
      }
    });

    it(`${transform.name} a flipped bit anywhere is dropped`, () => {
      const { outbound, inbound } = makeSaPair({ transform, replayWindow: 0 });
      const result = outbound.protect(echoPacket(4, 64));
      assert.ok(result.ok);
      const mutableIpv4Bytes = transform.protocol === 'ah' ? new Set([1, 6, 7, 8, 10, 11]) : new Set<number>();
      for (let offset = 20; offset < result.packet.length; offset++) {
        if (mutableIpv4Bytes.has(offset)) {
          continue;
        }
        const flipped = Uint8Array.from(result.packet);
        flipped[offset]! ^= 0x10;
        const outcome = inbound.unprotect(flipped);
        assert.equal(outcome.ok, false, `a flipped bit at byte ${offset} was accepted`);
      }
      const drops = inbound.counters.drops;
      assert.ok(drops.icv > 0);
      assert.equal(inbound.counters.packets, 0);
    });
  }

  it('pad length beyond the payload is a padding drop', () => {
    const spi = 0x1000;
    const key = Buffer.alloc(32, 7);
    const sa = new SecurityAssociation({
      spi, direction: 'in', protocol: 'esp', mode: 'tunnel',
      encryption: { name: 'ENCR_NULL', key: Buffer.alloc(0) },
      integrity: { name: 'AUTH_HMAC_SHA2_256_128', key },
      esn: false, replayWindow: 64,
      tunnel: { local: parseAddress('198.51.100.1'), remote: parseAddress('192.0.2.10') },
      trafficSelectors: { local: [parseTrafficSelector('0.0.0.0/0')], remote: [parseTrafficSelector('0.0.0.0/0')] },
    });

    for (const [name, trailer, reason] of [
      ['pad length too large', [0xff, 4], 'padding'],
      ['padding bytes wrong', [9, 9, 2, 4], 'padding'],
      ['dummy packet', [1, 2, 2, 59], 'dummy'],
    ] as const) {
      // NULL encryption pads to 4 bytes, so the inner length makes the payload a multiple of 4.
      const inner = echoPacket(4, (4 - ((28 + trailer.length) % 4)) % 4);
      const payload = Buffer.concat([inner, Buffer.from(trailer)]);
      const esp = Buffer.alloc(8 + payload.length);
      esp.writeUInt32BE(spi, 0);
      esp.writeUInt32BE(sa.counters.packets + sa.counters.drops.padding + sa.counters.drops.dummy + 1, 4);
      payload.copy(esp, 8);
      const icv = createHmac('sha256', key).update(esp).digest().subarray(0, 16);
      const ip = Buffer.alloc(20);
      ip[0] = 0x45;
      ip.writeUInt16BE(20 + esp.length + 16, 2);
      ip[8] = 64;
      ip[9] = 50;
      ip.set(parseAddress('192.0.2.10'), 12);
      ip.set(parseAddress('198.51.100.1'), 16);
      updateIpv4Checksum(ip);

      const outcome = sa.unprotect(Buffer.concat([ip, esp, icv]));
      assert.equal(outcome.ok, false, name);
      assert.equal(!outcome.ok && outcome.reason, reason, name);
    }
    assert.equal(sa.counters.drops.padding, 2);
    assert.equal(sa.counters.drops.dummy, 1);
  });

  it('random bytes never throw', () => {
    const random = new SeededRandom(7);
    const database = new SaDatabase();
    const { inbound } = makeSaPair({ transform: TRANSFORM_CASES[0]! });
    database.add(inbound);
    for (let i = 0; i < 20_000; i++) {
      const outcome = database.unprotect(random.bytes(random.integer(200)));
      assert.equal(outcome.ok, false);
    }
  });

  it('100,000 mutated packets never throw', () => {
    const random = new SeededRandom(0x4c55);
    const pairs = REPRESENTATIVE.map((transform, index) =>
      makeSaPair({ transform, replayWindow: 0, esn: true, spi: 0x1000 + index }));
    const database = new SaDatabase();
    const originals = pairs.map(({ outbound, inbound }) => {
      database.add(inbound);
      const result = outbound.protect(echoPacket(4, 40));
      assert.ok(result.ok);
      return result.packet;
    });

    let delivered = 0;
    for (let i = 0; i < 100_000; i++) {
      const original = originals[random.integer(originals.length)]!;
      const mutated = mutate(original, random);
      const outcome = database.unprotect(mutated);
      if (outcome.ok) {
        delivered += 1;
        // Only a mutation of bytes outside the ICV's coverage may still be delivered.
        assert.deepEqual(Buffer.from(outcome.packet), Buffer.from(echoPacket(4, 40)));
      }
    }
    assert.ok(delivered < 100_000);
  });
});

function mutate(packet: Uint8Array, random: SeededRandom): Uint8Array {
  const copy = Uint8Array.from(packet);
  switch (random.integer(4)) {
    case 0: {
      const flips = 1 + random.integer(4);
      for (let i = 0; i < flips; i++) {
        copy[random.integer(copy.length)]! ^= 1 << random.integer(8);
      }
      return copy;
    }
    case 1:
      return copy.subarray(0, random.integer(copy.length));
    case 2: {
      const extended = new Uint8Array(copy.length + random.integer(32));
      extended.set(copy);
      extended.set(random.bytes(extended.length - copy.length), copy.length);
      return extended;
    }
    default: {
      const start = random.integer(copy.length);
      copy.set(random.bytes(Math.min(8, copy.length - start)), start);
      return copy;
    }
  }
}
