/** Traffic Selector payloads TSi and TSr (RFC 7296 section 3.13). */

import type { TrafficSelector } from '../../engine/traffic-selector.js';
import { concatBytes, uint16Bytes } from '../bytes.js';
import { TsType } from '../constants.js';
import { ByteReader, finish, type ParseResult } from '../parse-result.js';

export interface TsPayload {
  type: 44 | 45;
  selectors: TrafficSelector[];
  /** Selectors of types this client does not handle (such as RFC 4595 Fibre Channel), kept raw. */
  unknownSelectors: { tsType: number; data: Uint8Array }[];
}

/*
 * Payload body (RFC 7296 section 3.13):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Number of TSs |                 RESERVED                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                       <Traffic Selectors>                     ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Traffic selector (RFC 7296 section 3.13.1):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   TS Type     |IP Protocol ID*|       Selector Length         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           Start Port*         |           End Port*           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                         Starting Address*                     ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                         Ending Address*                       ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
export function parseTsPayload(type: 44 | 45, body: Uint8Array): ParseResult<TsPayload> {
  const reader = new ByteReader(body, type === 44 ? 'TSi payload' : 'TSr payload');
  const count = reader.u8('TS count');
  reader.skip(3, 'reserved');
  const selectors: TrafficSelector[] = [];
  const unknownSelectors: TsPayload['unknownSelectors'] = [];

  if (count === 0) {
    reader.fail('invalid-value', 'no traffic selector');
  }
  for (let i = 0; i < count && reader.error === undefined; i++) {
    const tsType = reader.u8('TS type');
    const protocol = reader.u8('IP protocol');
    const length = reader.u16('selector length');
    if (length < 8) {
      reader.fail('invalid-length', `selector length ${length} is below 8`);
    }
    const startPort = reader.u16('start port');
    const endPort = reader.u16('end port');
    const addresses = reader.take(length - 8, 'addresses');
    const addressLength = addressLengthOf(tsType);
    if (addressLength === undefined) {
      unknownSelectors.push({ tsType, data: addresses });
      continue;
    }
    if (addresses.length !== 2 * addressLength) {
      reader.fail('invalid-length', `TS type ${tsType} length ${length} is wrong`);
      break;
    }
    const startAddress = addresses.slice(0, addressLength);
    const endAddress = addresses.slice(addressLength);
    selectors.push({ startAddress, endAddress, protocol, startPort, endPort });
  }
  return finish(reader, { type, selectors, unknownSelectors });
}

function addressLengthOf(tsType: number): number | undefined {
  if (tsType === TsType.TS_IPV4_ADDR_RANGE) {
    return 4;
  }
  if (tsType === TsType.TS_IPV6_ADDR_RANGE) {
    return 16;
  }
  return undefined;
}

export function encodeTsPayload(payload: TsPayload): Uint8Array {
  const entries = payload.selectors.map((selector) => {
    const v4 = selector.startAddress.length === 4;
    const tsType = v4 ? TsType.TS_IPV4_ADDR_RANGE : TsType.TS_IPV6_ADDR_RANGE;
    const length = 8 + 2 * selector.startAddress.length;
    return concatBytes(
      new Uint8Array([tsType, selector.protocol]),
      uint16Bytes(length),
      uint16Bytes(selector.startPort),
      uint16Bytes(selector.endPort),
      selector.startAddress,
      selector.endAddress,
    );
  });
  return concatBytes(new Uint8Array([entries.length, 0, 0, 0]), ...entries);
}
