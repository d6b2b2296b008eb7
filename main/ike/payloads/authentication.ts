/** Authentication payload (RFC 7296 section 3.8). */

import { concatBytes } from '../bytes.js';
import { ByteReader, finish, type ParseResult } from '../parse-result.js';

export interface AuthPayload {
  type: 39;
  method: number;
  data: Uint8Array;
}

/*
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Auth Method   |                RESERVED                       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                      Authentication Data                      ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
export function parseAuthPayload(body: Uint8Array): ParseResult<AuthPayload> {
  const reader = new ByteReader(body, 'AUTH payload');
  const method = reader.u8('auth method');
  reader.skip(3, 'reserved');
  const data = reader.rest();
  if (data.length === 0) {
    reader.fail('invalid-length', 'empty authentication data');
  }
  return finish(reader, { type: 39, method, data });
}

export function encodeAuthPayload(payload: AuthPayload): Uint8Array {
  return concatBytes(new Uint8Array([payload.method, 0, 0, 0]), payload.data);
}
