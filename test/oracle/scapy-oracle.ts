/**
 * Client for scapy_ipsec.py, an ESP and AH oracle built on Scapy 2.5.0's scapy.layers.ipsec,
 * for tests that cross-check the engine against an independent implementation.
 *
 * One Python process serves one `ScapyOracle`. Requests go out as JSON lines on its stdin and
 * responses come back one line each, in request order, so several may be in flight at once.
 * Keys and packets are Uint8Array here and hex on the wire.
 *
 * Cases the oracle rejects as `unsupported`, and the Scapy behaviour behind each, are listed by
 * `scapyKnownGap`, so that tests can skip them with that reason.
 */

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

import { fromHex, toHex } from './packets.js';

export const PYTHON_PATH = '/usr/bin/python3';
export const ORACLE_SCRIPT_PATH = fileURLToPath(new URL('./scapy_ipsec.py', import.meta.url));

export type OracleCrypt = 'NULL' | 'AES-CBC' | 'AES-GCM' | 'CHACHA20-POLY1305' | 'AES-GMAC';
export type OracleAuth = 'HMAC-SHA1-96' | 'SHA2-256-128' | 'SHA2-384-192' | 'SHA2-512-256';

export interface OracleRequest {
  proto: 'esp' | 'ah';
  spi: number;
  /** Full sequence number up to 2^53 - 1, which with ESN is high * 2^32 + low. */
  seq: number;
  /**
   * Extended sequence numbers. The packet carries the low 32 bits and the ICV or AAD covers
   * the high 32 bits. On decrypt the oracle takes the high bits from `seq` and the low bits
   * from the packet.
   */
  esn: boolean;
  /** ESP only, so null or absent for AH. */
  crypt?: OracleCrypt | null;
  /** For AES-GCM, AES-GMAC and CHACHA20-POLY1305: the key followed by the 4-byte salt. */
  cryptKey?: Uint8Array | null;
  auth?: OracleAuth | null;
  authKey?: Uint8Array | null;
  mode: 'tunnel' | 'transport';
  /** Outer addresses for tunnel-mode encrypt, both IPv4 or both IPv6. */
  tunnelSrc?: string;
  tunnelDst?: string;
  /** Outer TTL or hop limit for tunnel-mode encrypt, 64 by default. */
  tunnelTtl?: number;
  /** Outer IPv4 identification for tunnel-mode encrypt, 1 by default. */
  tunnelId?: number;
  /**
   * Outer IPv4 TOS or IPv6 traffic class for tunnel-mode encrypt, 0 by default. Scapy sets no
   * DF bit and a zero flow label in outer headers.
   */
  tunnelTos?: number;
  /** ESP in UDP (RFC 3948). The oracle sends a zero UDP checksum. */
  espInUdp?: { sport: number; dport: number };
  /** Encrypt: the plaintext IP packet. Decrypt: the protected IP packet. */
  packet: Uint8Array;
  /** Encrypt only: the IV to use in place of a random one. */
  iv?: Uint8Array | null;
}

/** Why the oracle rejected a request. */
export type OracleErrorKind = 'invalid-request' | 'integrity' | 'malformed' | 'unsupported';

export class ScapyOracleError extends Error {
  constructor(
    readonly kind: OracleErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'ScapyOracleError';
  }
}

interface OracleResponse {
  ok: boolean;
  packet?: string;
  kind?: OracleErrorKind;
  error?: string;
}

interface PendingRequest {
  resolve: (packet: Uint8Array) => void;
  reject: (error: Error) => void;
}

let availability: boolean | undefined;

/** Reports whether /usr/bin/python3 can import Scapy's IPsec layer and cryptography's AEADs. */
export function scapyAvailable(): boolean {
  if (availability === undefined) {
    const probe = spawnSync(
      PYTHON_PATH,
      ['-c', 'import scapy.layers.ipsec, cryptography.hazmat.primitives.ciphers.aead'],
      { stdio: 'ignore', timeout: 30_000 },
    );
    availability = probe.status === 0;
  }
  return availability;
}

/**
 * Returns why the oracle cannot check `request`, or undefined when it can. The reasons are
 * behaviours of Scapy 2.5.0 that the oracle does not patch.
 */
