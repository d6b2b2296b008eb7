/**
 * Proposals in strongSwan's syntax (`aes256gcm16-prfsha384-ecp384`, `aes128-sha256-modp2048`,
 * several separated by commas) turned into IKEv2 transform names. Weak or unsupported
 * algorithms are dropped with a warning each, and a proposal left incomplete is dropped too.
 */

import { ENCRYPTION_ALGORITHMS, type IntegrityName } from '../engine/transforms.js';
import type { IssueLog } from './import-result.js';
import type {
  EncryptionTransform, EsnName, KeyExchangeName, PrfName, Proposal,
} from './model.js';

export type ProposalProtocol = 'ike' | 'esp';

type Token =
  | { kind: 'encryption'; transform: EncryptionTransform }
  | { kind: 'integrity'; name: IntegrityName }
  | { kind: 'prf'; name: PrfName }
  | { kind: 'keyExchange'; name: KeyExchangeName }
  | { kind: 'esn'; name: EsnName }
  | { kind: 'rejected'; reason: string };

const INTEGRITY_KEYWORDS: Record<string, IntegrityName> = {
  sha: 'AUTH_HMAC_SHA1_96',
  sha1: 'AUTH_HMAC_SHA1_96',
  sha256: 'AUTH_HMAC_SHA2_256_128',
  sha2_256: 'AUTH_HMAC_SHA2_256_128',
  sha384: 'AUTH_HMAC_SHA2_384_192',
  sha2_384: 'AUTH_HMAC_SHA2_384_192',
  sha512: 'AUTH_HMAC_SHA2_512_256',
  sha2_512: 'AUTH_HMAC_SHA2_512_256',
};

const PRF_KEYWORDS: Record<string, PrfName> = {
  prfsha256: 'PRF_HMAC_SHA2_256',
  prfsha384: 'PRF_HMAC_SHA2_384',
  prfsha512: 'PRF_HMAC_SHA2_512',
};

const KEY_EXCHANGE_KEYWORDS: Record<string, KeyExchangeName> = {
  curve25519: 'CURVE_25519',
  x25519: 'CURVE_25519',
  ecp256: 'ECP_256',
  ecp384: 'ECP_384',
  modp2048: 'MODP_2048',
  modp3072: 'MODP_3072',
};

/** The PRF that strongSwan pairs with an integrity algorithm when a proposal names none. */
const PRF_FOR_INTEGRITY: Record<IntegrityName, PrfName | undefined> = {
  AUTH_HMAC_SHA1_96: undefined,
  AUTH_HMAC_SHA2_256_128: 'PRF_HMAC_SHA2_256',
  AUTH_HMAC_SHA2_384_192: 'PRF_HMAC_SHA2_384',
  AUTH_HMAC_SHA2_512_256: 'PRF_HMAC_SHA2_512',
};

const WEAK = 'is a weak algorithm and Lupina does not offer it; ask for an AES-GCM, AES-CBC with ' +
  'SHA-2, or ChaCha20-Poly1305 proposal with a group of at least 2048 bits';

const WEAK_KEYWORDS: Record<string, string> = {
  des: 'DES (56-bit key)',
  '3des': '3DES (64-bit block, RFC 8221 section 5 says MUST NOT)',
  md5: 'HMAC-MD5',
  md5_128: 'HMAC-MD5',
  prfmd5: 'PRF-HMAC-MD5',
  modp768: 'MODP group 1 (768 bits)',
  modp1024: 'MODP group 2 (1024 bits)',
  modp1024s160: 'MODP group 22 (1024 bits)',
  modp1536: 'MODP group 5 (1536 bits)',
};

const NUMBERED_INTEGRITY_ALIASES = /^(sha1_160|sha256_96|aesxcbc|aescmac|aes\d*gmac|camellia\w*xcbc)$/;

