/**
 * Sealing and opening the SK payload (RFC 7296 section 3.14) and its fragments (RFC 7383):
 * AES-CBC with an HMAC ICV, AES-GCM with a 16-byte ICV (RFC 5282) and ChaCha20-Poly1305
 * (RFC 7634 section 3).
 */

import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { concatBytes, uint16Bytes } from '../bytes.js';
import { IKE_HEADER_LENGTH } from '../constants.js';
import { encodeHeader, type HeaderFields } from '../message.js';
import type { SkEncryption, SkIntegrity } from './ike-transforms.js';

/** The keys that protect one direction of an IKE SA. */
export interface SkDirectionKeys {
  encryption: SkEncryption;
  /** Cipher key with the salt appended for AEAD transforms. */
  encryptionKey: Uint8Array;
  integrity?: SkIntegrity;
  integrityKey?: Uint8Array;
}

export type OpenResult = { ok: true; plaintext: Uint8Array } | { ok: false; reason: string };

const GENERIC_HEADER_LENGTH = 4;

interface SealRequest {
  fields: HeaderFields;
  /** 46 for SK, 53 for SKF. */
  payloadType: number;
  /** Next Payload field of the SK or SKF header: the first inner payload type, or 0. */
  innerType: number;
  /** The 4-byte fragment number and total for SKF, empty for SK. */
  extraHeader: Uint8Array;
  plaintext: Uint8Array;
}

/** Returns the whole message: IKE header, SK or SKF header, IV, ciphertext and ICV. */
export function sealEncryptedMessage(request: SealRequest, keys: SkDirectionKeys): Uint8Array {
  const { encryption } = keys;
  const padded = addPadding(request.plaintext, encryption);
  const iv = new Uint8Array(randomBytes(encryption.ivLength));
  const icvLength = icvLengthOf(keys);
  const bodyLength = request.extraHeader.length + iv.length + padded.length + icvLength;
  const payloadLength = GENERIC_HEADER_LENGTH + bodyLength;
  const header = encodeHeader(
    request.fields,
    request.payloadType,
    IKE_HEADER_LENGTH + payloadLength,
  );
  const payloadHeader = concatBytes(
    new Uint8Array([request.innerType, 0]),
    uint16Bytes(payloadLength),
    request.extraHeader,
  );
  const associated = concatBytes(header, payloadHeader);

  if (encryption.kind === 'aead') {
    const { ciphertext, tag } = aeadSeal(keys, iv, associated, padded);
    return concatBytes(associated, iv, ciphertext, tag);
  }
  const ciphertext = cbcEncrypt(keys, iv, padded);
  const signed = concatBytes(associated, iv, ciphertext);
  return concatBytes(signed, hmacIcv(keys, signed));
}

/**
 * Decrypts and checks an SK or SKF payload. `bodyStart` is the offset of its IV in `raw`, after
 * the generic header and, for SKF, the fragment fields. The payload runs to the end of `raw`.
 */
export function openEncryptedPayload(
  raw: Uint8Array,
  bodyStart: number,
  keys: SkDirectionKeys,
): OpenResult {
  const { encryption } = keys;
  const icvLength = icvLengthOf(keys);
  const body = raw.subarray(bodyStart);
  const ciphertextLength = body.length - encryption.ivLength - icvLength;
  if (ciphertextLength < 1) {
    return { ok: false, reason: `encrypted payload of ${body.length} bytes is too short` };
  }
  const iv = body.subarray(0, encryption.ivLength);
  const ciphertext = body.subarray(encryption.ivLength, encryption.ivLength + ciphertextLength);
  const icv = body.subarray(body.length - icvLength);

  let padded: Uint8Array;
  if (encryption.kind === 'aead') {
    const opened = aeadOpen(keys, iv, raw.subarray(0, bodyStart), ciphertext, icv);
    if (opened === undefined) {
      return { ok: false, reason: 'ICV check failed' };
    }
    padded = opened;
  } else {
    // Check the ICV before decrypting (RFC 7296 section 3.14: the ICV covers the whole message).
    const expected = hmacIcv(keys, raw.subarray(0, raw.length - icvLength));
    if (!timingSafeEqual(expected, icv)) {
      return { ok: false, reason: 'ICV check failed' };
    }
    if (ciphertextLength % encryption.blockSize !== 0) {
      return { ok: false, reason: `ciphertext of ${ciphertextLength} bytes is not whole blocks` };
    }
    padded = cbcDecrypt(keys, iv, ciphertext);
  }
  return removePadding(padded);
}

