/**
 * Creating and checking AUTH data for the Digital Signature method (RFC 7427 section 3):
 * one length octet, the AlgorithmIdentifier, then the signature.
 */

import { constants, sign, verify, type KeyObject } from 'node:crypto';
import { concatBytes } from '../bytes.js';
import {
  decodeAlgorithmIdentifier,
  encodeAlgorithmIdentifier,
  type SignatureHashName,
  type SignatureScheme,
} from './signature-algorithms.js';

export class SignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignatureError';
  }
}

/** Picks a scheme for our private key: ECDSA with the curve's hash, RSA with SHA-256. */
export function schemeForKey(key: KeyObject, rsaPadding: 'pkcs1' | 'pss'): SignatureScheme {
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const hash: SignatureHashName =
      curve === 'secp384r1' ? 'sha384' : curve === 'secp521r1' ? 'sha512' : 'sha256';
    return { kind: 'ecdsa', hash };
  }
  if (key.asymmetricKeyType === 'rsa') {
    return rsaPadding === 'pss'
      ? { kind: 'rsa-pss', hash: 'sha256', saltLength: 32 }
      : { kind: 'rsa-pkcs1', hash: 'sha256' };
  }
  throw new SignatureError(`private key type ${String(key.asymmetricKeyType)} is not supported`);
}

function keyOptions(key: KeyObject, scheme: SignatureScheme) {
  if (scheme.kind === 'rsa-pss') {
    return {
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: scheme.saltLength ?? 32,
    };
  }
  if (scheme.kind === 'rsa-pkcs1') {
    return { key, padding: constants.RSA_PKCS1_PADDING };
  }
  // RFC 7427 section 3: ECDSA signatures are the DER-encoded Ecdsa-Sig-Value.
  return { key, dsaEncoding: 'der' as const };
}

export function createSignatureAuthData(
  privateKey: KeyObject,
  scheme: SignatureScheme,
  octets: Uint8Array,
): Uint8Array {
  const algorithm = encodeAlgorithmIdentifier(scheme);
  const signature = sign(scheme.hash, octets, keyOptions(privateKey, scheme));
  return concatBytes(new Uint8Array([algorithm.length]), algorithm, signature);
}

/** Checks AUTH data against a public key; throws SignatureError with the reason. */
export function verifySignatureAuthData(
  publicKey: KeyObject,
  authData: Uint8Array,
  octets: Uint8Array,
): SignatureScheme {
  const algorithmLength = authData[0];
  if (algorithmLength === undefined || authData.length < 1 + algorithmLength + 1) {
    throw new SignatureError('AUTH data is shorter than its AlgorithmIdentifier');
  }
  const scheme = decodeAlgorithmIdentifier(authData.subarray(1, 1 + algorithmLength));
  if (scheme === undefined) {
    throw new SignatureError('AUTH uses an unsupported signature algorithm');
  }
  const keyType = publicKey.asymmetricKeyType;
  const keyMatches =
    scheme.kind === 'ecdsa' ? keyType === 'ec' : keyType === 'rsa' || keyType === 'rsa-pss';
  if (!keyMatches) {
    throw new SignatureError(`signature algorithm ${scheme.kind} does not fit a ${keyType} key`);
  }
  const signature = authData.subarray(1 + algorithmLength);
  let valid = false;
  try {
    valid = verify(scheme.hash, octets, keyOptions(publicKey, scheme), signature);
  } catch (error) {
    throw new SignatureError(`signature check failed: ${(error as Error).message}`);
  }
  if (!valid) {
    throw new SignatureError(`the ${scheme.kind}/${scheme.hash} signature does not verify`);
  }
  return scheme;
}
