/** Certificate and Certificate Request payloads (RFC 7296 sections 3.6 and 3.7). */

import { concatBytes } from '../bytes.js';
import { ByteReader, finish, type ParseResult } from '../parse-result.js';

export interface CertPayload {
  type: 37;
  encoding: number;
  data: Uint8Array;
}

export interface CertReqPayload {
  type: 38;
  encoding: number;
  /** For X.509 certificates: concatenated SHA-1 hashes of CA public keys (SubjectPublicKeyInfo). */
  data: Uint8Array;
}

/*
 * CERT and CERTREQ share one layout:
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Cert Encoding |                                               |
 * +-+-+-+-+-+-+-+-+  Certificate Data / Certification Authority   ~
 * ~                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
export function parseCertPayload(body: Uint8Array): ParseResult<CertPayload> {
  const reader = new ByteReader(body, 'CERT payload');
  const encoding = reader.u8('certificate encoding');
  const data = reader.rest();
  if (data.length === 0) {
    reader.fail('invalid-length', 'empty certificate data');
  }
  return finish(reader, { type: 37, encoding, data });
}

export function parseCertReqPayload(body: Uint8Array): ParseResult<CertReqPayload> {
  const reader = new ByteReader(body, 'CERTREQ payload');
  const encoding = reader.u8('certificate encoding');
  const data = reader.rest();
  return finish(reader, { type: 38, encoding, data });
}

export function encodeCertPayload(payload: CertPayload | CertReqPayload): Uint8Array {
  return concatBytes(new Uint8Array([payload.encoding]), payload.data);
}
