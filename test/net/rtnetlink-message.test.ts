/**
 * Routing netlink messages. The expected bytes are written out by hand from the kernel's struct
 * layouts (struct nlmsghdr, rtmsg and rtattr in linux/netlink.h and linux/rtnetlink.h) on a
 * little-endian host, and hostile replies must fail with NetlinkFormatError only.
 */

import assert from 'node:assert/strict';
import { endianness } from 'node:os';
import { describe, it } from 'node:test';
import {
  AF_INET,
  encodeRequest,
  errnoText,
  NetlinkFormatError,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_REQUEST,
  NLMSG_ERROR,
  RTA_DST,
  RTA_OIF,
  RTM_NEWROUTE,
  readAttributes,
  readErrorReply,
  readRouteMessage,
  routeBody,
  splitMessages,
  u32Attribute,
} from '../../main/net/netlink/rtnetlink-message.js';
import { SeededRandom } from '../support/prng.js';

const littleEndian = endianness() === 'LE';

function hex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
}

describe('rtnetlink requests', { skip: littleEndian ? false : 'the expected bytes are written for a little-endian host' }, () => {
  it('route add request matches the kernel layout', () => {
    const body = routeBody({ family: AF_INET, dstLength: 24, table: 254, protocol: 3, scope: 253, type: 1 });
    const message = encodeRequest(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, 0x01020304, body, [
      { type: RTA_DST, value: Uint8Array.of(203, 0, 113, 0) },
      u32Attribute(RTA_OIF, 7),
    ]);

    const expected = hex(`
      2c000000 1800 0506 04030201 00000000
      02 18 00 00 fe 03 fd 01 00000000
      0800 0100 cb007100
      0800 0400 07000000`);
    assert.deepEqual(message, expected);
  });

  it('odd attribute length is padded to 4 bytes', () => {
    const message = encodeRequest(RTM_NEWROUTE, NLM_F_REQUEST, 1, new Uint8Array(12), [{ type: 3, value: Uint8Array.of(0xaa) }]);
    assert.equal(message.length, 16 + 12 + 8);
    assert.deepEqual(message.subarray(28), hex('0500 0300 aa000000'));
  });
});

describe('rtnetlink replies', { skip: littleEndian ? false : 'the replies are written for a little-endian host' }, () => {
  it('acknowledgement and error are read', () => {
    // NLMSG_ERROR (flags NLM_F_CAPPED | NLM_F_ACK_TLVS) with error -17 (EEXIST), the request's
    // header alone, and NLMSGERR_ATTR_MSG "dupe\0": length 4 + 5, padded to 12.
    const reply = hex(`
      30000000 0200 0003 05000000 00000000
      efffffff
      1c000000 1800 0506 05000000 00000000
      0900 0100 64757065 00 000000`);
    const [message] = splitMessages(reply);
    assert.equal(message?.type, NLMSG_ERROR);
    const error = readErrorReply(message!);
    assert.equal(error.errno, 17);
    assert.equal(error.explanation, 'dupe');
    assert.equal(errnoText(error.errno), 'File exists');
  });

  it('route reply with table and multipath is read', () => {
    // struct rtmsg with rtm_table 252 (RT_TABLE_COMPAT), then RTA_DST 203.0.113.0, RTA_TABLE
    // 1000, which wins, and RTA_MULTIPATH with two next hops: ifindex 9 with RTA_GATEWAY
    // 192.0.2.1, and ifindex 3 with no attributes.
    const payload = hex(`
      02 18 00 00 fc 04 00 01 00000000
      0800 0100 cb007100
      0800 0f00 e8030000
      1c00 0900 1000 00 00 09000000 0800 0500 c0000201 0800 00 00 03000000`);
    const route = readRouteMessage(payload);
    assert.equal(route.family, AF_INET);
    assert.equal(route.dstLength, 24);
    assert.deepEqual(route.dst, Uint8Array.of(203, 0, 113, 0));
    assert.equal(route.table, 1000);
    assert.equal(route.protocol, 4);
    assert.equal(route.oif, undefined);
    assert.equal(route.nextHops?.length, 2);
    assert.equal(route.nextHops?.[0]?.oif, 9);
    assert.deepEqual(route.nextHops?.[0]?.gateway, Uint8Array.of(192, 0, 2, 1));
    assert.equal(route.nextHops?.[1]?.oif, 3);
    assert.equal(route.nextHops?.[1]?.gateway, undefined);
  });

  it('truncated and oversized lengths rejected', () => {
    assert.throws(() => splitMessages(hex('10000000 0200')), NetlinkFormatError);
    assert.throws(() => splitMessages(hex('ff000000 0200 0000 01000000 00000000')), NetlinkFormatError);
    assert.throws(() => splitMessages(hex('08000000 0200 0000 01000000 00000000')), NetlinkFormatError);
    assert.throws(() => readAttributes(hex('0900 0100 aabbcc'), 0), NetlinkFormatError);
    assert.throws(() => readAttributes(hex('0200 0100'), 0), NetlinkFormatError);
    assert.throws(() => readRouteMessage(hex('0a40')), NetlinkFormatError);
  });

  it('random replies fail only with NetlinkFormatError', () => {
    const random = new SeededRandom(0x4e4c);
    for (let round = 0; round < 5000; round++) {
      const bytes = random.bytes(random.integer(96));
      // Plausible headers more often than chance gives them.
      if (bytes.length >= 16 && random.integer(2) === 0) {
        new DataView(bytes.buffer).setUint32(0, 16 + random.integer(bytes.length - 15), true);
      }
      try {
        for (const message of splitMessages(bytes)) {
          if (message.type === NLMSG_ERROR) {
            readErrorReply(message);
          } else {
            readRouteMessage(message.payload);
          }
        }
      } catch (error) {
        assert.ok(error instanceof NetlinkFormatError, `round ${round}: ${String(error)}`);
      }
    }
  });
});