/** Returns the default IKE proposals: AEAD first, then AES-CBC with HMAC-SHA-2. */
export function defaultIkeProposals(): Proposal[] {
  const keyExchange: KeyExchangeName[] = ['CURVE_25519', 'ECP_384', 'ECP_256', 'MODP_3072', 'MODP_2048'];
  const prf: PrfName[] = ['PRF_HMAC_SHA2_384', 'PRF_HMAC_SHA2_256', 'PRF_HMAC_SHA2_512'];
  return [
    {
      encryption: [
        { name: 'ENCR_AES_GCM_16', keyBits: 256 },
        { name: 'ENCR_AES_GCM_16', keyBits: 128 },
        { name: 'ENCR_CHACHA20_POLY1305', keyBits: 256 },
      ],
      integrity: [], prf, keyExchange, esn: [],
    },
    {
      encryption: [{ name: 'ENCR_AES_CBC', keyBits: 256 }, { name: 'ENCR_AES_CBC', keyBits: 128 }],
      integrity: ['AUTH_HMAC_SHA2_256_128', 'AUTH_HMAC_SHA2_384_192', 'AUTH_HMAC_SHA2_512_256'],
      prf: [...prf], keyExchange: [...keyExchange], esn: [],
    },
  ];
}

/** Returns the default ESP proposals, without PFS. */
export function defaultEspProposals(): Proposal[] {
  return [
    {
      encryption: [
        { name: 'ENCR_AES_GCM_16', keyBits: 256 },
        { name: 'ENCR_AES_GCM_16', keyBits: 128 },
        { name: 'ENCR_CHACHA20_POLY1305', keyBits: 256 },
      ],
      integrity: [], prf: [], keyExchange: [], esn: [],
    },
    {
      encryption: [{ name: 'ENCR_AES_CBC', keyBits: 256 }, { name: 'ENCR_AES_CBC', keyBits: 128 }],
      integrity: ['AUTH_HMAC_SHA2_256_128', 'AUTH_HMAC_SHA2_384_192', 'AUTH_HMAC_SHA2_512_256'],
      prf: [], keyExchange: [], esn: [],
    },
  ];
}

/**
 * Parses one or more proposals (comma or whitespace separated, or a list). Every dropped
 * algorithm or proposal is logged as a warning at `path`. Returns the usable proposals, which
 * may be empty: the caller decides whether that is an error.
 */
export function parseProposals(
  input: string | readonly string[],
  protocol: ProposalProtocol,
  log: IssueLog,
  path: string,
): Proposal[] {
  const texts = (typeof input === 'string' ? [input] : input)
    .flatMap((text) => text.split(/[\s,]+/))
    .filter((text) => text !== '');

  const proposals: Proposal[] = [];
  for (const text of texts) {
    if (text.toLowerCase() === 'default') {
      proposals.push(...(protocol === 'ike' ? defaultIkeProposals() : defaultEspProposals()));
      continue;
    }
    proposals.push(...parseOneProposal(text.replace(/!$/, ''), protocol, log, path));
  }
  return proposals;
}

function parseOneProposal(text: string, protocol: ProposalProtocol, log: IssueLog, path: string): Proposal[] {
  const proposal: Proposal = { encryption: [], integrity: [], prf: [], keyExchange: [], esn: [] };

  for (const keyword of text.toLowerCase().split('-')) {
    const token = parseKeyword(keyword, protocol);
    if (token.kind === 'rejected') {
      log.warn(path, `"${keyword}" in proposal "${text}" ${token.reason}`, text);
      continue;
    }
    addToken(proposal, token);
  }

  return completeProposal(proposal, text, protocol, log, path);
}

function addToken(proposal: Proposal, token: Exclude<Token, { kind: 'rejected' }>): void {
  switch (token.kind) {
    case 'encryption':
      pushUniqueTransform(proposal.encryption, token.transform);
      break;
    case 'integrity':
      pushUnique(proposal.integrity, token.name);
      break;
    case 'prf':
      pushUnique(proposal.prf, token.name);
      break;
    case 'keyExchange':
      pushUnique(proposal.keyExchange, token.name);
      break;
    case 'esn':
      pushUnique(proposal.esn, token.name);
      break;
  }
}

function pushUnique<T>(list: T[], value: T): void {
  if (!list.includes(value)) {
    list.push(value);
  }
}

