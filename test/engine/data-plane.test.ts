/**
 * The whole packet path in memory: two data planes joined by an in-memory "network", each with
 * an in-memory TUN device, as a client and a gateway would run them.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAddress } from '../../main/engine/address.js';
import { DataPlane, type InnerPacketDevice, type ProtectedPacketTransport } from '../../main/engine/data-plane.js';
import { internetChecksum, parseIpHeader } from '../../main/engine/ip-packet.js';
import { SaDatabase } from '../../main/engine/sa-database.js';
import { echoPacket, HOST_V4, HOST_V6, makeSaPair, TRANSFORM_CASES } from './fixtures.js';

class MemoryDevice implements InnerPacketDevice {
  readonly written: Uint8Array[] = [];
  private handler: (packets: Uint8Array[]) => void = () => {};
  onPackets(handler: (packets: Uint8Array[]) => void): void {
    this.handler = handler;
  }
  write(packet: Uint8Array): boolean {
    this.written.push(Uint8Array.from(packet));
    return true;
  }
  /** Delivers packets as if the host had sent them into the TUN device. */
  inject(...packets: Uint8Array[]): void {
    this.handler(packets);
  }
}

class MemoryLink implements ProtectedPacketTransport {
  peer: MemoryLink | null = null;
  readonly sent: Uint8Array[] = [];
  private handler: (packets: Uint8Array[]) => void = () => {};
  onPackets(handler: (packets: Uint8Array[]) => void): void {
    this.handler = handler;
  }
  send(packet: Uint8Array): boolean {
    this.sent.push(Uint8Array.from(packet));
    this.peer?.handler([Uint8Array.from(packet)]);
    return true;
  }
}

function buildPair(family: 4 | 6, mtu = 1400) {
  const transform = TRANSFORM_CASES.find((candidate) => candidate.name === 'ESP AES-GCM-128')!;
  const toGateway = makeSaPair({ transform, family, spi: 0x1111 });
  const toClient = makeSaPair({ transform, family, spi: 0x2222 });
  const clientSad = new SaDatabase();
  clientSad.add(toGateway.outbound);
  clientSad.add(toClient.inbound);
  const gatewaySad = new SaDatabase();
  gatewaySad.add(toClient.outbound);
  gatewaySad.add(toGateway.inbound);

  const clientDevice = new MemoryDevice();
  const gatewayDevice = new MemoryDevice();
  const clientLink = new MemoryLink();
  const gatewayLink = new MemoryLink();
  clientLink.peer = gatewayLink;
  gatewayLink.peer = clientLink;
  const hosts = family === 4 ? HOST_V4 : HOST_V6;
  const inner = { [family === 4 ? 'ipv4' : 'ipv6']: parseAddress(hosts.inner) };
  const client = new DataPlane({ device: clientDevice, transport: clientLink, sad: clientSad, mtu, innerAddresses: inner });
  const gateway = new DataPlane({ device: gatewayDevice, transport: gatewayLink, sad: gatewaySad, mtu, innerAddresses: {} });
  return { client, gateway, clientDevice, gatewayDevice, clientLink, gatewaySad };
}

