/**
 * The same SA built on `node:crypto` and on noble must produce identical packets, and each must
 * accept what the other produced, for every transform.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nobleProvider, nodeProvider } from '../../main/engine/crypto/index.js';
import type { CryptoProvider } from '../../main/engine/crypto/provider.js';
import { SeededRandom } from '../support/prng.js';
import { echoPacket, makeSaPair, TRANSFORM_CASES, transformKeys } from './fixtures.js';

/** Wraps a provider so its random bytes (CBC IVs) come from a seeded generator. */
function seeded(provider: CryptoProvider, seed: number): CryptoProvider {
  const random = new SeededRandom(seed);
  return {
    name: provider.name,
    supportsAead: (algorithm) => provider.supportsAead(algorithm),
    createAead: (algorithm, key) => provider.createAead(algorithm, key),
    createCbc: (key) => provider.createCbc(key),
    createHmac: (hash, key) => provider.createHmac(hash, key),
    randomBytes: (target) => {
      target.set(random.bytes(target.length));
      return target;
    },
  };
}

describe('providers give identical packets', () => {
  for (const transform of TRANSFORM_CASES) {
    for (const esn of [false, true]) {
      it(`${transform.name}${esn ? ' ESN' : ''}`, () => {
        const keys = transformKeys(transform);
        const viaNode = makeSaPair({ transform, esn, keys, provider: seeded(nodeProvider, 1), inboundProvider: nobleProvider });
        const viaNoble = makeSaPair({ transform, esn, keys, provider: seeded(nobleProvider, 1), inboundProvider: nodeProvider });
        assert.equal(viaNode.outbound.providerName, 'node');
        assert.equal(viaNoble.outbound.providerName, 'noble');

        for (const dataLength of [0, 7, 64, 1372]) {
          const inner = echoPacket(4, dataLength);
          const fromNode = viaNode.outbound.protect(inner);
          const fromNoble = viaNoble.outbound.protect(inner);
          assert.ok(fromNode.ok && fromNoble.ok);
          assert.deepEqual(Buffer.from(fromNode.packet), Buffer.from(fromNoble.packet));

          // Each inbound SA runs on the other provider.
          const openedByNoble = viaNode.inbound.unprotect(fromNode.packet);
          const openedByNode = viaNoble.inbound.unprotect(fromNoble.packet);
          assert.ok(openedByNoble.ok && openedByNode.ok);
          assert.deepEqual(Buffer.from(openedByNoble.packet), Buffer.from(inner));
          assert.deepEqual(Buffer.from(openedByNode.packet), Buffer.from(inner));
        }
      });
    }
  }
});
