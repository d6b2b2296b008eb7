/**
 * The generic payload header and payload chains (RFC 7296 section 3.2): parsing a chain from the
 * first payload's type, and encoding a list of payloads back into a chain.
 */

import { concatBytes, uint16Bytes } from '../bytes.js';
import { PayloadType } from '../constants.js';
import { ByteReader, finish, parseFailure, type ParseResult } from '../parse-result.js';
import { encodeAuthPayload, parseAuthPayload, type AuthPayload } from './authentication.js';
import {
  encodeCertPayload,
  parseCertPayload,
  parseCertReqPayload,
  type CertPayload,
  type CertReqPayload,
} from './certificate.js';
import { encodeCpPayload, parseCpPayload, type CpPayload } from './configuration.js';
import { encodeDeletePayload, parseDeletePayload, type DeletePayload } from './delete.js';
import { encodeEapPayload, parseEapPayload, type EapPayload } from './eap.js';
import { parseSkfPayload, parseSkPayload, type SkfPayload, type SkPayload } from './encrypted.js';
import { encodeIdPayload, parseIdPayload, type IdPayload } from './identification.js';
import { encodeKePayload, parseKePayload, type KePayload } from './key-exchange.js';
import { encodeNoncePayload, parseNoncePayload, type NoncePayload } from './nonce.js';
import { encodeNotifyPayload, parseNotifyPayload, type NotifyPayload } from './notify.js';
import { encodeSaPayload, parseSaPayload, type SaPayload } from './security-association.js';
import { encodeTsPayload, parseTsPayload, type TsPayload } from './traffic-selector.js';
import { encodeVendorPayload, parseVendorPayload, type VendorPayload } from './vendor-id.js';

/** A payload whose type this client does not know, sent without the critical bit. */
export interface UnknownPayload {
  type: 'unknown';
  payloadType: number;
  body: Uint8Array;
}

export type Payload =
  | SaPayload
  | KePayload
  | IdPayload
  | CertPayload
  | CertReqPayload
  | AuthPayload
  | NoncePayload
  | NotifyPayload
  | DeletePayload
  | VendorPayload
  | TsPayload
  | CpPayload
  | EapPayload
  | SkPayload
  | SkfPayload
  | UnknownPayload;

/** Payloads that can be encoded by `encodePayloadChain`: every one but SK, SKF and unknown. */
export type PlainPayload = Exclude<Payload, SkPayload | SkfPayload | UnknownPayload>;

const CRITICAL_BIT = 0x80;
export const GENERIC_HEADER_LENGTH = 4;

/*
 * Generic payload header (RFC 7296 section 3.2):
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Next Payload  |C|  RESERVED   |         Payload Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * `baseOffset` is where `bytes` starts within the message, so that SK and SKF payloads record
 * their own offset. `inner` is true for the payloads inside an SK payload, where another SK or
 * SKF payload is a nesting error.
 */
