/**
 * Checks of the gateway's certificates. The chain must lead from the end-entity certificate
 * through any intermediates to one of the profile's CA certificates, every certificate must be
 * within its validity dates, and the end-entity certificate must name the gateway's IDr.
 * RFC 4945 section 3.1 describes how IDs map to certificate fields.
 */

import { X509Certificate } from 'node:crypto';
import { bytesEqual } from '../bytes.js';
import { IdType } from '../constants.js';
import { formatIdentity, type IkeIdentity } from '../identity.js';
import { formatAddress } from '../../engine/address.js';
import { certificateSubjectDer } from './der.js';

export class CertificateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CertificateError';
  }
}

/** Maximum chain length, counting the end-entity certificate and the CA. */
const MAX_CHAIN_LENGTH = 6;

export function parseCertificate(der: Uint8Array, what: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (error) {
    throw new CertificateError(`invalid ${what}: ${(error as Error).message}`);
  }
}

// NOTE: revocation (CRL, OCSP) and extended key usage are not checked yet; a revoked gateway
// certificate from a trusted CA is accepted until it expires.
/**
 * Verifies the chain and returns the end-entity certificate. `received` is the list of CERT
 * payload contents in order, and the first one contains the key that signs AUTH (RFC 7296
 * section 3.6).
 */
export function verifyCertificateChain(
  received: Uint8Array[],
  trustedCas: X509Certificate[],
  now: Date,
): X509Certificate {
  if (received.length === 0) {
    throw new CertificateError('the gateway sent no certificate');
  }
  if (trustedCas.length === 0) {
    throw new CertificateError('the profile has no CA certificate to check the gateway against');
  }
  const certificates = received.map((der, index) =>
    parseCertificate(der, index === 0 ? 'gateway certificate' : `certificate ${index + 1}`),
  );
  const leaf = certificates[0]!;
  const intermediates = certificates.slice(1);

  let current = leaf;
  for (let depth = 1; depth < MAX_CHAIN_LENGTH; depth++) {
    checkValidity(current, now);
    const anchor = trustedCas.find((ca) => issues(ca, current));
    if (anchor !== undefined) {
      checkValidity(anchor, now);
      return leaf;
    }
    const next = intermediates.find((candidate) => candidate.ca && issues(candidate, current));
    if (next === undefined) {
      throw new CertificateError(
        `no trusted CA issued "${current.subject.replace(/\n/g, ', ')}" ` +
          `(issuer "${current.issuer.replace(/\n/g, ', ')}")`,
      );
    }
    current = next;
  }
  throw new CertificateError(`the certificate chain is longer than ${MAX_CHAIN_LENGTH}`);
}

function issues(issuer: X509Certificate, subject: X509Certificate): boolean {
  return issuer.ca && subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
}

function checkValidity(certificate: X509Certificate, now: Date): void {
  const from = new Date(certificate.validFrom);
  const to = new Date(certificate.validTo);
  if (now < from || now > to) {
    throw new CertificateError(
      `certificate "${certificate.subject.replace(/\n/g, ', ')}" is valid only from ` +
        `${from.toISOString()} to ${to.toISOString()}`,
    );
  }
}

/** Throws unless the certificate names `identity` in its subject or subjectAltName. */
export function checkCertificateIdentity(
  certificate: X509Certificate,
  identity: IkeIdentity,
): void {
  const text = new TextDecoder().decode(identity.data);
  let matches = false;
  switch (identity.idType) {
    case IdType.ID_FQDN:
      matches = certificate.checkHost(text, { subject: 'never', wildcards: false }) !== undefined;
      break;
    case IdType.ID_RFC822_ADDR:
      matches = certificate.checkEmail(text, { subject: 'never' }) !== undefined;
      break;
    case IdType.ID_IPV4_ADDR:
    case IdType.ID_IPV6_ADDR:
      matches = certificate.checkIP(formatAddress(identity.data)) !== undefined;
      break;
    case IdType.ID_DER_ASN1_DN: {
      const subject = certificateSubjectDer(new Uint8Array(certificate.raw));
      matches = subject !== undefined && bytesEqual(subject, identity.data);
      break;
    }
    default:
      matches = false;
  }
  if (!matches) {
    throw new CertificateError(
      `the gateway certificate does not contain its identity ${formatIdentity(identity)}`,
    );
  }
}
