/**
 * The IKEv2 connection with in-memory I/O and scripted IKE SAs. When the gateway is lost, the
 * TUN device, routes and DNS settings stay in place with no SA, so traffic for the tunnel is
 * dropped rather than sent in plaintext, and the next IKE SA takes the tunnel over. Only `stop`
 * or a new IKE SA with another layout removes the set-up.
 */

import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';

import { parseAddress } from '../../main/engine/address.js';
import { parseTrafficSelector } from '../../main/engine/traffic-selector.js';
import type { NegotiatedChildSa, VirtualIpConfig } from '../../main/ike/child-sa.js';
import type { IkeConnection } from '../../main/ike/connect.js';
import { IkeVpnConnection, type IkeIo, type IkeSessionTransport } from '../../main/controller/ike-vpn-connection.js';
import { Log } from '../../main/controller/log.js';
import { MemorySecretStore } from '../../main/controller/memory-secret-store.js';
import { newIkev2Profile, secretRef } from '../../main/profile/model.js';
import { echoPacket } from '../engine/fixtures.js';
import { FakeTransport, FakeTunnelIo, gate } from './fake-tunnel-io.js';

/** One established IKE SA with its first CHILD_SA, in place of `IkeConnection`. */
class FakeIkeConnection extends EventEmitter {
  closed = false;
  readonly counters = { drops: {}, retransmissions: 0, cachedResponsesResent: 0 };

  constructor(readonly childSa: NegotiatedChildSa, readonly config: VirtualIpConfig) {
    super();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  async checkLiveness(): Promise<void> {}
  async rekeyIkeSa(): Promise<void> {}
  async rekeyChildSa(): Promise<NegotiatedChildSa> {
    throw new Error('rekeying is not scripted in this test');
  }
}

class FakeIkeTransport implements IkeSessionTransport {
  closed = false;
  readonly localAddress = '198.51.100.10';

  constructor(readonly encapsulationSocket: FakeTransport) {}

  send(): void {}
  onDatagram(): void {}
  async floatToNatTraversal(): Promise<void> {}
  localEndpoint() {
    return { address: parseAddress(this.localAddress), port: 4500 };
  }
  remoteEndpoint() {
    return { address: parseAddress('198.51.100.1'), port: 4500 };
  }
  closeInitialSocket(): void {}
  close(): void {
    this.closed = true;
    this.encapsulationSocket.close();
  }
}

/** Hands out the scripted IKE SAs in order; an Error in the script fails that attempt. */
class FakeIkeIo implements IkeIo {
  readonly transports: FakeIkeTransport[] = [];
  connects = 0;

  constructor(private readonly script: (FakeIkeConnection | Error)[]) {}

  async resolveGateway(): Promise<string> {
    return '198.51.100.1';
  }

  async openTransport(): Promise<IkeSessionTransport> {
    const transport = new FakeIkeTransport(new FakeTransport(`ike ${this.transports.length}`));
    this.transports.push(transport);
    return transport;
  }

