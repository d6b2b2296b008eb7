import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIpHeader } from '../../main/engine/ip-packet.js';
import {
  formatTrafficSelector, packetMatchesSelectors, parseTrafficSelector, TrafficSelectorError,
} from '../../main/engine/traffic-selector.js';
import { ipv4Packet, udpPayload } from '../oracle/packets.js';

describe('traffic selector parsing', () => {
  const cases: [string, string][] = [
    ['192.0.2.0/24', '192.0.2.0/24'],
    ['192.0.2.7/24', '192.0.2.0/24'],
    ['192.0.2.7', '192.0.2.7/32'],
    ['192.0.2.10-192.0.2.20', '192.0.2.10-192.0.2.20'],
    ['2001:db8::/32', '2001:db8::/32'],
    ['0.0.0.0/0[tcp/443]', '0.0.0.0/0[6/443]'],
    ['198.51.100.0/24[udp/500-4500]', '198.51.100.0/24[17/500-4500]'],
    ['203.0.113.0/24[icmp]', '203.0.113.0/24[1]'],
  ];
  for (const [input, expected] of cases) {
    it(`reads ${input}`, () => {
      assert.equal(formatTrafficSelector(parseTrafficSelector(input)), expected);
    });
  }

  for (const invalid of ['192.0.2.0/33', '192.0.2.20-192.0.2.10', 'example.com', '10.0.0.0/8[xyz]', '10.0.0.0/8[tcp/70000]', '']) {
    it(`rejects "${invalid}"`, () => {
      assert.throws(() => parseTrafficSelector(invalid), TrafficSelectorError);
    });
  }
});

describe('traffic selector matching', () => {
  const udp = (src: string, dst: string, srcPort: number, dstPort: number) => ipv4Packet({
    src, dst, protocol: 17, payload: udpPayload({ src, dst, srcPort, dstPort, data: new Uint8Array(4) }),
  });
  const office = [parseTrafficSelector('203.0.113.0/24')];
  const client = [parseTrafficSelector('192.0.2.200/32')];
  const dns = [parseTrafficSelector('203.0.113.53/32[udp/53]')];

  const cases: [string, Uint8Array, boolean, typeof office][] = [
    ['inside both', udp('192.0.2.200', '203.0.113.9', 4000, 80), true, office],
    ['wrong source', udp('192.0.2.201', '203.0.113.9', 4000, 80), false, office],
    ['wrong destination', udp('192.0.2.200', '198.51.100.9', 4000, 80), false, office],
    ['port inside', udp('192.0.2.200', '203.0.113.53', 4000, 53), true, dns],
    ['port outside', udp('192.0.2.200', '203.0.113.53', 4000, 54), false, dns],
  ];
  for (const [name, packet, expected, remote] of cases) {
    it(name, () => {
      const header = parseIpHeader(packet)!;
      assert.equal(packetMatchesSelectors(packet, header, client, remote), expected);
    });
  }
});
