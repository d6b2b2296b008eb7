// The TCP offload rules of native/src/tun_offload.c through the addon's offloadSplit() and
// offloadMerge(), without a device. Packets and checksums come from fixtures/offload-packets.ts,
// which shares no code with the addon.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { loadNative } from '../../main/net/native.js';
import {
  addWords,
  buildFrame,
  buildSegment,
  buildStream,
  checkPacket,
  complement,
  fold,
  GSO_ECN,
  GSO_NONE,
  GSO_TCPV4,
  GSO_TCPV6,
  GSO_UDP,
  GSO_UDP_L4,
  headerLengths,
  ipv4HeaderChecksumValid,
  NEEDS_CSUM,
  PROTOCOL_TCP,
  PROTOCOL_UDP,
  pseudoHeaderSum,
  readVirtioHeader,
  seededRandom,
  setIpv4HeaderChecksum,
  setTransportChecksum,
  SOURCE_V4,
  SOURCE_V6,
  DESTINATION_V4,
  DESTINATION_V6,
  TCP_ACK,
  TCP_CHECKSUM_OFFSET,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  TCP_URG,
  tcpPayload,
  timestampsOption,
  transportChecksumValid,
  VIRTIO_HEADER_LENGTH,
  type StreamOptions,
} from './fixtures/offload-packets.js';
import { RESULT_PREFIX } from './fixtures/netns.js';