describe('data plane', () => {
  for (const family of [4, 6] as const) {
    it(`IPv${family} packets cross both ways`, () => {
      const { clientDevice, gatewayDevice } = buildPair(family);
      const request = echoPacket(family, 100, 1);
      clientDevice.inject(request);
      assert.equal(gatewayDevice.written.length, 1);
      assert.deepEqual(Buffer.from(gatewayDevice.written[0]!), Buffer.from(request));
    });
  }

  it('oversized DF packet gets fragmentation needed', () => {
    const { client, clientDevice, clientLink } = buildPair(4, 1000);
    const big = echoPacket(4, 1200, 1);
    clientDevice.inject(big);
    assert.equal(clientLink.sent.length, 0);
    assert.equal(client.counters.tooBig, 1);

    const error = clientDevice.written[0]!;
    const header = parseIpHeader(error)!;
    assert.equal(header.protocol, 1);
    assert.deepEqual(Buffer.from(header.destination), Buffer.from(parseAddress(HOST_V4.inner)));
    // ICMP type 3 code 4 with the next-hop MTU (RFC 1191 section 4), then the quoted header.
    assert.equal(error[20], 3);
    assert.equal(error[21], 4);
    assert.equal((error[26]! << 8) | error[27]!, 1000);
    assert.deepEqual(Buffer.from(error.subarray(28, 48)), Buffer.from(big.subarray(0, 20)));
    assert.equal(internetChecksum(error, 20, error.length), 0);
  });

  it('oversized IPv6 packet gets packet too big', () => {
    const { clientDevice, clientLink } = buildPair(6, 1280);
    clientDevice.inject(echoPacket(6, 1300, 1));
    assert.equal(clientLink.sent.length, 0);
    const error = clientDevice.written[0]!;
    assert.equal(error[6], 58);
    assert.equal(error[40], 2);
    assert.equal(Buffer.from(error).readUInt32BE(44), 1280);
  });

  it('oversized packet without DF is sent', () => {
    const { client, clientDevice, clientLink } = buildPair(4, 1000);
    const big = Buffer.from(echoPacket(4, 1200, 1));
    big[6] = 0;
    big.writeUInt16BE(0, 10);
    big.writeUInt16BE(internetChecksum(big, 0, 20), 10);
    clientDevice.inject(big);
    assert.equal(clientLink.sent.length, 1);
    assert.equal(client.counters.tooBig, 0);
  });

  it('no ICMP error for an ICMP error', () => {
    const { clientDevice } = buildPair(4, 100);
    const unreachable = Buffer.from(echoPacket(4, 200, 1));
    unreachable[20] = 3;
    clientDevice.inject(unreachable);
    assert.equal(clientDevice.written.length, 0);
  });

  it('packet without policy is counted', () => {
    const { clientDevice, clientLink } = buildPair(4);
    const sad = new SaDatabase();
    assert.equal(sad.protect(echoPacket(4)).ok, false);
    assert.equal(sad.counters.noPolicy, 1);
    assert.equal(clientLink.sent.length, 0);
    assert.equal(clientDevice.written.length, 0);
  });

  it('unknown SPI is counted at the SAD', () => {
    const { gatewaySad } = buildPair(4);
    const stranger = makeSaPair({ transform: TRANSFORM_CASES[0]!, spi: 0x9999 });
    const packet = stranger.outbound.protect(echoPacket(4));
    assert.ok(packet.ok);
    assert.equal(gatewaySad.unprotect(packet.packet).ok, false);
    assert.equal(gatewaySad.counters.unknownSpi, 1);
  });

  describe('inbound batches', () => {
    /** A device that takes whole batches, like a TUN device with offload. */
    class BatchDevice implements InnerPacketDevice {
      readonly batches: Uint8Array[][] = [];
      /** How many packets of each batch the device takes; Infinity for all. */
      accept = Infinity;
      failWith: Error | null = null;
      onPackets(): void {}
      write(): boolean {
        throw new Error('a batch device gets writeBatch() only');
      }
      writeBatch(packets: Uint8Array[]): number {
        if (this.failWith) {
          throw this.failWith;
        }
        this.batches.push(packets.map((packet) => Uint8Array.from(packet)));
        return Math.min(this.accept, packets.length);
      }
    }

    class SilentLink implements ProtectedPacketTransport {
      handler: (packets: Uint8Array[]) => void = () => {};
      onPackets(handler: (packets: Uint8Array[]) => void): void {
        this.handler = handler;
      }
      send(): boolean {
        return true;
      }
    }

    function setUp() {
      const transform = TRANSFORM_CASES.find((candidate) => candidate.name === 'ESP AES-GCM-128')!;
      const pair = makeSaPair({ transform, family: 4, spi: 0x3333 });
      const sad = new SaDatabase();
      sad.add(pair.inbound);
      const device = new BatchDevice();
      const link = new SilentLink();
      const plane = new DataPlane({ device, transport: link, sad, mtu: 1400, innerAddresses: {} });
      const inner = [1, 2, 3].map((sequence) => echoPacket(4, 100 + sequence, sequence));
      const protectedPackets = inner.map((packet) => {
        const result = pair.outbound.protect(packet);
        assert.ok(result.ok);
        return Uint8Array.from(result.packet);
      });
      return { plane, device, link, inner, protectedPackets, inbound: pair.inbound };
    }

    it('one writeBatch call, in order, without failed packets', () => {
      const { device, link, inner, protectedPackets, inbound } = setUp();
      const tampered = Uint8Array.from(protectedPackets[1]!);
      tampered[tampered.length - 1]! ^= 1;

      link.handler([protectedPackets[0]!, tampered, protectedPackets[2]!]);

      assert.equal(device.batches.length, 1);
      assert.deepEqual(device.batches[0]!.map((packet) => Buffer.from(packet)), [inner[0], inner[2]].map((packet) => Buffer.from(packet!)));
      assert.equal(inbound.counters.drops.icv, 1);
    });

    it('each rejected packet counted', () => {
      const { plane, device, link, protectedPackets } = setUp();
      device.accept = 1;
      link.handler(protectedPackets);
      assert.equal(plane.counters.deviceWriteFailures, 2);
    });

    it('whole batch counted when the device throws', () => {
      const { plane, device, link, protectedPackets } = setUp();
      device.failWith = new Error('the device was closed');
      link.handler(protectedPackets);
      assert.equal(plane.counters.deviceWriteFailures, 3);
    });
  });
});