export function parsePayloadChain(
  firstType: number,
  bytes: Uint8Array,
  baseOffset: number,
  inner: boolean,
): ParseResult<Payload[]> {
  const reader = new ByteReader(bytes, inner ? 'encrypted payload chain' : 'payload chain');
  const payloads: Payload[] = [];
  let type = firstType;

  while (type !== PayloadType.NONE && reader.error === undefined) {
    const offset = reader.position;
    const nextType = reader.u8('next payload');
    const critical = (reader.u8('flags') & CRITICAL_BIT) !== 0;
    const length = reader.u16('payload length');
    if (reader.error !== undefined) {
      break;
    }
    if (length < GENERIC_HEADER_LENGTH || length - GENERIC_HEADER_LENGTH > reader.remaining) {
      return parseFailure('invalid-length', `payload ${type} length ${length} does not fit`);
    }
    const body = reader.take(length - GENERIC_HEADER_LENGTH, 'payload body');

    if (type === PayloadType.SK || type === PayloadType.SKF) {
      // RFC 7296 section 3.14 and RFC 7383 section 2.5: the encrypted payload is the last one,
      // and its Next Payload field names the first payload inside it.
      if (inner) {
        return parseFailure('invalid-nesting', 'an encrypted payload inside an encrypted payload');
      }
      if (reader.remaining !== 0) {
        return parseFailure('trailing-data', `${reader.remaining} bytes after the SK payload`);
      }
      const encrypted =
        type === PayloadType.SK
          ? parseSkPayload(nextType, body, baseOffset + offset)
          : parseSkfPayload(nextType, body, baseOffset + offset);
      if (!encrypted.ok) {
        return encrypted;
      }
      payloads.push(encrypted.value);
      return finish(reader, payloads);
    }

    const payload = parsePayloadBody(type, body);
    if (payload === undefined) {
      // RFC 7296 section 2.5: reject a message with an unknown critical payload, skip others.
      if (critical) {
        return parseFailure(
          'unsupported-critical-payload',
          `unknown payload type ${type} is marked critical`,
          type,
        );
      }
      payloads.push({ type: 'unknown', payloadType: type, body });
    } else if (!payload.ok) {
      return payload;
    } else {
      payloads.push(payload.value);
    }
    type = nextType;
  }
  return finish(reader, payloads);
}

function parsePayloadBody(type: number, body: Uint8Array): ParseResult<Payload> | undefined {
  switch (type) {
    case PayloadType.SA:
      return parseSaPayload(body);
    case PayloadType.KE:
      return parseKePayload(body);
    case PayloadType.IDI:
      return parseIdPayload(35, body);
    case PayloadType.IDR:
      return parseIdPayload(36, body);
    case PayloadType.CERT:
      return parseCertPayload(body);
    case PayloadType.CERTREQ:
      return parseCertReqPayload(body);
    case PayloadType.AUTH:
      return parseAuthPayload(body);
    case PayloadType.NONCE:
      return parseNoncePayload(body);
    case PayloadType.NOTIFY:
      return parseNotifyPayload(body);
    case PayloadType.DELETE:
      return parseDeletePayload(body);
    case PayloadType.VENDOR:
      return parseVendorPayload(body);
    case PayloadType.TSI:
      return parseTsPayload(44, body);
    case PayloadType.TSR:
      return parseTsPayload(45, body);
    case PayloadType.CP:
      return parseCpPayload(body);
    case PayloadType.EAP:
      return parseEapPayload(body);
    default:
      return undefined;
  }
}

export function encodePayloadBody(payload: PlainPayload): Uint8Array {
  switch (payload.type) {
    case 33:
      return encodeSaPayload(payload);
    case 34:
      return encodeKePayload(payload);
    case 35:
    case 36:
      return encodeIdPayload(payload);
    case 37:
    case 38:
      return encodeCertPayload(payload);
    case 39:
      return encodeAuthPayload(payload);
    case 40:
      return encodeNoncePayload(payload);
    case 41:
      return encodeNotifyPayload(payload);
    case 42:
      return encodeDeletePayload(payload);
    case 43:
      return encodeVendorPayload(payload);
    case 44:
    case 45:
      return encodeTsPayload(payload);
    case 47:
      return encodeCpPayload(payload);
    case 48:
      return encodeEapPayload(payload);
  }
}

/** Encodes payloads as a chain; returns the chain and the type of its first payload. */
export function encodePayloadChain(payloads: PlainPayload[]): {
  firstType: number;
  bytes: Uint8Array;
} {
  const parts = payloads.map((payload, index) => {
    const body = encodePayloadBody(payload);
    const next = payloads[index + 1]?.type ?? PayloadType.NONE;
    return concatBytes(
      new Uint8Array([next, 0]),
      uint16Bytes(body.length + GENERIC_HEADER_LENGTH),
      body,
    );
  });
  return { firstType: payloads[0]?.type ?? PayloadType.NONE, bytes: concatBytes(...parts) };
}
