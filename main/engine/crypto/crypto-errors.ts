/**
 * Errors that the crypto providers throw. A tag mismatch is not among them: `open` returns
 * null for it, because a forged or corrupted packet is an expected input, not a bug.
 */

/** An argument has the wrong length, for example a 13-byte nonce; the caller has a bug. */
export class CryptoArgumentError extends RangeError {
  override readonly name = 'CryptoArgumentError';
}

/** The runtime's crypto library lacks the algorithm, for example an Electron BoringSSL. */
export class UnsupportedAlgorithmError extends Error {
  override readonly name = 'UnsupportedAlgorithmError';
}

/** A cipher or HMAC object was used after `destroy()` zeroed its key. */
export class DestroyedKeyError extends Error {
  override readonly name = 'DestroyedKeyError';
}
