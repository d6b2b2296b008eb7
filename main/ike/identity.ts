/**
 * IKE identities (RFC 7296 section 3.5) written as strongSwan writes them: an IP address,
 * "user@example.org" (RFC 822), "gw.example.org" or "@gw.example.org" (FQDN), "@#hex" (key ID),
 * or a distinguished name given as DER.
 */

import { ipVersion, parseAddress, formatAddress } from '../engine/address.js';
import { bytesEqual, fromHex, toHex } from './bytes.js';
import { IdType } from './constants.js';

export interface IkeIdentity {
  idType: number;
  data: Uint8Array;
}

export function parseIdentity(text: string): IkeIdentity {
  const encoder = new TextEncoder();
  const version = ipVersion(text);
  if (version === 4) {
    return { idType: IdType.ID_IPV4_ADDR, data: parseAddress(text) };
  }
  if (version === 6) {
    return { idType: IdType.ID_IPV6_ADDR, data: parseAddress(text) };
  }
  if (text.startsWith('@#')) {
    return { idType: IdType.ID_KEY_ID, data: fromHex(text.slice(2)) };
  }
  if (text.startsWith('@')) {
    return { idType: IdType.ID_FQDN, data: encoder.encode(text.slice(1)) };
  }
  if (text.includes('@')) {
    return { idType: IdType.ID_RFC822_ADDR, data: encoder.encode(text) };
  }
  return { idType: IdType.ID_FQDN, data: encoder.encode(text) };
}

/** FQDN and RFC 822 identities compare without case; all others byte for byte. */
export function identitiesEqual(a: IkeIdentity, b: IkeIdentity): boolean {
  if (a.idType !== b.idType) {
    return false;
  }
  if (a.idType === IdType.ID_FQDN || a.idType === IdType.ID_RFC822_ADDR) {
    const decoder = new TextDecoder();
    return decoder.decode(a.data).toLowerCase() === decoder.decode(b.data).toLowerCase();
  }
  return bytesEqual(a.data, b.data);
}

/** Formats an identity for logs and error messages. */
export function formatIdentity(identity: IkeIdentity): string {
  switch (identity.idType) {
    case IdType.ID_IPV4_ADDR:
    case IdType.ID_IPV6_ADDR:
      return identity.data.length === 4 || identity.data.length === 16
        ? formatAddress(identity.data)
        : `invalid address ${toHex(identity.data)}`;
    case IdType.ID_FQDN:
    case IdType.ID_RFC822_ADDR:
      return new TextDecoder().decode(identity.data);
    case IdType.ID_DER_ASN1_DN:
      return `DN ${toHex(identity.data)}`;
    default:
      return `ID type ${identity.idType} ${toHex(identity.data)}`;
  }
}
