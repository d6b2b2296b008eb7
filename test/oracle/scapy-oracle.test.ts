/**
 * Self-test of the Scapy ESP/AH oracle. It checks the RFC 3602 case 5 vector byte for byte and
 * runs round trips for every transform pair, in both modes and IP versions, with and without
 * ESN. It also covers ICV tampering, ESP in UDP, request ordering and error handling. With CI
 * set, a missing /usr/bin/python3 or Scapy fails the run in place of skipping it.
 */

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  ScapyOracle, ScapyOracleError, scapyAvailable, scapyKnownGap, type OracleAuth,
  type OracleCrypt, type OracleErrorKind, type OracleRequest,
} from './scapy-oracle.js';
import {
  IPPROTO_ICMP, IPPROTO_UDP, IPPROTO_ICMPV6, fromHex, icmpEcho, ipv4Packet, ipv6Packet,
  parseAddress, udpPayload,
} from './packets.js';

const IPPROTO_ESP = 50;
const IPPROTO_AH = 51;

const available = scapyAvailable();
const missingReason = 'needs /usr/bin/python3 with Scapy 2.5.0 and python3-cryptography';
const skipWithoutScapy = !available && !process.env.CI ? missingReason : false;

test('oracle prerequisites installed', { skip: skipWithoutScapy }, () => {
  assert.ok(available, missingReason);
});

// ---------------------------------------------------------------------------------------------
// Fixtures

const INNER_V4 = { src: '192.0.2.10', dst: '198.51.100.20' };
const INNER_V6 = { src: '2001:db8:1::10', dst: '2001:db8:2::20' };
const OUTER_V4 = { tunnelSrc: '203.0.113.1', tunnelDst: '203.0.113.2' };
const OUTER_V6 = { tunnelSrc: '2001:db8:ffff::1', tunnelDst: '2001:db8:ffff::2' };

function pattern(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, index) => (index * 31 + seed * 7 + 1) & 0xff);
}

/** Builds an ICMP echo request over IPv4 or a UDP datagram over IPv6 with `length` data bytes. */
function innerPacket(version: 4 | 6, length: number, seed: number): Uint8Array {
  const data = pattern(length, seed);
  if (version === 4) {
    const payload = icmpEcho({ identifier: 0x1234, sequence: seed, data });
    return ipv4Packet({ ...INNER_V4, protocol: IPPROTO_ICMP, id: seed, flags: 2, payload });
  }
  const payload = udpPayload({ ...INNER_V6, srcPort: 40000 + seed, dstPort: 53, data });
  return ipv6Packet({ ...INNER_V6, nextHeader: IPPROTO_UDP, payload });
}

interface TransformPair {
  proto: 'esp' | 'ah';
  crypt: OracleCrypt | null;
  auth: OracleAuth | null;
}

/** Key lengths in bytes, salt included; the round trips cycle through them. */
const CRYPT_KEY_LENGTHS: Record<OracleCrypt, number[]> = {
  'NULL': [0],
  'AES-CBC': [16, 24, 32],
  'AES-GCM': [20, 28, 36],
  'CHACHA20-POLY1305': [36],
  'AES-GMAC': [20, 28, 36],
};
const AUTH_KEY_LENGTHS: Record<OracleAuth, number> = {
  'HMAC-SHA1-96': 20,
  'SHA2-256-128': 32,
  'SHA2-384-192': 48,
  'SHA2-512-256': 64,
};
const AUTHS = Object.keys(AUTH_KEY_LENGTHS) as OracleAuth[];

/**
 * Every valid pair: NULL and AES-CBC with each HMAC, AES-CBC alone, the combined modes alone
 * (their tag is the ICV, so they take no integrity algorithm), and AH with each HMAC.
 */
const TRANSFORM_PAIRS: TransformPair[] = [
  ...AUTHS.map((auth) => ({ proto: 'esp' as const, crypt: 'NULL' as const, auth })),
  ...AUTHS.map((auth) => ({ proto: 'esp' as const, crypt: 'AES-CBC' as const, auth })),
  { proto: 'esp', crypt: 'AES-CBC', auth: null },
  { proto: 'esp', crypt: 'AES-GCM', auth: null },
  { proto: 'esp', crypt: 'CHACHA20-POLY1305', auth: null },
  { proto: 'esp', crypt: 'AES-GMAC', auth: null },
  ...AUTHS.map((auth) => ({ proto: 'ah' as const, crypt: null, auth })),
];

