/**
 * Imports manually keyed SAs from an ipsec-tools `setkey.conf` (setkey(8)): `add` statements
 * become static SAs and `spdadd` statements give their traffic selectors and tell which outer
 * address is local. Plain `esp` and `ah` SAs use raw ESP/AH; `esp-udp` with ports uses UDP
 * encapsulation.
 */

import { isIPv4, isIPv6 } from 'node:net';

import {
  ENCRYPTION_ALGORITHMS, INTEGRITY_ALGORITHMS, type EncryptionName, type IntegrityName,
} from '../engine/transforms.js';
import { chooseProfileId, finishImport, SecretBag } from './import-common.js';
import { REDACTED, type ImportOptions, type ImportResult, type IssueLog } from './import-result.js';
import { newManualProfile, type StaticSa } from './model.js';
import { checkSelector, checkStaticSaTransforms, LIMITS } from './validate.js';

/** ipsec-tools encryption names; a string value is the reason the algorithm is rejected. */
const ENCRYPTION: Record<string, EncryptionName | string> = {
  'aes-cbc': 'ENCR_AES_CBC',
  'rijndael-cbc': 'ENCR_AES_CBC',
  null: 'ENCR_NULL',
  'aes-gcm-16': 'ENCR_AES_GCM_16',
  'chacha20-poly1305': 'ENCR_CHACHA20_POLY1305',
  'des-cbc': 'DES is a weak cipher (56-bit key); use aes-cbc',
  '3des-cbc': '3DES is a weak cipher (64-bit block, RFC 8221 section 5); use aes-cbc',
  'aes-ctr': 'AES-CTR must not be used with manual keys (RFC 3686 section 2.1); use aes-cbc',
};

const INTEGRITY: Record<string, IntegrityName | string> = {
  'hmac-sha1': 'AUTH_HMAC_SHA1_96',
  'hmac-sha256': 'AUTH_HMAC_SHA2_256_128',
  'hmac-sha384': 'AUTH_HMAC_SHA2_384_192',
  'hmac-sha512': 'AUTH_HMAC_SHA2_512_256',
  'hmac-md5': 'HMAC-MD5 is a weak integrity algorithm; use hmac-sha256',
  'keyed-md5': 'keyed MD5 is a weak integrity algorithm; use hmac-sha256',
  'keyed-sha1': 'keyed SHA-1 is obsolete; use hmac-sha256',
};

/** The largest window that the engine keeps, in packets. */
const MAX_REPLAY_WINDOW = 4096;

interface Statement {
  words: string[];
  line: number;
}

interface SaStatement {
  line: number;
  source: string;
  destination: string;
  sourcePort?: number;
  destinationPort?: number;
  protocol: 'esp' | 'ah';
  udp: boolean;
  spi: number;
  mode?: 'tunnel' | 'transport';
  replayBytes?: number;
  encryption?: { algorithm: string; key: Uint8Array };
  integrity?: { algorithm: string; key: Uint8Array };
}

interface PolicyStatement {
  line: number;
  sourceSelector: string;
  destinationSelector: string;
  sourceAddress: string;
  /** The destination range without its prefix length and port. */
  destinationAddress: string;
  sourceIsHost: boolean;
  direction: 'in' | 'out';
  rules: Array<{ protocol: 'esp' | 'ah'; mode: 'tunnel' | 'transport'; start?: string; end?: string }>;
}

/** True when the text has setkey `add` or `spdadd` statements. */
export function looksLikeSetkey(text: string): boolean {
  return /(^|;)\s*(add|spdadd)\s+\S+\s+\S+\s+/m.test(text);
}

/** Splits setkey text into statements ending in ";", keeping quoted strings whole. */
export function tokenizeSetkey(text: string, log: IssueLog): Statement[] {
  const statements: Statement[] = [];
  let words: string[] = [];
  let line = 1;
  let statementLine = 1;
  let index = 0;
  while (index < text.length) {
    const char = text[index]!;
    if (char === '\n') {
      line++;
      index++;
    } else if (/\s/.test(char)) {
      index++;
    } else if (char === '#') {
      while (index < text.length && text[index] !== '\n') {
        index++;
      }
    } else if (char === ';') {
      if (words.length > 0) {
        statements.push({ words, line: statementLine });
      }
      words = [];
      index++;
    } else {
      if (words.length === 0) {
        statementLine = line;
      }
      const match = /^("(?:[^"\\\n]|\\.)*"|[^\s;#"]+)/.exec(text.slice(index, index + 8192));
      if (!match) {
        log.fail(`line ${line}`, 'unterminated quoted string');
      }
      words.push(match[0]);
      index += match[0].length;
    }
  }
  if (words.length > 0) {
    // Only the command is shown, because the rest of an add statement contains the keys.
    log.error(`line ${statementLine}`, `the last statement ("${words[0]} ...") does not end with ";"`);
  }
  return statements;
}

