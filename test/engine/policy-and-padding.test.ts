/**
 * Inbound checks after decryption: the traffic selectors (RFC 4301 section 5.2) and TFC padding
 * after a tunnel-mode inner packet (RFC 4303 section 2.7).
 */

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseAddress } from '../../main/engine/address.js';
import { updateIpv4Checksum } from '../../main/engine/ip-packet.js';
import { SecurityAssociation } from '../../main/engine/security-association.js';
import { parseTrafficSelector } from '../../main/engine/traffic-selector.js';
import { icmpEcho, ipv4Packet } from '../oracle/packets.js';

const SPI = 0x4242;
const INTEGRITY_KEY = Buffer.alloc(32, 9);

/** An inbound NULL + HMAC-SHA2-256 SA that accepts only 203.0.113.0/24 to 192.0.2.200. */
function inboundSa(): SecurityAssociation {
  return new SecurityAssociation({
    spi: SPI, direction: 'in', protocol: 'esp', mode: 'tunnel',
    encryption: { name: 'ENCR_NULL', key: Buffer.alloc(0) },
    integrity: { name: 'AUTH_HMAC_SHA2_256_128', key: INTEGRITY_KEY },
    esn: false, replayWindow: 64,
    tunnel: { local: parseAddress('198.51.100.10'), remote: parseAddress('198.51.100.1') },
    trafficSelectors: {
      local: [parseTrafficSelector('192.0.2.200/32')],
      remote: [parseTrafficSelector('203.0.113.0/24')],
    },
  });
}

/** Builds an ESP packet by hand: NULL encryption, so the payload is written as is (RFC 2410). */
function espPacket(seq: number, payload: Uint8Array): Buffer {
  const padLength = (4 - ((payload.length + 2) % 4)) % 4;
  const esp = Buffer.alloc(8 + payload.length + padLength + 2);
  esp.writeUInt32BE(SPI, 0);
  esp.writeUInt32BE(seq, 4);
  esp.set(payload, 8);
  for (let i = 0; i < padLength; i++) {
    esp[8 + payload.length + i] = i + 1;
  }
  esp[esp.length - 2] = padLength;
  esp[esp.length - 1] = 4;
  const icv = createHmac('sha256', INTEGRITY_KEY).update(esp).digest().subarray(0, 16);

  const outer = Buffer.alloc(20);
  outer[0] = 0x45;
  outer.writeUInt16BE(20 + esp.length + 16, 2);
  outer[8] = 64;
  outer[9] = 50;
  outer.set(parseAddress('198.51.100.1'), 12);
  outer.set(parseAddress('198.51.100.10'), 16);
  updateIpv4Checksum(outer);
  return Buffer.concat([outer, esp, icv]);
}

function echo(source: string, destination: string): Uint8Array {
  return ipv4Packet({ src: source, dst: destination, protocol: 1, payload: icmpEcho({ identifier: 1, sequence: 1, data: new Uint8Array(8) }) });
}

describe('inbound policy check', () => {
  const cases: [string, string, string, boolean][] = [
    ['office to client passes', '203.0.113.5', '192.0.2.200', true],
    ['foreign source is dropped', '198.51.100.77', '192.0.2.200', false],
    ['foreign destination is dropped', '203.0.113.5', '192.0.2.201', false],
  ];
  for (const [name, source, destination, expected] of cases) {
    it(name, () => {
      const sa = inboundSa();
      const inner = echo(source, destination);
      const result = sa.unprotect(espPacket(1, inner));
      assert.equal(result.ok, expected);
      if (result.ok) {
        assert.deepEqual(Buffer.from(result.packet), Buffer.from(inner));
      } else {
        assert.equal(result.reason, 'policy');
        assert.equal(sa.counters.drops.policy, 1);
        assert.equal(sa.counters.packets, 0);
      }
    });
  }
});

describe('TFC padding', () => {
  it('is cut off after the inner packet', () => {
    const sa = inboundSa();
    const inner = echo('203.0.113.5', '192.0.2.200');
    const padded = Buffer.concat([inner, Buffer.alloc(37, 0xee)]);
    const result = sa.unprotect(espPacket(1, padded));
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(Buffer.from(result.packet), Buffer.from(inner));
  });

  it('shorter than the inner header is malformed', () => {
    const sa = inboundSa();
    const inner = echo('203.0.113.5', '192.0.2.200');
    const result = sa.unprotect(espPacket(1, inner.subarray(0, 10)));
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.reason, 'malformed');
  });
});

describe('window update after the ICV', () => {
  it('a forged high number does not move the window', () => {
    const sa = inboundSa();
    const inner = echo('203.0.113.5', '192.0.2.200');
    const forged = espPacket(1000, inner);
    forged[forged.length - 1]! ^= 1;
    assert.equal(sa.unprotect(forged).ok, false);
    assert.equal(sa.counters.drops.icv, 1);
    // Had the forged packet moved the window, number 1 would now be too old.
    assert.ok(sa.unprotect(espPacket(1, inner)).ok);
    assert.equal(sa.snapshot().seq, 1);
  });

  it('duplicates and old numbers count apart', () => {
    const sa = inboundSa();
    const inner = echo('203.0.113.5', '192.0.2.200');
    assert.ok(sa.unprotect(espPacket(100, inner)).ok);
    assert.equal(sa.unprotect(espPacket(100, inner)).ok, false);
    assert.equal(sa.unprotect(espPacket(36, inner)).ok, false);
    assert.equal(sa.counters.drops.replayDuplicate, 1);
    assert.equal(sa.counters.drops.replayTooOld, 1);
    assert.equal(sa.unprotect(espPacket(0, inner)).ok, false);
    assert.equal(sa.counters.drops.malformed, 1);
  });
});
