/**
 * Engine benchmark: the cost of encapsulating and decapsulating one packet on one core, for
 * every transform and both crypto providers, beside the bare cipher call on the same data.
 *
 * Usage: npm run bench [-- --json] [-- --filter TEXT] [-- --millis N]
 *   --json      print the rows as a JSON array instead of a table
 *   --filter    keep the transforms whose name contains TEXT (for example GCM)
 *   --millis    measuring time per row in milliseconds (default 150)
 */

import { cpus } from 'node:os';
import { nobleProvider, nodeProvider } from '../main/engine/crypto/index.js';
import type { CryptoProvider } from '../main/engine/crypto/provider.js';
import { ENCRYPTION_ALGORITHMS, INTEGRITY_ALGORITHMS } from '../main/engine/transforms.js';
import { echoPacket, makeSaPair, TRANSFORM_CASES, transformKeys, type TransformCase } from '../test/engine/fixtures.js';

const INNER_SIZES = [64, 512, 1400];
const WARMUP_ITERATIONS = 2000;

interface BenchRow {
  transform: string;
  provider: string;
  size: number;
  op: 'encap' | 'decap' | 'cipher';
  usPerPacket: number;
  packetsPerSecond: number;
  mbPerSecond: number;
}

function parseArguments(argv: string[]) {
  const options = { json: false, filter: '', millis: 150 };
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i];
    if (argument === '--json') {
      options.json = true;
    } else if (argument === '--filter') {
      options.filter = argv[++i] ?? '';
    } else if (argument === '--millis') {
      options.millis = Number(argv[++i]);
    } else {
      throw new Error(`unknown option "${argument}"; expected --json, --filter TEXT or --millis N`);
    }
  }
  return options;
}

/** Runs `operation` repeatedly for about `millis` and returns microseconds per call. */
function measure(operation: () => void, millis: number): number {
  for (let i = 0; i < WARMUP_ITERATIONS; i++) {
    operation();
  }
  let iterations = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(millis) * 1_000_000n;
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < 256; i++) {
      operation();
    }
    iterations += 256;
    elapsed = process.hrtime.bigint() - start;
  }
  return Number(elapsed) / 1000 / iterations;
}

/** The bare cryptographic call that one packet of `size` bytes needs, without ESP or AH framing. */
function bareCipher(transform: TransformCase, provider: CryptoProvider, size: number): () => void {
  const keys = transformKeys(transform);
  const data = new Uint8Array(size);
  const aad = new Uint8Array(8);
  const nonce = new Uint8Array(12);
  const encryption = transform.encryption && ENCRYPTION_ALGORITHMS[transform.encryption];

  if (encryption?.kind === 'aead' || encryption?.kind === 'gmac') {
    const key = keys.encryption!.subarray(0, transform.keyLength);
    const algorithm = encryption.name === 'ENCR_CHACHA20_POLY1305' ? 'chacha20-poly1305' : 'aes-gcm';
    const cipher = provider.createAead(algorithm, key);
    const empty = new Uint8Array(0);
    return encryption.kind === 'gmac'
      ? () => cipher.seal(nonce, data, empty)
      : () => cipher.seal(nonce, aad, data);
  }

  const hmac = provider.createHmac(INTEGRITY_ALGORITHMS[transform.integrity!].hash, keys.integrity!);
  if (encryption?.kind === 'cbc') {
    const cbc = provider.createCbc(keys.encryption!);
    const iv = new Uint8Array(16);
    const blocks = new Uint8Array(Math.ceil(size / 16) * 16);
    return () => hmac.compute([cbc.encrypt(iv, blocks)]);
  }
  return () => hmac.compute([data]);
}

function toRow(transform: string, provider: string, size: number, op: BenchRow['op'], usPerPacket: number): BenchRow {
  const packetsPerSecond = 1_000_000 / usPerPacket;
  return {
    transform,
    provider,
    size,
    op,
    usPerPacket: Number(usPerPacket.toFixed(3)),
    packetsPerSecond: Math.round(packetsPerSecond),
    mbPerSecond: Number(((packetsPerSecond * size) / 1_000_000).toFixed(1)),
  };
}

function benchTransform(transform: TransformCase, provider: CryptoProvider, millis: number): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const size of INNER_SIZES) {
    // Anti-replay is off so that the same protected packet can be decapsulated again and again.
    const { outbound, inbound } = makeSaPair({ transform, provider, replayWindow: 0, esn: true });
    const inner = echoPacket(4, size - 28);
    const protectedPacket = outbound.protect(inner);
    if (!protectedPacket.ok) {
      throw new Error(`${transform.name}: protect failed with ${protectedPacket.reason}`);
    }

    const encap = measure(() => outbound.protect(inner), millis);
    const decap = measure(() => inbound.unprotect(protectedPacket.packet), millis);
    const cipher = measure(bareCipher(transform, provider, size), millis);
    rows.push(toRow(transform.name, provider.name, size, 'encap', encap));
    rows.push(toRow(transform.name, provider.name, size, 'decap', decap));
    rows.push(toRow(transform.name, provider.name, size, 'cipher', cipher));
  }
  return rows;
}

function printTable(rows: BenchRow[]): void {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`# ${cpu}, ${cpus().length} cores, Node ${process.versions.node}, OpenSSL ${process.versions.openssl}`);
  console.log('transform                                  provider  size  op      us/packet  packets/s   MB/s');
  for (const row of rows) {
    console.log([
      row.transform.padEnd(42),
      row.provider.padEnd(8),
      String(row.size).padStart(5),
      row.op.padEnd(7),
      row.usPerPacket.toFixed(3).padStart(9),
      String(row.packetsPerSecond).padStart(10),
      row.mbPerSecond.toFixed(1).padStart(7),
    ].join('  '));
  }
}

function main(): void {
  const options = parseArguments(process.argv.slice(2));
  const transforms = TRANSFORM_CASES.filter((transform) => transform.name.includes(options.filter));
  const rows: BenchRow[] = [];
  for (const transform of transforms) {
    for (const provider of [nodeProvider, nobleProvider]) {
      rows.push(...benchTransform(transform, provider, options.millis));
    }
  }
  if (options.json) {
    console.log(JSON.stringify(rows, null, 2));
  } else {
    printTable(rows);
  }
}

main();