export function importSetkey(text: string, options: ImportOptions, log: IssueLog): ImportResult {
  const statements = tokenizeSetkey(text, log);
  const sas: SaStatement[] = [];
  const policies: PolicyStatement[] = [];
  for (const statement of statements) {
    const command = statement.words[0];
    const path = `line ${statement.line}`;
    if (command === 'add') {
      const sa = parseAdd(statement, log);
      if (sa) {
        sas.push(sa);
      }
    } else if (command === 'spdadd') {
      const policy = parseSpdAdd(statement, log);
      if (policy) {
        policies.push(policy);
      }
    } else if (command !== 'flush' && command !== 'spdflush') {
      log.warn(path, `"${command}" statements do not configure a connection and were ignored`, command);
    }
  }
  if (sas.length === 0) {
    log.fail('(root)', 'the file defines no SA (add statements)');
  }
  if (sas.length > LIMITS.staticSas) {
    log.fail('(root)', `the file defines ${sas.length} SAs; at most ${LIMITS.staticSas} are supported`);
  }

  const local = findLocalAddress(policies, log);
  const id = chooseProfileId(options);
  const baseName = options.fileName?.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '');
  const profile = newManualProfile(id, (baseName || `manual SAs to ${peerOf(sas[0]!, local)}`).slice(0, 256));
  const secrets = new SecretBag(id);
  const hostSources = policies.filter((policy) => policy.direction === 'out' && policy.sourceIsHost);
  const innerAddress = hostSources[0]?.sourceAddress;
  // NOTE: a manual profile has one inner address, so a second family's address is not added.
  const otherFamily = hostSources.find((policy) => policy.sourceAddress.includes(':') !== innerAddress?.includes(':'));
  if (innerAddress && otherFamily) {
    log.warn(`line ${otherFamily.line}`, `only ${innerAddress} becomes the tunnel's inner address, so traffic from ` +
      `${otherFamily.sourceAddress} has no address on the TUN device and does not flow: a manual profile has one ` +
      'inner address');
  }

  for (const sa of sas) {
    const built = buildStaticSa(sa, local, policies, innerAddress, secrets, log);
    if (built) {
      profile.staticSas.push(built);
    }
  }
  checkOutboundPolicies(policies, sas, local, log);
  if (sas.every((sa) => sa.replayBytes === undefined)) {
    // RFC 4303 section 3.3.3: with manual keys the sender's counter restarts with the process, so
    // a receiver SHOULD NOT enable anti-replay unless the counter survives restarts.
    log.warn('(replay window)', 'anti-replay is off for these static SAs, as RFC 4303 section 3.3.3 ' +
      'advises for manual keys: the sequence number restarts at 1 whenever a peer restarts. Add ' +
      '"-r SIZE" to an add statement to turn it on if both peers keep their counters');
  }
  return finishImport(profile, secrets, log, 'setkey');
}

function peerOf(sa: SaStatement, local: string | undefined): string {
  return sa.source === local ? sa.destination : sa.source;
}

function parseAddressWithPort(text: string): { address: string; port?: number } | undefined {
  const match = /^([^[\]]+?)(?:\[(\d{1,5}|any)\])?$/.exec(text);
  if (!match || !(isIPv4(match[1]!) || isIPv6(match[1]!))) {
    return undefined;
  }
  const port = match[2] === undefined || match[2] === 'any' ? undefined : Number(match[2]);
  return port === undefined ? { address: match[1]! } : { address: match[1]!, port };
}

function parseNumber(text: string | undefined): number | undefined {
  if (text === undefined) {
    return undefined;
  }
  const value = /^0x[0-9a-f]{1,8}$/i.test(text) ? parseInt(text, 16) : /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  return Number.isSafeInteger(value) ? value : undefined;
}

