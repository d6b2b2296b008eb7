/** Identification payloads IDi and IDr (RFC 7296 section 3.5). */

import { concatBytes } from '../bytes.js';
import { ByteReader, finish, type ParseResult } from '../parse-result.js';

export interface IdPayload {
  type: 35 | 36;
  idType: number;
  data: Uint8Array;
}

/*
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   ID Type     |                 RESERVED                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                   Identification Data                         ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
export function parseIdPayload(type: 35 | 36, body: Uint8Array): ParseResult<IdPayload> {
  const reader = new ByteReader(body, type === 35 ? 'IDi payload' : 'IDr payload');
  const idType = reader.u8('ID type');
  reader.skip(3, 'reserved');
  const data = reader.rest();
  if (data.length === 0) {
    reader.fail('invalid-length', 'empty identification data');
  }
  return finish(reader, { type, idType, data });
}

/**
 * Encodes the payload body, which is also the RestOfInitIDPayload or RestOfRespIDPayload of
 * RFC 7296 section 2.15.
 */
export function encodeIdPayload(payload: IdPayload): Uint8Array {
  return concatBytes(new Uint8Array([payload.idType, 0, 0, 0]), payload.data);
}
