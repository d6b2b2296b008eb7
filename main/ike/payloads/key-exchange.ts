/** Key Exchange payload (RFC 7296 section 3.4). */

import { concatBytes, uint16Bytes } from '../bytes.js';
import { ByteReader, finish, type ParseResult } from '../parse-result.js';

export interface KePayload {
  type: 34;
  group: number;
  data: Uint8Array;
}

/*
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   Diffie-Hellman Group Num    |           RESERVED            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                       Key Exchange Data                       ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
export function parseKePayload(body: Uint8Array): ParseResult<KePayload> {
  const reader = new ByteReader(body, 'KE payload');
  const group = reader.u16('DH group');
  reader.skip(2, 'reserved');
  const data = reader.rest();
  if (data.length === 0) {
    reader.fail('invalid-length', 'empty key exchange data');
  }
  return finish(reader, { type: 34, group, data });
}

export function encodeKePayload(payload: KePayload): Uint8Array {
  return concatBytes(uint16Bytes(payload.group), new Uint8Array(2), payload.data);
}