interface Layout {
  mode: 'tunnel' | 'transport';
  inner: 4 | 6;
  outer: 4 | 6;
}

const LAYOUTS: Layout[] = [
  { mode: 'tunnel', inner: 4, outer: 4 },
  { mode: 'tunnel', inner: 6, outer: 4 },
  { mode: 'tunnel', inner: 4, outer: 6 },
  { mode: 'tunnel', inner: 6, outer: 6 },
  { mode: 'transport', inner: 4, outer: 4 },
  { mode: 'transport', inner: 6, outer: 6 },
];

const ESN_SEQ = 3 * 2 ** 32 + 7;

function buildRequest(
  pair: TransformPair, layout: Layout, esn: boolean, variant: number,
): OracleRequest {
  const request: OracleRequest = {
    proto: pair.proto,
    spi: 0x1000 + variant,
    seq: esn ? ESN_SEQ : variant + 1,
    esn,
    crypt: pair.crypt,
    auth: pair.auth,
    mode: layout.mode,
    packet: innerPacket(layout.inner, 1 + ((variant * 13) % 61), variant),
  };
  if (pair.crypt !== null) {
    const lengths = CRYPT_KEY_LENGTHS[pair.crypt];
    request.cryptKey = pattern(lengths[variant % lengths.length] ?? 0, variant + 100);
  }
  if (pair.auth !== null) {
    request.authKey = pattern(AUTH_KEY_LENGTHS[pair.auth], variant + 200);
  }
  if (layout.mode === 'tunnel') {
    Object.assign(request, layout.outer === 4 ? OUTER_V4 : OUTER_V6);
  }
  return request;
}

// ---------------------------------------------------------------------------------------------
// Reading protected packets, from RFC 791, RFC 8200, RFC 4302 section 2 and RFC 4303 section 2

interface OuterHeader {
  version: number;
  protocol: number;
  headerLength: number;
  source: Uint8Array;
}

function readOuterHeader(packet: Uint8Array): OuterHeader {
  const version = (packet[0] ?? 0) >> 4;
  if (version === 4) {
    return {
      version,
      protocol: packet[9] ?? -1,
      headerLength: ((packet[0] ?? 0) & 0x0f) * 4,
      source: packet.slice(12, 16),
    };
  }
  return { version, protocol: packet[6] ?? -1, headerLength: 40, source: packet.slice(8, 24) };
}

function readUint32(packet: Uint8Array, offset: number): number {
  return new DataView(packet.buffer, packet.byteOffset).getUint32(offset);
}

function readUint16(packet: Uint8Array, offset: number): number {
  return new DataView(packet.buffer, packet.byteOffset).getUint16(offset);
}

/** Offset of the first ICV byte: inside the AH header, or the last 16 bytes or fewer of ESP. */
function icvOffset(request: OracleRequest, packet: Uint8Array): number {
  if (request.proto === 'ah') {
    return readOuterHeader(packet).headerLength + 12;
  }
  return packet.length - 1;
}

function withFlippedByte(packet: Uint8Array, offset: number): Uint8Array {
  const copy = packet.slice();
  copy[offset] = (copy[offset] ?? 0) ^ 0x01;
  return copy;
}

function isOracleError(kind: OracleErrorKind): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof ScapyOracleError, `expected ScapyOracleError, got ${error}`);
    assert.equal(error.kind, kind, error.message);
    return true;
  };
}

function caseName(pair: TransformPair, layout: Layout, esn: boolean): string {
  const transform = [pair.proto, pair.crypt, pair.auth].filter((part) => part !== null);
  const family = layout.mode === 'tunnel'
    ? `v${layout.inner}-in-v${layout.outer}`
    : `v${layout.inner}`;
  return `${transform.join(' ')} ${layout.mode} ${family}${esn ? ' esn' : ''}`;
}

// ---------------------------------------------------------------------------------------------

