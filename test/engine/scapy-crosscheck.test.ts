/**
 * Cross-check with Scapy's independent ESP and AH code (`scapy.layers.ipsec`): Scapy decrypts
 * what the engine builds and the engine accepts what Scapy builds, for every transform that
 * Scapy supports, both modes, IPv4 and IPv6, with and without ESN.
 *
 * Scapy 2.5.0 leaves the ESN high bits out of an HMAC ICV. For those cases Scapy handles the
 * encryption with no integrity algorithm, and the test computes the ICV itself as RFC 4303
 * section 3.3.2.1 defines it: an HMAC over the ESP packet followed by the high 32 bits.
 * Scapy also refuses NULL encryption without integrity, so with NULL and ESN the test reads and
 * writes the cleartext ESP payload itself (RFC 2410: the payload is sent as is).
 */

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { parseIpHeader, updateIpv4Checksum } from '../../main/engine/ip-packet.js';
import { INTEGRITY_ALGORITHMS, type IntegrityName } from '../../main/engine/transforms.js';
import { ipv4Packet, ipv6Packet } from '../oracle/packets.js';
import { ScapyOracle, scapyAvailable, type OracleAuth, type OracleCrypt, type OracleRequest } from '../oracle/scapy-oracle.js';
import { echoPacket, HOST_V4, HOST_V6, makeSaPair, TRANSFORM_CASES, type TransformCase } from './fixtures.js';

const CRYPT_NAMES: Record<string, OracleCrypt> = {
  ENCR_NULL: 'NULL',
  ENCR_AES_CBC: 'AES-CBC',
  ENCR_AES_GCM_16: 'AES-GCM',
  ENCR_CHACHA20_POLY1305: 'CHACHA20-POLY1305',
  ENCR_NULL_AUTH_AES_GMAC: 'AES-GMAC',
};

const AUTH_NAMES: Record<IntegrityName, OracleAuth> = {
  AUTH_HMAC_SHA1_96: 'HMAC-SHA1-96',
  AUTH_HMAC_SHA2_256_128: 'SHA2-256-128',
  AUTH_HMAC_SHA2_384_192: 'SHA2-384-192',
  AUTH_HMAC_SHA2_512_256: 'SHA2-512-256',
};

/** A sequence number whose high bits are not zero, so ESN mistakes show. */
const ESN_SEQUENCE = 3 * 2 ** 32 + 17;

const available = scapyAvailable();
if (!available && process.env.CI) {
  throw new Error('Scapy is missing: install python3-scapy and python3-cryptography for /usr/bin/python3');
}

/** True when Scapy cannot compute this ICV and the test must do it (see the file comment). */
function icvByTest(transform: TransformCase, esn: boolean): boolean {
  return transform.protocol === 'esp' && esn && transform.integrity !== undefined;
}

function oracleRequest(transform: TransformCase, configs: ReturnType<typeof makeSaPair>['configs'], options: {
  mode: 'tunnel' | 'transport'; family: 4 | 6; esn: boolean; seq: number; packet: Uint8Array;
}): OracleRequest {
  const config = configs[0]!;
  const hosts = options.family === 4 ? HOST_V4 : HOST_V6;
  const withoutIcv = icvByTest(transform, options.esn);
  return {
    proto: transform.protocol,
    spi: config.spi,
    seq: options.seq,
    esn: options.esn,
    crypt: transform.encryption ? CRYPT_NAMES[transform.encryption] : null,
    cryptKey: config.encryption?.key ?? null,
    auth: transform.integrity && !withoutIcv ? AUTH_NAMES[transform.integrity] : null,
    authKey: transform.integrity && !withoutIcv ? config.integrity!.key : null,
    mode: options.mode,
    tunnelSrc: hosts.client,
    tunnelDst: hosts.gateway,
    packet: options.packet,
  };
}

/** RFC 4303 section 3.3.2.1: the ICV input is the ESP packet, then the high 32 bits of the sequence number. */
function espIcv(transform: TransformCase, key: Uint8Array, esp: Uint8Array, seq: number): Buffer {
  const algorithm = INTEGRITY_ALGORITHMS[transform.integrity!];
  const high = Buffer.alloc(4);
  high.writeUInt32BE(Math.floor(seq / 2 ** 32));
  return createHmac(algorithm.hash, key).update(esp).update(high).digest().subarray(0, algorithm.icvLength);
}

function setLength(packet: Uint8Array, length: number): void {
  if (packet[0]! >> 4 === 4) {
    packet[2] = length >> 8;
    packet[3] = length & 0xff;
    updateIpv4Checksum(packet);
  } else {
    packet[4] = (length - 40) >> 8;
    packet[5] = (length - 40) & 0xff;
  }
}

/** Reads the payload of an ESP packet with NULL encryption and no ICV (RFC 2410, RFC 4303 section 2). */
function openNullEsp(packet: Uint8Array, mode: 'tunnel' | 'transport'): Uint8Array {
  const header = parseIpHeader(packet)!;
  const payload = packet.subarray(header.headerLength + 8);
  const padLength = payload[payload.length - 2]!;
  const nextHeader = payload[payload.length - 1]!;
  const data = payload.subarray(0, payload.length - 2 - padLength);
  if (mode === 'tunnel') {
    return data;
  }
  const rebuilt = Buffer.concat([packet.subarray(0, header.headerLength), data]);
  rebuilt[header.protocolOffset] = nextHeader;
  setLength(rebuilt, rebuilt.length);
  return rebuilt;
}

