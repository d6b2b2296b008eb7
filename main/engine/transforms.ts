/**
 * ESP and AH transforms, named and numbered as in the IKEv2 registry
 * (RFC 7296 section 3.3.2, IANA "Transform Type 1" and "Transform Type 3").
 */

/** Transform Type 1 (encryption algorithm) ids that the engine runs. */
export const EncryptionId = {
  ENCR_NULL: 11,
  ENCR_AES_CBC: 12,
  ENCR_AES_GCM_16: 20,
  ENCR_NULL_AUTH_AES_GMAC: 21,
  ENCR_CHACHA20_POLY1305: 28,
} as const;
export type EncryptionName = keyof typeof EncryptionId;

/** Transform Type 3 (integrity algorithm) ids that the engine runs. */
export const IntegrityId = {
  AUTH_HMAC_SHA1_96: 2,
  AUTH_HMAC_SHA2_256_128: 12,
  AUTH_HMAC_SHA2_384_192: 13,
  AUTH_HMAC_SHA2_512_256: 14,
} as const;
export type IntegrityName = keyof typeof IntegrityId;

export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512';

/** How the payload is protected: AEAD (RFC 4106, 4543, 7634), or a block cipher then an HMAC. */
export type EncryptionKind = 'aead' | 'gmac' | 'cbc' | 'null';

export interface EncryptionAlgorithm {
  readonly name: EncryptionName;
  readonly id: number;
  readonly kind: EncryptionKind;
  /** Allowed key lengths in bytes, without the salt. */
  readonly keyLengths: readonly number[];
  /** Salt appended to the key in the keying material (RFC 4106 section 8.1), in bytes. */
  readonly saltLength: number;
  /** Length of the IV field that travels in each packet, in bytes. */
  readonly ivLength: number;
  /** The ciphertext is a multiple of this many bytes; 4 for stream ciphers (RFC 4303 section 2.4). */
  readonly blockSize: number;
  /** ICV length in bytes for AEAD and GMAC transforms; 0 where an integrity algorithm supplies it. */
  readonly icvLength: number;
  /** True when the IV is a per-packet counter, which RFC 4106, 4543 and 7634 forbid with manual keys. */
  readonly counterIv: boolean;
}

export interface IntegrityAlgorithm {
  readonly name: IntegrityName;
  readonly id: number;
  readonly hash: HashName;
  readonly keyLength: number;
  /** Truncated ICV length in bytes (RFC 2404, RFC 4868 section 2.3). */
  readonly icvLength: number;
}

export const ENCRYPTION_ALGORITHMS: Readonly<Record<EncryptionName, EncryptionAlgorithm>> = {
  ENCR_NULL: {
    name: 'ENCR_NULL', id: 11, kind: 'null', keyLengths: [0], saltLength: 0,
    ivLength: 0, blockSize: 4, icvLength: 0, counterIv: false,
  },
  ENCR_AES_CBC: {
    name: 'ENCR_AES_CBC', id: 12, kind: 'cbc', keyLengths: [16, 24, 32], saltLength: 0,
    ivLength: 16, blockSize: 16, icvLength: 0, counterIv: false,
  },
  ENCR_AES_GCM_16: {
    name: 'ENCR_AES_GCM_16', id: 20, kind: 'aead', keyLengths: [16, 24, 32], saltLength: 4,
    ivLength: 8, blockSize: 4, icvLength: 16, counterIv: true,
  },
  ENCR_NULL_AUTH_AES_GMAC: {
    name: 'ENCR_NULL_AUTH_AES_GMAC', id: 21, kind: 'gmac', keyLengths: [16, 24, 32], saltLength: 4,
    ivLength: 8, blockSize: 4, icvLength: 16, counterIv: true,
  },
  ENCR_CHACHA20_POLY1305: {
    name: 'ENCR_CHACHA20_POLY1305', id: 28, kind: 'aead', keyLengths: [32], saltLength: 4,
    ivLength: 8, blockSize: 4, icvLength: 16, counterIv: true,
  },
};

export const INTEGRITY_ALGORITHMS: Readonly<Record<IntegrityName, IntegrityAlgorithm>> = {
  AUTH_HMAC_SHA1_96: { name: 'AUTH_HMAC_SHA1_96', id: 2, hash: 'sha1', keyLength: 20, icvLength: 12 },
  AUTH_HMAC_SHA2_256_128: {
    name: 'AUTH_HMAC_SHA2_256_128', id: 12, hash: 'sha256', keyLength: 32, icvLength: 16,
  },
  AUTH_HMAC_SHA2_384_192: {
    name: 'AUTH_HMAC_SHA2_384_192', id: 13, hash: 'sha384', keyLength: 48, icvLength: 24,
  },
  AUTH_HMAC_SHA2_512_256: {
    name: 'AUTH_HMAC_SHA2_512_256', id: 14, hash: 'sha512', keyLength: 64, icvLength: 32,
  },
};

export function isEncryptionName(value: string): value is EncryptionName {
  return Object.hasOwn(ENCRYPTION_ALGORITHMS, value);
}

export function isIntegrityName(value: string): value is IntegrityName {
  return Object.hasOwn(INTEGRITY_ALGORITHMS, value);
}
