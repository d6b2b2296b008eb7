/**
 * Proposals in strongSwan's notation ("aes256gcm16-prfsha384-ecp384", "aes128-sha256-x25519"),
 * their SA payload form (RFC 7296 section 3.3), and the check of the proposal that the responder
 * chose (section 2.7).
 */

import {
  DhGroup,
  EncryptionTransform,
  EsnTransform,
  IntegrityTransform,
  PrfTransform,
  ProtocolId,
  TRANSFORM_ATTRIBUTE_KEY_LENGTH,
  TransformType,
} from './constants.js';
import type { Proposal, Transform } from './payloads/security-association.js';
import { transformKeyLength } from './payloads/security-association.js';

export class ProposalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProposalError';
  }
}

export interface EncryptionChoice {
  id: number;
  /** Key length in bits, sent as the Key Length attribute; 0 for fixed-length ciphers. */
  keyBits: number;
}

export interface ProposalSpec {
  protocol: 'ike' | 'esp';
  encryptions: EncryptionChoice[];
  integrities: number[];
  prfs: number[];
  dhGroups: number[];
  esns: number[];
}

/** The transforms that the responder chose from one proposal: one of each type. */
export interface SelectedTransforms {
  proposalNumber: number;
  spi: Uint8Array;
  encryption: EncryptionChoice;
  integrity: number;
  prf: number;
  dhGroup: number;
  esn: number;
}

const AEAD_IDS = new Set<number>([
  EncryptionTransform.ENCR_AES_GCM_16,
  EncryptionTransform.ENCR_CHACHA20_POLY1305,
]);

export function isAead(encryptionId: number): boolean {
  return AEAD_IDS.has(encryptionId);
}

const ENCRYPTION_WORDS: Record<string, EncryptionChoice> = {
  aes128: { id: EncryptionTransform.ENCR_AES_CBC, keyBits: 128 },
  aes192: { id: EncryptionTransform.ENCR_AES_CBC, keyBits: 192 },
  aes256: { id: EncryptionTransform.ENCR_AES_CBC, keyBits: 256 },
  aes128gcm16: { id: EncryptionTransform.ENCR_AES_GCM_16, keyBits: 128 },
  aes192gcm16: { id: EncryptionTransform.ENCR_AES_GCM_16, keyBits: 192 },
  aes256gcm16: { id: EncryptionTransform.ENCR_AES_GCM_16, keyBits: 256 },
  aes128gcm: { id: EncryptionTransform.ENCR_AES_GCM_16, keyBits: 128 },
  aes256gcm: { id: EncryptionTransform.ENCR_AES_GCM_16, keyBits: 256 },
  chacha20poly1305: { id: EncryptionTransform.ENCR_CHACHA20_POLY1305, keyBits: 0 },
};

const HASH_WORDS: Record<string, { integrity: number; prf: number }> = {
  sha1: { integrity: IntegrityTransform.AUTH_HMAC_SHA1_96, prf: PrfTransform.PRF_HMAC_SHA1 },
  sha256: {
    integrity: IntegrityTransform.AUTH_HMAC_SHA2_256_128,
    prf: PrfTransform.PRF_HMAC_SHA2_256,
  },
  sha384: {
    integrity: IntegrityTransform.AUTH_HMAC_SHA2_384_192,
    prf: PrfTransform.PRF_HMAC_SHA2_384,
  },
  sha512: {
    integrity: IntegrityTransform.AUTH_HMAC_SHA2_512_256,
    prf: PrfTransform.PRF_HMAC_SHA2_512,
  },
};

const DH_WORDS: Record<string, number> = {
  modp2048: DhGroup.MODP_2048,
  modp3072: DhGroup.MODP_3072,
  ecp256: DhGroup.ECP_256,
  ecp384: DhGroup.ECP_384,
  x25519: DhGroup.CURVE25519,
  curve25519: DhGroup.CURVE25519,
};

/**
 * Parses one proposal. For IKE without a "prf..." word, the hash words give the PRF too, and
 * with an AEAD cipher they give only the PRF, as strongSwan reads them.
 */
export function parseProposalSpec(text: string, protocol: 'ike' | 'esp'): ProposalSpec {
  const spec: ProposalSpec = {
    protocol,
    encryptions: [],
    integrities: [],
    prfs: [],
    dhGroups: [],
    esns: [],
  };
  const hashes: { integrity: number; prf: number }[] = [];

  for (const word of text.toLowerCase().split('-')) {
    const encryption = ENCRYPTION_WORDS[word];
    const hash = HASH_WORDS[word.replace(/^sha2_/, 'sha')];
    const prfHash = word.startsWith('prf') ? HASH_WORDS[word.slice(3)] : undefined;
    if (encryption !== undefined) {
      spec.encryptions.push(encryption);
    } else if (hash !== undefined) {
      hashes.push(hash);
    } else if (prfHash !== undefined && protocol === 'ike') {
      spec.prfs.push(prfHash.prf);
    } else if (DH_WORDS[word] !== undefined) {
      spec.dhGroups.push(DH_WORDS[word]!);
    } else if (word === 'esn' || word === 'noesn') {
      spec.esns.push(word === 'esn' ? EsnTransform.ESN : EsnTransform.NO_ESN);
    } else {
      throw new ProposalError(`unknown algorithm "${word}" in ${protocol} proposal "${text}"`);
    }
  }

  const aead = spec.encryptions.length > 0 && spec.encryptions.every((e) => isAead(e.id));
  if (spec.encryptions.length === 0) {
    throw new ProposalError(`${protocol} proposal "${text}" has no encryption algorithm`);
  }
  if (!aead && spec.encryptions.some((e) => isAead(e.id))) {
    throw new ProposalError(`proposal "${text}" mixes AEAD and non-AEAD ciphers`);
  }
  if (!aead) {
    spec.integrities = hashes.map((h) => h.integrity);
  }
  if (protocol === 'ike' && spec.prfs.length === 0) {
    spec.prfs = hashes.map((h) => h.prf);
  }
  validateSpec(spec, text, aead);
  return spec;
}

