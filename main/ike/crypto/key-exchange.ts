/**
 * Diffie-Hellman key exchange for IKEv2 groups 14, 15 (MODP, RFC 3526), 19, 20 (ECP, RFC 5903)
 * and 31 (Curve25519, RFC 8031), with checks of the peer's public value.
 */

import {
  createECDH,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  getDiffieHellman,
  type KeyObject,
} from 'node:crypto';
import { DhGroup } from '../constants.js';

export class KeyExchangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyExchangeError';
  }
}

export interface KeyExchange {
  readonly group: number;
  /** The KE payload data: g^x for MODP, x || y for ECP (RFC 5903 section 7), u for X25519. */
  readonly publicValue: Uint8Array;
  /** Computes the shared secret; throws KeyExchangeError for an invalid peer value. */
  computeSharedSecret(peerValue: Uint8Array): Uint8Array;
}

interface GroupInfo {
  kind: 'modp' | 'ecp' | 'x25519';
  nodeName: string;
  /** Length of the KE data in bytes. */
  publicLength: number;
}

const GROUPS: Record<number, GroupInfo> = {
  [DhGroup.MODP_2048]: { kind: 'modp', nodeName: 'modp14', publicLength: 256 },
  [DhGroup.MODP_3072]: { kind: 'modp', nodeName: 'modp15', publicLength: 384 },
  [DhGroup.ECP_256]: { kind: 'ecp', nodeName: 'prime256v1', publicLength: 64 },
  [DhGroup.ECP_384]: { kind: 'ecp', nodeName: 'secp384r1', publicLength: 96 },
  [DhGroup.CURVE25519]: { kind: 'x25519', nodeName: 'x25519', publicLength: 32 },
};

export function isSupportedGroup(group: number): boolean {
  return GROUPS[group] !== undefined;
}

export function keyExchangeLength(group: number): number | undefined {
  return GROUPS[group]?.publicLength;
}

/** Creates a fresh ephemeral key pair for `group`. */
export function createKeyExchange(group: number): KeyExchange {
  const info = GROUPS[group];
  if (info === undefined) {
    throw new KeyExchangeError(
      `DH group ${group} is not supported (supported: 14, 15, 19, 20, 31)`,
    );
  }
  switch (info.kind) {
    case 'modp':
      return createModp(group, info);
    case 'ecp':
      return createEcp(group, info);
    case 'x25519':
      return createX25519(group);
  }
}

function checkLength(info: GroupInfo, group: number, value: Uint8Array): void {
  // RFC 7296 section 3.4: the KE data has the group's fixed length.
  if (value.length !== info.publicLength) {
    throw new KeyExchangeError(
      `KE data for group ${group} has ${value.length} bytes, expected ${info.publicLength}`,
    );
  }
}

function createModp(group: number, info: GroupInfo): KeyExchange {
  const dh = getDiffieHellman(info.nodeName);
  dh.generateKeys();
  const prime = BigInt(`0x${dh.getPrime('hex')}`);
  return {
    group,
    publicValue: leftPad(dh.getPublicKey(), info.publicLength),
    computeSharedSecret(peerValue) {
      checkLength(info, group, peerValue);
      // RFC 6989 section 2.1: reject y <= 1 and y >= p - 1, which would force a known secret.
      const y = BigInt(`0x${Buffer.from(peerValue).toString('hex')}`);
      if (y <= 1n || y >= prime - 1n) {
        throw new KeyExchangeError(
          `invalid MODP public value for group ${group}: 1 < y < p-1 fails`,
        );
      }
      return leftPad(dh.computeSecret(peerValue), info.publicLength);
    },
  };
}

function createEcp(group: number, info: GroupInfo): KeyExchange {
  const ecdh = createECDH(info.nodeName);
  ecdh.generateKeys();
  return {
    group,
    publicValue: new Uint8Array(ecdh.getPublicKey().subarray(1)),
    computeSharedSecret(peerValue) {
      checkLength(info, group, peerValue);
      // RFC 6989 section 2.3: the point must lie on the curve. OpenSSL checks that when it
      // decodes the uncompressed point 0x04 || x || y, and fails for the point at infinity.
      try {
        const point = Buffer.concat([Buffer.from([0x04]), peerValue]);
        // RFC 5903 section 7: the shared secret is the x coordinate of the product.
        return new Uint8Array(ecdh.computeSecret(point));
      } catch (error) {
        throw new KeyExchangeError(
          `invalid ECP public value for group ${group}: ${(error as Error).message}`,
        );
      }
    },
  };
}

function createX25519(group: number): KeyExchange {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    group,
    publicValue: new Uint8Array(Buffer.from(jwk.x ?? '', 'base64url')),
    computeSharedSecret(peerValue) {
      checkLength(GROUPS[group]!, group, peerValue);
      return x25519Shared(privateKey, peerValue);
    },
  };
}

function x25519Shared(privateKey: KeyObject, peerValue: Uint8Array): Uint8Array {
  let secret: Uint8Array;
  try {
    const peer = createPublicKey({
      key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(peerValue).toString('base64url') },
      format: 'jwk',
    });
    secret = new Uint8Array(diffieHellman({ privateKey, publicKey: peer }));
  } catch (error) {
    throw new KeyExchangeError(`invalid X25519 public value: ${(error as Error).message}`);
  }
  // RFC 8031 section 2.3: a low-order peer point yields all zeros, which must be rejected.
  if (secret.every((byte) => byte === 0)) {
    throw new KeyExchangeError('invalid X25519 public value: the shared secret is all zeros');
  }
  return secret;
}

/** X25519 with a given private scalar, for the RFC 7748 test vectors. */
export function x25519WithPrivateKey(privateScalar: Uint8Array, peerValue: Uint8Array): Uint8Array {
  // PKCS#8 prefix of an X25519 private key (RFC 8410 section 7), followed by the 32-byte scalar.
  const prefix = Buffer.from('302e020100300506032b656e04220420', 'hex');
  const privateKey = createPrivateKey({
    key: Buffer.concat([prefix, privateScalar]),
    format: 'der',
    type: 'pkcs8',
  });
  return x25519Shared(privateKey, peerValue);
}

/** ECDH with a given private key, for the RFC 5903 test vectors; returns the public value too. */
export function ecpWithPrivateKey(
  group: number,
  privateKey: Uint8Array,
  peerValue: Uint8Array,
): { publicValue: Uint8Array; sharedSecret: Uint8Array } {
  const info = GROUPS[group];
  if (info?.kind !== 'ecp') {
    throw new KeyExchangeError(`group ${group} is not an ECP group`);
  }
  const ecdh = createECDH(info.nodeName);
  ecdh.setPrivateKey(privateKey);
  const publicValue = new Uint8Array(ecdh.getPublicKey().subarray(1));
  const sharedSecret = new Uint8Array(
    ecdh.computeSecret(Buffer.concat([Buffer.from([0x04]), peerValue])),
  );
  return { publicValue, sharedSecret };
}

function leftPad(value: Uint8Array, length: number): Uint8Array {
  if (value.length >= length) {
    return new Uint8Array(value);
  }
  const out = new Uint8Array(length);
  out.set(value, length - value.length);
  return out;
}