/** Decodes a key given as 0x hex or as a "quoted string". */
function parseKey(text: string | undefined): Uint8Array | undefined {
  if (text === undefined) {
    return undefined;
  }
  if (/^0x([0-9a-f]{2})+$/i.test(text)) {
    return new Uint8Array(Buffer.from(text.slice(2), 'hex'));
  }
  if (text.startsWith('"') && text.endsWith('"') && text.length >= 2) {
    return new TextEncoder().encode(text.slice(1, -1).replace(/\\(.)/g, '$1'));
  }
  return undefined;
}

/**
 * True for a word shaped like an ipsec-tools algorithm name. A key written without its algorithm
 * (0x digits or a quoted string) or a long hex word fails, so it is never echoed in a message.
 */
function isAlgorithmName(word: string): boolean {
  return /^[a-z0-9][a-z0-9-]{0,31}$/i.test(word) && !/^0x/i.test(word) && !/^[0-9a-f]{16,}$/i.test(word);
}

function parseAdd(statement: Statement, log: IssueLog): SaStatement | undefined {
  const path = `line ${statement.line}`;
  const words = statement.words.filter((word) => word !== '-4n' && word !== '-6n');
  const [, sourceText = '', destinationText = '', protocolText = '', spiText] = words;
  const source = parseAddressWithPort(sourceText);
  const destination = parseAddressWithPort(destinationText);
  if (!source || !destination) {
    log.error(path, 'expected "add SOURCE DESTINATION PROTOCOL SPI ..." with IP addresses', words.slice(0, 3).join(' '));
    return undefined;
  }
  if (!['esp', 'ah', 'esp-udp'].includes(protocolText)) {
    log.error(path, `the protocol "${protocolText}" is not supported; use esp or ah (ipcomp, tcp and ` +
      'the -old variants are not)', protocolText);
    return undefined;
  }
  const spi = parseNumber(spiText);
  if (spi === undefined || spi < 256 || spi > 0xffffffff) {
    // RFC 4303 section 2.1: SPIs 1-255 are reserved.
    log.error(path, 'expected an SPI from 256 (0x100) to 0xffffffff', spiText);
    return undefined;
  }
  const sa: SaStatement = {
    line: statement.line,
    source: source.address,
    destination: destination.address,
    protocol: protocolText === 'ah' ? 'ah' : 'esp',
    udp: protocolText === 'esp-udp',
    spi,
  };
  if (sa.udp) {
    if (source.port === undefined || destination.port === undefined) {
      log.error(path, 'esp-udp needs the UDP ports as ADDRESS[PORT] on both addresses', words.slice(1, 3).join(' '));
      return undefined;
    }
    sa.sourcePort = source.port;
    sa.destinationPort = destination.port;
  }
  return readAddOptions(words.slice(5), sa, path, log) ? sa : undefined;
}

function readAddOptions(words: string[], sa: SaStatement, path: string, log: IssueLog): boolean {
  for (let index = 0; index < words.length; index++) {
    const option = words[index]!;
    const argument = words[index + 1];
    switch (option) {
      case '-m':
        if (argument !== 'tunnel' && argument !== 'transport' && argument !== 'any') {
          log.error(path, 'expected -m tunnel or -m transport', argument);
          return false;
        }
        if (argument !== 'any') {
          sa.mode = argument;
        }
        index++;
        break;
      case '-r': {
        const bytes = parseNumber(argument);
        if (bytes === undefined || bytes * 8 > MAX_REPLAY_WINDOW) {
          log.error(path, `expected -r with a replay window of 0 to ${MAX_REPLAY_WINDOW / 8} bytes`, argument);
          return false;
        }
        sa.replayBytes = bytes;
        index++;
        break;
      }
      case '-E':
      case '-A': {
        const algorithm = argument ?? '';
        if (!isAlgorithmName(algorithm)) {
          log.error(path, `${option} needs an algorithm name before the key, such as ` +
            `${option === '-E' ? 'aes-cbc' : 'hmac-sha256'}`, argument === undefined ? undefined : REDACTED);
          return false;
        }
        const key = parseKey(words[index + 2]);
        const needsKey = !(option === '-E' && algorithm === 'null');
        if (needsKey && !key) {
          log.error(path, `${option} ${algorithm} needs a key as 0x hex digits or a "quoted string"`,
            words[index + 2] === undefined ? undefined : REDACTED);
          return false;
        }
        const entry = { algorithm, key: key ?? new Uint8Array(0) };
        if (option === '-E') {
          sa.encryption = entry;
        } else {
          sa.integrity = entry;
        }
        index += needsKey ? 2 : (key ? 2 : 1);
        break;
      }
      case '-u':
      case '-lh':
      case '-ls':
      case '-f':
        log.warn(path, `the option ${option} ${argument ?? ''} is not supported and was ignored`, argument);
        index++;
        break;
      case '-C':
        log.error(path, 'IP compression (-C) is not supported; remove it', argument);
        return false;
      default:
        // A stray word here is often the rest of a key that was split by a space, so only
        // something shaped like an option is shown.
        if (/^-[A-Za-z0-9]{1,8}$/.test(option)) {
          log.error(path, `unknown option "${option}" in an add statement`, option);
        } else {
          log.error(path, 'unexpected word in an add statement where an option such as -E or -A ' +
            'belongs; check that each key is one word (0x hex digits or a "quoted string")', REDACTED);
        }
        return false;
    }
  }
  return true;
}