const native = loadNative();
const random = seededRandom(0x5eed);
const ZERO_HEADER = Buffer.alloc(VIRTIO_HEADER_LENGTH);
const FUZZ_SCRIPT = fileURLToPath(new URL('./fixtures/offload-fuzz.ts', import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

function stream(options: Omit<StreamOptions, 'random'>): Buffer[] {
  return buildStream({ ...options, random });
}

/** Asserts that offloadMerge() wrote one GSO frame for packets, and checks every field of it. */
function assertMerged(packets: Buffer[]): Buffer {
  const frames = native.offloadMerge(packets);
  assert.equal(frames.length, 1, `expected one frame for ${packets.length} segments, got ${frames.length}`);
  const frame = frames[0]!;
  const first = packets[0]!;
  const family = first[0]! >> 4;
  const { ipLength, headerLength } = headerLengths(first);
  const payload = Buffer.concat(packets.map(tcpPayload));
  const merged = frame.subarray(VIRTIO_HEADER_LENGTH);

  const header = readVirtioHeader(frame);
  assert.equal(header.flags, NEEDS_CSUM, 'flags');
  assert.equal(header.gsoType, family === 4 ? GSO_TCPV4 : GSO_TCPV6, 'gso_type');
  assert.equal(header.hdrLen, headerLength, 'hdr_len');
  assert.equal(header.gsoSize, first.length - headerLength, 'gso_size');
  assert.equal(header.csumStart, ipLength, 'csum_start');
  assert.equal(header.csumOffset, TCP_CHECKSUM_OFFSET, 'csum_offset');

  assert.equal(merged.length, headerLength + payload.length, 'merged length');
  assert.ok(merged.subarray(headerLength).equals(payload), 'merged payload is the concatenated payloads');
  if (family === 4) {
    assert.equal(merged.readUInt16BE(2), merged.length, 'IPv4 total length');
    assert.ok(ipv4HeaderChecksumValid(merged), 'IPv4 header checksum');
  } else {
    assert.equal(merged.readUInt16BE(4), merged.length - 40, 'IPv6 payload length');
  }
  const partial = fold(pseudoHeaderSum(merged, family as 4 | 6, PROTOCOL_TCP, merged.length - ipLength));
  assert.equal(merged.readUInt16BE(ipLength + TCP_CHECKSUM_OFFSET), partial, 'TCP checksum field holds the folded pseudo-header sum');

  const last = packets[packets.length - 1]!;
  assert.equal(merged[ipLength + 13]! & TCP_PSH, last[ipLength + 13]! & TCP_PSH, 'PSH of the last segment');
  return frame;
}

/** Asserts that offloadSplit() gives back exactly the packets, each with valid checksums. */
function assertSplitsInto(frame: Buffer, packets: Buffer[]): void {
  const segments = native.offloadSplit(frame);
  assert.equal(segments.length, packets.length, 'segment count');
  segments.forEach((segment, index) => {
    assert.deepEqual(checkPacket(segment), { kind: 'valid' }, `segment ${index} checksums`);
    assert.equal(segment.toString('hex'), packets[index]!.toString('hex'), `segment ${index} bytes`);
  });
}

/**
 * Asserts how offloadMerge() groups packets: groups lists the size of each frame's group. A
 * group of one must be a frame with an all-zero virtio header and the packet as it is.
 */
function assertGroups(packets: Buffer[], groups: number[]): void {
  const frames = native.offloadMerge(packets);
  const sizes = frames.map((frame) => (readVirtioHeader(frame).gsoType === GSO_NONE ? 1 : native.offloadSplit(frame).length));
  assert.deepEqual(sizes, groups, 'group sizes');
  let index = 0;
  for (const [position, frame] of frames.entries()) {
    const size = groups[position]!;
    if (size === 1) {
      assert.ok(frame.subarray(0, VIRTIO_HEADER_LENGTH).equals(ZERO_HEADER), `frame ${position} has an all-zero virtio header`);
      assert.ok(frame.subarray(VIRTIO_HEADER_LENGTH).equals(packets[index]!), `frame ${position} holds packet ${index} unchanged`);
    } else {
      assertSplitsInto(frame, packets.slice(index, index + size));
    }
    index += size;
  }
}

/** Copies a packet, lets change() edit it, and recomputes both checksums unless fixChecksums is false. */
function edited(packet: Buffer, change: (copy: Buffer) => void, fixChecksums = true): Buffer {
  const copy = Buffer.from(packet);
  change(copy);
  if (fixChecksums) {
    const family = copy[0]! >> 4 === 4 ? 4 : 6;
    const { ipLength } = headerLengths(copy);
    if (family === 4) {
      setIpv4HeaderChecksum(copy);
    }
    setTransportChecksum(copy, family, ipLength, PROTOCOL_TCP);
  }
  return copy;
}

function setTcpFlags(packet: Buffer, flags: number): Buffer {
  const { ipLength } = headerLengths(packet);
  return edited(packet, (copy) => {
    copy[ipLength + 13] = flags;
  });
}

/** Asserts that offloadSplit() rejects a frame with a TypeError of code ERR_LUPINA_OFFLOAD. */
function assertRejected(frame: Buffer, message: string): void {
  assert.throws(
    () => native.offloadSplit(frame),
    (error: unknown) => error instanceof TypeError && (error as { code?: string }).code === 'ERR_LUPINA_OFFLOAD',
    message,
  );
}

describe('offloadMerge and offloadSplit round trip', () => {
  for (const family of [4, 6] as const) {
    for (const timestamps of [false, true]) {
      const options = timestamps ? 'timestamps' : 'no TCP options';
      test(`IPv${family} stream with ${options}`, () => {
        const tcpOptions = timestamps ? timestampsOption(0x01020304, 0xa0b0c0d0) : undefined;
        const optionLength = tcpOptions?.length ?? 0;
        const mss = (family === 4 ? 1460 : 1440) - optionLength;
        const packets = stream({ family, mss, count: 7, lastPayload: 517, tcpOptions, sequence: 0xfffff000 });

        assertSplitsInto(assertMerged(packets), packets);
      });
    }
  }

  test('random streams of both families', () => {
    for (let round = 0; round < 60; round++) {
      const family = round % 2 === 0 ? 4 : 6;
      const tcpOptions = random() < 0.5 ? timestampsOption(round * 1000, round) : undefined;
      const mss = 1 + Math.floor(random() * 9000);
      const headerLength = (family === 4 ? 40 : 60) + (tcpOptions?.length ?? 0);
      const maxCount = Math.min(64, Math.floor((65535 - headerLength) / mss) + 1);
      const count = 2 + Math.floor(random() * (maxCount - 1));
      const lastPayload = Math.min(1 + Math.floor(random() * mss), 65535 - headerLength - (count - 1) * mss);
      if (count > maxCount || lastPayload < 1) {
        continue;
      }
      const packets = stream({
        family,
        mss,
        count,
        lastPayload,
        tcpOptions,
        sequence: Math.floor(random() * 2 ** 32),
        identification: Math.floor(random() * 0x10000),
        pushLast: random() < 0.5,
      });

      assertSplitsInto(assertMerged(packets), packets);
    }
  });

  test('IPv4 identification wraps from 0xffff to 0', () => {
    const packets = stream({ family: 4, mss: 100, count: 3, identification: 0xffff });

    assertSplitsInto(assertMerged(packets), packets);
  });

  test('total of exactly 65535 bytes merges', () => {
    const packets = stream({ family: 4, mss: 32760, count: 2, lastPayload: 32735 });
    assert.equal(packets[0]!.length + packets[1]!.length - 40, 65535);

    assertSplitsInto(assertMerged(packets), packets);
  });

  test('at most 64 packets per frame', () => {
    const packets = stream({ family: 4, mss: 10, count: 70 });

    assertGroups(packets, [64, 6]);
  });

  test('two streams one after the other', () => {
    const first = stream({ family: 4, mss: 500, count: 3 });
    const second = stream({ family: 6, mss: 700, count: 4, sourcePort: 40001 });

    assertGroups([...first, ...second], [3, 4]);
  });
});

describe('offloadMerge keeps packets apart', () => {
  const family4 = (): Buffer[] => stream({ family: 4, mss: 1000, count: 2, pushLast: false });
  const family6 = (): Buffer[] => stream({ family: 6, mss: 1000, count: 2, pushLast: false });
  const ipv4Packet = (fields: Parameters<typeof buildSegment>[0]): Buffer =>
    buildSegment({ family: 4, sequence: 2000, identification: 0x4322, payload: Buffer.alloc(1000, 7), ...fields });

  const cases: { name: string; packets: () => Buffer[]; groups: number[] }[] = [
    {
      name: 'different ports',
      packets: () => {
        const [a, b] = family4();
        return [a!, edited(b!, (copy) => copy.writeUInt16BE(40001, 20))];
      },
      groups: [1, 1],
    },
    {
      name: 'gap in sequence numbers',
      packets: () => {
        const [a, b] = family4();
        return [a!, edited(b!, (copy) => copy.writeUInt32BE(copy.readUInt32BE(24) + 1, 24))];
      },
      groups: [1, 1],
    },
    {
      name: 'bad TCP checksum on the second packet',
      packets: () => {
        const [a, b] = family4();
        return [a!, edited(b!, (copy) => (copy[36] = copy[36]! ^ 0x01), false)];
      },
      groups: [1, 1],
    },
    {
      name: 'bad TCP checksum on the first packet',
      packets: () => {
        const [a, b, c] = stream({ family: 6, mss: 1000, count: 3 });
        return [edited(a!, (copy) => (copy[56] = copy[56]! ^ 0x80), false), b!, c!];
      },
      groups: [1, 2],
    },
    {
      name: 'bad IPv4 header checksum',
      packets: () => {
        const [a, b] = family4();
        return [a!, edited(b!, (copy) => (copy[10] = copy[10]! ^ 0x01), false)];
      },
      groups: [1, 1],
    },
    ...(
      [
        ['SYN', TCP_SYN],
        ['FIN', TCP_FIN],
        ['RST', TCP_RST],
        ['URG', TCP_URG],
      ] as const
    ).map(([flag, bit]) => ({
      name: `${flag} flag`,
      packets: () => {
        const [a, b] = family4();
        return [a!, setTcpFlags(b!, TCP_ACK | bit)];
      },
      groups: [1, 1],
    })),
    {
      name: 'PSH on a segment that is not the last',
      packets: () => {
        const [a, b] = family4();
        return [setTcpFlags(a!, TCP_ACK | TCP_PSH), b!];
      },
      groups: [1, 1],
    },
    {
      name: 'IPv4 options',
      packets: () => stream({ family: 4, mss: 1000, count: 2, ipOptions: Buffer.from([1, 1, 1, 0]) }),
      groups: [1, 1],
    },
    {
      name: 'IPv4 fragment with MF',
      packets: () => [ipv4Packet({ sequence: 1000, identification: 0x4321, fragment: 0x2000 }), ipv4Packet({ fragment: 0x2000 })],
      groups: [1, 1],
    },
    {
      name: 'IPv4 fragment offset',
      packets: () => {
        const [a] = family4();
        return [a!, ipv4Packet({ fragment: 0x0010 })];
      },
      groups: [1, 1],
    },
    {
      name: 'non-consecutive IPv4 identifications',
      packets: () => {
        const [a] = family4();
        return [a!, ipv4Packet({ identification: 0x4323 })];
      },
      groups: [1, 1],
    },
    {
      name: 'middle segment shorter than the first',
      packets: () => stream({ family: 4, mss: 1000, payloadLengths: [1000, 999, 1000] }),
      groups: [2, 1],
    },
    {
      name: 'second segment longer than the first',
      packets: () => stream({ family: 6, mss: 1000, payloadLengths: [1000, 1001] }),
      groups: [1, 1],
    },
    {
      name: 'total over 65535 bytes in IPv4',
      packets: () => stream({ family: 4, mss: 32760, count: 2, lastPayload: 32736 }),
      groups: [1, 1],
    },
    {
      name: 'total over 65535 bytes in IPv6',
      packets: () => stream({ family: 6, mss: 30000, count: 3 }),
      groups: [2, 1],
    },
    {
      name: 'different TTL',
      packets: () => {
        const [a] = family4();
        return [a!, ipv4Packet({ ttl: 63 })];
      },
      groups: [1, 1],
    },
    {
      name: 'different TOS',
      packets: () => {
        const [a] = family4();
        return [a!, ipv4Packet({ tos: 0x10 })];
      },
      groups: [1, 1],
    },
    {
      name: 'different IPv6 hop limit',
      packets: () => {
        const [a, b] = family6();
        return [a!, edited(b!, (copy) => (copy[7] = 63))];
      },
      groups: [1, 1],
    },
    {
      name: 'different IPv6 traffic class',
      packets: () => {
        const [a, b] = family6();
        return [a!, edited(b!, (copy) => (copy[1] = copy[1]! | 0x40))];
      },
      groups: [1, 1],
    },
    {
      name: 'different IPv6 flow label',
      packets: () => {
        const [a, b] = family6();
        return [a!, edited(b!, (copy) => (copy[3] = copy[3]! ^ 0x01))];
      },
      groups: [1, 1],
    },
    {
      name: 'different DF',
      packets: () => {
        const [a] = family4();
        return [a!, ipv4Packet({ fragment: 0 })];
      },
      groups: [1, 1],
    },
    {
      name: 'different destination address',
      packets: () => {
        const [a, b] = family6();
        return [a!, edited(b!, (copy) => (copy[39] = 2))];
      },
      groups: [1, 1],
    },
    {
      name: 'different acknowledgment number',
      packets: () => {
        const [a, b] = family4();
        return [a!, edited(b!, (copy) => copy.writeUInt32BE(78, 28))];
      },
      groups: [1, 1],
    },
    {
      name: 'different window',
      packets: () => {
        const [a, b] = family4();
        return [a!, edited(b!, (copy) => copy.writeUInt16BE(503, 34))];
      },
      groups: [1, 1],
    },
    {
      name: 'different TCP options',
      packets: () => {
        const [a] = stream({ family: 4, mss: 1000, count: 1, pushLast: false, tcpOptions: timestampsOption(5, 6) });
        const b = buildSegment({
          family: 4,
          sequence: 2000,
          identification: 0x4322,
          payload: Buffer.alloc(1000, 1),
          tcpOptions: timestampsOption(6, 6),
        });
        return [a!, b];
      },
      groups: [1, 1],
    },
    {
      name: 'TCP options on one packet only',
      packets: () => {
        const [a] = family4();
        return [a!, buildSegment({ family: 4, sequence: 2000, identification: 0x4322, payload: Buffer.alloc(1000), tcpOptions: timestampsOption(6, 6) })];
      },
      groups: [1, 1],
    },
    {
      name: 'zero payload',
      packets: () => [buildSegment({ family: 4, sequence: 1000 }), buildSegment({ family: 4, sequence: 1000, identification: 0x4322 })],
      groups: [1, 1],
    },
    {
      name: 'IPv4 followed by IPv6',
      packets: () => [family4()[0]!, family6()[1]!],
      groups: [1, 1],
    },
    {
      name: 'IPv4 total length longer than the packet',
      packets: () => {
        const [a, b] = family4();
        return [a!, edited(b!, (copy) => copy.writeUInt16BE(copy.length + 1, 2))];
      },
      groups: [1, 1],
    },
    {
      name: 'not TCP',
      packets: () => {
        const [a, b] = family4();
        return [a!, edited(b!, (copy) => (copy[9] = PROTOCOL_UDP), false)];
      },
      groups: [1, 1],
    },
    {
      name: 'empty and garbage packets',
      packets: () => [Buffer.alloc(0), Buffer.from([0x45]), Buffer.from([0x60, 1, 2])],
      groups: [1, 1, 1],
    },
  ];

  for (const { name, packets, groups } of cases) {
    test(name, () => {
      assertGroups(packets(), groups);
    });
  }

  test('reserved IPv4 flag', () => {
    // Linux GRO (inet_gro_receive) merges no packet with a flag other than DF, and merging
    // would copy the first packet's flags to every segment.
    const [a, b] = family4();
    const reserved = edited(b!, (copy) => (copy[6] = copy[6]! | 0x80));

    assertGroups([a!, reserved], [1, 1]);
  });
});

describe('offloadSplit', () => {
  const [tcp4] = stream({ family: 4, mss: 3000, count: 1 });
  const [tcp6] = stream({ family: 6, mss: 3000, count: 1 });
  const gso4 = { flags: NEEDS_CSUM, gsoType: GSO_TCPV4, hdrLen: 40, gsoSize: 1000, csumStart: 20, csumOffset: 16 };
  const gso6 = { flags: NEEDS_CSUM, gsoType: GSO_TCPV6, hdrLen: 60, gsoSize: 1000, csumStart: 40, csumOffset: 16 };

  test('valid TCP frames of both families split', () => {
    assert.equal(native.offloadSplit(buildFrame(gso4, tcp4!)).length, 3);
    assert.equal(native.offloadSplit(buildFrame(gso6, tcp6!)).length, 3);
    assert.equal(native.offloadSplit(buildFrame({ ...gso6, gsoType: GSO_TCPV6 | GSO_ECN }, tcp6!)).length, 3);
  });

  test('UDP and UDP_L4 GSO types rejected', () => {
    assertRejected(buildFrame({ ...gso4, gsoType: GSO_UDP }, tcp4!), 'GSO_UDP');
    assertRejected(buildFrame({ ...gso4, gsoType: GSO_UDP_L4 }, tcp4!), 'GSO_UDP_L4');
    assertRejected(buildFrame({ ...gso4, gsoType: 0x7f }, tcp4!), 'unknown GSO type');
  });

  test('GSO size 0 rejected', () => {
    assertRejected(buildFrame({ ...gso4, gsoSize: 0 }, tcp4!), 'IPv4');
    assertRejected(buildFrame({ ...gso6, gsoSize: 0 }, tcp6!), 'IPv6');
  });

  test('more than 1024 segments rejected', () => {
    const [large] = stream({ family: 4, mss: 2000, count: 1 });

    assertRejected(buildFrame({ ...gso4, gsoSize: 1 }, large!), 'GSO size 1 with 2000 payload bytes');
    assert.equal(native.offloadSplit(buildFrame({ ...gso4, gsoSize: 2 }, large!)).length, 1000);
  });

  test('checksum position beyond the packet rejected', () => {
    const partial = { flags: NEEDS_CSUM, gsoType: GSO_NONE, csumStart: 20, csumOffset: 16 };
    const length = tcp4!.length;

    assertRejected(buildFrame({ ...partial, csumStart: length + 1 }, tcp4!), 'csum_start past the end');
    assertRejected(buildFrame({ ...partial, csumStart: length - 1, csumOffset: 0 }, tcp4!), 'field straddles the end');
    assertRejected(buildFrame({ ...partial, csumOffset: length - 21 }, tcp4!), 'csum_offset leaves one byte');
    assertRejected(buildFrame({ ...partial, csumOffset: 0xffff }, tcp4!), 'csum_offset 0xffff');
  });

  test('short frames rejected', () => {
    for (let length = 0; length < VIRTIO_HEADER_LENGTH; length++) {
      assertRejected(Buffer.alloc(length), `frame of ${length} bytes`);
    }
    assertRejected(buildFrame(gso4, tcp4!.subarray(0, 39)), 'TCP frame cut inside the TCP header');
    assertRejected(buildFrame(gso6, tcp6!.subarray(0, 39)), 'IPv6 frame cut inside the IPv6 header');
  });

  test('GSO type of the other family rejected', () => {
    assertRejected(buildFrame({ ...gso4, csumStart: 40 }, tcp6!), 'TCPV4 over IPv6');
    assertRejected(buildFrame({ ...gso6, csumStart: 20 }, tcp4!), 'TCPV6 over IPv4');
  });

  test('GSO frame that is not TCP rejected', () => {
    const udp = edited(tcp4!, (copy) => (copy[9] = PROTOCOL_UDP), false);
    setIpv4HeaderChecksum(udp);

    assertRejected(buildFrame(gso4, udp), 'UDP packet with GSO_TCPV4');
  });

  test('empty packet after the virtio header', () => {
    const packets = native.offloadSplit(Buffer.alloc(VIRTIO_HEADER_LENGTH));

    assert.ok(Array.isArray(packets), `offloadSplit() returned ${String(packets)}, not an array`);
    assert.deepEqual(packets, [Buffer.alloc(0)]);
  });

  /**
   * Inserts an 8-byte extension header between the IPv6 and TCP headers of a packet (RFC 8200
   * section 4): destination options with one PadN option, or a routing header.
   */
  function withExtensionHeader(packet: Buffer, type: number): Buffer {
    const extension = Buffer.from([PROTOCOL_TCP, 0, 1, 4, 0, 0, 0, 0]);
    const result = Buffer.concat([packet.subarray(0, 40), extension, packet.subarray(40)]);
    result[6] = type;
    result.writeUInt16BE(result.length - 40, 4);
    return result;
  }

  test('IPv6 destination options header kept in every segment', () => {
    const payload = Buffer.alloc(2500, 0x5a);
    const packet = withExtensionHeader(buildSegment({ family: 6, payload }), 60);
    const segments = native.offloadSplit(buildFrame({ ...gso6, csumStart: 48 }, packet));

    assert.equal(segments.length, 3);
    for (const segment of segments) {
      assert.deepEqual(segment.subarray(40, 48), packet.subarray(40, 48));
      assert.equal(segment.readUInt16BE(4), segment.length - 40);
      assert.ok(transportChecksumValid(segment, 6, 48, PROTOCOL_TCP), 'TCP checksum after the options header');
    }
    assert.deepEqual(Buffer.concat(segments.map((segment) => segment.subarray(68))), payload);
  });

  test('IPv6 routing header rejected', () => {
    const packet = withExtensionHeader(buildSegment({ family: 6, payload: Buffer.alloc(2500) }), 43);

    assertRejected(buildFrame({ ...gso6, csumStart: 48 }, packet), 'routing header before TCP');
  });

  test('frame without offload copied unchanged', () => {
    assert.deepEqual(native.offloadSplit(buildFrame({}, tcp6!)), [tcp6]);
  });

  /** Builds an IPv4 or IPv6 UDP packet whose checksum field contains the partial checksum. */
  function partialUdp(family: 4 | 6, payload: Buffer): { packet: Buffer; ipLength: number } {
    const ipLength = family === 4 ? 20 : 40;
    const packet = Buffer.alloc(ipLength + 8 + payload.length);
    if (family === 4) {
      packet[0] = 0x45;
      packet.writeUInt16BE(packet.length, 2);
      packet[8] = 64;
      packet[9] = PROTOCOL_UDP;
      SOURCE_V4.copy(packet, 12);
      DESTINATION_V4.copy(packet, 16);
      setIpv4HeaderChecksum(packet);
    } else {
      packet[0] = 0x60;
      packet.writeUInt16BE(packet.length - 40, 4);
      packet[6] = PROTOCOL_UDP;
      packet[7] = 64;
      SOURCE_V6.copy(packet, 8);
      DESTINATION_V6.copy(packet, 24);
    }
    packet.writeUInt16BE(5353, ipLength);
    packet.writeUInt16BE(5354, ipLength + 2);
    packet.writeUInt16BE(8 + payload.length, ipLength + 4);
    payload.copy(packet, ipLength + 8);
    // The kernel leaves the folded pseudo-header sum in the field (CHECKSUM_PARTIAL).
    packet.writeUInt16BE(fold(pseudoHeaderSum(packet, family, PROTOCOL_UDP, packet.length - ipLength)), ipLength + 6);
    return { packet, ipLength };
  }

  /** Computes the UDP checksum with the test's own code, with 0 sent as 0xffff. */
  function expectedUdpChecksum(packet: Buffer, family: 4 | 6, ipLength: number): number {
    const copy = Buffer.from(packet);
    setTransportChecksum(copy, family, ipLength, PROTOCOL_UDP);
    return copy.readUInt16BE(ipLength + 6);
  }

  for (const family of [4, 6] as const) {
    test(`IPv${family} UDP partial checksum completed`, () => {
      const { packet, ipLength } = partialUdp(family, Buffer.from('odd length payload!'));
      const [completed] = native.offloadSplit(buildFrame({ flags: NEEDS_CSUM, csumStart: ipLength, csumOffset: 6 }, packet));

      assert.equal(completed!.readUInt16BE(ipLength + 6), expectedUdpChecksum(packet, family, ipLength));
      assert.ok(transportChecksumValid(completed!, family, ipLength, PROTOCOL_UDP), 'completed checksum verifies');
      assert.ok(completed!.subarray(0, ipLength + 6).equals(packet.subarray(0, ipLength + 6)), 'headers unchanged');
      assert.ok(completed!.subarray(ipLength + 8).equals(packet.subarray(ipLength + 8)), 'payload unchanged');
    });

    test(`IPv${family} UDP checksum of 0 sent as 0xffff`, () => {
      // choose the first payload word so that the data sums to 0xffff, whose complement is 0
      const payload = Buffer.alloc(8);
      const { packet: probe, ipLength } = partialUdp(family, payload);
      probe.writeUInt16BE(0, ipLength + 6);
      const sum = fold(addWords(probe, ipLength, probe.length, pseudoHeaderSum(probe, family, PROTOCOL_UDP, probe.length - ipLength)));
      payload.writeUInt16BE(0xffff - sum, 0);
      const { packet } = partialUdp(family, payload);
      packet.writeUInt16BE(0, ipLength + 6);
      assert.equal(complement(addWords(packet, ipLength, packet.length, pseudoHeaderSum(packet, family, PROTOCOL_UDP, packet.length - ipLength))), 0);
      const partial = partialUdp(family, payload).packet;

      const [completed] = native.offloadSplit(buildFrame({ flags: NEEDS_CSUM, csumStart: ipLength, csumOffset: 6 }, partial));

      assert.equal(completed!.readUInt16BE(ipLength + 6), 0xffff);
    });
  }

  test('TCP partial checksum completed', () => {
    const { ipLength } = headerLengths(tcp6!);
    const partial = Buffer.from(tcp6!);
    partial.writeUInt16BE(fold(pseudoHeaderSum(partial, 6, PROTOCOL_TCP, partial.length - ipLength)), ipLength + TCP_CHECKSUM_OFFSET);

    const [completed] = native.offloadSplit(buildFrame({ flags: NEEDS_CSUM, csumStart: ipLength, csumOffset: 16 }, partial));

    assert.equal(completed!.toString('hex'), tcp6!.toString('hex'));
  });

  test('kernel segmentation of flags: CWR first, FIN and PSH last', () => {
    const [whole] = stream({ family: 4, mss: 2500, count: 1, flags: TCP_ACK | 0x80 | TCP_FIN, identification: 7 });
    const segments = native.offloadSplit(buildFrame({ ...gso4, gsoSize: 1000 }, whole!));

    assert.deepEqual(
      segments.map((segment) => segment[33]),
      [TCP_ACK | 0x80, TCP_ACK, TCP_ACK | TCP_FIN | TCP_PSH],
    );
    assert.deepEqual(
      segments.map((segment) => segment.readUInt16BE(4)),
      [7, 8, 9],
    );
    assert.deepEqual(
      segments.map((segment) => segment.readUInt32BE(24) - whole!.readUInt32BE(24)),
      [0, 1000, 2000],
    );
    for (const segment of segments) {
      assert.deepEqual(checkPacket(segment), { kind: 'valid' });
    }
  });
});

describe('hostile input', () => {
  test('20,000 random and mutated inputs to each function', () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', FUZZ_SCRIPT, '20260', '20000'], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
    });

    assert.equal(child.signal, null, `the fuzz process died of ${child.signal}:\n${child.stderr}`);
    assert.equal(child.status, 0, `the fuzz process failed:\n${child.stderr}`);
    const line = child.stdout.split('\n').find((candidate) => candidate.startsWith(RESULT_PREFIX));
    assert.ok(line, `the fuzz process printed no result:\n${child.stdout}`);
    const result = JSON.parse(line.slice(RESULT_PREFIX.length)) as {
      counts: Record<string, number>;
      problemCounts: Record<string, number>;
      anomalies: { function: string; iteration: number; problem: string; inputHex: string[] }[];
    };
    const examples = result.anomalies.map((anomaly) => ({
      ...anomaly,
      inputHex: anomaly.inputHex.map((hex) => (hex.length > 200 ? `${hex.slice(0, 200)}... (${hex.length / 2} bytes)` : hex)),
    }));
    assert.deepEqual(result.problemCounts, {}, `problems and the inputs that show them:\n${JSON.stringify(examples, null, 1)}`);
    assert.ok(result.counts.splitReturned! > 1000, 'enough frames split');
    assert.ok(result.counts.splitRejected! > 1000, 'enough frames rejected');
    assert.ok(result.counts.mergedFrames! > 1000, 'enough merged frames');
  });

  test('a getter that shrinks an earlier buffer cannot make offloadMerge() read freed memory', () => {
    // The getter of the second element shrinks the buffer under the first one. The addon must
    // fetch every element before it takes any pointer, or it reads 64 KiB that are gone.
    const script = `
      import { loadNative } from './main/net/native.ts';
      const buffer = new ArrayBuffer(65536, { maxByteLength: 1 << 20 });
      const packets = [new Uint8Array(buffer, 0, 65536).fill(0x45)];
      Object.defineProperty(packets, 1, { enumerable: true, get() { buffer.resize(0); return new Uint8Array(10); } });
      console.log(JSON.stringify(loadNative().offloadMerge(packets).map((frame) => frame.length)));
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });

    assert.equal(child.signal, null, `the process died of ${child.signal}:\n${child.stderr}`);
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout.trim().split('\n').pop()!), [VIRTIO_HEADER_LENGTH, VIRTIO_HEADER_LENGTH + 10]);
  });
});
