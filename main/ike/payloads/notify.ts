/** Notify payload (RFC 7296 section 3.10). */

import { concatBytes, uint16Bytes } from '../bytes.js';
import { ByteReader, finish, type ParseResult } from '../parse-result.js';

export interface NotifyPayload {
  type: 41;
  protocolId: number;
  spi: Uint8Array;
  notifyType: number;
  data: Uint8Array;
}

/*
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Protocol ID  |   SPI Size    |      Notify Message Type      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                Security Parameter Index (SPI)                 ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                       Notification Data                       ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
export function parseNotifyPayload(body: Uint8Array): ParseResult<NotifyPayload> {
  const reader = new ByteReader(body, 'Notify payload');
  const protocolId = reader.u8('protocol id');
  const spiSize = reader.u8('SPI size');
  const notifyType = reader.u16('notify type');
  const spi = reader.take(spiSize, 'SPI');
  const data = reader.rest();
  return finish(reader, { type: 41, protocolId, spi, notifyType, data });
}

export function encodeNotifyPayload(payload: NotifyPayload): Uint8Array {
  return concatBytes(
    new Uint8Array([payload.protocolId, payload.spi.length]),
    uint16Bytes(payload.notifyType),
    payload.spi,
    payload.data,
  );
}

export function notify(notifyType: number, data: Uint8Array = new Uint8Array(0)): NotifyPayload {
  return { type: 41, protocolId: 0, spi: new Uint8Array(0), notifyType, data };
}
