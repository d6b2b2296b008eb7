/**
 * The IKE_AUTH exchange as initiator (RFC 7296 sections 1.2 and 2.15): identities, PSK or
 * certificate authentication with RFC 7427 signatures, the configuration request, and the
 * first CHILD_SA. EAP (section 2.16) is a hook that is not implemented yet.
 */

import {
  createHash,
  createPrivateKey,
  timingSafeEqual,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { concatBytes } from '../bytes.js';
import {
  AuthMethod,
  CertEncoding,
  IdType,
  NOTIFY_ERROR_LIMIT,
  NotifyType,
  PayloadType,
  notifyName,
} from '../constants.js';
import {
  CertificateError,
  checkCertificateIdentity,
  verifyCertificateChain,
} from '../auth/certificate-chain.js';
import { certificateSubjectDer } from '../auth/der.js';
import {
  createSignatureAuthData,
  schemeForKey,
  SignatureError,
  verifySignatureAuthData,
} from '../auth/digital-signature.js';
import { pskAuthValue, signedOctets } from '../auth/signed-octets.js';
import type { SignatureScheme } from '../auth/signature-algorithms.js';
import { IkeError, notifyError } from '../errors.js';
import { formatIdentity, identitiesEqual, parseIdentity, type IkeIdentity } from '../identity.js';
import type { IkeSaState } from '../ike-sa-state.js';
import { payloadsOfType } from '../message.js';
import type { Payload, PlainPayload } from '../payloads/chain.js';
import { encodeIdPayload, type IdPayload } from '../payloads/identification.js';
import { notify } from '../payloads/notify.js';
import type { LocalAuth, RemoteAuth } from '../profile.js';

/** Notify types that fail the CHILD_SA but leave the IKE SA up (RFC 7296 section 1.2). */
const CHILD_SA_ERRORS = new Set<number>([
  NotifyType.NO_PROPOSAL_CHOSEN,
  NotifyType.SINGLE_PAIR_REQUIRED,
  NotifyType.NO_ADDITIONAL_SAS,
  NotifyType.INTERNAL_ADDRESS_FAILURE,
  NotifyType.FAILED_CP_REQUIRED,
  NotifyType.TS_UNACCEPTABLE,
  NotifyType.INVALID_SELECTORS,
]);

/** Loaded credentials: PEM parsed once, before the exchange starts. */
export interface AuthCredentials {
  local:
    | { method: 'psk'; secret: Uint8Array }
    | {
        method: 'pubkey';
        certificates: X509Certificate[];
        privateKey: KeyObject;
        rsaPadding: 'pkcs1' | 'pss';
      }
    | { method: 'eap' };
  remote: { method: 'psk' } | { method: 'pubkey'; caCertificates: X509Certificate[] };
  localIdentity: IkeIdentity;
  remoteIdentity?: IkeIdentity;
}

export function loadCredentials(
  localAuth: LocalAuth,
  remoteAuth: RemoteAuth,
  localIdentity: string | undefined,
  remoteIdentity: string | undefined,
): AuthCredentials {
  let local: AuthCredentials['local'];
  let identity: IkeIdentity | undefined =
    localIdentity === undefined ? undefined : parseIdentity(localIdentity);
  if (localAuth.method === 'pubkey') {
    const certificates = localAuth.certificatesPem.map((pem) => new X509Certificate(pem));
    if (certificates.length === 0) {
      throw new CertificateError('the profile has no client certificate');
    }
    const privateKey = createPrivateKey(localAuth.privateKeyPem);
    local = {
      method: 'pubkey',
      certificates,
      privateKey,
      rsaPadding: localAuth.rsaPadding ?? 'pkcs1',
    };
    // Without a configured identity the certificate's subject DN is the identity.
    identity ??= { idType: IdType.ID_DER_ASN1_DN, data: subjectOf(certificates[0]!) };
  } else {
    local = localAuth;
  }
  if (identity === undefined) {
    throw new IkeError('invalid-response', 'the profile needs a local identity for PSK or EAP');
  }
  const remote: AuthCredentials['remote'] =
    remoteAuth.method === 'pubkey'
      ? {
          method: 'pubkey',
          caCertificates: remoteAuth.caCertificatesPem.map((pem) => new X509Certificate(pem)),
        }
      : { method: 'psk' };
  const credentials: AuthCredentials = { local, remote, localIdentity: identity };
  if (remoteIdentity !== undefined) {
    credentials.remoteIdentity = parseIdentity(remoteIdentity);
  }
  return credentials;
}

function subjectOf(certificate: X509Certificate): Uint8Array {
  const subject = certificateSubjectDer(new Uint8Array(certificate.raw));
  if (subject === undefined) {
    throw new CertificateError('cannot read the subject of the client certificate');
  }
  return subject;
}

export interface IkeAuthContext {
  sa: IkeSaState;
  credentials: AuthCredentials;
  /** IKE_SA_INIT request and response, as sent and received (RFC 7296 section 2.15). */
  initRequest: Uint8Array;
  initResponse: Uint8Array;
  peerSignatureHashes: number[];
  now: Date;
}

export interface IkeAuthResult {
  remoteIdentity: IkeIdentity;
  /** Set when the gateway accepted the IKE SA but refused the CHILD_SA. */
  childError?: number;
}

export class IkeAuthTask {
  private idiBody: Uint8Array = new Uint8Array(0);

  constructor(private readonly context: IkeAuthContext) {}

  /**
   * Builds the payloads that precede the CHILD_SA ones: IDi, CERT, INITIAL_CONTACT, CERTREQ,
   * IDr and AUTH.
   */
  buildAuthPayloads(): PlainPayload[] {
    const { credentials } = this.context;
    const idi: IdPayload = { type: 35, ...credentials.localIdentity };
    this.idiBody = encodeIdPayload(idi);
    const payloads: PlainPayload[] = [idi];

    if (credentials.local.method === 'pubkey') {
      for (const certificate of credentials.local.certificates) {
        payloads.push({
          type: 37,
          encoding: CertEncoding.X509_SIGNATURE,
          data: new Uint8Array(certificate.raw),
        });
      }
    }
    payloads.push(notify(NotifyType.INITIAL_CONTACT));
    if (credentials.remote.method === 'pubkey') {
      payloads.push({
        type: 38,
        encoding: CertEncoding.X509_SIGNATURE,
        data: concatBytes(...credentials.remote.caCertificates.map(caKeyHash)),
      });
    }
    if (credentials.remoteIdentity !== undefined) {
      payloads.push({ type: 36, ...credentials.remoteIdentity });
    }
    if (credentials.local.method === 'eap') {
      // TODO: EAP (RFC 7296 section 2.16): omit AUTH here and run an EapHandler over the
      // following IKE_AUTH rounds, then send AUTH computed from the EAP MSK.
      throw new IkeError('invalid-response', 'EAP authentication is not implemented yet');
    }
    payloads.push({ type: 39, ...this.createAuth() });
    return payloads;
  }

  private createAuth(): { method: number; data: Uint8Array } {
    const { sa, credentials, initRequest } = this.context;
    const octets = signedOctets(sa.suite.prf, initRequest, sa.nonceR, sa.keys.skPi, this.idiBody);
    const local = credentials.local;
    if (local.method === 'psk') {
      return {
        method: AuthMethod.SHARED_KEY_MIC,
        data: pskAuthValue(sa.suite.prf, local.secret, octets),
      };
    }
    if (local.method !== 'pubkey') {
      throw new IkeError('invalid-response', 'no local authentication method');
    }
    const scheme = this.pickScheme(local.privateKey, local.rsaPadding);
    return {
      method: AuthMethod.DIGITAL_SIGNATURE,
      data: createSignatureAuthData(local.privateKey, scheme, octets),
    };
  }

  /** RFC 7427 section 4: sign with a hash that the gateway listed, when it sent a list. */
  private pickScheme(key: KeyObject, rsaPadding: 'pkcs1' | 'pss'): SignatureScheme {
    const scheme = schemeForKey(key, rsaPadding);
    const ids: Record<string, number> = { sha256: 2, sha384: 3, sha512: 4 };
    const hashes = this.context.peerSignatureHashes;
    if (hashes.length > 0 && !hashes.includes(ids[scheme.hash]!)) {
      throw new IkeError(
        'authentication-failed',
        `the gateway does not accept ${scheme.hash} signatures (it listed ${hashes.join(', ')})`,
      );
    }
    return scheme;
  }

  /** Checks the gateway's identity and AUTH; throws IkeError on any failure. */
  processResponse(payloads: Payload[]): IkeAuthResult {
    const notifies = payloadsOfType(payloads, PayloadType.NOTIFY);
    const errors = notifies.filter((n) => n.notifyType < NOTIFY_ERROR_LIMIT);
    const fatal = errors.find((n) => !CHILD_SA_ERRORS.has(n.notifyType));
    if (fatal !== undefined) {
      throw this.fatalError(fatal.notifyType);
    }

    const [idr] = payloadsOfType(payloads, PayloadType.IDR);
    const [auth] = payloadsOfType(payloads, PayloadType.AUTH);
    if (payloadsOfType(payloads, PayloadType.EAP).length > 0 && auth === undefined) {
      throw new IkeError(
        'authentication-failed',
        'the gateway requests EAP authentication, which is not implemented yet',
      );
    }
    if (idr === undefined || auth === undefined) {
      if (errors[0] !== undefined) {
        throw notifyError('IKE_AUTH', errors[0].notifyType);
      }
      throw new IkeError('invalid-response', 'the IKE_AUTH response lacks IDr or AUTH');
    }
    const remoteIdentity = { idType: idr.idType, data: idr.data };
    const expected = this.context.credentials.remoteIdentity;
    if (expected !== undefined && !identitiesEqual(expected, remoteIdentity)) {
      throw new IkeError(
        'authentication-failed',
        `the gateway identified as ` +
          `${formatIdentity(remoteIdentity)}, expected ${formatIdentity(expected)}`,
      );
    }
    this.verifyAuth(idr, auth.method, auth.data, payloads);

    const result: IkeAuthResult = { remoteIdentity };
    if (errors[0] !== undefined) {
      result.childError = errors[0].notifyType;
    }
    return result;
  }

  private fatalError(notifyType: number): IkeError {
    if (notifyType !== NotifyType.AUTHENTICATION_FAILED) {
      return notifyError('IKE_AUTH', notifyType);
    }
    const reason =
      this.context.credentials.local.method === 'psk'
        ? 'the gateway rejected the pre-shared key'
        : 'the gateway rejected our certificate or signature';
    return new IkeError(
      'authentication-failed',
      `authentication failed: ${reason} ` + `(${notifyName(notifyType)})`,
      notifyType,
    );
  }

  private verifyAuth(idr: IdPayload, method: number, data: Uint8Array, payloads: Payload[]): void {
    const { sa, credentials, initResponse } = this.context;
    const octets = signedOctets(
      sa.suite.prf,
      initResponse,
      sa.nonceI,
      sa.keys.skPr,
      encodeIdPayload(idr),
    );
    if (credentials.remote.method === 'psk') {
      if (credentials.local.method !== 'psk' || method !== AuthMethod.SHARED_KEY_MIC) {
        throw new IkeError(
          'authentication-failed',
          `the gateway used AUTH method ${method}, expected a pre-shared key`,
        );
      }
      const expected = pskAuthValue(sa.suite.prf, credentials.local.secret, octets);
      if (expected.length !== data.length || !timingSafeEqual(expected, data)) {
        throw new IkeError(
          'authentication-failed',
          'authentication failed: the gateway AUTH does not match our pre-shared key',
        );
      }
      return;
    }

    // RFC 7427 section 3: method 14 carries the signature algorithm in the AUTH data.
    if (method !== AuthMethod.DIGITAL_SIGNATURE) {
      throw new IkeError(
        'authentication-failed',
        `the gateway used AUTH method ${method}; only digital signatures (14) are supported`,
      );
    }
    const certificates = payloadsOfType(payloads, PayloadType.CERT)
      .filter((c) => c.encoding === CertEncoding.X509_SIGNATURE)
      .map((c) => c.data);
    try {
      const leaf = verifyCertificateChain(
        certificates,
        credentials.remote.caCertificates,
        this.context.now,
      );
      checkCertificateIdentity(leaf, { idType: idr.idType, data: idr.data });
      verifySignatureAuthData(leaf.publicKey, data, octets);
    } catch (error) {
      if (error instanceof CertificateError || error instanceof SignatureError) {
        throw new IkeError('certificate', `gateway authentication failed: ${error.message}`);
      }
      throw error;
    }
  }
}

/** CERTREQ names a CA by the SHA-1 hash of its SubjectPublicKeyInfo (RFC 7296 section 3.7). */
function caKeyHash(ca: X509Certificate): Uint8Array {
  const spki = ca.publicKey.export({ type: 'spki', format: 'der' });
  return new Uint8Array(createHash('sha1').update(spki).digest());
}
