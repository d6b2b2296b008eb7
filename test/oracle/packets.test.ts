/**
 * Checks the test packet builders against Scapy: Scapy parses each packet, recomputes every
 * length and checksum, and must write back the same bytes. Address parsing is checked against
 * RFC 4291 forms. With CI set, a missing Scapy fails the run in place of skipping it.
 */

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

import {
  IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_UDP, fromHex, icmpEcho, internetChecksum, ipv4Packet,
  ipv6Packet, parseIpv6Address, toHex, udpPayload,
} from './packets.js';
import { PYTHON_PATH, scapyAvailable } from './scapy-oracle.js';

const skipWithoutScapy = !scapyAvailable() && !process.env.CI
  ? 'needs /usr/bin/python3 with Scapy 2.5.0'
  : false;

// Reads hex packets from argv, clears each length and checksum field that Scapy can compute,
// and prints the rebuilt packets as hex, one per line.
const RECOMPUTE_SCRIPT = `
import sys
from scapy.layers.inet import IP, UDP, ICMP
from scapy.layers.inet6 import IPv6, ICMPv6EchoRequest, ICMPv6EchoReply
FIELDS = {
    IP: ('len', 'chksum'), IPv6: ('plen',), UDP: ('len', 'chksum'), ICMP: ('chksum',),
    ICMPv6EchoRequest: ('cksum',), ICMPv6EchoReply: ('cksum',),
}
for text in sys.argv[1:]:
    data = bytes.fromhex(text)
    packet = IP(data) if data[0] >> 4 == 4 else IPv6(data)
    for layer, fields in FIELDS.items():
        if packet.haslayer(layer):
            for field in fields:
                delattr(packet[layer], field)
    print(bytes(packet).hex())
`;

function recomputeWithScapy(packets: Uint8Array[]): string[] {
  const result = spawnSync(PYTHON_PATH, ['-c', RECOMPUTE_SCRIPT, ...packets.map(toHex)], {
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim().split('\n');
}

const V4 = { src: '192.0.2.1', dst: '198.51.100.2' };
const V6 = { src: '2001:db8::1', dst: '2001:db8:0:1::2' };

describe('packet builders', () => {
  test('Scapy agrees on checksums', { skip: skipWithoutScapy }, () => {
    const data = fromHex('000102030405060708090a0b0c0d0e0f10');
    const packets = [
      ipv4Packet({
        ...V4, protocol: IPPROTO_ICMP, ttl: 17, id: 0xbeef, flags: 2, tos: 0xb8,
        payload: icmpEcho({ identifier: 9, sequence: 300, data }),
      }),
      ipv4Packet({
        ...V4, protocol: IPPROTO_UDP,
        payload: udpPayload({ ...V4, srcPort: 5000, dstPort: 53, data }),
      }),
      ipv6Packet({
        ...V6, nextHeader: IPPROTO_UDP, hopLimit: 3, trafficClass: 0x28, flowLabel: 0x12345,
        payload: udpPayload({ ...V6, srcPort: 5000, dstPort: 53, data }),
      }),
      ipv6Packet({
        ...V6, nextHeader: IPPROTO_ICMPV6,
        payload: icmpEcho({ identifier: 9, sequence: 1, data, ipv6: V6 }),
      }),
      ipv6Packet({
        ...V6, nextHeader: IPPROTO_ICMPV6,
        payload: icmpEcho({ identifier: 9, sequence: 1, data, ipv6: V6, reply: true }),
      }),
    ];

    const rebuilt = recomputeWithScapy(packets);
    packets.forEach((packet, index) => {
      assert.equal(rebuilt[index], toHex(packet), `packet ${index}`);
    });
  });

  test('IPv6 address forms parse', () => {
    const expected = '20010db8000000000000000000000001';
    assert.equal(toHex(parseIpv6Address('2001:db8::1')), expected);
    assert.equal(toHex(parseIpv6Address('2001:0db8:0:0:0:0:0:1')), expected);
    assert.equal(toHex(parseIpv6Address('::')), '0'.repeat(32));
    assert.equal(toHex(parseIpv6Address('fe80::')), `fe80${'0'.repeat(28)}`);
  });

  test('invalid addresses are rejected', () => {
    assert.throws(() => parseIpv6Address('2001:db8::1::2'), /invalid IPv6 address/);
    assert.throws(() => parseIpv6Address('2001:db8:1:2:3:4:5'), /invalid IPv6 address/);
    assert.throws(
      () => ipv4Packet({
        src: '192.0.2.256', dst: '192.0.2.1', protocol: IPPROTO_ICMP, payload: new Uint8Array(0),
      }),
      /invalid IPv4 address/,
    );
  });

  test('checksum of odd-length data', () => {
    // RFC 1071: an odd final byte is summed as if a zero byte followed it.
    assert.equal(internetChecksum(fromHex('0102 03')), ~(0x0102 + 0x0300) & 0xffff);
  });
});
