/**
 * Entry point of the crypto layer: both providers, the choice between them, and the
 * constant-time comparison for HMAC ICVs.
 */

import { timingSafeEqual } from 'node:crypto';

import { nobleProvider } from './noble-provider.js';
import { nodeProvider, type ProviderAlgorithm } from './node-provider.js';
import type { CryptoProvider, ProviderName } from './provider.js';

export {
  CryptoArgumentError,
  DestroyedKeyError,
  UnsupportedAlgorithmError,
} from './crypto-errors.js';
export { NobleCryptoProvider, nobleProvider } from './noble-provider.js';
export { NodeCryptoProvider, nodeProvider, type ProviderAlgorithm } from './node-provider.js';
export type {
  AeadAlgorithm,
  AeadCipher,
  CbcCipher,
  CryptoProvider,
  Hmac,
  ProviderName,
} from './provider.js';

/**
 * Returns the node provider when this runtime's node:crypto has `algorithm`, and the noble
 * provider otherwise. A `preference` of 'noble' always returns the noble provider, which has
 * every algorithm. 'node', like no preference, still falls back to noble.
 */
export function selectProvider(
  algorithm: ProviderAlgorithm,
  preference?: ProviderName,
): CryptoProvider {
  if (preference === 'noble') {
    return nobleProvider;
  }

  return nodeProvider.supports(algorithm) ? nodeProvider : nobleProvider;
}

/**
 * Compares two byte arrays in time that depends only on their length. The early return on
 * a length mismatch leaks nothing, because an ICV's length is fixed by the SA's algorithm.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) {
    return false;
  }

  return timingSafeEqual(a, b);
}
