/**
 * IKE message header and whole-message parsing and encoding (RFC 7296 sections 3.1 and 3.2).
 * Parsing returns a typed error for bad input instead of throwing, which the fuzz test in
 * test/ike/fuzz.test.ts checks on 100,000 inputs.
 */

import { concatBytes, uint32Bytes } from './bytes.js';
import {
  HeaderFlag,
  IKE_HEADER_LENGTH,
  IKE_MAJOR_VERSION,
  IKE_SPI_LENGTH,
  PayloadType,
} from './constants.js';
import {
  ByteReader,
  makeParseError,
  parsed,
  parseFailure,
  type IkeParseError,
  type ParseResult,
} from './parse-result.js';
import {
  encodePayloadChain,
  parsePayloadChain,
  type Payload,
  type PlainPayload,
} from './payloads/chain.js';

export interface IkeHeader {
  spiI: Uint8Array;
  spiR: Uint8Array;
  /** Type of the first payload. */
  nextPayload: number;
  majorVersion: number;
  minorVersion: number;
  exchangeType: number;
  initiator: boolean;
  response: boolean;
  messageId: number;
  length: number;
}

export interface IkeMessage {
  header: IkeHeader;
  payloads: Payload[];
  /** The datagram as received, for the ICV and AAD of an SK payload and for AUTH. */
  raw: Uint8Array;
}

/*
 * IKE header (RFC 7296 section 3.1):
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       IKE SA Initiator's SPI                  |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       IKE SA Responder's SPI                  |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Next Payload | MjVer | MnVer | Exchange Type |     Flags     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          Message ID                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                            Length                             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
export function parseHeader(bytes: Uint8Array): ParseResult<IkeHeader> {
  const reader = new ByteReader(bytes, 'IKE header');
  const spiI = reader.take(IKE_SPI_LENGTH, 'initiator SPI');
  const spiR = reader.take(IKE_SPI_LENGTH, 'responder SPI');
  const nextPayload = reader.u8('next payload');
  const version = reader.u8('version');
  const exchangeType = reader.u8('exchange type');
  const flags = reader.u8('flags');
  const messageId = reader.u32('message ID');
  const length = reader.u32('length');
  if (reader.error !== undefined) {
    return { ok: false, error: reader.error };
  }

  const majorVersion = version >> 4;
  // RFC 7296 section 2.5: a major version above ours gets INVALID_MAJOR_VERSION.
  if (majorVersion !== IKE_MAJOR_VERSION) {
    return parseFailure('invalid-major-version', `IKE major version ${majorVersion} is not 2`);
  }
  // The datagram must hold exactly one message: a length beyond it is truncation, a shorter
  // one leaves bytes that nothing authenticates.
  if (length !== bytes.length) {
    const code = length > bytes.length ? 'truncated' : 'trailing-data';
    return parseFailure(code, `IKE header length ${length} differs from datagram ${bytes.length}`);
  }
  return parsed({
    spiI,
    spiR,
    nextPayload,
    majorVersion,
    minorVersion: version & 0x0f,
    exchangeType,
    initiator: (flags & HeaderFlag.INITIATOR) !== 0,
    response: (flags & HeaderFlag.RESPONSE) !== 0,
    messageId,
    length,
  });
}

export function parseMessage(bytes: Uint8Array): ParseResult<IkeMessage> {
  const header = parseHeader(bytes);
  if (!header.ok) {
    return header;
  }
  const chain = parsePayloadChain(
    header.value.nextPayload,
    bytes.subarray(IKE_HEADER_LENGTH),
    IKE_HEADER_LENGTH,
    false,
  );
  if (!chain.ok) {
    return chain;
  }
  return parsed({ header: header.value, payloads: chain.value, raw: bytes });
}

/**
 * Fuzzing entry point: parses any input and returns a result. An exception from the parser,
 * which is a bug, becomes an error result, so that a caller on the network path cannot crash.
 */
export function parseMessageSafe(bytes: Uint8Array): ParseResult<IkeMessage> {
  try {
    return parseMessage(bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const failure: IkeParseError = makeParseError('invalid-value', `parser bug: ${reason}`);
    return { ok: false, error: failure };
  }
}

export interface HeaderFields {
  spiI: Uint8Array;
  spiR: Uint8Array;
  exchangeType: number;
  initiator: boolean;
  response: boolean;
  messageId: number;
}

export function encodeHeader(
  fields: HeaderFields,
  nextPayload: number,
  length: number,
): Uint8Array {
  let flags = 0;
  if (fields.initiator) {
    flags |= HeaderFlag.INITIATOR;
  }
  if (fields.response) {
    flags |= HeaderFlag.RESPONSE;
  }
  return concatBytes(
    fields.spiI,
    fields.spiR,
    new Uint8Array([nextPayload, IKE_MAJOR_VERSION << 4, fields.exchangeType, flags]),
    uint32Bytes(fields.messageId),
    uint32Bytes(length),
  );
}

/** Encodes an unencrypted message (IKE_SA_INIT, or an error reply before keys exist). */
export function encodeMessage(fields: HeaderFields, payloads: PlainPayload[]): Uint8Array {
  const chain = encodePayloadChain(payloads);
  const header = encodeHeader(fields, chain.firstType, IKE_HEADER_LENGTH + chain.bytes.length);
  return concatBytes(header, chain.bytes);
}

/** The payload interface whose `type` field admits T (IDi and IDr share one interface). */
export type PayloadOf<T extends Payload['type']> = Payload extends infer P
  ? P extends { type: infer U }
    ? T extends U
      ? P
      : never
    : never
  : never;

/** Returns the payloads of a type, narrowed to it. */
export function payloadsOfType<T extends Payload['type']>(
  payloads: Payload[],
  type: T,
): PayloadOf<T>[] {
  return payloads.filter((p) => p.type === type) as PayloadOf<T>[];
}

export { PayloadType };