function icvLengthOf(keys: SkDirectionKeys): number {
  return keys.encryption.kind === 'aead'
    ? keys.encryption.tagLength
    : (keys.integrity?.icvLength ?? 0);
}

/** Appends padding and the Pad Length octet; AEAD ciphers need none (RFC 5282 section 3). */
function addPadding(plaintext: Uint8Array, encryption: SkEncryption): Uint8Array {
  const block = encryption.kind === 'cbc' ? encryption.blockSize : 1;
  const padLength = (block - ((plaintext.length + 1) % block)) % block;
  const out = new Uint8Array(plaintext.length + padLength + 1);
  out.set(plaintext);
  out[out.length - 1] = padLength;
  return out;
}

function removePadding(padded: Uint8Array): OpenResult {
  const padLength = padded[padded.length - 1]!;
  if (padLength + 1 > padded.length) {
    return { ok: false, reason: `pad length ${padLength} exceeds the decrypted data` };
  }
  return { ok: true, plaintext: padded.slice(0, padded.length - padLength - 1) };
}

function splitAeadKey(keys: SkDirectionKeys): { key: Uint8Array; salt: Uint8Array } {
  const saltStart = keys.encryptionKey.length - keys.encryption.saltLength;
  return {
    key: keys.encryptionKey.subarray(0, saltStart),
    salt: keys.encryptionKey.subarray(saltStart),
  };
}

/**
 * Encrypts with the nonce salt | IV, 4 + 8 bytes for both GCM (RFC 5282 section 4) and
 * ChaCha20-Poly1305 (RFC 7634 section 2).
 */
function aeadSeal(
  keys: SkDirectionKeys,
  iv: Uint8Array,
  associated: Uint8Array,
  plaintext: Uint8Array,
): { ciphertext: Uint8Array; tag: Uint8Array } {
  const { key, salt } = splitAeadKey(keys);
  const name = keys.encryption.cipherName(key.length);
  const cipher = createCipheriv(name as 'aes-256-gcm', key, concatBytes(salt, iv), {
    authTagLength: keys.encryption.tagLength,
  });
  cipher.setAAD(associated, { plaintextLength: plaintext.length });
  const ciphertext = concatBytes(cipher.update(plaintext), cipher.final());
  return { ciphertext, tag: new Uint8Array(cipher.getAuthTag()) };
}

function aeadOpen(
  keys: SkDirectionKeys,
  iv: Uint8Array,
  associated: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
): Uint8Array | undefined {
  const { key, salt } = splitAeadKey(keys);
  const name = keys.encryption.cipherName(key.length);
  try {
    const decipher = createDecipheriv(name as 'aes-256-gcm', key, concatBytes(salt, iv), {
      authTagLength: keys.encryption.tagLength,
    });
    decipher.setAAD(associated, { plaintextLength: ciphertext.length });
    decipher.setAuthTag(tag);
    return concatBytes(decipher.update(ciphertext), decipher.final());
  } catch {
    return undefined;
  }
}

function cbcEncrypt(keys: SkDirectionKeys, iv: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const name = keys.encryption.cipherName(keys.encryptionKey.length);
  const cipher = createCipheriv(name, keys.encryptionKey, iv).setAutoPadding(false);
  return concatBytes(cipher.update(plaintext), cipher.final());
}

function cbcDecrypt(keys: SkDirectionKeys, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const name = keys.encryption.cipherName(keys.encryptionKey.length);
  const decipher = createDecipheriv(name, keys.encryptionKey, iv).setAutoPadding(false);
  return concatBytes(decipher.update(ciphertext), decipher.final());
}

function hmacIcv(keys: SkDirectionKeys, data: Uint8Array): Uint8Array {
  const integrity = keys.integrity;
  if (integrity === undefined || keys.integrityKey === undefined) {
    throw new Error('AES-CBC needs an integrity transform');
  }
  const digest = createHmac(integrity.hash, keys.integrityKey).update(data).digest();
  return new Uint8Array(digest.subarray(0, integrity.icvLength));
}
