// ESP in UDP (RFC 3948) on one socket with IKE: the non-ESP marker, NAT keepalives both ways,
// the IP header that received ESP gets for the engine, and datagrams from strangers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createNamespace, deleteNamespace, needsRoot, runInNamespace } from './fixtures/netns.js';

interface ScenarioResult {
  counters: Record<string, number>;
  esp: string[];
  ike: string[];
  gatewayReceived: string[];
}

describe('UDP encapsulation socket', { skip: needsRoot }, () => {
  let namespace: string;
  let result: ScenarioResult;

  before(async () => {
    namespace = createNamespace();
    const outcome = await runInNamespace(namespace, './udp-encapsulation-scenario.ts', []);
    assert.equal(outcome.code, 0, outcome.stderr);
    result = outcome.result as ScenarioResult;
  });
  after(() => deleteNamespace(namespace));

  it('ignores received keepalives', () => {
    assert.equal(result.counters['keepalivesReceived'], 1);
  });

  it('strips the non-ESP marker from IKE', () => {
    assert.deepEqual(result.ike, ['2122']);
    assert.equal(result.counters['ikeReceived'], 1);
  });

  it('wraps ESP in an IPv4 header', () => {
    assert.equal(result.esp.length, 1);
    const packet = Buffer.from(result.esp[0]!, 'hex');
    assert.equal(packet[0], 0x45);
    assert.equal(packet[9], 50);
    assert.equal(packet.readUInt16BE(2), 20 + 10);
    assert.equal(packet.subarray(12, 16).join('.'), '127.0.0.1');
    assert.equal(packet.subarray(20).toString('hex'), '00001234000000 01aabb'.replace(/ /g, ''));
  });

  it('drops short and foreign datagrams', () => {
    assert.equal(result.counters['malformedDropped'], 1);
    assert.equal(result.counters['foreignDropped'], 1);
  });

  it('sends IKE behind the marker and ESP alone', () => {
    assert.equal(result.gatewayReceived[0], '00000000212223');
    assert.equal(result.gatewayReceived[1], '77'.repeat(8));
  });

  it('sends a keepalive when idle', () => {
    assert.ok(result.counters['keepalivesSent']! >= 1);
    assert.ok(result.gatewayReceived.slice(2).includes('ff'));
  });
});
