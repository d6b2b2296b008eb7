import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_SEQ_32, SEQUENCE_SOFT_MARGIN, type SaEvent } from '../../main/engine/security-association.js';
import { SaConfigError } from '../../main/engine/sa-config.js';
import { echoPacket, makeSaPair, TRANSFORM_CASES } from './fixtures.js';

const GCM = TRANSFORM_CASES.find((transform) => transform.name === 'ESP AES-GCM-128')!;
const CBC = TRANSFORM_CASES.find((transform) => transform.name === 'ESP AES-CBC-128 AUTH_HMAC_SHA2_256_128')!;

function setLastSequence(sa: object, value: number): void {
  (sa as { lastSeq: number }).lastSeq = value;
}

describe('SA sequence numbers', () => {
  it('stops at 2^32 - 1 without ESN', () => {
    const { outbound } = makeSaPair({ transform: GCM });
    const events: SaEvent[] = [];
    outbound.onEvent((event) => events.push(event));
    setLastSequence(outbound, MAX_SEQ_32 - 1);

    const last = outbound.protect(echoPacket(4));
    assert.ok(last.ok);
    assert.equal(Buffer.from(last.packet).readUInt32BE(24), MAX_SEQ_32);

    const next = outbound.protect(echoPacket(4));
    assert.equal(next.ok, false);
    assert.equal(!next.ok && next.reason, 'sequenceExhausted');
    assert.equal(outbound.state, 'hard-expired');
    assert.deepEqual(events.at(-1), { type: 'hard-expired', reason: 'sequence' });
  });

  it('asks for a rekey before the end', () => {
    const { outbound } = makeSaPair({ transform: GCM });
    const events: SaEvent[] = [];
    outbound.onEvent((event) => events.push(event));
    setLastSequence(outbound, MAX_SEQ_32 - SEQUENCE_SOFT_MARGIN - 1);
    assert.ok(outbound.protect(echoPacket(4)).ok);
    assert.deepEqual(events, [{ type: 'soft-expired', reason: 'sequence' }]);
    assert.equal(outbound.state, 'soft-expired');
  });

  it('continues past 2^32 with ESN', () => {
    const { outbound, inbound } = makeSaPair({ transform: CBC, esn: true });
    setLastSequence(outbound, MAX_SEQ_32 - 2);
    // Numbers 2^32 - 1 to 2^32 + 3: the low 32 bits wrap and the receiver infers the high bits.
    for (let i = 0; i < 5; i++) {
      const result = outbound.protect(echoPacket(4, 8, i));
      assert.ok(result.ok);
      const outcome = inbound.unprotect(result.packet);
      assert.ok(outcome.ok, JSON.stringify(outcome));
    }
    assert.equal(inbound.snapshot().seq, MAX_SEQ_32 + 3);
  });
});

describe('SA lifetimes', () => {
  it('packet limits raise soft then hard', () => {
    const { outbound } = makeSaPair({ transform: GCM, lifetimes: { soft: { packets: 3 }, hard: { packets: 5 } } });
    const events: SaEvent[] = [];
    outbound.onEvent((event) => events.push(event));
    for (let i = 0; i < 5; i++) {
      assert.ok(outbound.protect(echoPacket(4)).ok);
    }
    assert.deepEqual(events, [
      { type: 'soft-expired', reason: 'lifetime' },
      { type: 'hard-expired', reason: 'lifetime' },
    ]);
    const after = outbound.protect(echoPacket(4));
    assert.equal(!after.ok && after.reason, 'expired');
    assert.equal(outbound.counters.drops.expired, 1);
  });

  it('byte limits count inner bytes', () => {
    const inner = echoPacket(4, 72);
    const { outbound } = makeSaPair({ transform: GCM, lifetimes: { hard: { bytes: inner.length * 2 } } });
    assert.ok(outbound.protect(inner).ok);
    assert.equal(outbound.state, 'valid');
    assert.ok(outbound.protect(inner).ok);
    assert.equal(outbound.state, 'hard-expired');
  });

  it('time limits follow the clock', () => {
    let now = 0;
    const { inbound } = makeSaPair({ transform: GCM, clock: () => now, lifetimes: { soft: { seconds: 10 }, hard: { seconds: 20 } } });
    assert.equal(inbound.millisecondsToNextLimit(), 10_000);
    now = 10_000;
    inbound.tick();
    assert.equal(inbound.state, 'soft-expired');
    assert.equal(inbound.millisecondsToNextLimit(), 10_000);
    now = 20_000;
    inbound.tick();
    assert.equal(inbound.state, 'hard-expired');
  });

  it('soft above hard is rejected', () => {
    assert.throws(() => makeSaPair({ transform: GCM, lifetimes: { soft: { packets: 9 }, hard: { packets: 5 } } }), /exceeds/);
  });
});

describe('SA deletion', () => {
  it('zeroes the keys', () => {
    const { outbound, inbound } = makeSaPair({ transform: CBC });
    const keys = [outbound.config.encryption!.key, outbound.config.integrity!.key, inbound.config.encryption!.key];
    assert.ok(keys.every((key) => key.some((byte) => byte !== 0)));
    outbound.delete();
    inbound.delete();
    for (const key of keys) {
      assert.ok(key.every((byte) => byte === 0));
    }
    assert.equal(outbound.state, 'deleted');
    const result = outbound.protect(echoPacket(4));
    assert.equal(!result.ok && result.reason, 'expired');
  });

  it('keeps the caller keys intact', () => {
    const key = Buffer.alloc(36, 1);
    const { outbound } = makeSaPair({ transform: GCM, keys: { encryption: key } });
    outbound.delete();
    assert.ok(key.every((byte) => byte === 1));
  });
});

describe('SA configuration', () => {
  const cases: [string, object][] = [
    ['reserved SPI', { spi: 255 }],
    ['GCM with integrity', { transform: { ...GCM, integrity: 'AUTH_HMAC_SHA2_256_128' } }],
    ['CBC without integrity', { transform: { ...CBC, integrity: undefined } }],
    ['short key', { keys: { encryption: Buffer.alloc(10) } }],
  ];
  for (const [name, override] of cases) {
    it(`rejects ${name}`, () => {
      assert.throws(() => makeSaPair({ transform: GCM, ...override }), SaConfigError);
    });
  }
});
