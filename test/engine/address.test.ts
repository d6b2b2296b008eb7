/**
 * Address text: the IP version check agrees with Node's net.isIP, and parsing and formatting
 * follow RFC 4291 section 2.2 and RFC 5952 sections 4 and 5.
 */

import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { describe, it } from 'node:test';
import { formatAddress, ipVersion, parseAddress } from '../../main/engine/address.js';
import { SeededRandom } from '../support/prng.js';

describe('address text', () => {
  it('ipVersion agrees with net.isIP', () => {
    const samples = [
      '192.0.2.1', '0.0.0.0', '255.255.255.255', '256.0.0.1', '192.0.2', '192.0.2.1.5', '01.2.3.4',
      '2001:db8::1', '::', '::1', '::ffff:192.0.2.1', 'fe80::1%eth0', '2001:db8::g', '2001:db8:::1',
      'gw.example.org', 'client@example.org', '', ':', 'C=SI, O=Lupina, CN=gw',
    ];
    for (const text of samples) {
      assert.equal(ipVersion(text), isIP(text), text);
    }
  });

  it('random text agrees with net.isIP', () => {
    const random = new SeededRandom(0x1b6);
    const alphabet = '0123456789abcdef.:%g';
    for (let round = 0; round < 20_000; round++) {
      const length = 1 + random.integer(24);
      const text = Array.from({ length }, () => alphabet[random.integer(alphabet.length)]).join('');
      assert.equal(ipVersion(text), isIP(text), text);
    }
  });

  it('IPv6 text round-trips canonically', () => {
    assert.equal(formatAddress(parseAddress('2001:0db8:0000:0000:0000:0000:0000:0001')), '2001:db8::1');
    assert.deepEqual(parseAddress('::ffff:192.0.2.1').subarray(10), Uint8Array.of(0xff, 0xff, 192, 0, 2, 1));
  });

  it('IPv4-mapped text uses dotted decimal', () => {
    assert.equal(formatAddress(parseAddress('::ffff:c000:201')), '::ffff:192.0.2.1');
    assert.equal(formatAddress(parseAddress('::fffe:c000:201')), '::fffe:c000:201');
    assert.equal(formatAddress(parseAddress('::c000:201')), '::c000:201');
    assert.deepEqual(parseAddress('203.0.113.7'), Uint8Array.of(203, 0, 113, 7));
  });
});
