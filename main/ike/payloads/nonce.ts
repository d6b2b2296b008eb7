/** Nonce payload (RFC 7296 section 3.9). */

import { ByteReader, finish, type ParseResult } from '../parse-result.js';

export interface NoncePayload {
  type: 40;
  data: Uint8Array;
}

/** RFC 7296 section 2.10: a nonce has 16 to 256 bytes. */
export const MIN_NONCE_LENGTH = 16;
export const MAX_NONCE_LENGTH = 256;

/*
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                            Nonce Data                         ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
export function parseNoncePayload(body: Uint8Array): ParseResult<NoncePayload> {
  const reader = new ByteReader(body, 'Nonce payload');
  const data = reader.rest();
  if (data.length < MIN_NONCE_LENGTH || data.length > MAX_NONCE_LENGTH) {
    reader.fail('invalid-length', `nonce of ${data.length} bytes is outside 16..256`);
  }
  return finish(reader, { type: 40, data });
}

export function encodeNoncePayload(payload: NoncePayload): Uint8Array {
  return payload.data;
}
