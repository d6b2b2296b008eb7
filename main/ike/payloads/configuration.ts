/** Configuration payload (RFC 7296 section 3.15). */

import { concatBytes, uint16Bytes } from '../bytes.js';
import { ByteReader, finish, type ParseResult } from '../parse-result.js';

export interface ConfigAttributeEntry {
  type: number;
  value: Uint8Array;
}

export interface CpPayload {
  type: 47;
  configType: number;
  attributes: ConfigAttributeEntry[];
}

/*
 * Payload body (RFC 7296 section 3.15):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   CFG Type    |                    RESERVED                   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                   Configuration Attributes                    ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Configuration attribute (RFC 7296 section 3.15.1):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |R|         Attribute Type      |            Length             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                             Value                             ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
export function parseCpPayload(body: Uint8Array): ParseResult<CpPayload> {
  const reader = new ByteReader(body, 'CP payload');
  const configType = reader.u8('CFG type');
  reader.skip(3, 'reserved');
  const attributes: ConfigAttributeEntry[] = [];

  while (reader.remaining > 0 && reader.error === undefined) {
    // The R bit is reserved and ignored on receipt (RFC 7296 section 3.15.1).
    const type = reader.u16('attribute type') & 0x7fff;
    const length = reader.u16('attribute length');
    attributes.push({ type, value: reader.take(length, 'attribute value') });
  }
  return finish(reader, { type: 47, configType, attributes });
}

export function encodeCpPayload(payload: CpPayload): Uint8Array {
  const attributes = payload.attributes.map((attribute) =>
    concatBytes(uint16Bytes(attribute.type), uint16Bytes(attribute.value.length), attribute.value),
  );
  return concatBytes(new Uint8Array([payload.configType, 0, 0, 0]), ...attributes);
}
