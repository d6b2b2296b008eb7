/**
 * The manual-key connection with in-memory I/O: a second `stop` while the first teardown runs
 * waits for it and shares its result, so the tunnel is torn down once.
 */

import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';

import { Log } from '../../main/controller/log.js';
import { ManualConnection } from '../../main/controller/manual-connection.js';
import { MemorySecretStore } from '../../main/controller/memory-secret-store.js';
import { newManualProfile, secretRef, type StaticSa } from '../../main/profile/model.js';
import { FakeTunnelIo, gate } from './fake-tunnel-io.js';

function manualConnection(io: FakeTunnelIo): { connection: ManualConnection; states: string[] } {
  const profile = newManualProfile(randomUUID(), 'office');
  const secrets: Record<string, Uint8Array> = {};
  const staticSa = (spi: number, direction: 'in' | 'out'): StaticSa => {
    const encryptionKeyRef = secretRef(profile.id, `enc-${direction}`);
    const integrityKeyRef = secretRef(profile.id, `auth-${direction}`);
    secrets[encryptionKeyRef] = randomBytes(16);
    secrets[integrityKeyRef] = randomBytes(32);
    const outbound = direction === 'out';
    return {
      spi, direction, protocol: 'esp', mode: 'tunnel',
      encryption: { name: 'ENCR_AES_CBC', keyBits: 128 }, integrity: 'AUTH_HMAC_SHA2_256_128',
      encryptionKeyRef, integrityKeyRef,
      localAddress: outbound ? '198.51.100.10' : '198.51.100.1',
      peerAddress: outbound ? '198.51.100.1' : '198.51.100.10',
      encapsulation: { type: 'raw' },
      localTs: [outbound ? '192.0.2.200/32' : '203.0.113.0/24'],
      remoteTs: [outbound ? '203.0.113.0/24' : '192.0.2.200/32'],
      localInnerAddress: '192.0.2.200',
      replayWindow: outbound ? 0 : 64,
      esn: false,
    };
  };
  profile.staticSas = [staticSa(0x1001, 'out'), staticSa(0x2001, 'in')];
  const connection = new ManualConnection(profile, new MemorySecretStore(secrets), io, new Log('error').scope('test'));
  const states: string[] = [];
  connection.onState((state) => states.push(state.status));
  return { connection, states };
}

describe('manual connection stop', () => {
  it('concurrent stops tear down once', async () => {
    const io = new FakeTunnelIo();
    const { connection, states } = manualConnection(io);
    await connection.start();
    assert.equal(connection.current.status, 'connected');

    const revert = gate();
    io.revertGate = revert.promise;
    const first = connection.stop('first');
    const second = connection.stop('second');
    assert.equal(second, first);
    revert.open();
    await Promise.all([first, second]);

    assert.equal(io.count('revert tun0'), 1);
    assert.equal(io.devices[0]!.closed, true);
    assert.deepEqual(states.slice(-2), ['disconnecting', 'disconnected']);
    assert.equal(states.filter((status) => status === 'disconnecting').length, 1);
    assert.equal(connection.current.reason, 'first');
  });

  it('second stop shares the failure', async () => {
    const io = new FakeTunnelIo();
    const { connection } = manualConnection(io);
    await connection.start();

    const revert = gate();
    io.revertGate = revert.promise;
    io.revertError = new Error('ip route del failed');
    const first = connection.stop();
    const second = connection.stop();
    revert.open();
    await assert.rejects(first, /ip route del failed/);
    await assert.rejects(second, /ip route del failed/);
    assert.equal(io.count('revert tun0'), 1);
  });

  it('stop after stop does nothing', async () => {
    const io = new FakeTunnelIo();
    const { connection, states } = manualConnection(io);
    await connection.start();
    await connection.stop();
    const statesAfterFirst = states.length;
    await connection.stop();
    assert.equal(states.length, statesAfterFirst);
    assert.equal(io.count('revert tun0'), 1);
  });

  it('stop during start undoes the set-up', async () => {
    const io = new FakeTunnelIo();
    const { connection } = manualConnection(io);
    const apply = gate();
    io.applyGate = apply.promise;
    const starting = connection.start();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(io.count('apply tun0'), 1, 'the set-up is under way');

    const stopping = connection.stop('aborted');
    apply.open();
    await Promise.allSettled([starting]);
    await stopping;

    assert.deepEqual(io.events.filter((event) => event.includes('tun0')), ['open tun0', 'apply tun0', 'revert tun0']);
    assert.equal(io.devices[0]!.closed, true);
    assert.equal(connection.current.status, 'disconnected');
  });
});
