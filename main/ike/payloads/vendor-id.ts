/** Vendor ID payload (RFC 7296 section 3.12). */

import { ByteReader, finish, type ParseResult } from '../parse-result.js';

export interface VendorPayload {
  type: 43;
  data: Uint8Array;
}

/*
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                        Vendor ID (VID)                        ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
export function parseVendorPayload(body: Uint8Array): ParseResult<VendorPayload> {
  const reader = new ByteReader(body, 'Vendor ID payload');
  return finish(reader, { type: 43, data: reader.rest() });
}

export function encodeVendorPayload(payload: VendorPayload): Uint8Array {
  return payload.data;
}
