/**
 * Unpacks a PKCS#12 file (RFC 7292) into the client certificate, its private key and any CA
 * certificates. node-forge does the decryption, which covers the legacy RC2-40 and 3DES bags
 * that older tools still write as well as PBES2 with AES.
 */

import { createPrivateKey } from 'node:crypto';

import type forge from 'node-forge';

import { loadForge } from './forge.js';

import { certificateMatchesKey, normalizeCertificateDer } from './certificates.js';
import type { ImportOptions, IssueLog } from './import-result.js';

export interface Pkcs12Contents {
  /** PEM of the certificate that matches the private key. */
  certificate: string;
  /** Unencrypted PKCS#8 DER of the private key. */
  privateKey: Uint8Array;
  /** The other certificates in the file, as PEM. */
  caCertificates: string[];
}

/** Number of password requests before the importer gives up. */
export const MAX_PASSWORD_ATTEMPTS = 3;

class WrongPasswordError extends Error {}

/**
 * Unpacks `der`, trying the empty password first and then asking `options.passwords` up to
 * MAX_PASSWORD_ATTEMPTS times. `label` names the file and field for the prompt. Fails through
 * `log` at `path` when the file is malformed, holds no key, or no password works.
 */
export async function unpackPkcs12(
  der: Uint8Array, label: string, options: ImportOptions, log: IssueLog, path: string,
): Promise<Pkcs12Contents> {
  const nodeForge = await loadForge();
  let asn1: forge.asn1.Asn1;
  try {
    asn1 = nodeForge.asn1.fromDer(Buffer.from(der).toString('binary'));
  } catch (error) {
    log.fail(path, `the PKCS#12 data is malformed (${(error as Error).message}); ask for a new file`);
  }

  let password: string | undefined = '';
  for (let attempt = 0; attempt <= MAX_PASSWORD_ATTEMPTS; attempt++) {
    if (attempt > 0) {
      password = await options.passwords?.({ kind: 'pkcs12', label, attempt });
      if (password === undefined) {
        log.fail(path, attempt === 1
          ? `${label} is protected by a password and none was given; import again and enter it`
          : `import cancelled after a wrong password for ${label}`);
      }
    }
    try {
      return decodePkcs12(nodeForge, asn1, password, log, path);
    } catch (error) {
      if (!(error instanceof WrongPasswordError)) {
        throw error;
      }
    }
  }
  log.fail(path, `wrong password for ${label} after ${MAX_PASSWORD_ATTEMPTS} attempts; check the ` +
    'password with whoever sent the file');
}

function decodePkcs12(nodeForge: typeof forge, asn1: forge.asn1.Asn1, password: string, log: IssueLog, path: string): Pkcs12Contents {
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = nodeForge.pkcs12.pkcs12FromAsn1(asn1, false, password);
  } catch (error) {
    const message = (error as Error).message;
    if (/password|MAC could not be verified|decrypt/i.test(message)) {
      throw new WrongPasswordError(message);
    }
    log.fail(path, `the PKCS#12 data could not be read (${message}); ask for a new file`);
  }

  const keyBags = [
    ...(p12.getBags({ bagType: nodeForge.pki.oids.pkcs8ShroudedKeyBag })[nodeForge.pki.oids.pkcs8ShroudedKeyBag!] ?? []),
    ...(p12.getBags({ bagType: nodeForge.pki.oids.keyBag })[nodeForge.pki.oids.keyBag!] ?? []),
  ];
  const certificateBags = p12.getBags({ bagType: nodeForge.pki.oids.certBag })[nodeForge.pki.oids.certBag!] ?? [];

  if (keyBags.length === 0) {
    log.fail(path, 'the PKCS#12 file contains no private key, so it cannot authenticate this ' +
      'client; ask for a file exported with the private key');
  }
  if (keyBags.length > 1) {
    log.warn(path, `the PKCS#12 file contains ${keyBags.length} private keys; the first is used`);
  }

  const privateKeyDer = keyBagToPkcs8(nodeForge, keyBags[0]!, log, path);
  const privateKey = createPrivateKey({ key: Buffer.from(privateKeyDer), format: 'der', type: 'pkcs8' });
  const pems = certificateBags.map((bag) => certificateBagToPem(nodeForge, bag, log, path));

  const index = pems.findIndex((pem) => certificateMatchesKey(pem, privateKey));
  if (index < 0) {
    log.fail(path, 'the PKCS#12 file contains no certificate for its private key; ask for a file ' +
      'that includes the client certificate');
  }
  return {
    certificate: pems[index]!,
    privateKey: new Uint8Array(privateKey.export({ type: 'pkcs8', format: 'der' })),
    caCertificates: pems.filter((_, other) => other !== index),
  };
}

function keyBagToPkcs8(nodeForge: typeof forge, bag: forge.pkcs12.Bag, log: IssueLog, path: string): Uint8Array {
  // node-forge decodes RSA keys itself and leaves other key types (EC, Ed25519) as ASN.1.
  const withAsn1 = bag as forge.pkcs12.Bag & { asn1?: forge.asn1.Asn1 };
  let info: forge.asn1.Asn1 | undefined;
  if (bag.key) {
    info = nodeForge.pki.wrapRsaPrivateKey(nodeForge.pki.privateKeyToAsn1(bag.key as forge.pki.rsa.PrivateKey));
  } else if (withAsn1.asn1) {
    info = withAsn1.asn1;
  }
  if (!info) {
    log.fail(path, 'the private key in the PKCS#12 file could not be read');
  }
  return new Uint8Array(Buffer.from(nodeForge.asn1.toDer(info).getBytes(), 'binary'));
}

function certificateBagToPem(nodeForge: typeof forge, bag: forge.pkcs12.Bag, log: IssueLog, path: string): string {
  const withAsn1 = bag as forge.pkcs12.Bag & { asn1?: forge.asn1.Asn1 };
  const asn1 = bag.cert ? nodeForge.pki.certificateToAsn1(bag.cert) : withAsn1.asn1;
  if (!asn1) {
    log.fail(path, 'a certificate in the PKCS#12 file could not be read');
  }
  const der = new Uint8Array(Buffer.from(nodeForge.asn1.toDer(asn1).getBytes(), 'binary'));
  try {
    return normalizeCertificateDer(der);
  } catch (error) {
    log.fail(path, `a certificate in the PKCS#12 file is invalid: ${(error as Error).message}`);
  }
}