  async connect(): Promise<IkeConnection> {
    const next = this.script[this.connects];
    this.connects += 1;
    if (next === undefined) {
      throw new Error('no IKE SA scripted for this attempt');
    }
    if (next instanceof Error) {
      throw next;
    }
    return next as unknown as IkeConnection;
  }
}

function childSa(inboundSpi: number, outboundSpi: number): NegotiatedChildSa {
  const keys = () => ({ encryptionKey: randomBytes(16), integrityKey: randomBytes(32) });
  return {
    inboundSpi, outboundSpi, protocol: 'esp', mode: 'tunnel',
    encryption: 'ENCR_AES_CBC', encryptionKeyLength: 16, integrity: 'AUTH_HMAC_SHA2_256_128',
    inbound: keys(), outbound: keys(), esn: false, pfsGroup: 0,
    trafficSelectors: { local: [parseTrafficSelector('192.0.2.200/32')], remote: [parseTrafficSelector('203.0.113.0/24')] },
    udpEncapsulation: true,
    lifetimes: {},
  };
}

function virtualIp(address = '192.0.2.200'): VirtualIpConfig {
  return { ipv4: parseAddress(address), dns: [parseAddress('203.0.113.53')], dnsDomains: ['office.example'] };
}

function ikeConnection(io: FakeTunnelIo, ikeIo: FakeIkeIo): { connection: IkeVpnConnection; states: string[] } {
  const profile = newIkev2Profile(randomUUID(), 'office', { address: 'vpn.example', port: 500, preferIpv6: false });
  const pskRef = secretRef(profile.id, 'psk');
  profile.authentication = { ...profile.authentication!, method: 'psk', remoteMethod: 'psk', pskRef };
  profile.virtualIps = ['0.0.0.0'];
  const secrets = new MemorySecretStore({ [pskRef]: randomBytes(32) });
  const connection = new IkeVpnConnection(profile, secrets, io, new Log('error').scope('test'), ikeIo);
  const states: string[] = [];
  connection.onState((state) => states.push(state.status));
  return { connection, states };
}

/** Resolves when the connection reaches `status`, or rejects after `timeoutMs`. */
function reaches(connection: IkeVpnConnection, status: string, timeoutMs = 8000): Promise<void> {
  if (connection.current.status === status) {
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`the connection did not reach "${status}" within ${timeoutMs} ms; it is "${connection.current.status}"`));
    }, timeoutMs);
    const unsubscribe = connection.onState((state) => {
      if (state.status === status) {
        clearTimeout(timer);
        unsubscribe();
        resolve();
      }
    });
  });
}

