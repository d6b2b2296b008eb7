/**
 * Digital signature authentication (RFC 7427): the AlgorithmIdentifier that precedes the
 * signature in the AUTH payload, for RSA PKCS#1 v1.5, RSASSA-PSS and ECDSA with SHA-2.
 */

import { concatBytes } from '../bytes.js';
import { DerTag, decodeOid, encodeDer, encodeOid, readDerChildren, readDerElement } from './der.js';

export type SignatureHashName = 'sha256' | 'sha384' | 'sha512';

export interface SignatureScheme {
  kind: 'rsa-pkcs1' | 'rsa-pss' | 'ecdsa';
  hash: SignatureHashName;
  /** RSASSA-PSS salt length in bytes. */
  saltLength?: number;
}

const OID = {
  RSA_PSS: '1.2.840.113549.1.1.10',
  MGF1: '1.2.840.113549.1.1.8',
};

const PKCS1_OIDS: Record<string, SignatureHashName> = {
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};

const ECDSA_OIDS: Record<string, SignatureHashName> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};

const HASH_OIDS: Record<string, SignatureHashName> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

function oidFor(table: Record<string, SignatureHashName>, hash: SignatureHashName): string {
  return Object.entries(table).find(([, value]) => value === hash)![0];
}

const DER_NULL = new Uint8Array([DerTag.NULL, 0]);

function hashAlgorithmIdentifier(hash: SignatureHashName): Uint8Array {
  return encodeDer(DerTag.SEQUENCE, concatBytes(encodeOid(oidFor(HASH_OIDS, hash)), DER_NULL));
}

/** Encodes the AlgorithmIdentifier for a scheme (RFC 4055 for PSS, RFC 5758 for ECDSA). */
export function encodeAlgorithmIdentifier(scheme: SignatureScheme): Uint8Array {
  if (scheme.kind === 'rsa-pkcs1') {
    const oid = encodeOid(oidFor(PKCS1_OIDS, scheme.hash));
    return encodeDer(DerTag.SEQUENCE, concatBytes(oid, DER_NULL));
  }
  if (scheme.kind === 'ecdsa') {
    return encodeDer(DerTag.SEQUENCE, encodeOid(oidFor(ECDSA_OIDS, scheme.hash)));
  }
  const hashId = hashAlgorithmIdentifier(scheme.hash);
  const mgf = encodeDer(DerTag.SEQUENCE, concatBytes(encodeOid(OID.MGF1), hashId));
  const salt = encodeDer(DerTag.INTEGER, new Uint8Array([scheme.saltLength ?? 32]));
  const params = encodeDer(
    DerTag.SEQUENCE,
    concatBytes(
      encodeDer(DerTag.CONTEXT_0, hashId),
      encodeDer(DerTag.CONTEXT_1, mgf),
      encodeDer(DerTag.CONTEXT_2, salt),
    ),
  );
  return encodeDer(DerTag.SEQUENCE, concatBytes(encodeOid(OID.RSA_PSS), params));
}

/** Decodes an AlgorithmIdentifier; returns undefined for anything not supported. */
export function decodeAlgorithmIdentifier(der: Uint8Array): SignatureScheme | undefined {
  const outer = readDerElement(der, 0);
  if (outer?.tag !== DerTag.SEQUENCE || outer.end !== der.length) {
    return undefined;
  }
  const children = readDerChildren(der, outer);
  const oidElement = children?.[0];
  if (oidElement === undefined) {
    return undefined;
  }
  const oid = decodeOid(der, oidElement);
  if (oid === undefined) {
    return undefined;
  }
  const pkcs1 = PKCS1_OIDS[oid];
  if (pkcs1 !== undefined) {
    return { kind: 'rsa-pkcs1', hash: pkcs1 };
  }
  const ecdsa = ECDSA_OIDS[oid];
  if (ecdsa !== undefined) {
    return { kind: 'ecdsa', hash: ecdsa };
  }
  if (oid === OID.RSA_PSS && children![1] !== undefined) {
    return decodePssParameters(der, children![1]);
  }
  return undefined;
}

/**
 * RSASSA-PSS-params (RFC 4055 section 3.1). Only the same hash for the message and MGF1 is
 * accepted; the defaults (SHA-1) are not, because RFC 8247 section 3.2 deprecates SHA-1 here.
 */
function decodePssParameters(
  der: Uint8Array,
  params: ReturnType<typeof readDerElement> & object,
): SignatureScheme | undefined {
  const fields = readDerChildren(der, params);
  if (fields === undefined) {
    return undefined;
  }
  let hash: SignatureHashName | undefined;
  let mgfHash: SignatureHashName | undefined;
  let saltLength = 20;
  for (const field of fields) {
    const inner = readDerElement(der, field.contentStart, field.end);
    if (inner === undefined) {
      return undefined;
    }
    if (field.tag === DerTag.CONTEXT_0) {
      hash = hashOfAlgorithmIdentifier(der, inner);
    } else if (field.tag === DerTag.CONTEXT_1) {
      const mgf = readDerChildren(der, inner);
      const mgfParams = mgf?.[1];
      mgfHash = mgfParams === undefined ? undefined : hashOfAlgorithmIdentifier(der, mgfParams);
    } else if (field.tag === DerTag.CONTEXT_2 && inner.tag === DerTag.INTEGER) {
      saltLength = 0;
      for (let i = inner.contentStart; i < inner.end; i++) {
        saltLength = saltLength * 256 + der[i]!;
      }
    }
  }
  if (hash === undefined || mgfHash !== hash) {
    return undefined;
  }
  return { kind: 'rsa-pss', hash, saltLength };
}

function hashOfAlgorithmIdentifier(
  der: Uint8Array,
  element: NonNullable<ReturnType<typeof readDerElement>>,
): SignatureHashName | undefined {
  const children = readDerChildren(der, element);
  const oidElement = children?.[0];
  const oid = oidElement === undefined ? undefined : decodeOid(der, oidElement);
  return oid === undefined ? undefined : HASH_OIDS[oid];
}
