/**
 * Whole-packet ESP known answers: RFC 3602 section 4 cases 5 to 8 (AES-CBC), RFC 7634 Appendix A
 * (ChaCha20-Poly1305) and the ESP packets of draft-mcgrew-gcm-test-01 (AES-GCM).
 */

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAddress } from '../../main/engine/address.js';
import { nodeProvider } from '../../main/engine/crypto/index.js';
import type { CryptoProvider } from '../../main/engine/crypto/provider.js';
import { updateIpv4Checksum } from '../../main/engine/ip-packet.js';
import type { SaConfig } from '../../main/engine/sa-config.js';
import { SecurityAssociation } from '../../main/engine/security-association.js';
import { parseTrafficSelector } from '../../main/engine/traffic-selector.js';

const hex = (text: string) => Buffer.from(text, 'hex');
const readVectors = (name: string) => JSON.parse(readFileSync(new URL(`../vectors/${name}`, import.meta.url), 'utf8'));

interface Rfc3602Case {
  name: string;
  mode: 'tunnel' | 'transport';
  key: string;
  spi: string;
  sequenceNumber: number;
  iv: string;
  originalIpHeader?: string;
  ipHeader?: string;
  payload: string;
  espPacket: string;
}

const ANY = parseTrafficSelector('0.0.0.0/0');
const HMAC_KEY = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');

/** A provider whose CBC IVs are the given one, so the output can match a published packet. */
function fixedIvProvider(iv: Uint8Array): CryptoProvider {
  return {
    name: nodeProvider.name,
    supportsAead: (algorithm) => nodeProvider.supportsAead(algorithm),
    createAead: (algorithm, key) => nodeProvider.createAead(algorithm, key),
    createCbc: (key) => nodeProvider.createCbc(key),
    createHmac: (hash, key) => nodeProvider.createHmac(hash, key),
    randomBytes: (target) => {
      if (target.length !== iv.length) {
        return nodeProvider.randomBytes(target);
      }
      target.set(iv);
      return target;
    },
  };
}

function ipv4Header(protocol: number, payloadLength: number, source = '192.0.2.1', destination = '192.0.2.2'): Buffer {
  const header = Buffer.alloc(20);
  header[0] = 0x45;
  header.writeUInt16BE(20 + payloadLength, 2);
  header[8] = 64;
  header[9] = protocol;
  header.set(parseAddress(source), 12);
  header.set(parseAddress(destination), 16);
  updateIpv4Checksum(header);
  return header;
}

function cbcConfig(vector: Rfc3602Case, direction: 'in' | 'out', provider?: CryptoProvider): SaConfig {
  return {
    spi: parseInt(vector.spi, 16),
    direction,
    protocol: 'esp',
    mode: vector.mode,
    encryption: { name: 'ENCR_AES_CBC', key: hex(vector.key) },
    integrity: { name: 'AUTH_HMAC_SHA2_256_128', key: HMAC_KEY },
    esn: false,
    replayWindow: 64,
    tunnel: vector.mode === 'tunnel' ? { local: parseAddress('192.0.2.1'), remote: parseAddress('192.0.2.2') } : undefined,
    trafficSelectors: { local: [ANY], remote: [ANY] },
    cryptoProvider: provider,
  };
}

/** The packet that ESP protects: the inner packet in tunnel mode, or a header and the payload. */
function originalPacket(vector: Rfc3602Case): Buffer {
  if (vector.mode === 'tunnel') {
    return hex(vector.payload);
  }
  const payload = hex(vector.payload);
  if (vector.originalIpHeader) {
    return Buffer.concat([hex(vector.originalIpHeader), payload]);
  }
  return Buffer.concat([ipv4Header(1, payload.length), payload]);
}

