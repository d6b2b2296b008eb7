/** The octets that AUTH covers (RFC 7296 section 2.15), and the PSK AUTH value. */

import { concatBytes } from '../bytes.js';
import { prf, type PrfAlgorithm } from '../crypto/prf.js';

/** The fixed pad string "Key Pad for IKEv2" (RFC 7296 section 2.15). */
const KEY_PAD = new TextEncoder().encode('Key Pad for IKEv2');

/**
 * InitiatorSignedOctets = RealMessage1 | NonceRData | prf(SK_pi, RestOfInitIDPayload), and
 * the responder's mirror with RealMessage2, NonceIData and SK_pr. `idPayloadBody` is the ID
 * payload without its generic header.
 */
export function signedOctets(
  algorithm: PrfAlgorithm,
  realMessage: Uint8Array,
  peerNonce: Uint8Array,
  skP: Uint8Array,
  idPayloadBody: Uint8Array,
): Uint8Array {
  return concatBytes(realMessage, peerNonce, prf(algorithm, skP, idPayloadBody));
}

/** AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>). */
export function pskAuthValue(
  algorithm: PrfAlgorithm,
  sharedSecret: Uint8Array,
  octets: Uint8Array,
): Uint8Array {
  const padded = prf(algorithm, sharedSecret, KEY_PAD);
  const value = prf(algorithm, padded, octets);
  padded.fill(0);
  return value;
}
