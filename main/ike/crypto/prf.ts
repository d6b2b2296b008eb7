/** IKEv2 pseudorandom functions (RFC 4868 HMAC-SHA2) and prf+ (RFC 7296 section 2.13). */

import { createHmac } from 'node:crypto';
import { PrfTransform } from '../constants.js';

export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512';

export interface PrfAlgorithm {
  readonly id: number;
  readonly hash: HashName;
  /** Output length, which is also the preferred key length (RFC 7296 section 2.13). */
  readonly outputLength: number;
}

export const PRF_ALGORITHMS: Readonly<Record<number, PrfAlgorithm>> = {
  [PrfTransform.PRF_HMAC_SHA1]: { id: 2, hash: 'sha1', outputLength: 20 },
  [PrfTransform.PRF_HMAC_SHA2_256]: { id: 5, hash: 'sha256', outputLength: 32 },
  [PrfTransform.PRF_HMAC_SHA2_384]: { id: 6, hash: 'sha384', outputLength: 48 },
  [PrfTransform.PRF_HMAC_SHA2_512]: { id: 7, hash: 'sha512', outputLength: 64 },
};

export function prf(algorithm: PrfAlgorithm, key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac(algorithm.hash, key).update(data).digest());
}

/**
 * prf+ (RFC 7296 section 2.13): T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n), output
 * T1 | T2 | ... cut to `length` bytes. The counter is one byte, so at most 255 blocks.
 */
export function prfPlus(
  algorithm: PrfAlgorithm,
  key: Uint8Array,
  seed: Uint8Array,
  length: number,
): Uint8Array {
  const blocks = Math.ceil(length / algorithm.outputLength);
  if (blocks > 255) {
    throw new RangeError(`prf+ cannot produce ${length} bytes: the block counter is one byte`);
  }
  const out = new Uint8Array(blocks * algorithm.outputLength);
  let previous = new Uint8Array(0);
  for (let counter = 1; counter <= blocks; counter++) {
    const hmac = createHmac(algorithm.hash, key);
    hmac.update(previous);
    hmac.update(seed);
    hmac.update(new Uint8Array([counter]));
    previous = new Uint8Array(hmac.digest());
    out.set(previous, (counter - 1) * algorithm.outputLength);
  }
  const result = out.slice(0, length);
  out.fill(0);
  return result;
}