function selectorText(range: string, upper: string): string | undefined {
  const match = /^([^[\]]+?)(?:\[(\d{1,5}|any)\])?$/.exec(range);
  if (!match) {
    return undefined;
  }
  let protocol = upper;
  if (upper === 'any') {
    protocol = '';
  } else if (upper === 'icmp6') {
    protocol = 'icmpv6';
  }
  const port = match[2] === undefined || match[2] === 'any' ? '' : match[2];
  if (protocol === '' && port === '') {
    return match[1];
  }
  return `${match[1]}[${protocol === '' ? 'any' : protocol}${port === '' ? '' : `/${port}`}]`;
}

function parseSpdAdd(statement: Statement, log: IssueLog): PolicyStatement | undefined {
  const path = `line ${statement.line}`;
  const words = statement.words.filter((word) => word !== '-4n' && word !== '-6n');
  const [, sourceRange = '', destinationRange = '', upper = '', flag, direction, action, ...rules] = words;
  const sourceSelector = selectorText(sourceRange, upper);
  const destinationSelector = selectorText(destinationRange, upper);
  const problem = [sourceSelector, destinationSelector].map((text) => (text ? checkSelector(text) : 'missing'))
    .find((text) => text !== null);
  if (!sourceSelector || !destinationSelector || problem) {
    log.error(path, `invalid spdadd addresses or upper-layer protocol: ${problem}`, words.slice(1, 4).join(' '));
    return undefined;
  }
  if (flag !== '-P' || (direction !== 'in' && direction !== 'out')) {
    if (direction === 'fwd') {
      log.warn(path, 'forwarding policies (-P fwd) are for gateways and were ignored', direction);
      return undefined;
    }
    log.error(path, 'expected "-P in" or "-P out" in an spdadd statement', words.slice(4, 6).join(' '));
    return undefined;
  }
  if (action !== 'ipsec') {
    log.warn(path, `the policy action "${action}" does not use an SA and was ignored`, action);
    return undefined;
  }

  const parsedRules: PolicyStatement['rules'] = [];
  for (const rule of rules) {
    const match = /^(esp|ah)\/(tunnel|transport)\/(?:([^-/]+)-([^/]+))?\/(require|use|default|unique(?::\d+)?)$/.exec(rule);
    if (!match) {
      log.error(path, 'expected a rule such as esp/tunnel/192.0.2.1-198.51.100.1/require', rule);
      return undefined;
    }
    parsedRules.push({
      protocol: match[1] as 'esp' | 'ah',
      mode: match[2] as 'tunnel' | 'transport',
      ...(match[3] === undefined ? {} : { start: match[3], end: match[4]! }),
    });
  }
  const sourceAddress = hostOfRange(sourceRange);
  const prefix = /\/(\d+)/.exec(sourceRange)?.[1];
  const hostPrefix = isIPv6(sourceAddress) ? '128' : '32';
  return {
    line: statement.line,
    sourceSelector,
    destinationSelector,
    sourceAddress,
    destinationAddress: hostOfRange(destinationRange),
    sourceIsHost: prefix === undefined || prefix === hostPrefix,
    direction,
    rules: parsedRules,
  };
}

