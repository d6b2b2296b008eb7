/**
 * Errors that the crypto providers throw. A tag mismatch is not among them: `open` returns
 * null for it, because a forged or corrupted packet is an expected input, not a bug.
 */

/** Error for an argument of the wrong length, such as a 13-byte nonce: a bug in the caller. */
export class CryptoArgumentError extends RangeError {
  override readonly name = 'CryptoArgumentError';
}

/** Error for an algorithm that the runtime's crypto library lacks. */
export class UnsupportedAlgorithmError extends Error {
  override readonly name = 'UnsupportedAlgorithmError';
}

/** Error for a cipher or HMAC object used after `destroy()` zeroed its key. */
export class DestroyedKeyError extends Error {
  override readonly name = 'DestroyedKeyError';
}
