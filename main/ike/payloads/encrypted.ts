/**
 * Encrypted and Authenticated payload SK (RFC 7296 section 3.14) and its fragment form SKF
 * (RFC 7383 section 2.5). The codec keeps their contents opaque; `crypto/sk-payload.ts` opens
 * and seals them.
 */

import { concatBytes, uint16Bytes } from '../bytes.js';
import { ByteReader, finish, type ParseResult } from '../parse-result.js';

export interface SkPayload {
  type: 46;
  /** The Next Payload field of the SK header: the type of the first inner payload. */
  firstInnerType: number;
  /** Initialization Vector, ciphertext with padding, and ICV. */
  data: Uint8Array;
  /** Offset of the SK generic payload header within the message, for the AAD and the ICV. */
  offset: number;
}

export interface SkfPayload {
  type: 53;
  /** Only fragment 1 carries the first inner payload type; the others carry 0. */
  firstInnerType: number;
  fragmentNumber: number;
  totalFragments: number;
  data: Uint8Array;
  offset: number;
}

/*
 * SK payload body (RFC 7296 section 3.14):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Initialization Vector                     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                    Encrypted IKE Payloads                     ~
 * +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |               |             Padding (0-255 octets)            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                                               |  Pad Length   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                    Integrity Checksum Data                    ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
export function parseSkPayload(
  firstInnerType: number,
  body: Uint8Array,
  offset: number,
): ParseResult<SkPayload> {
  const reader = new ByteReader(body, 'SK payload');
  const data = reader.rest();
  if (data.length === 0) {
    reader.fail('invalid-length', 'empty encrypted payload');
  }
  return finish(reader, { type: 46, firstInnerType, data, offset });
}

/*
 * SKF payload body (RFC 7383 section 2.5):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        Fragment Number        |        Total Fragments        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Initialization Vector                     |
 * ~                      Encrypted content                        ~
 * ~                    Integrity Checksum Data                    ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
export function parseSkfPayload(
  firstInnerType: number,
  body: Uint8Array,
  offset: number,
): ParseResult<SkfPayload> {
  const reader = new ByteReader(body, 'SKF payload');
  const fragmentNumber = reader.u16('fragment number');
  const totalFragments = reader.u16('total fragments');

  // RFC 7383 section 2.5: numbering starts at 1 and no number exceeds the total.
  if (fragmentNumber === 0 || fragmentNumber > totalFragments) {
    reader.fail('invalid-value', `fragment ${fragmentNumber} of ${totalFragments}`);
  }
  if (fragmentNumber !== 1 && firstInnerType !== 0) {
    reader.fail('invalid-value', 'only fragment 1 names the first inner payload');
  }
  const data = reader.rest();
  if (data.length === 0) {
    reader.fail('invalid-length', 'empty encrypted fragment');
  }
  return finish(reader, { type: 53, firstInnerType, fragmentNumber, totalFragments, data, offset });
}

export function encodeSkfHeaderFields(fragmentNumber: number, totalFragments: number): Uint8Array {
  return concatBytes(uint16Bytes(fragmentNumber), uint16Bytes(totalFragments));
}
