/** EAP payload (RFC 7296 section 3.16), carrying one EAP message (RFC 3748 section 4). */

import { concatBytes, uint16Bytes } from '../bytes.js';
import { EapCode } from '../constants.js';
import { ByteReader, finish, type ParseResult } from '../parse-result.js';

export interface EapPayload {
  type: 48;
  code: number;
  identifier: number;
  /** Present in requests and responses only. */
  eapType?: number;
  data: Uint8Array;
}

/*
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Code      | Identifier    |           Length              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      | Type_Data...
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
export function parseEapPayload(body: Uint8Array): ParseResult<EapPayload> {
  const reader = new ByteReader(body, 'EAP payload');
  const code = reader.u8('EAP code');
  const identifier = reader.u8('EAP identifier');
  const length = reader.u16('EAP length');
  if (length !== body.length) {
    reader.fail('invalid-length', `EAP length ${length} differs from payload body ${body.length}`);
  }
  if (code < EapCode.REQUEST || code > EapCode.FAILURE) {
    reader.fail('invalid-value', `EAP code ${code} is unknown`);
  }
  const hasType = code === EapCode.REQUEST || code === EapCode.RESPONSE;
  if (!hasType) {
    return finish(reader, { type: 48, code, identifier, data: reader.rest() });
  }
  const eapType = reader.u8('EAP type');
  return finish(reader, { type: 48, code, identifier, eapType, data: reader.rest() });
}

export function encodeEapPayload(payload: EapPayload): Uint8Array {
  const typeBytes =
    payload.eapType === undefined ? new Uint8Array(0) : new Uint8Array([payload.eapType]);
  const length = 4 + typeBytes.length + payload.data.length;
  return concatBytes(
    new Uint8Array([payload.code, payload.identifier]),
    uint16Bytes(length),
    typeBytes,
    payload.data,
  );
}
