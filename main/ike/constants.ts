/**
 * IKEv2 registry numbers (RFC 7296 section 3 and the IANA "IKEv2 Parameters" registry) that the
 * codec and the exchanges use.
 */

/** The header is 28 bytes (RFC 7296 section 3.1). */
export const IKE_HEADER_LENGTH = 28;
export const IKE_SPI_LENGTH = 8;
export const IKE_MAJOR_VERSION = 2;

export const ExchangeType = {
  IKE_SA_INIT: 34,
  IKE_AUTH: 35,
  CREATE_CHILD_SA: 36,
  INFORMATIONAL: 37,
} as const;

/** Flags octet of the IKE header (RFC 7296 section 3.1). */
export const HeaderFlag = {
  INITIATOR: 0x08,
  VERSION: 0x10,
  RESPONSE: 0x20,
} as const;

export const PayloadType = {
  NONE: 0,
  SA: 33,
  KE: 34,
  IDI: 35,
  IDR: 36,
  CERT: 37,
  CERTREQ: 38,
  AUTH: 39,
  NONCE: 40,
  NOTIFY: 41,
  DELETE: 42,
  VENDOR: 43,
  TSI: 44,
  TSR: 45,
  SK: 46,
  CP: 47,
  EAP: 48,
  SKF: 53,
} as const;

/** Transform types (RFC 7296 section 3.3.2). */
export const TransformType = {
  ENCR: 1,
  PRF: 2,
  INTEG: 3,
  DH: 4,
  ESN: 5,
} as const;

/** The only transform attribute defined: the key length in bits (RFC 7296 section 3.3.5). */
export const TRANSFORM_ATTRIBUTE_KEY_LENGTH = 14;

export const ProtocolId = {
  NONE: 0,
  IKE: 1,
  AH: 2,
  ESP: 3,
} as const;

export const EncryptionTransform = {
  ENCR_AES_CBC: 12,
  ENCR_AES_GCM_8: 18,
  ENCR_AES_GCM_12: 19,
  ENCR_AES_GCM_16: 20,
  ENCR_CHACHA20_POLY1305: 28,
} as const;

export const PrfTransform = {
  PRF_HMAC_SHA1: 2,
  PRF_HMAC_SHA2_256: 5,
  PRF_HMAC_SHA2_384: 6,
  PRF_HMAC_SHA2_512: 7,
} as const;

export const IntegrityTransform = {
  NONE: 0,
  AUTH_HMAC_SHA1_96: 2,
  AUTH_HMAC_SHA2_256_128: 12,
  AUTH_HMAC_SHA2_384_192: 13,
  AUTH_HMAC_SHA2_512_256: 14,
} as const;

export const DhGroup = {
  NONE: 0,
  MODP_2048: 14,
  MODP_3072: 15,
  ECP_256: 19,
  ECP_384: 20,
  CURVE25519: 31,
} as const;

export const EsnTransform = {
  NO_ESN: 0,
  ESN: 1,
} as const;

export const IdType = {
  ID_IPV4_ADDR: 1,
  ID_FQDN: 2,
  ID_RFC822_ADDR: 3,
  ID_IPV6_ADDR: 5,
  ID_DER_ASN1_DN: 9,
  ID_DER_ASN1_GN: 10,
  ID_KEY_ID: 11,
} as const;

export const CertEncoding = {
  X509_SIGNATURE: 4,
} as const;

export const AuthMethod = {
  RSA_DIGITAL_SIGNATURE: 1,
  SHARED_KEY_MIC: 2,
  DSS_DIGITAL_SIGNATURE: 3,
  ECDSA_SHA256_P256: 9,
  ECDSA_SHA384_P384: 10,
  ECDSA_SHA512_P521: 11,
  DIGITAL_SIGNATURE: 14,
} as const;

/** Notify message types (RFC 7296 section 3.10.1, RFC 7383, RFC 7427). */
export const NotifyType = {
  UNSUPPORTED_CRITICAL_PAYLOAD: 1,
  INVALID_IKE_SPI: 4,
  INVALID_MAJOR_VERSION: 5,
  INVALID_SYNTAX: 7,
  INVALID_MESSAGE_ID: 9,
  INVALID_SPI: 11,
  NO_PROPOSAL_CHOSEN: 14,
  INVALID_KE_PAYLOAD: 17,
  AUTHENTICATION_FAILED: 24,
  SINGLE_PAIR_REQUIRED: 34,
  NO_ADDITIONAL_SAS: 35,
  INTERNAL_ADDRESS_FAILURE: 36,
  FAILED_CP_REQUIRED: 37,
  TS_UNACCEPTABLE: 38,
  INVALID_SELECTORS: 39,
  TEMPORARY_FAILURE: 43,
  CHILD_SA_NOT_FOUND: 44,
  INITIAL_CONTACT: 16384,
  SET_WINDOW_SIZE: 16385,
  ADDITIONAL_TS_POSSIBLE: 16386,
  IPCOMP_SUPPORTED: 16387,
  NAT_DETECTION_SOURCE_IP: 16388,
  NAT_DETECTION_DESTINATION_IP: 16389,
  COOKIE: 16390,
  USE_TRANSPORT_MODE: 16391,
  REKEY_SA: 16393,
  ESP_TFC_PADDING_NOT_SUPPORTED: 16394,
  NON_FIRST_FRAGMENTS_ALSO: 16395,
  MOBIKE_SUPPORTED: 16396,
  IKEV2_FRAGMENTATION_SUPPORTED: 16430,
  SIGNATURE_HASH_ALGORITHMS: 16431,
} as const;

/** Notify types below this value report errors (RFC 7296 section 3.10.1). */
export const NOTIFY_ERROR_LIMIT = 16384;

/** Traffic selector types (RFC 7296 section 3.13.1). */
export const TsType = {
  TS_IPV4_ADDR_RANGE: 7,
  TS_IPV6_ADDR_RANGE: 8,
} as const;

export const ConfigType = {
  CFG_REQUEST: 1,
  CFG_REPLY: 2,
  CFG_SET: 3,
  CFG_ACK: 4,
} as const;

/** Configuration attribute types (RFC 7296 section 3.15.1, RFC 8598 section 4). */
export const ConfigAttribute = {
  INTERNAL_IP4_ADDRESS: 1,
  INTERNAL_IP4_NETMASK: 2,
  INTERNAL_IP4_DNS: 3,
  INTERNAL_IP6_ADDRESS: 8,
  INTERNAL_IP6_DNS: 10,
  INTERNAL_DNS_DOMAIN: 25,
} as const;

/** Hash algorithm ids for SIGNATURE_HASH_ALGORITHMS (RFC 7427 section 7). */
export const SignatureHash = {
  SHA2_256: 2,
  SHA2_384: 3,
  SHA2_512: 4,
} as const;

export const EapCode = {
  REQUEST: 1,
  RESPONSE: 2,
  SUCCESS: 3,
  FAILURE: 4,
} as const;

/** Returns the registry name of a notify type, or its number. */
export function notifyName(type: number): string {
  for (const [name, value] of Object.entries(NotifyType)) {
    if (value === type) {
      return name;
    }
  }
  return `notify ${type}`;
}