describe('scapy oracle', { skip: skipWithoutScapy }, () => {
  let oracle: ScapyOracle;

  before(async () => {
    oracle = await ScapyOracle.start();
  });

  after(async () => {
    await oracle?.close();
  });

  describe('RFC 3602 section 4 case 5', () => {
    // Transport-mode ESP with AES-CBC-128 and no integrity: an ICMP echo request from
    // 192.168.123.3 to 192.168.123.100, SPI 0x4321, sequence number 1.
    const key = fromHex('90d382b4 10eeba7a d938c46c ec1a82bf');
    const iv = fromHex('e96e8c08 ab465763 fd098d45 dd3ff893');
    const originalHeader = fromHex('45000054 08f20000 4001f9fe c0a87b03 c0a87b64');
    const originalData = fromHex(`
      08000ebd a70a0000 8e9c083d b95b0700 08090a0b 0c0d0e0f 10111213 14151617
      18191a1b 1c1d1e1f 20212223 24252627 28292a2b 2c2d2e2f 30313233 34353637`);
    const protectedPacket = fromHex(`
      4500007c 08f20000 4032f9a5 c0a87b03 c0a87b64
      00004321 00000001
      e96e8c08 ab465763 fd098d45 dd3ff893
      f663c25d 325c18c6 a9453e19 4e120849 a4870b66 cc6b9965 330013b4 898dc856
      a4699e52 3a55db08 0b59ec3a 8e4b7e52 775b07d1 db34ed9c 538ab50c 551b874a
      a269add0 47ad2d59 13ac19b7 cfbad4a6`);
    const original = new Uint8Array([...originalHeader, ...originalData]);

    const request = (packet: Uint8Array, withIv: boolean): OracleRequest => ({
      proto: 'esp', spi: 0x4321, seq: 1, esn: false, crypt: 'AES-CBC', cryptKey: key,
      auth: null, mode: 'transport', packet, iv: withIv ? iv : null,
    });

    test('packet builders reproduce plaintext', () => {
      const payload = icmpEcho({
        identifier: 0xa70a, sequence: 0, data: originalData.subarray(8),
      });
      const packet = ipv4Packet({
        src: '192.168.123.3', dst: '192.168.123.100', protocol: IPPROTO_ICMP, id: 0x08f2,
        ttl: 64, payload,
      });
      assert.deepEqual(packet, original);
    });

    test('encrypt matches published packet', async () => {
      const output = await oracle.encrypt(request(original, true));
      assert.deepEqual(output, protectedPacket);
    });

    test('decrypt recovers published plaintext', async () => {
      const output = await oracle.decrypt(request(protectedPacket, false));
      assert.deepEqual(output, original);
    });
  });

  describe('round trips', () => {
    let variant = 0;
    for (const pair of TRANSFORM_PAIRS) {
      for (const layout of LAYOUTS) {
        for (const esn of [false, true]) {
          const request = buildRequest(pair, layout, esn, variant);
          variant += 1;
          const gap = scapyKnownGap(request);

          if (gap !== undefined) {
            // The engine's cross-check computes these ICVs itself; here the oracle must say no.
            test(`${caseName(pair, layout, esn)} is reported unsupported`, async () => {
              await assert.rejects(oracle.encrypt(request), isOracleError('unsupported'));
            });
            continue;
          }

          test(caseName(pair, layout, esn), async () => {
            const output = await oracle.encrypt(request);

            const outer = readOuterHeader(output);
            const expectedSource = layout.mode === 'tunnel'
              ? parseAddress(request.tunnelSrc ?? '')
              : request.packet.slice(layout.inner === 4 ? 12 : 8, layout.inner === 4 ? 16 : 24);
            assert.equal(outer.version, layout.outer);
            assert.deepEqual(outer.source, expectedSource);
            assert.equal(outer.protocol, pair.proto === 'esp' ? IPPROTO_ESP : IPPROTO_AH);

            const spiOffset = outer.headerLength + (pair.proto === 'ah' ? 4 : 0);
            assert.equal(readUint32(output, spiOffset), request.spi);
            assert.equal(readUint32(output, spiOffset + 4), request.seq % 2 ** 32);

            const decryptRequest = { ...request, packet: output };
            assert.deepEqual(await oracle.decrypt(decryptRequest), request.packet);

            if (pair.auth !== null || pair.crypt !== 'AES-CBC') {
              const tampered = withFlippedByte(output, icvOffset(request, output));
              await assert.rejects(
                oracle.decrypt({ ...request, packet: tampered }),
                isOracleError('integrity'),
              );
            }
          });
        }
      }
    }
  });

  describe('extended sequence numbers', () => {
    const base = buildRequest(
      { proto: 'esp', crypt: 'AES-GCM', auth: null }, LAYOUTS[0] as Layout, true, 1,
    );
    const highBitsCases: TransformPair[] = [
      { proto: 'esp', crypt: 'AES-GCM', auth: null },
      { proto: 'esp', crypt: 'CHACHA20-POLY1305', auth: null },
      { proto: 'esp', crypt: 'AES-GMAC', auth: null },
      { proto: 'ah', crypt: null, auth: 'SHA2-256-128' },
    ];

    test('wire carries low 32 bits', async () => {
      const output = await oracle.encrypt({ ...base, seq: 5 * 2 ** 32 + 9 });
      assert.equal(readUint32(output, 20 + 4), 9);
    });

    test('low bits may wrap to zero', async () => {
      const request = { ...base, seq: 2 ** 32 };
      const output = await oracle.encrypt(request);
      assert.equal(readUint32(output, 20 + 4), 0);
      assert.deepEqual(await oracle.decrypt({ ...request, packet: output }), request.packet);
    });

    for (const pair of highBitsCases) {
      const name = `${pair.crypt ?? pair.proto.toUpperCase()} ICV covers high bits`;
      test(name, async () => {
        const request = buildRequest(pair, LAYOUTS[0] as Layout, true, 2);
        const output = await oracle.encrypt(request);
        const otherHighBits = { ...request, seq: request.seq + 2 ** 32, packet: output };
        await assert.rejects(oracle.decrypt(otherHighBits), isOracleError('integrity'));
      });
    }

    test('32-bit SA rejects 33-bit seq', async () => {
      await assert.rejects(
        oracle.encrypt({ ...base, esn: false, seq: 2 ** 32 }),
        isOracleError('invalid-request'),
      );
    });

    test('ESP HMAC with ESN unsupported', async () => {
      const request = buildRequest(
        { proto: 'esp', crypt: 'AES-CBC', auth: 'HMAC-SHA1-96' }, LAYOUTS[0] as Layout, true, 3,
      );
      assert.match(scapyKnownGap(request) ?? '', /ESN/);
      await assert.rejects(oracle.encrypt(request), isOracleError('unsupported'));
    });
  });

  describe('ESP in UDP', () => {
    const ports = { sport: 4500, dport: 4501 };
    const pairs: TransformPair[] = [
      { proto: 'esp', crypt: 'AES-GCM', auth: null },
      { proto: 'esp', crypt: 'AES-CBC', auth: 'SHA2-256-128' },
      { proto: 'esp', crypt: 'AES-GMAC', auth: null },
    ];

    for (const pair of pairs) {
      for (const layout of [LAYOUTS[0], LAYOUTS[3], LAYOUTS[4], LAYOUTS[5]] as Layout[]) {
        test(`${caseName(pair, layout, false)} in UDP`, async () => {
          const request = { ...buildRequest(pair, layout, false, 7), espInUdp: ports };
          const output = await oracle.encrypt(request);

          const outer = readOuterHeader(output);
          const udpOffset = outer.headerLength;
          assert.equal(outer.protocol, IPPROTO_UDP);
          assert.equal(readUint16(output, udpOffset), ports.sport);
          assert.equal(readUint16(output, udpOffset + 2), ports.dport);
          assert.equal(readUint16(output, udpOffset + 4), output.length - udpOffset);
          assert.equal(readUint16(output, udpOffset + 6), 0);
          assert.equal(readUint32(output, udpOffset + 8), request.spi);

          assert.deepEqual(await oracle.decrypt({ ...request, packet: output }), request.packet);

          const tampered = withFlippedByte(output, output.length - 1);
          await assert.rejects(
            oracle.decrypt({ ...request, packet: tampered }),
            isOracleError('integrity'),
          );
        });
      }
    }

    test('wrong UDP port is malformed', async () => {
      const request = {
        ...buildRequest(pairs[0] as TransformPair, LAYOUTS[0] as Layout, false, 8),
        espInUdp: ports,
      };
      const output = await oracle.encrypt(request);
      const otherPorts = { ...request, packet: output, espInUdp: { sport: 4500, dport: 4500 } };
      await assert.rejects(oracle.decrypt(otherPorts), isOracleError('malformed'));
    });
  });

  describe('oracle behaviour', () => {
    const gcm = buildRequest(
      { proto: 'esp', crypt: 'AES-GCM', auth: null }, LAYOUTS[5] as Layout, false, 4,
    );

    test('requests in flight stay ordered', async () => {
      const requests = Array.from({ length: 24 }, (_, index) => ({
        ...gcm,
        seq: index + 1,
        packet: innerPacket(index % 2 === 0 ? 4 : 6, index + 1, index),
      }));
      const outputs = await Promise.all(requests.map((request) => oracle.encrypt(request)));
      const recovered = await Promise.all(requests.map((request, index) =>
        oracle.decrypt({ ...request, packet: outputs[index] ?? new Uint8Array() })));
      recovered.forEach((packet, index) => {
        assert.deepEqual(packet, requests[index]?.packet, `request ${index}`);
      });
    });

    test('explicit IV gives repeatable output', async () => {
      const request = { ...gcm, iv: fromHex('0001020304050607') };
      const first = await oracle.encrypt(request);
      const second = await oracle.encrypt(request);
      assert.deepEqual(first, second);
    });

    test('missing IV draws a random one', async () => {
      const first = await oracle.encrypt(gcm);
      const second = await oracle.encrypt(gcm);
      assert.notDeepEqual(first, second);
    });

    test('invalid requests leave oracle running', async () => {
      const wrongKey = { ...gcm, cryptKey: new Uint8Array(16) };
      const ahWithCrypt = { ...gcm, proto: 'ah' as const, auth: 'HMAC-SHA1-96' as const };
      const gcmWithAuth = { ...gcm, auth: 'SHA2-256-128' as const, authKey: new Uint8Array(32) };
      const nullWithoutAuth = { ...gcm, crypt: 'NULL' as const, cryptKey: null };
      const shortIv = { ...gcm, iv: new Uint8Array(4) };
      for (const request of [wrongKey, ahWithCrypt, gcmWithAuth, nullWithoutAuth, shortIv]) {
        await assert.rejects(oracle.encrypt(request), isOracleError('invalid-request'));
      }

      const truncated = await oracle.encrypt(gcm);
      await assert.rejects(
        oracle.decrypt({ ...gcm, packet: truncated.subarray(0, 60) }),
        isOracleError('malformed'),
      );
      await assert.rejects(
        oracle.decrypt({ ...gcm, packet: new Uint8Array([0x70, 0, 0, 0]) }),
        isOracleError('malformed'),
      );

      const output = await oracle.encrypt(gcm);
      assert.deepEqual(await oracle.decrypt({ ...gcm, packet: output }), gcm.packet);
    });

    test('wrong SPI is malformed', async () => {
      const output = await oracle.encrypt(gcm);
      await assert.rejects(
        oracle.decrypt({ ...gcm, spi: gcm.spi + 1, packet: output }),
        isOracleError('malformed'),
      );
    });

    test('GMAC leaves payload in cleartext', async () => {
      // RFC 4543 section 3: IV, then the payload, padding and trailer unencrypted, then the ICV.
      const iv = fromHex('a0a1a2a3a4a5a6a7');
      const request = buildRequest(
        { proto: 'esp', crypt: 'AES-GMAC', auth: null }, LAYOUTS[5] as Layout, false, 5,
      );
      const output = await oracle.encrypt({ ...request, iv });
      const payload = request.packet.subarray(40);
      const trailerEnd = output.length - 16;
      const padLength = output[trailerEnd - 2] ?? -1;
      const padding = output.subarray(56 + payload.length, trailerEnd - 2);

      assert.deepEqual(output.subarray(48, 56), iv);
      assert.deepEqual(output.subarray(56, 56 + payload.length), payload);
      assert.equal(output[trailerEnd - 1], IPPROTO_UDP);
      assert.equal(padding.length, padLength);
      assert.deepEqual(padding, Uint8Array.from({ length: padLength }, (_, index) => index + 1));
      assert.equal((trailerEnd - 48) % 4, 0);
    });

    test('ICMPv6 inner packet round trips', async () => {
      const payload = icmpEcho({
        identifier: 7, sequence: 1, data: pattern(20, 1), ipv6: INNER_V6,
      });
      const packet = ipv6Packet({ ...INNER_V6, nextHeader: IPPROTO_ICMPV6, payload });
      const request = { ...gcm, packet };
      const output = await oracle.encrypt(request);
      assert.deepEqual(await oracle.decrypt({ ...request, packet: output }), packet);
    });
  });
});
