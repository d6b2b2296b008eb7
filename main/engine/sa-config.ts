/**
 * The parameters of one security association (RFC 4301 section 4.4.2), as IKEv2 or a manual-key
 * profile supplies them, and their validation.
 */

import type { CryptoProvider } from './crypto/provider.js';
import type { Lifetimes } from './lifetime.js';
import type { TrafficSelector } from './traffic-selector.js';
import {
  ENCRYPTION_ALGORITHMS, INTEGRITY_ALGORITHMS, isEncryptionName, isIntegrityName,
  type EncryptionName, type IntegrityName,
} from './transforms.js';

export type SaDirection = 'in' | 'out';
export type SaProtocol = 'esp' | 'ah';
export type SaMode = 'tunnel' | 'transport';

export interface SaConfig {
  /** Security Parameter Index, chosen by the receiver of this SA's packets. */
  spi: number;
  direction: SaDirection;
  protocol: SaProtocol;
  mode: SaMode;
  /** ESP only. The key is the cipher key followed by the salt where the transform has one. */
  encryption?: { name: EncryptionName; key: Uint8Array };
  /** Required for AH and for ESP with AES-CBC or NULL; not allowed with AEAD transforms. */
  integrity?: { name: IntegrityName; key: Uint8Array };
  /** Extended (64-bit) sequence numbers (RFC 4303 section 2.2.1). */
  esn: boolean;
  /** Replay window size in packets, inbound only; 0 turns anti-replay off. */
  replayWindow: number;
  lifetimes?: Lifetimes;
  /** Outer addresses in tunnel mode: this host's and the peer's. */
  tunnel?: { local: Uint8Array; remote: Uint8Array };
  /** Traffic selectors from this host's point of view: `local` is our side, `remote` the peer's. */
  trafficSelectors: { local: TrafficSelector[]; remote: TrafficSelector[] };
  /** Overrides the provider that the engine would choose for the transform. */
  cryptoProvider?: CryptoProvider;
  /** Milliseconds since an arbitrary epoch; defaults to `performance.now()`. */
  clock?: () => number;
}

export class SaConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`invalid SA ${field}: ${message}`);
    this.name = 'SaConfigError';
  }
}

/** The lowest SPI that may be assigned: 1 to 255 are reserved by IANA and 0 for local use (RFC 4303 section 2.1). */
export const MIN_SPI = 256;
export const MAX_SPI = 0xffffffff;

/** Checks every field and throws SaConfigError naming the first invalid one. */
export function validateSaConfig(config: SaConfig): void {
  if (!Number.isInteger(config.spi) || config.spi < MIN_SPI || config.spi > MAX_SPI) {
    throw new SaConfigError('spi', `${config.spi} is outside ${MIN_SPI}..${MAX_SPI} (RFC 4303 section 2.1)`);
  }
  if (config.direction !== 'in' && config.direction !== 'out') {
    throw new SaConfigError('direction', `"${String(config.direction)}" is neither "in" nor "out"`);
  }
  if (config.mode !== 'tunnel' && config.mode !== 'transport') {
    throw new SaConfigError('mode', `"${String(config.mode)}" is neither "tunnel" nor "transport"`);
  }
  if (config.protocol === 'esp') {
    validateEspTransforms(config);
  } else if (config.protocol === 'ah') {
    validateAhTransforms(config);
  } else {
    throw new SaConfigError('protocol', `"${String(config.protocol)}" is neither "esp" nor "ah"`);
  }
  validateIntegrityKey(config);
  if (config.mode === 'tunnel') {
    validateTunnel(config);
  }
}

function validateEspTransforms(config: SaConfig): void {
  const encryption = config.encryption;
  if (!encryption || !isEncryptionName(encryption.name)) {
    throw new SaConfigError('encryption', `ESP needs an encryption transform, got "${encryption?.name}"`);
  }
  const algorithm = ENCRYPTION_ALGORITHMS[encryption.name];
  const keyLength = encryption.key.length - algorithm.saltLength;
  if (!algorithm.keyLengths.includes(keyLength)) {
    const expected = algorithm.keyLengths.map((length) => length + algorithm.saltLength).join(', ');
    throw new SaConfigError('encryption.key', `${encryption.name} takes ${expected} bytes of keying material, got ${encryption.key.length}`);
  }

  const combined = algorithm.kind === 'aead' || algorithm.kind === 'gmac';
  if (combined && config.integrity) {
    // RFC 4106 section 3 and RFC 7634 section 2: a combined mode algorithm provides the ICV itself.
    throw new SaConfigError('integrity', `${encryption.name} is a combined mode transform and takes no integrity algorithm`);
  }
  if (!combined && !config.integrity) {
    // RFC 8221 section 5: ESP with AES-CBC or NULL and no integrity MUST NOT be used.
    throw new SaConfigError('integrity', `${encryption.name} needs an integrity algorithm`);
  }
}

function validateAhTransforms(config: SaConfig): void {
  if (config.encryption) {
    throw new SaConfigError('encryption', 'AH takes no encryption transform');
  }
  if (!config.integrity) {
    throw new SaConfigError('integrity', 'AH needs an integrity algorithm');
  }
}

function validateIntegrityKey(config: SaConfig): void {
  const integrity = config.integrity;
  if (!integrity) {
    return;
  }
  if (!isIntegrityName(integrity.name)) {
    throw new SaConfigError('integrity', `unknown integrity transform "${integrity.name}"`);
  }
  const expected = INTEGRITY_ALGORITHMS[integrity.name].keyLength;
  if (integrity.key.length !== expected) {
    throw new SaConfigError('integrity.key', `${integrity.name} takes a ${expected}-byte key, got ${integrity.key.length}`);
  }
}

function validateTunnel(config: SaConfig): void {
  const tunnel = config.tunnel;
  if (!tunnel) {
    throw new SaConfigError('tunnel', 'tunnel mode needs the local and remote outer addresses');
  }
  const lengthsValid = (tunnel.local.length === 4 || tunnel.local.length === 16) &&
    tunnel.local.length === tunnel.remote.length;
  if (!lengthsValid) {
    throw new SaConfigError('tunnel', 'the outer addresses must both be IPv4 or both IPv6');
  }
}

/** Returns a short transform label for display, such as "ENCR_AES_GCM_16-256". */
export function describeTransform(config: SaConfig): string {
  const parts: string[] = [];
  if (config.encryption) {
    const algorithm = ENCRYPTION_ALGORITHMS[config.encryption.name];
    const bits = (config.encryption.key.length - algorithm.saltLength) * 8;
    parts.push(algorithm.kind === 'null' ? algorithm.name : `${algorithm.name}-${bits}`);
  }
  if (config.integrity) {
    parts.push(config.integrity.name);
  }
  if (config.esn) {
    parts.push('ESN');
  }
  return parts.join('/');
}