/** Returns the address of an spdadd range such as 192.0.2.0/24[80], without prefix and port. */
function hostOfRange(range: string): string {
  return range.replace(/\[.*$/, '').replace(/\/\d+$/, '');
}

/**
 * Fails each outbound policy rule that no outbound SA can serve: the kernel would drop (with
 * "require") the traffic that the policy selects, so the profile would look connected but send
 * nothing. A tunnel rule needs an SA between its tunnel end points, and a transport rule needs an
 * SA from the local address to the policy's destination.
 */
function checkOutboundPolicies(
  policies: PolicyStatement[], sas: SaStatement[], local: string | undefined, log: IssueLog,
): void {
  const outbound = sas.filter((sa) => sa.source === local);
  for (const policy of policies.filter((candidate) => candidate.direction === 'out')) {
    for (const rule of policy.rules) {
      const served = outbound.some((sa) => sa.protocol === rule.protocol && servesRule(sa, rule, policy));
      if (served) {
        continue;
      }
      const endpoints = rule.start !== undefined
        ? `from ${rule.start} to ${rule.end}` : `from ${local ?? 'the local address'} to ${policy.destinationAddress}`;
      log.error(`line ${policy.line}`, `the outbound policy uses ${rule.protocol} in ${rule.mode} mode, ` +
        `but no add statement defines an outbound ${rule.protocol} SA ${endpoints}; add that SA or ` +
        'remove the policy');
    }
  }
}

function servesRule(sa: SaStatement, rule: PolicyStatement['rules'][number], policy: PolicyStatement): boolean {
  if (rule.start !== undefined) {
    return sa.source === rule.start && sa.destination === rule.end;
  }
  // A tunnel rule without end points leaves the choice of SA to the kernel.
  return rule.mode === 'tunnel' || sa.destination === policy.destinationAddress;
}

/** Finds the local outer address from the policies: the tunnel start of an outbound rule. */
function findLocalAddress(policies: PolicyStatement[], log: IssueLog): string | undefined {
  for (const policy of policies) {
    for (const rule of policy.rules) {
      if (rule.mode === 'tunnel' && rule.start && rule.end) {
        return policy.direction === 'out' ? rule.start : rule.end;
      }
    }
  }
  const transport = policies.find((policy) => policy.direction === 'out');
  if (transport) {
    return transport.sourceAddress;
  }
  log.fail('(policies)', 'the file has no spdadd policy, so Lupina cannot tell which address is ' +
    'local; add "spdadd ... -P out ipsec ..." statements as setkey needs them too');
}

function buildStaticSa(
  sa: SaStatement, local: string | undefined, policies: PolicyStatement[], innerAddress: string | undefined,
  secrets: SecretBag, log: IssueLog,
): StaticSa | undefined {
  const path = `line ${sa.line}`;
  let direction: 'in' | 'out' | undefined;
  if (sa.source === local) {
    direction = 'out';
  } else if (sa.destination === local) {
    direction = 'in';
  }
  if (!direction) {
    log.error(path, `the SA runs between ${sa.source} and ${sa.destination}, but the policies make ` +
      `${local} the local address`);
    return undefined;
  }
  const peer = direction === 'out' ? sa.destination : sa.source;
  const matching = matchPolicies(sa, direction, policies);
  const mode = sa.mode ?? matching.mode ?? 'transport';
  const errorsBefore = log.errors.length;

  const encryption = sa.encryption ? mapEncryption(sa.encryption, path, log) : undefined;
  const integrity = sa.integrity ? mapIntegrity(sa.integrity, path, log) : undefined;
  if (log.errors.length > errorsBefore) {
    return undefined;
  }
  const name = `sa-${sa.spi.toString(16).padStart(8, '0')}-${direction}`;
  const encryptionKeyRef = encryption && encryption.name !== 'ENCR_NULL'
    ? secrets.add(`${name}-encryption`, sa.encryption!.key) : undefined;
  const integrityKeyRef = integrity ? secrets.add(`${name}-integrity`, sa.integrity!.key) : undefined;
  checkStaticSaTransforms(log, () => path, { protocol: sa.protocol, encryption, integrity, encryptionKeyRef, integrityKeyRef });
  if (log.errors.length > errorsBefore) {
    return undefined;
  }

  const built: StaticSa = {
    spi: sa.spi,
    direction,
    protocol: sa.protocol,
    mode,
    localAddress: local!,
    peerAddress: peer,
    encapsulation: sa.udp
      ? {
        type: 'udp',
        localPort: direction === 'out' ? sa.sourcePort! : sa.destinationPort!,
        peerPort: direction === 'out' ? sa.destinationPort! : sa.sourcePort!,
      }
      : { type: 'raw' },
    localTs: matching.localTs,
    remoteTs: matching.remoteTs,
    // ipsec-tools gives -r in bytes of bitmap, so each byte covers 8 packets of the window.
    replayWindow: (sa.replayBytes ?? 0) * 8,
    esn: false,
  };
  if (encryption) {
    built.encryption = encryption;
  }
  if (integrity) {
    built.integrity = integrity;
  }
  if (encryptionKeyRef) {
    built.encryptionKeyRef = encryptionKeyRef;
  }
  if (integrityKeyRef) {
    built.integrityKeyRef = integrityKeyRef;
  }
  if (innerAddress && mode === 'tunnel') {
    built.localInnerAddress = innerAddress;
  }
  return built;
}

/** Returns the selectors of the policies that use this SA, mirrored from outbound ones if needed. */
function matchPolicies(
  sa: SaStatement, direction: 'in' | 'out', policies: PolicyStatement[],
): { localTs: string[]; remoteTs: string[]; mode?: 'tunnel' | 'transport' } {
  const usesSa = (policy: PolicyStatement, wanted: 'in' | 'out') => policy.rules.some((rule) =>
    rule.protocol === sa.protocol &&
    (rule.mode === 'transport' || (wanted === direction
      ? rule.start === sa.source && rule.end === sa.destination
      : rule.start === sa.destination && rule.end === sa.source)));
  const same = policies.filter((policy) => policy.direction === direction && usesSa(policy, direction));
  const opposite = direction === 'in' ? 'out' : 'in';
  const mirrored = same.length > 0 ? [] : policies.filter((policy) =>
    policy.direction === opposite && usesSa(policy, opposite));
  const localTs: string[] = [];
  const remoteTs: string[] = [];
  for (const policy of same) {
    localTs.push(direction === 'out' ? policy.sourceSelector : policy.destinationSelector);
    remoteTs.push(direction === 'out' ? policy.destinationSelector : policy.sourceSelector);
  }
  for (const policy of mirrored) {
    localTs.push(opposite === 'out' ? policy.sourceSelector : policy.destinationSelector);
    remoteTs.push(opposite === 'out' ? policy.destinationSelector : policy.sourceSelector);
  }
  const mode = [...same, ...mirrored][0]?.rules.find((rule) => rule.protocol === sa.protocol)?.mode;
  return mode === undefined ? { localTs, remoteTs } : { localTs, remoteTs, mode };
}

function mapEncryption(
  entry: { algorithm: string; key: Uint8Array }, path: string, log: IssueLog,
): StaticSa['encryption'] {
  const mapped = ENCRYPTION[entry.algorithm];
  if (mapped === undefined) {
    log.error(path, `the encryption algorithm "${entry.algorithm}" is not supported; use aes-cbc`, entry.algorithm);
    return undefined;
  }
  if (!Object.hasOwn(ENCRYPTION_ALGORITHMS, mapped)) {
    log.error(path, mapped, entry.algorithm);
    return undefined;
  }
  const name = mapped as EncryptionName;
  const algorithm = ENCRYPTION_ALGORITHMS[name];
  const keyBytes = entry.key.length - algorithm.saltLength;
  if (!algorithm.keyLengths.includes(keyBytes)) {
    const allowed = algorithm.keyLengths.map((bytes) => (bytes + algorithm.saltLength) * 8).join(', ');
    log.error(path, `${entry.algorithm} needs a key of ${allowed} bits, got ${entry.key.length * 8}`, REDACTED);
    return undefined;
  }
  return { name, keyBits: keyBytes * 8 };
}

function mapIntegrity(entry: { algorithm: string; key: Uint8Array }, path: string, log: IssueLog): IntegrityName | undefined {
  const mapped = INTEGRITY[entry.algorithm];
  if (mapped === undefined) {
    log.error(path, `the integrity algorithm "${entry.algorithm}" is not supported; use hmac-sha256`, entry.algorithm);
    return undefined;
  }
  if (!Object.hasOwn(INTEGRITY_ALGORITHMS, mapped)) {
    log.error(path, mapped, entry.algorithm);
    return undefined;
  }
  const name = mapped as IntegrityName;
  const expected = INTEGRITY_ALGORITHMS[name].keyLength;
  if (entry.key.length !== expected) {
    log.error(path, `${entry.algorithm} needs a key of ${expected * 8} bits, got ${entry.key.length * 8}`, REDACTED);
    return undefined;
  }
  return name;
}
