/** Connection profile of the IKE initiator: identities, credentials and proposals. */

import type { SaMode } from '../engine/sa-config.js';
import type { RetransmitPolicy } from './session.js';

export type LocalAuth =
  | { method: 'psk'; secret: Uint8Array }
  | {
      method: 'pubkey';
      /** Our certificate chain, PEM, end-entity first. */
      certificatesPem: string[];
      privateKeyPem: string;
      /** RSA keys sign with PKCS#1 v1.5 unless this is 'pss'. */
      rsaPadding?: 'pkcs1' | 'pss';
    }
  | { method: 'eap' };

export type RemoteAuth =
  | { method: 'psk' }
  | {
      method: 'pubkey';
      /** Trust anchors for the gateway certificate, PEM. */
      caCertificatesPem: string[];
    };

export interface IkeProfile {
  /** Our identity as strongSwan writes it; for certificates, defaults to the subject DN. */
  localIdentity?: string;
  /** The identity that the gateway must prove; sent as IDr too. */
  remoteIdentity?: string;
  localAuth: LocalAuth;
  remoteAuth: RemoteAuth;
  /** IKE proposals in strongSwan notation, most preferred first. */
  ikeProposals: string[];
  /** ESP proposals; a DH group in them is used for PFS when rekeying. */
  espProposals: string[];
  /** Traffic selectors for our side; defaults to 0.0.0.0/0 and ::/0 when requesting an address. */
  localTrafficSelectors?: string[];
  remoteTrafficSelectors?: string[];
  /** Requests an inner address (and DNS) for each family by configuration payload. */
  requestVirtualIp?: { ipv4?: boolean; ipv6?: boolean };
  mode?: SaMode;
  /**
   * Makes the gateway detect a NAT by sending a random NAT_DETECTION_SOURCE_IP hash, so that
   * ESP is UDP-encapsulated, which a userspace ESP engine needs. Defaults to true.
   */
  forceUdpEncapsulation?: boolean;
  /** CHILD_SA lifetimes in seconds: rekey at the soft limit, delete at the hard one. */
  childLifetime?: { rekeySeconds: number; lifeSeconds: number };
  retransmit?: Partial<RetransmitPolicy>;
  /** Size of SKF fragments in bytes (RFC 7383); defaults to 1280. */
  fragmentSize?: number;
}