/** Lets the teardown that a loss starts in the background finish. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('IKE connection reconnect', () => {
  it('keeps the set-up while reconnecting', { timeout: 15_000 }, async () => {
    const io = new FakeTunnelIo();
    const first = new FakeIkeConnection(childSa(0x100, 0x200), virtualIp());
    const second = new FakeIkeConnection(childSa(0x300, 0x400), virtualIp());
    const ikeIo = new FakeIkeIo([first, second]);
    const { connection } = ikeConnection(io, ikeIo);
    await connection.start();
    assert.deepEqual(io.events, ['open tun0', 'apply tun0']);
    assert.deepEqual(io.applied[0]!.dns, { servers: ['203.0.113.53'], domains: ['office.example'] });
    const device = io.devices[0]!;

    first.emit('closed', 'the gateway stopped answering');
    assert.equal(connection.current.status, 'reconnecting');
    await settle();
    assert.equal(io.count('revert tun0'), 0);
    assert.equal(device.closed, false);
    assert.equal(ikeIo.transports[0]!.closed, true);
    assert.deepEqual(connection.snapshot().sas, []);

    // With no SA, a packet for the office is dropped, not sent anywhere.
    device.inject(echoPacket(4));
    assert.equal(connection.snapshot().sad.noPolicy, 1);
    assert.deepEqual(ikeIo.transports[0]!.encapsulationSocket.sent, []);

    await reaches(connection, 'connected');
    assert.deepEqual(io.events, ['open tun0', 'apply tun0']);
    const spis = connection.snapshot().sas.map((sa) => sa.spi).sort();
    assert.deepEqual(spis, ['00000300', '00000400']);
    device.inject(echoPacket(4));
    assert.equal(ikeIo.transports[1]!.encapsulationSocket.sent.length, 1);

    await connection.stop();
    assert.equal(io.count('revert tun0'), 1);
    assert.equal(device.closed, true);
    assert.equal(second.closed, true);
    assert.equal(connection.current.status, 'disconnected');
  });

  it('failed attempts keep the set-up', { timeout: 20_000 }, async () => {
    const io = new FakeTunnelIo();
    const first = new FakeIkeConnection(childSa(0x100, 0x200), virtualIp());
    const third = new FakeIkeConnection(childSa(0x500, 0x600), virtualIp());
    const ikeIo = new FakeIkeIo([first, new Error('the gateway did not answer'), third]);
    const { connection, states } = ikeConnection(io, ikeIo);
    await connection.start();

    first.emit('child-deleted', 0x100);
    await reaches(connection, 'connected');
    assert.equal(ikeIo.connects, 3);
    assert.ok(states.filter((status) => status === 'reconnecting').length >= 2);
    assert.deepEqual(io.events, ['open tun0', 'apply tun0']);
    await connection.stop();
    assert.deepEqual(io.events, ['open tun0', 'apply tun0', 'revert tun0']);
  });

  it('new address replaces the set-up', { timeout: 15_000 }, async () => {
    const io = new FakeTunnelIo();
    const first = new FakeIkeConnection(childSa(0x100, 0x200), virtualIp());
    const second = new FakeIkeConnection(childSa(0x300, 0x400), virtualIp('192.0.2.201'));
    const ikeIo = new FakeIkeIo([first, second]);
    const { connection } = ikeConnection(io, ikeIo);
    await connection.start();

    first.emit('closed', 'the gateway restarted');
    await reaches(connection, 'connected');
    assert.deepEqual(io.events, ['open tun0', 'apply tun0', 'revert tun0', 'open tun1', 'apply tun1']);
    assert.deepEqual(io.applied[1]!.addresses, ['192.0.2.201/32']);
    assert.equal(io.devices[0]!.closed, true);
    assert.equal(connection.snapshot().sas.length, 2);
    io.devices[1]!.inject(echoPacket(4));
    assert.equal(ikeIo.transports[1]!.encapsulationSocket.sent.length, 1);

    await connection.stop();
    assert.equal(io.count('revert tun1'), 1);
    assert.equal(io.devices[1]!.closed, true);
  });

  it('stop while reconnecting removes the set-up', { timeout: 15_000 }, async () => {
    const io = new FakeTunnelIo();
    const first = new FakeIkeConnection(childSa(0x100, 0x200), virtualIp());
    const ikeIo = new FakeIkeIo([first, new FakeIkeConnection(childSa(0x300, 0x400), virtualIp())]);
    const { connection } = ikeConnection(io, ikeIo);
    await connection.start();

    first.emit('closed', 'the gateway stopped answering');
    await settle();
    await connection.stop();
    assert.equal(connection.current.status, 'disconnected');
    assert.equal(io.count('revert tun0'), 1);
    assert.equal(io.devices[0]!.closed, true);

    // The first reconnect would start after 1 s; the stop cancelled it.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(ikeIo.connects, 1);
    assert.deepEqual(io.events, ['open tun0', 'apply tun0', 'revert tun0']);
  });

  it('concurrent stops tear down once', async () => {
    const io = new FakeTunnelIo();
    const ikeIo = new FakeIkeIo([new FakeIkeConnection(childSa(0x100, 0x200), virtualIp())]);
    const { connection, states } = ikeConnection(io, ikeIo);
    await connection.start();
    const first = connection.stop();
    const second = connection.stop();
    assert.equal(second, first);
    await first;
    assert.equal(io.count('revert tun0'), 1);
    assert.equal(states.filter((status) => status === 'disconnecting').length, 1);
  });

  it('stop during set-up undoes it', async () => {
    const io = new FakeTunnelIo();
    const ikeIo = new FakeIkeIo([new FakeIkeConnection(childSa(0x100, 0x200), virtualIp())]);
    const { connection } = ikeConnection(io, ikeIo);
    const apply = gate();
    io.applyGate = apply.promise;
    const starting = connection.start();
    for (let i = 0; i < 50 && io.count('apply tun0') === 0; i++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(io.count('apply tun0'), 1, 'the set-up is under way');

    const stopping = connection.stop('aborted');
    apply.open();
    await stopping;

    assert.equal(io.count('revert tun0'), 1, 'the set-up was undone before stop returned');
    assert.equal(io.devices[0]!.closed, true);
    await assert.rejects(starting, /stopped while it was being set up/);
    assert.equal(connection.current.status, 'disconnected');
  });

  it('rekey keeps the connected time', { timeout: 10_000 }, async () => {
    const io = new FakeTunnelIo();
    const child = { ...childSa(0x100, 0x200), lifetimes: { soft: { seconds: 0.05 } } };
    const ike = new FakeIkeConnection(child, virtualIp());
    let rekeys = 0;
    ike.rekeyChildSa = async () => {
      rekeys += 1;
      return child;
    };
    const { connection, states } = ikeConnection(io, new FakeIkeIo([ike]));
    await connection.start();
    const since = connection.current.since;

    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(rekeys >= 1, 'the CHILD_SA was rekeyed');
    assert.ok(states.includes('rekeying'));
    assert.equal(connection.current.status, 'connected');
    assert.equal(connection.current.since, since);
    await connection.stop();
  });
});
