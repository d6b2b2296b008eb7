import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { updateIpv4Checksum } from '../../main/engine/ip-packet.js';
import { echoPacket, makeSaPair, TRANSFORM_CASES } from './fixtures.js';

const AH_CASES = TRANSFORM_CASES.filter((transform) => transform.protocol === 'ah');

describe('AH mutable fields', () => {
  for (const transform of AH_CASES) {
    it(`${transform.name} IPv4 survives TOS, flags and TTL changes`, () => {
      const { outbound, inbound } = makeSaPair({ transform, mode: 'transport', replayWindow: 0 });
      const result = outbound.protect(echoPacket(4));
      assert.ok(result.ok);
      const packet = Uint8Array.from(result.packet);
      packet[1] = 0xb8;
      packet[6] = 0x00;
      packet[8] = 3;
      updateIpv4Checksum(packet);
      const outcome = inbound.unprotect(packet);
      assert.ok(outcome.ok, JSON.stringify(outcome));
    });

    it(`${transform.name} IPv4 immutable change fails`, () => {
      const { outbound, inbound } = makeSaPair({ transform, mode: 'transport', replayWindow: 0 });
      const result = outbound.protect(echoPacket(4));
      assert.ok(result.ok);
      for (const offset of [4, 5, 12, 19]) {
        const packet = Uint8Array.from(result.packet);
        packet[offset]! ^= 1;
        updateIpv4Checksum(packet);
        const outcome = inbound.unprotect(packet);
        assert.equal(!outcome.ok && outcome.reason, 'icv', `byte ${offset}`);
      }
    });

    it(`${transform.name} IPv6 survives class, flow and hop limit changes`, () => {
      const { outbound, inbound } = makeSaPair({ transform, mode: 'tunnel', family: 6, replayWindow: 0 });
      const result = outbound.protect(echoPacket(6));
      assert.ok(result.ok);
      const packet = Uint8Array.from(result.packet);
      packet[0] = 0x6f;
      packet[1] = 0xff;
      packet[3] = 0x42;
      packet[7] = 1;
      const outcome = inbound.unprotect(packet);
      assert.ok(outcome.ok, JSON.stringify(outcome));
    });

    it(`${transform.name} IPv6 header is 8-byte aligned`, () => {
      const { outbound } = makeSaPair({ transform, mode: 'tunnel', family: 6 });
      const result = outbound.protect(echoPacket(6));
      assert.ok(result.ok);
      const ahLength = (result.packet[41]! + 2) * 4;
      assert.equal(ahLength % 8, 0);
      assert.equal(result.packet[6], 51);
      assert.equal(result.packet[40], 41);
    });
  }
});
