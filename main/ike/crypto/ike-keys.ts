/**
 * Key derivation: SKEYSEED and the seven IKE SA keys (RFC 7296 section 2.14), the IKE SA rekey
 * (section 2.18) and KEYMAT for CHILD_SAs (section 2.17).
 */

import { concatBytes, zeroize } from '../bytes.js';
import { prf, prfPlus, type PrfAlgorithm } from './prf.js';

export interface IkeSaKeys {
  skD: Uint8Array;
  skAi: Uint8Array;
  skAr: Uint8Array;
  /** Encryption keys, with the salt appended for AEAD transforms. */
  skEi: Uint8Array;
  skEr: Uint8Array;
  skPi: Uint8Array;
  skPr: Uint8Array;
}

export interface IkeKeyLengths {
  /** Integrity key length, 0 for AEAD transforms. */
  integrity: number;
  /** Encryption key length including the salt. */
  encryption: number;
}

/** SKEYSEED = prf(Ni | Nr, g^ir) for a new IKE SA (RFC 7296 section 2.14). */
export function deriveSkeyseed(
  algorithm: PrfAlgorithm,
  nonceI: Uint8Array,
  nonceR: Uint8Array,
  sharedSecret: Uint8Array,
): Uint8Array {
  return prf(algorithm, concatBytes(nonceI, nonceR), sharedSecret);
}

/** SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) for a rekeyed IKE SA (section 2.18). */
export function deriveRekeySkeyseed(
  oldAlgorithm: PrfAlgorithm,
  oldSkD: Uint8Array,
  sharedSecret: Uint8Array,
  nonceI: Uint8Array,
  nonceR: Uint8Array,
): Uint8Array {
  return prf(oldAlgorithm, oldSkD, concatBytes(sharedSecret, nonceI, nonceR));
}

/**
 * {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr).
 * SK_d, SK_pi and SK_pr have the PRF's preferred key length, its output length.
 */
export function deriveIkeSaKeys(
  algorithm: PrfAlgorithm,
  skeyseed: Uint8Array,
  nonceI: Uint8Array,
  nonceR: Uint8Array,
  spiI: Uint8Array,
  spiR: Uint8Array,
  lengths: IkeKeyLengths,
): IkeSaKeys {
  const prfKeyLength = algorithm.outputLength;
  const sizes = [
    prfKeyLength,
    lengths.integrity,
    lengths.integrity,
    lengths.encryption,
    lengths.encryption,
    prfKeyLength,
    prfKeyLength,
  ];
  const total = sizes.reduce((sum, size) => sum + size, 0);
  const seed = concatBytes(nonceI, nonceR, spiI, spiR);
  const stream = prfPlus(algorithm, skeyseed, seed, total);
  const [skD, skAi, skAr, skEi, skEr, skPi, skPr] = splitKeys(stream, sizes);
  zeroize(stream);
  return {
    skD: skD!,
    skAi: skAi!,
    skAr: skAr!,
    skEi: skEi!,
    skEr: skEr!,
    skPi: skPi!,
    skPr: skPr!,
  };
}

export interface ChildSaKeys {
  /** Initiator-to-responder encryption key (salt appended for AEAD) and integrity key. */
  encryptionI: Uint8Array;
  integrityI: Uint8Array;
  encryptionR: Uint8Array;
  integrityR: Uint8Array;
}

/**
 * KEYMAT = prf+(SK_d, Ni | Nr), or prf+(SK_d, g^ir (new) | Ni | Nr) with PFS (RFC 7296 section
 * 2.17). The initiator-to-responder keys come first, encryption before integrity.
 */
export function deriveChildSaKeys(
  algorithm: PrfAlgorithm,
  skD: Uint8Array,
  nonceI: Uint8Array,
  nonceR: Uint8Array,
  lengths: IkeKeyLengths,
  pfsSharedSecret?: Uint8Array,
): ChildSaKeys {
  const seed =
    pfsSharedSecret === undefined
      ? concatBytes(nonceI, nonceR)
      : concatBytes(pfsSharedSecret, nonceI, nonceR);
  const sizes = [lengths.encryption, lengths.integrity, lengths.encryption, lengths.integrity];
  const stream = prfPlus(
    algorithm,
    skD,
    seed,
    sizes.reduce((sum, size) => sum + size, 0),
  );
  const [encryptionI, integrityI, encryptionR, integrityR] = splitKeys(stream, sizes);
  zeroize(stream, seed);
  return {
    encryptionI: encryptionI!,
    integrityI: integrityI!,
    encryptionR: encryptionR!,
    integrityR: integrityR!,
  };
}

function splitKeys(stream: Uint8Array, sizes: number[]): Uint8Array[] {
  const keys: Uint8Array[] = [];
  let offset = 0;
  for (const size of sizes) {
    keys.push(stream.slice(offset, offset + size));
    offset += size;
  }
  return keys;
}

export function zeroizeIkeSaKeys(keys: IkeSaKeys): void {
  zeroize(keys.skD, keys.skAi, keys.skAr, keys.skEi, keys.skEr, keys.skPi, keys.skPr);
}
