/** Delete payload (RFC 7296 section 3.11). */

import { concatBytes, uint16Bytes } from '../bytes.js';
import { ProtocolId } from '../constants.js';
import { ByteReader, finish, type ParseResult } from '../parse-result.js';

export interface DeletePayload {
  type: 42;
  protocolId: number;
  spiSize: number;
  spis: Uint8Array[];
}

/*
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Protocol ID   |   SPI Size    |          Num of SPIs          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~               Security Parameter Index(es) (SPI)              ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
export function parseDeletePayload(body: Uint8Array): ParseResult<DeletePayload> {
  const reader = new ByteReader(body, 'Delete payload');
  const protocolId = reader.u8('protocol id');
  const spiSize = reader.u8('SPI size');
  const count = reader.u16('SPI count');

  // RFC 7296 section 3.11: deleting the IKE SA carries no SPI, ESP and AH SPIs have 4 bytes.
  if (protocolId === ProtocolId.IKE && (spiSize !== 0 || count !== 0)) {
    reader.fail('invalid-value', 'an IKE SA delete must carry no SPI');
  }
  if ((protocolId === ProtocolId.ESP || protocolId === ProtocolId.AH) && spiSize !== 4) {
    reader.fail('invalid-value', `ESP/AH SPI size ${spiSize} is not 4`);
  }
  const spis: Uint8Array[] = [];
  for (let i = 0; i < count && reader.error === undefined; i++) {
    spis.push(reader.take(spiSize, 'SPI'));
  }
  return finish(reader, { type: 42, protocolId, spiSize, spis });
}

export function encodeDeletePayload(payload: DeletePayload): Uint8Array {
  return concatBytes(
    new Uint8Array([payload.protocolId, payload.spiSize]),
    uint16Bytes(payload.spis.length),
    ...payload.spis,
  );
}
