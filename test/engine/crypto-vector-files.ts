/**
 * Loads the published test vectors in test/vectors/*.json. Each file names its source
 * document and the meaning of every field. Byte values are hex strings.
 */

import { readFileSync } from 'node:fs';

import type { HashName } from '../../main/engine/transforms.js';

export interface HmacVector {
  name: string;
  hash: HashName;
  key: string;
  data: string;
  mac: string;
  /** RFC 4231 Test Case 5: only the first 128 bits of the output are published. */
  truncated?: boolean;
  /** RFC 2202 test_case 5: the published 96-bit truncation. */
  mac96?: string;
  /** RFC 4868 AUTH cases: the truncated ICV. */
  icv?: string;
}

export interface CbcVector {
  name: string;
  key: string;
  iv: string;
  plaintext: string;
  ciphertext: string;
}

export interface GcmVector {
  name: string;
  keyBits: number;
  key: string;
  iv: string;
  plaintext: string;
  aad: string;
  ciphertext: string;
  tag: string;
}

export interface ChaChaVector {
  name: string;
  key: string;
  nonce: string;
  aad: string;
  plaintext: string;
  ciphertext: string;
  tag: string;
}

export interface EspAeadVector {
  name: string;
  key: string;
  salt: string;
  nonce: string;
  aad: string;
  plaintext: string;
  ciphertext: string;
  icv: string;
}

export interface EspCbcVector {
  name: string;
  key: string;
  iv: string;
  preEncryption: string;
  encryptedData: string;
}

export interface VectorFile<Case> {
  source: string;
  cases: Case[];
}

export interface Rfc4868File {
  source: string;
  prf: HmacVector[];
  auth: HmacVector[];
}

export function loadVectors<File extends { source: string }>(fileName: string): File {
  const url = new URL(`../vectors/${fileName}`, import.meta.url);
  const parsed: unknown = JSON.parse(readFileSync(url, 'utf8'));

  if (typeof parsed !== 'object' || parsed === null || !('source' in parsed)) {
    throw new Error(`Vector file ${fileName} has no "source" field`);
  }

  return parsed as File;
}

export function fromHex(hex: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) {
    throw new Error(`Invalid hex string in a vector file: ${hex.slice(0, 40)}`);
  }

  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