describe('RFC 3602 ESP packets', () => {
  const vectors = readVectors('rfc3602-esp.json').cases as Rfc3602Case[];

  for (const vector of vectors) {
    it(`${vector.name} outbound matches`, () => {
      const sa = new SecurityAssociation(cbcConfig(vector, 'out', fixedIvProvider(hex(vector.iv))));
      (sa as unknown as { lastSeq: number }).lastSeq = vector.sequenceNumber - 1;
      const result = sa.protect(originalPacket(vector));
      assert.ok(result.ok);

      const expected = hex(vector.espPacket);
      const esp = Buffer.from(result.packet.subarray(20));
      // The RFC's SAs have no integrity algorithm; ours appends a 16-byte ICV after the same bytes.
      assert.equal(esp.length, expected.length + 16);
      assert.deepEqual(esp.subarray(0, expected.length), expected);
    });

    it(`${vector.name} inbound recovers the packet`, () => {
      const esp = hex(vector.espPacket);
      const icv = createHmac('sha256', HMAC_KEY).update(esp).digest().subarray(0, 16);
      const packet = Buffer.concat([ipv4Header(50, esp.length + 16), esp, icv]);
      const sa = new SecurityAssociation(cbcConfig(vector, 'in'));

      const result = sa.unprotect(packet);
      assert.ok(result.ok, JSON.stringify(result));
      const original = originalPacket(vector);
      if (vector.mode === 'tunnel') {
        assert.deepEqual(Buffer.from(result.packet), original);
      } else {
        assert.deepEqual(Buffer.from(result.packet.subarray(20)), original.subarray(20));
        assert.equal(result.packet[9], 1);
      }
    });
  }
});

describe('RFC 7634 Appendix A ESP packet', () => {
  const [vector] = readVectors('rfc7634-esp.json').cases;

  it('decrypts to the published inner packet', () => {
    const esp = hex(vector.espPacket);
    const sa = new SecurityAssociation({
      spi: parseInt(vector.spi, 16),
      direction: 'in',
      protocol: 'esp',
      mode: 'tunnel',
      encryption: { name: 'ENCR_CHACHA20_POLY1305', key: Buffer.concat([hex(vector.key), hex(vector.salt)]) },
      esn: false,
      replayWindow: 64,
      tunnel: { local: parseAddress('192.0.2.1'), remote: parseAddress('192.0.2.2') },
      trafficSelectors: { local: [ANY], remote: [ANY] },
    });

    const result = sa.unprotect(Buffer.concat([ipv4Header(50, esp.length), esp]));
    assert.ok(result.ok, JSON.stringify(result));
    const plaintext = hex(vector.plaintext);
    const inner = plaintext.subarray(0, plaintext.length - 2 - vector.padLength);
    assert.deepEqual(Buffer.from(result.packet), inner);
  });

  it('rejects a flipped tag bit', () => {
    const esp = hex(vector.espPacket);
    esp[esp.length - 1]! ^= 1;
    const sa = new SecurityAssociation({
      spi: parseInt(vector.spi, 16),
      direction: 'in',
      protocol: 'esp',
      mode: 'tunnel',
      encryption: { name: 'ENCR_CHACHA20_POLY1305', key: Buffer.concat([hex(vector.key), hex(vector.salt)]) },
      esn: false,
      replayWindow: 64,
      tunnel: { local: parseAddress('192.0.2.1'), remote: parseAddress('192.0.2.2') },
      trafficSelectors: { local: [ANY], remote: [ANY] },
    });
    const result = sa.unprotect(Buffer.concat([ipv4Header(50, esp.length), esp]));
    assert.equal(result.ok, false);
    assert.equal(sa.counters.drops.icv, 1);
  });
});

describe('AES-GCM ESP packets', () => {
  const vectors = readVectors('gcm-esp.json').cases;

  for (const vector of vectors) {
    it(`${vector.name} decrypts`, () => {
      const esp = hex(vector.espPacket);
      // The published packets carry next header 1, so they are read in transport mode.
      const sa = new SecurityAssociation({
        spi: parseInt(vector.spi, 16),
        direction: 'in',
        protocol: 'esp',
        mode: 'transport',
        encryption: { name: 'ENCR_AES_GCM_16', key: Buffer.concat([hex(vector.key), hex(vector.salt)]) },
        esn: false,
        replayWindow: 64,
        trafficSelectors: { local: [ANY], remote: [ANY] },
      });

      const result = sa.unprotect(Buffer.concat([ipv4Header(50, esp.length), esp]));
      assert.ok(result.ok, JSON.stringify(result));
      const plaintext = hex(vector.plaintext);
      const payload = plaintext.subarray(0, plaintext.length - 2 - vector.padLength);
      assert.deepEqual(Buffer.from(result.packet.subarray(20)), payload);
      assert.equal(result.packet[9], vector.nextHeader);
    });
  }
});
