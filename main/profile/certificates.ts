/** Certificates and private keys from the encodings that VPN profiles carry them in. */

import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';

import { LIMITS } from './validate.js';

export class CertificateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CertificateError';
  }
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END CERTIFICATE-----/g;

/** Formats certificate DER as PEM with 64-character lines. */
export function certificateDerToPem(der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** Returns the DER bytes of a PEM certificate. */
export function certificatePemToDer(pem: string): Uint8Array {
  const body = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(body, 'base64'));
}

/** Parses DER and returns it as canonical PEM; throws CertificateError when it is no X.509 certificate. */
export function normalizeCertificateDer(der: Uint8Array): string {
  try {
    const certificate = new X509Certificate(Buffer.from(der));
    return certificateDerToPem(new Uint8Array(certificate.raw));
  } catch (error) {
    throw new CertificateError(`not a valid X.509 certificate: ${(error as Error).message}`);
  }
}

/**
 * Reads one or more certificates from PEM text, DER bytes, or base64 of DER (as in `.sswan`
 * files and plist `<data>`). Returns canonical PEM strings.
 */
export function readCertificates(input: string | Uint8Array): string[] {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
  if (text.includes('-----BEGIN CERTIFICATE-----')) {
    const blocks = [...text.matchAll(PEM_BLOCK)];
    if (blocks.length === 0) {
      throw new CertificateError('the PEM certificate block is incomplete');
    }
    if (blocks.length > LIMITS.certificates) {
      throw new CertificateError(`more than ${LIMITS.certificates} certificates`);
    }
    return blocks.map((block) => normalizeCertificateDer(decodeBase64(block[1]!)));
  }
  if (typeof input !== 'string' && input[0] === 0x30) {
    return [normalizeCertificateDer(input)];
  }
  return [normalizeCertificateDer(decodeBase64(text))];
}

/** Decodes strict base64 (whitespace allowed); throws CertificateError on other characters. */
export function decodeBase64(text: string): Uint8Array {
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    throw new CertificateError('expected base64 text');
  }
  return new Uint8Array(Buffer.from(compact, 'base64'));
}

/** Returns the subject common name of a PEM certificate, or undefined. */
export function subjectCommonName(pem: string): string | undefined {
  const subject = new X509Certificate(pem).subject;
  return /^CN=(.*)$/m.exec(subject)?.[1];
}

/** Returns the issuer common name of a PEM certificate, or undefined. */
export function issuerCommonName(pem: string): string | undefined {
  const issuer = new X509Certificate(pem).issuer;
  return /^CN=(.*)$/m.exec(issuer)?.[1];
}

/** True when the certificate carries the public key of `privateKey`. */
export function certificateMatchesKey(pem: string, privateKey: KeyObject): boolean {
  try {
    return new X509Certificate(pem).checkPrivateKey(privateKey);
  } catch {
    return false;
  }
}

/**
 * Loads a private key from PEM (PKCS#1, SEC1, PKCS#8, encrypted PKCS#8) or DER PKCS#8, and
 * returns it with its unencrypted PKCS#8 DER. Throws the Node error for a wrong passphrase.
 */
export function loadPrivateKey(data: Uint8Array, passphrase?: string): { key: KeyObject; pkcs8: Uint8Array } {
  const buffer = Buffer.from(data);
  const isPem = buffer.includes('-----BEGIN');
  const key = isPem
    ? createPrivateKey({ key: buffer.toString('latin1'), format: 'pem', passphrase: passphrase ?? '' })
    : createPrivateKey({ key: buffer, format: 'der', type: 'pkcs8', passphrase: passphrase ?? '' });
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  return { key, pkcs8: new Uint8Array(pkcs8) };
}

/** True when the PEM private key is encrypted, so a passphrase is needed. */
export function isEncryptedPrivateKey(data: Uint8Array): boolean {
  const text = Buffer.from(data).toString('latin1');
  return text.includes('ENCRYPTED PRIVATE KEY') || text.includes('Proc-Type: 4,ENCRYPTED');
}