function pushUniqueTransform(list: EncryptionTransform[], value: EncryptionTransform): void {
  if (!list.some((item) => item.name === value.name && item.keyBits === value.keyBits)) {
    list.push(value);
  }
}

/**
 * Splits AEAD from non-AEAD ciphers (a proposal cannot mix them, RFC 7296 section 3.3), derives
 * a PRF from the integrity algorithm as strongSwan does, and drops what is still incomplete.
 */
function completeProposal(
  proposal: Proposal, text: string, protocol: ProposalProtocol, log: IssueLog, path: string,
): Proposal[] {
  const combined = proposal.encryption.filter((t) => ENCRYPTION_ALGORITHMS[t.name].icvLength > 0);
  const separate = proposal.encryption.filter((t) => ENCRYPTION_ALGORITHMS[t.name].icvLength === 0);
  const copy = (encryption: EncryptionTransform[], integrity: IntegrityName[]): Proposal => ({
    encryption,
    integrity: [...integrity],
    prf: [...proposal.prf],
    keyExchange: [...proposal.keyExchange],
    esn: [...proposal.esn],
  });
  const parts: Proposal[] = [];
  if (combined.length > 0) {
    parts.push(copy(combined, []));
  }
  if (separate.length > 0) {
    parts.push(copy(separate, proposal.integrity));
  }
  if (parts.length === 0) {
    log.warn(path, `proposal "${text}" has no usable encryption algorithm and was dropped`, text);
    return [];
  }

  const complete: Proposal[] = [];
  for (const part of parts) {
    const problem = findMissingTransform(part, protocol);
    if (problem) {
      log.warn(path, `proposal "${text}" was dropped: ${problem}`, text);
      continue;
    }
    complete.push(part);
  }
  return complete;
}

function findMissingTransform(proposal: Proposal, protocol: ProposalProtocol): string | null {
  const aead = proposal.encryption.every((t) => ENCRYPTION_ALGORITHMS[t.name].icvLength > 0);
  if (!aead && proposal.integrity.length === 0) {
    return 'a non-AEAD cipher needs an integrity algorithm such as sha256';
  }
  if (protocol === 'esp') {
    return null;
  }

  if (proposal.prf.length === 0) {
    for (const integrity of proposal.integrity) {
      const prf = PRF_FOR_INTEGRITY[integrity];
      if (prf) {
        pushUnique(proposal.prf, prf);
      }
    }
  }
  if (proposal.prf.length === 0) {
    return 'an IKE proposal needs a PRF (prfsha256, prfsha384 or prfsha512)';
  }
  if (proposal.keyExchange.length === 0) {
    return 'an IKE proposal needs a key exchange group (curve25519, ecp256, ecp384, modp2048 ' +
      'or modp3072)';
  }
  if (proposal.encryption.some((t) => t.name === 'ENCR_NULL')) {
    return 'IKE cannot run without encryption (null)';
  }
  return null;
}

function parseKeyword(keyword: string, protocol: ProposalProtocol): Token {
  const encryption = parseEncryptionKeyword(keyword);
  if (encryption) {
    return encryption;
  }
  const integrity = INTEGRITY_KEYWORDS[keyword];
  if (integrity) {
    return { kind: 'integrity', name: integrity };
  }
  const prf = PRF_KEYWORDS[keyword];
  if (prf) {
    return protocol === 'ike'
      ? { kind: 'prf', name: prf }
      : { kind: 'rejected', reason: 'is a PRF, which ESP proposals do not use; it was ignored' };
  }
  const keyExchange = KEY_EXCHANGE_KEYWORDS[keyword];
  if (keyExchange) {
    return { kind: 'keyExchange', name: keyExchange };
  }
  if (keyword === 'esn' || keyword === 'noesn') {
    return protocol === 'esp'
      ? { kind: 'esn', name: keyword === 'esn' ? 'ESN' : 'NO_ESN' }
      : { kind: 'rejected', reason: 'applies to ESP only; it was ignored' };
  }
  const weak = WEAK_KEYWORDS[keyword];
  if (weak) {
    return { kind: 'rejected', reason: `(${weak}) ${WEAK}` };
  }
  if (keyword === 'prfsha1' || NUMBERED_INTEGRITY_ALIASES.test(keyword)) {
    return { kind: 'rejected', reason: 'is not supported by Lupina and was dropped' };
  }
  if (/^(ecp\d+|ecp\d+bp|curve448|x448|modp\d+|modp\d+s\d+|ke\d_\w+|mlkem\d+)$/.test(keyword)) {
    return { kind: 'rejected', reason: 'is a key exchange method that Lupina does not support; it was dropped' };
  }
  return { kind: 'rejected', reason: 'is not a known or supported algorithm keyword; it was dropped' };
}