function validateSpec(spec: ProposalSpec, text: string, aead: boolean): void {
  if (!aead && spec.integrities.length === 0) {
    throw new ProposalError(`proposal "${text}" has a non-AEAD cipher but no integrity algorithm`);
  }
  if (spec.protocol === 'ike') {
    if (spec.prfs.length === 0) {
      throw new ProposalError(`IKE proposal "${text}" has no PRF`);
    }
    if (spec.dhGroups.length === 0) {
      throw new ProposalError(`IKE proposal "${text}" has no DH group`);
    }
    if (spec.esns.length > 0) {
      throw new ProposalError(`IKE proposal "${text}" cannot name ESN`);
    }
  } else if (spec.esns.length === 0) {
    spec.esns.push(EsnTransform.NO_ESN);
  }
}

/** Builds a proposal substructure; `dhGroups` may be overridden, as IKE_AUTH leaves DH out. */
export function proposalFromSpec(
  spec: ProposalSpec,
  number: number,
  spi: Uint8Array,
  options: { withDh: boolean; firstGroup?: number } = { withDh: true },
): Proposal {
  const transforms: Transform[] = [];
  for (const encryption of spec.encryptions) {
    const attributes =
      encryption.keyBits === 0
        ? []
        : [{ type: TRANSFORM_ATTRIBUTE_KEY_LENGTH, value: encryption.keyBits }];
    transforms.push({ type: TransformType.ENCR, id: encryption.id, attributes });
  }
  for (const id of spec.prfs) {
    transforms.push({ type: TransformType.PRF, id, attributes: [] });
  }
  for (const id of spec.integrities) {
    transforms.push({ type: TransformType.INTEG, id, attributes: [] });
  }
  if (options.withDh) {
    // The group sent in the KE payload goes first, so that a responder preferring the order
    // of the offer picks it.
    const groups = [...spec.dhGroups].sort(
      (a, b) => Number(b === options.firstGroup) - Number(a === options.firstGroup),
    );
    for (const id of groups) {
      transforms.push({ type: TransformType.DH, id, attributes: [] });
    }
  }
  for (const id of spec.esns) {
    transforms.push({ type: TransformType.ESN, id, attributes: [] });
  }
  const protocolId = spec.protocol === 'ike' ? ProtocolId.IKE : ProtocolId.ESP;
  return { number, protocolId, spi, transforms };
}

/**
 * Checks the responder's SA payload against what was offered (RFC 7296 section 2.7): one
 * proposal, numbered as one of ours, with one transform of each offered type, each of them
 * offered in that proposal. Returns the choice or throws ProposalError.
 */
export function checkSelectedProposal(
  received: Proposal[],
  offered: Proposal[],
  spiLength: number,
): SelectedTransforms {
  if (received.length !== 1) {
    throw new ProposalError(`the responder returned ${received.length} proposals instead of one`);
  }
  const chosen = received[0]!;
  const offer = offered.find((p) => p.number === chosen.number);
  if (offer === undefined) {
    throw new ProposalError(`the responder chose proposal ${chosen.number}, which was not offered`);
  }
  if (chosen.protocolId !== offer.protocolId) {
    throw new ProposalError(`the responder changed the protocol to ${chosen.protocolId}`);
  }
  if (chosen.spi.length !== spiLength) {
    throw new ProposalError(
      `the responder SPI has ${chosen.spi.length} bytes, expected ${spiLength}`,
    );
  }

  const pick = (type: number): Transform | undefined => {
    const ofType = chosen.transforms.filter((t) => t.type === type);
    const offeredOfType = offer.transforms.filter((t) => t.type === type);
    if (ofType.length > 1) {
      throw new ProposalError(`the responder chose ${ofType.length} transforms of type ${type}`);
    }
    const transform = ofType[0];
    if (transform === undefined) {
      return undefined;
    }
    const matches = offeredOfType.some(
      (t) => t.id === transform.id && transformKeyLength(t) === transformKeyLength(transform),
    );
    if (!matches) {
      throw new ProposalError(`the responder chose transform ${type}/${transform.id}, not offered`);
    }
    return transform;
  };

  const required = (type: number, name: string): Transform => {
    const transform = pick(type);
    const wasOffered = offer.transforms.some((t) => t.type === type);
    if (transform === undefined && wasOffered) {
      throw new ProposalError(`the responder chose no ${name} transform`);
    }
    return transform ?? { type, id: 0, attributes: [] };
  };

  const encryption = required(TransformType.ENCR, 'encryption');
  const unknownType = chosen.transforms.find((t) => t.type < 1 || t.type > 5);
  if (unknownType !== undefined) {
    throw new ProposalError(`the responder chose unknown transform type ${unknownType.type}`);
  }
  return {
    proposalNumber: chosen.number,
    spi: chosen.spi,
    encryption: { id: encryption.id, keyBits: transformKeyLength(encryption) ?? 0 },
    integrity: required(TransformType.INTEG, 'integrity').id,
    prf: required(TransformType.PRF, 'PRF').id,
    dhGroup: required(TransformType.DH, 'DH').id,
    esn: required(TransformType.ESN, 'ESN').id,
  };
}
