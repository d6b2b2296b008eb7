/**
 * Turns a saved profile and its secrets into the IKE initiator's profile: identities in
 * strongSwan notation, credentials, proposals, traffic selectors and lifetimes.
 */

import { createPrivateKey } from 'node:crypto';
import type { IkeProfile, LocalAuth, RemoteAuth } from '../ike/profile.js';
import type { Identity, Profile } from '../profile/model.js';
import { formatProposal } from '../profile/proposal.js';
import type { SecretStore } from '../profile/secret-store.js';
import type { ScopedLog } from './log.js';

export class IkeProfileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IkeProfileError';
  }
}

/** Default CHILD_SA lifetimes when the profile names none, as strongSwan's defaults: 1 h rekey, 10% more to expire. */
const DEFAULT_CHILD_REKEY_SECONDS = 3600;

/** Writes an identity as the IKE code's parser reads it, or undefined when it has no text form there. */
function identityText(identity: Identity | undefined, log: ScopedLog, role: string): string | undefined {
  if (!identity) {
    return undefined;
  }
  switch (identity.type) {
    case 'FQDN':
      return `@${identity.value}`;
    case 'RFC822_ADDR':
    case 'ID_IPV4_ADDR':
    case 'ID_IPV6_ADDR':
      return identity.value;
    case 'KEY_ID':
      return `@#${identity.value}`;
    case 'DER_ASN1_DN':
      // NOTE: a DN identity is not matched as text; the certificate chain is still verified.
      log.warn(`the ${role} identity "${identity.value}" is a distinguished name; the certificate's subject is used instead`);
      return undefined;
  }
}

async function requireSecret(secrets: SecretStore, ref: string | undefined, what: string): Promise<Uint8Array> {
  const value = ref === undefined ? undefined : await secrets.get(ref);
  if (!value) {
    throw new IkeProfileError(`the profile's ${what} is missing from the secret store; import the profile again`);
  }
  return value;
}

async function localAuth(profile: Profile, secrets: SecretStore): Promise<LocalAuth> {
  const authentication = profile.authentication!;
  switch (authentication.method) {
    case 'psk':
      return { method: 'psk', secret: await requireSecret(secrets, authentication.pskRef, 'pre-shared key') };
    case 'certificate': {
      if (!profile.clientCertificate) {
        throw new IkeProfileError('certificate authentication needs a client certificate in the profile');
      }
      const pkcs8 = await requireSecret(secrets, authentication.privateKeyRef, 'private key');
      const privateKeyPem = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' })
        .export({ format: 'pem', type: 'pkcs8' }).toString();
      return {
        method: 'pubkey',
        certificatesPem: [profile.clientCertificate],
        privateKeyPem,
        rsaPadding: authentication.rsaPss ? 'pss' : 'pkcs1',
      };
    }
    default:
      throw new IkeProfileError(`authentication method ${authentication.method} needs EAP, which this version does not support yet`);
  }
}

function remoteAuth(profile: Profile): RemoteAuth {
  const authentication = profile.authentication!;
  if (authentication.remoteMethod === 'psk') {
    return { method: 'psk' };
  }
  if (profile.trustedCaCertificates.length === 0) {
    throw new IkeProfileError('the profile has no CA certificate to verify the gateway with');
  }
  return { method: 'pubkey', caCertificatesPem: profile.trustedCaCertificates };
}

export async function buildIkeProfile(profile: Profile, secrets: SecretStore, log: ScopedLog): Promise<IkeProfile> {
  if (profile.kind !== 'ikev2' || !profile.gateway || !profile.authentication) {
    throw new IkeProfileError(`profile "${profile.name}" is not an IKEv2 profile with a gateway`);
  }
  const virtualIps = profile.virtualIps;
  const rekeySeconds = profile.lifetimes.child.rekeySeconds ?? DEFAULT_CHILD_REKEY_SECONDS;
  const lifeSeconds = profile.lifetimes.child.lifeSeconds ?? Math.ceil(rekeySeconds * 1.1);
  const ikeProfile: IkeProfile = {
    localIdentity: identityText(profile.identities.local, log, 'local'),
    remoteIdentity: identityText(profile.identities.remote, log, 'remote'),
    localAuth: await localAuth(profile, secrets),
    remoteAuth: remoteAuth(profile),
    ikeProposals: profile.ikeProposals.map(formatProposal),
    espProposals: profile.espProposals.map(formatProposal),
    requestVirtualIp: {
      ipv4: virtualIps.some((address) => !address.includes(':')),
      ipv6: virtualIps.some((address) => address.includes(':')),
    },
    forceUdpEncapsulation: profile.forceUdpEncapsulation,
    childLifetime: { rekeySeconds, lifeSeconds },
  };
  if (profile.trafficSelectors.local.length > 0) {
    ikeProfile.localTrafficSelectors = profile.trafficSelectors.local;
  }
  if (profile.trafficSelectors.remote.length > 0) {
    ikeProfile.remoteTrafficSelectors = profile.trafficSelectors.remote;
  }
  return ikeProfile;
}