function parseEncryptionKeyword(keyword: string): Token | null {
  if (keyword === 'null') {
    return { kind: 'encryption', transform: { name: 'ENCR_NULL', keyBits: 0 } };
  }
  if (keyword === 'chacha20poly1305') {
    return { kind: 'encryption', transform: { name: 'ENCR_CHACHA20_POLY1305', keyBits: 256 } };
  }

  const cbc = /^aes(128|192|256)?$/.exec(keyword);
  if (cbc) {
    return { kind: 'encryption', transform: { name: 'ENCR_AES_CBC', keyBits: Number(cbc[1] ?? 128) } };
  }
  const gcm = /^aes(128|192|256)gcm(\d+)?$/.exec(keyword);
  if (gcm) {
    // strongSwan writes the ICV length in bytes (16) or bits (128); Lupina runs the 16-byte ICV.
    if (gcm[2] !== undefined && gcm[2] !== '16' && gcm[2] !== '128') {
      return { kind: 'rejected', reason: 'has a truncated ICV; Lupina supports only 16-byte ICVs (gcm16)' };
    }
    return { kind: 'encryption', transform: { name: 'ENCR_AES_GCM_16', keyBits: Number(gcm[1]) } };
  }
  const gmac = /^aes(128|192|256)gmac$/.exec(keyword);
  if (gmac) {
    return { kind: 'encryption', transform: { name: 'ENCR_NULL_AUTH_AES_GMAC', keyBits: Number(gmac[1]) } };
  }
  if (/^(aes\d*(ctr|ccm\d*)|camellia\d*\w*|blowfish\d*|cast128|serpent\d*|twofish\d*|chacha20)$/.test(keyword)) {
    return { kind: 'rejected', reason: 'is a cipher that Lupina does not support; it was dropped' };
  }
  return null;
}

/** Formats a proposal in strongSwan's syntax, for display. */
export function formatProposal(proposal: Proposal): string {
  const words: string[] = [];
  for (const transform of proposal.encryption) {
    words.push(formatEncryption(transform));
  }
  for (const integrity of proposal.integrity) {
    const keyword = Object.entries(INTEGRITY_KEYWORDS).find(([, name]) => name === integrity);
    words.push(keyword?.[0] ?? integrity);
  }
  for (const prf of proposal.prf) {
    words.push(Object.entries(PRF_KEYWORDS).find(([, name]) => name === prf)?.[0] ?? prf);
  }
  for (const group of proposal.keyExchange) {
    words.push(Object.entries(KEY_EXCHANGE_KEYWORDS).find(([, name]) => name === group)?.[0] ?? group);
  }
  for (const esn of proposal.esn) {
    words.push(esn === 'ESN' ? 'esn' : 'noesn');
  }
  return words.join('-');
}

function formatEncryption(transform: EncryptionTransform): string {
  switch (transform.name) {
    case 'ENCR_AES_CBC':
      return `aes${transform.keyBits}`;
    case 'ENCR_AES_GCM_16':
      return `aes${transform.keyBits}gcm16`;
    case 'ENCR_NULL_AUTH_AES_GMAC':
      return `aes${transform.keyBits}gmac`;
    case 'ENCR_CHACHA20_POLY1305':
      return 'chacha20poly1305';
    case 'ENCR_NULL':
      return 'null';
  }
}