/** Builds an ESP packet with NULL encryption and no ICV: header, payload, padding 1, 2, ..., trailer. */
function sealNullEsp(request: OracleRequest, inner: Uint8Array, family: 4 | 6): Uint8Array {
  const innerHeader = parseIpHeader(inner)!;
  const tunnel = request.mode === 'tunnel';
  const data = tunnel ? inner : inner.subarray(innerHeader.headerLength);
  const nextHeader = tunnel ? (family === 4 ? 4 : 41) : innerHeader.protocol;
  const padLength = (4 - ((data.length + 2) % 4)) % 4;
  const esp = Buffer.alloc(8 + data.length + padLength + 2);
  esp.writeUInt32BE(request.spi, 0);
  esp.writeUInt32BE(request.seq % 2 ** 32, 4);
  esp.set(data, 8);
  for (let i = 0; i < padLength; i++) {
    esp[8 + data.length + i] = i + 1;
  }
  esp[esp.length - 2] = padLength;
  esp[esp.length - 1] = nextHeader;

  let front: Buffer;
  if (tunnel) {
    const hosts = family === 4 ? HOST_V4 : HOST_V6;
    front = Buffer.from(family === 4
      ? ipv4Packet({ src: hosts.client, dst: hosts.gateway, protocol: 50, payload: new Uint8Array(0) })
      : ipv6Packet({ src: hosts.client, dst: hosts.gateway, nextHeader: 50, payload: new Uint8Array(0) }));
  } else {
    front = Buffer.from(inner.subarray(0, innerHeader.headerLength));
    front[innerHeader.protocolOffset] = 50;
  }
  const packet = Buffer.concat([front, esp]);
  setLength(packet, packet.length);
  return packet;
}

describe('Scapy cross-check', { skip: available ? false : 'Scapy is not installed for /usr/bin/python3' }, () => {
  let oracle: ScapyOracle;
  before(async () => {
    oracle = await ScapyOracle.start();
  });
  after(async () => {
    await oracle.close();
  });

  // One key size per cipher keeps the run short; the providers test covers every size.
  const transforms = TRANSFORM_CASES.filter((transform) => transform.keyLength === undefined ||
    transform.keyLength === 32 || transform.keyLength === 0 || (transform.encryption === 'ENCR_AES_GCM_16' && transform.keyLength === 16));

  for (const transform of transforms) {
    for (const mode of ['tunnel', 'transport'] as const) {
      for (const family of [4, 6] as const) {
        for (const esn of [false, true]) {
          const name = `${transform.name} ${mode} IPv${family}${esn ? ' ESN' : ''}`;

          it(`${name} engine to Scapy`, async () => {
            const { outbound, configs } = makeSaPair({ transform, mode, family, esn });
            const seq = esn ? ESN_SEQUENCE : 41;
            (outbound as unknown as { lastSeq: number }).lastSeq = seq - 1;
            const inner = echoPacket(family, 61);
            const result = outbound.protect(inner);
            assert.ok(result.ok);

            let packet = result.packet;
            if (icvByTest(transform, esn)) {
              const header = parseIpHeader(packet)!;
              const icvLength = INTEGRITY_ALGORITHMS[transform.integrity!].icvLength;
              const esp = packet.subarray(header.headerLength, packet.length - icvLength);
              const icv = packet.subarray(packet.length - icvLength);
              assert.deepEqual(Buffer.from(icv), espIcv(transform, configs[0]!.integrity!.key, esp, seq));
              packet = Uint8Array.prototype.slice.call(packet, 0, packet.length - icvLength);
              setLength(packet, packet.length);
            }

            const request = oracleRequest(transform, configs, { mode, family, esn, seq, packet });
            const decrypted = request.crypt === 'NULL' && request.auth === null
              ? openNullEsp(packet, mode)
              : await oracle.decrypt(request);
            if (mode === 'tunnel') {
              assert.deepEqual(Buffer.from(decrypted), Buffer.from(inner));
            } else {
              // Scapy keeps the transport header as received, with its TTL and checksum as sent.
              assert.deepEqual(Buffer.from(decrypted.subarray(family === 4 ? 20 : 40)), Buffer.from(inner.subarray(family === 4 ? 20 : 40)));
            }
          });

          it(`${name} Scapy to engine`, async () => {
            const { inbound, configs } = makeSaPair({ transform, mode, family, esn });
            const seq = esn ? ESN_SEQUENCE : 41;
            const inner = echoPacket(family, 61);
            const request = oracleRequest(transform, configs, { mode, family, esn, seq, packet: inner });
            let packet = request.crypt === 'NULL' && request.auth === null
              ? sealNullEsp(request, inner, family)
              : await oracle.encrypt(request);

            if (icvByTest(transform, esn)) {
              const header = parseIpHeader(packet)!;
              const icv = espIcv(transform, configs[1]!.integrity!.key, packet.subarray(header.headerLength), seq);
              packet = Buffer.concat([packet, icv]);
              setLength(packet, packet.length);
            }
            if (esn) {
              // Bring the receiver's window to the high bits of the sequence number first.
              (inbound as unknown as { replay: { highest: number } }).replay.highest = seq - 1;
            }

            const result = inbound.unprotect(packet);
            assert.ok(result.ok, JSON.stringify(result));
            if (mode === 'tunnel') {
              assert.deepEqual(Buffer.from(result.packet), Buffer.from(inner));
            } else {
              assert.deepEqual(Buffer.from(result.packet.subarray(family === 4 ? 20 : 40)), Buffer.from(inner.subarray(family === 4 ? 20 : 40)));
            }
          });
        }
      }
    }
  }
});