export function scapyKnownGap(request: OracleRequest): string | undefined {
  const hasIntegrityAlgorithm = request.auth !== null && request.auth !== undefined;
  if (request.proto === 'esp' && request.esn && hasIntegrityAlgorithm) {
    return 'Scapy 2.5.0 leaves the ESN high bits out of the ESP ICV (RFC 4303 section 2.2.1)';
  }
  return undefined;
}

function encodeRequest(op: 'encrypt' | 'decrypt', request: OracleRequest): string {
  const wire: Record<string, unknown> = {
    op,
    proto: request.proto,
    spi: request.spi,
    seq: request.seq,
    esn: request.esn,
    crypt: request.crypt ?? null,
    cryptKey: request.cryptKey ? toHex(request.cryptKey) : null,
    auth: request.auth ?? null,
    authKey: request.authKey ? toHex(request.authKey) : null,
    mode: request.mode,
    packet: toHex(request.packet),
    iv: request.iv ? toHex(request.iv) : null,
  };
  const optionalFields = ['tunnelSrc', 'tunnelDst', 'tunnelTtl', 'tunnelId', 'tunnelTos'] as const;
  for (const field of optionalFields) {
    if (request[field] !== undefined) {
      wire[field] = request[field];
    }
  }
  if (request.espInUdp !== undefined) {
    wire['esp-in-udp'] = request.espInUdp;
  }
  return JSON.stringify(wire);
}

export class ScapyOracle {
  private readonly pending: PendingRequest[] = [];
  private readonly exited: Promise<void>;
  private stderrTail = '';
  private failure: Error | undefined;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    // A write after the process has exited fails with EPIPE, which the 'close' handler reports.
    child.stdin.on('error', () => undefined);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-4000);
    });

    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => this.settle(line));

    this.exited = new Promise((resolve) => {
      child.on('error', (error) => this.fail(new Error(`oracle process failed: ${error.message}`)));
      child.on('close', (code, signal) => {
        this.fail(new Error(
          `oracle process exited (code ${code}, signal ${signal}); stderr: ${this.stderrTail}`,
        ));
        resolve();
      });
    });
  }

  /** Starts the Python oracle and waits until it has loaded Scapy. */
  static async start(): Promise<ScapyOracle> {
    const child = spawn(PYTHON_PATH, [ORACLE_SCRIPT_PATH], { stdio: ['pipe', 'pipe', 'pipe'] });
    const oracle = new ScapyOracle(child);
    await oracle.ping();
    return oracle;
  }

  /** Returns the protected packet, outer header included. */
  encrypt(request: OracleRequest): Promise<Uint8Array> {
    return this.send(encodeRequest('encrypt', request));
  }

  /**
   * Returns the inner packet (tunnel mode) or the rebuilt packet (transport mode). Rejects with
   * a ScapyOracleError of kind `integrity` when the ICV does not verify.
   */
  decrypt(request: OracleRequest): Promise<Uint8Array> {
    return this.send(encodeRequest('decrypt', request));
  }

  /** Closes the oracle's stdin and waits for the process to exit. */
  async close(): Promise<void> {
    this.child.stdin.end();
    await this.exited;
  }

  /** Sends a request that the oracle rejects, which resolves once Scapy has loaded. */
  private async ping(): Promise<void> {
    try {
      await this.send('{}');
    } catch (error) {
      if (error instanceof ScapyOracleError && error.kind === 'invalid-request') {
        return;
      }
      throw error;
    }
  }

  private send(line: string): Promise<Uint8Array> {
    if (this.failure !== undefined) {
      return Promise.reject(this.failure);
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.child.stdin.write(`${line}\n`);
    });
  }

  private settle(line: string): void {
    const request = this.pending.shift();
    if (request === undefined) {
      this.fail(new Error(`oracle sent a line with no request waiting: ${line.slice(0, 200)}`));
      return;
    }

    let response: OracleResponse;
    try {
      response = JSON.parse(line) as OracleResponse;
    } catch {
      request.reject(new Error(`oracle sent a line that is not JSON: ${line.slice(0, 200)}`));
      return;
    }

    if (response.ok && typeof response.packet === 'string') {
      request.resolve(fromHex(response.packet));
    } else {
      const kind = response.kind ?? 'malformed';
      request.reject(new ScapyOracleError(kind, response.error ?? 'oracle gave no error text'));
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const request of this.pending.splice(0)) {
      request.reject(this.failure);
    }
  }
}
