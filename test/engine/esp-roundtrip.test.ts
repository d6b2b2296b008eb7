import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIpHeader } from '../../main/engine/ip-packet.js';
import { ENCRYPTION_ALGORITHMS, INTEGRITY_ALGORITHMS } from '../../main/engine/transforms.js';
import { echoPacket, makeSaPair, TRANSFORM_CASES } from './fixtures.js';

describe('SA round trip', () => {
  for (const transform of TRANSFORM_CASES) {
    for (const mode of ['tunnel', 'transport'] as const) {
      for (const family of [4, 6] as const) {
        for (const esn of [false, true]) {
          it(`${transform.name} ${mode} IPv${family}${esn ? ' ESN' : ''}`, () => {
            const { outbound, inbound } = makeSaPair({ transform, mode, family, esn });
            for (const dataLength of [0, 1, 2, 3, 15, 16, 17, 56, 1000]) {
              const inner = echoPacket(family, dataLength, dataLength + 1);
              const protectedResult = outbound.protect(inner);
              assert.ok(protectedResult.ok, `protect failed: ${JSON.stringify(protectedResult)}`);

              const header = parseIpHeader(protectedResult.packet, 51);
              assert.ok(header);
              assert.equal(header.totalLength, protectedResult.packet.length);
              assert.equal(header.protocol, transform.protocol === 'esp' ? 50 : 51);

              const result = inbound.unprotect(protectedResult.packet);
              assert.ok(result.ok, `unprotect failed: ${JSON.stringify(result)}`);
              assert.deepEqual(Buffer.from(result.packet), Buffer.from(inner));
            }
            assert.equal(outbound.counters.packets, 9);
            assert.equal(inbound.counters.packets, 9);
            assert.equal(inbound.snapshot().seq, 9);
          });
        }
      }
    }
  }
});

describe('ESP layout', () => {
  for (const transform of TRANSFORM_CASES.filter((candidate) => candidate.protocol === 'esp')) {
    it(`${transform.name} padding and alignment`, () => {
      const algorithm = ENCRYPTION_ALGORITHMS[transform.encryption!];
      const icvLength = algorithm.icvLength || INTEGRITY_ALGORITHMS[transform.integrity!].icvLength;
      const { outbound } = makeSaPair({ transform, mode: 'tunnel' });
      for (let dataLength = 0; dataLength < 40; dataLength++) {
        const inner = echoPacket(4, dataLength);
        const result = outbound.protect(inner);
        assert.ok(result.ok);
        const esp = result.packet.subarray(20);
        const encryptedLength = esp.length - 8 - algorithm.ivLength - icvLength;
        // RFC 4303 section 2.4: the ciphertext fills whole blocks, and ESP ends on a 4-byte boundary.
        assert.equal(encryptedLength % algorithm.blockSize, 0);
        assert.equal((esp.length - icvLength) % 4, 0);
        const expectedPad = (algorithm.blockSize - ((inner.length + 2) % algorithm.blockSize)) % algorithm.blockSize;
        assert.equal(encryptedLength, inner.length + expectedPad + 2);
      }
    });
  }

  it('counter IVs never repeat', () => {
    const transform = TRANSFORM_CASES.find((candidate) => candidate.encryption === 'ENCR_AES_GCM_16')!;
    const { outbound } = makeSaPair({ transform, esn: true });
    const ivs = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const result = outbound.protect(echoPacket(4, 8, i));
      assert.ok(result.ok);
      ivs.add(Buffer.from(result.packet.subarray(28, 36)).toString('hex'));
    }
    assert.equal(ivs.size, 1000);
  });

  it('CBC IVs are random', () => {
    const transform = TRANSFORM_CASES.find((candidate) => candidate.encryption === 'ENCR_AES_CBC')!;
    const { outbound } = makeSaPair({ transform });
    const first = outbound.protect(echoPacket(4));
    const second = outbound.protect(echoPacket(4));
    assert.ok(first.ok && second.ok);
    assert.notDeepEqual(first.packet.subarray(28, 44), second.packet.subarray(28, 44));
  });

  it('sequence numbers count from 1', () => {
    const { outbound } = makeSaPair({ transform: TRANSFORM_CASES[0]! });
    for (let seq = 1; seq <= 3; seq++) {
      const result = outbound.protect(echoPacket(4));
      assert.ok(result.ok);
      assert.equal(Buffer.from(result.packet).readUInt32BE(24), seq);
    }
  });
});
