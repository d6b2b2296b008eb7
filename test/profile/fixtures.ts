/**
 * Test certificates, keys and PKCS#12 files, made with the openssl command line tool in a
 * temporary directory so that the importer is checked against an independent implementation.
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Fixtures {
  directory: string;
  caPem: string;
  caDer: Uint8Array;
  clientPem: string;
  clientKeyPem: string;
  clientKeyEncryptedPem: string;
  /** PBES2/AES-256-CBC bags and an HMAC-SHA-256 MAC (OpenSSL 3 defaults), password "modern-pw". */
  modernP12: Uint8Array;
  /** RC2-40 certificate bag and 3DES key bag (openssl -legacy), password "legacy-pw". */
  legacyP12: Uint8Array;
  /** Only certificates, no key bag, password "nokey-pw". */
  noKeyP12: Uint8Array;
  /** EC P-256 key and certificate, password "ec-pw". */
  ecP12: Uint8Array;
  cleanup(): void;
}

function openssl(directory: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: directory, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makeFixtures(): Fixtures {
  const directory = mkdtempSync(join(tmpdir(), 'lupina-profile-'));
  const run = (...args: string[]) => openssl(directory, ...args);
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem',
    '-subj', '/O=Example Corp/CN=Example Root CA', '-days', '30');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr',
    '-subj', '/CN=alice@example.com');
  run('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'client.pem', '-days', '30');
  run('pkcs8', '-topk8', '-in', 'client.key', '-out', 'client-enc.key', '-passout', 'pass:key-pw',
    '-v2', 'aes-256-cbc');
  run('pkcs12', '-export', '-in', 'client.pem', '-inkey', 'client.key', '-certfile', 'ca.pem',
    '-passout', 'pass:modern-pw', '-out', 'modern.p12');
  run('pkcs12', '-export', '-legacy', '-in', 'client.pem', '-inkey', 'client.key',
    '-passout', 'pass:legacy-pw', '-out', 'legacy.p12');
  run('pkcs12', '-export', '-nokeys', '-in', 'client.pem', '-passout', 'pass:nokey-pw', '-out', 'nokey.p12');
  run('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ec.key');
  run('req', '-new', '-key', 'ec.key', '-out', 'ec.csr', '-subj', '/CN=bob@example.com');
  run('x509', '-req', '-in', 'ec.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-out', 'ec.pem', '-days', '30');
  run('pkcs12', '-export', '-in', 'ec.pem', '-inkey', 'ec.key', '-passout', 'pass:ec-pw', '-out', 'ec.p12');
  run('x509', '-in', 'ca.pem', '-outform', 'DER', '-out', 'ca.der');

  const read = (name: string) => new Uint8Array(readFileSync(join(directory, name)));
  const text = (name: string) => readFileSync(join(directory, name), 'utf8');
  return {
    directory,
    caPem: text('ca.pem'),
    caDer: read('ca.der'),
    clientPem: text('client.pem'),
    clientKeyPem: text('client.key'),
    clientKeyEncryptedPem: text('client-enc.key'),
    modernP12: read('modern.p12'),
    legacyP12: read('legacy.p12'),
    noKeyP12: read('nokey.p12'),
    ecP12: read('ec.p12'),
    cleanup: () => rmSync(directory, { recursive: true, force: true }),
  };
}

/** Signs `content` as CMS SignedData in DER with the test CA, as a signed .mobileconfig. */
export function signWithCa(fixtures: Fixtures, content: string): Uint8Array {
  const input = join(fixtures.directory, 'to-sign.xml');
  const output = join(fixtures.directory, 'signed.der');
  execFileSync('sh', ['-c', 'cat > "$1"', 'sh', input], { input: content });
  openssl(fixtures.directory, 'cms', '-sign', '-nodetach', '-binary', '-in', input, '-signer', 'ca.pem',
    '-inkey', 'ca.key', '-outform', 'DER', '-out', output);
  return new Uint8Array(readFileSync(output));
}

/** Returns the PEM body of a certificate as base64 without line breaks. */
export function pemToBase64(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}

/** Returns a password callback that returns the given passwords in order and records each request. */
export function passwordAnswers(...answers: Array<string | undefined>) {
  const requests: Array<{ kind: string; label: string; attempt: number }> = [];
  const callback = async (request: { kind: 'pkcs12' | 'private-key'; label: string; attempt: number }) => {
    requests.push(request);
    return answers[requests.length - 1];
  };
  return { callback, requests };
}

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (value: Uint8Array | undefined): string => new TextDecoder().decode(value);
