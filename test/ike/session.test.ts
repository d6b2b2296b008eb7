/**
 * The IKE message layer with a fake transport and clock: retransmission back-off and give-up,
 * Message ID checks, dropped forgeries, and the cached response to a repeated request.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHex, toHex } from '../../main/ike/bytes.js';
import { ExchangeType } from '../../main/ike/constants.js';
import { SK_ENCRYPTIONS } from '../../main/ike/crypto/ike-transforms.js';
import { PRF_ALGORITHMS } from '../../main/ike/crypto/prf.js';
import { sealEncryptedMessage } from '../../main/ike/crypto/sk-payload.js';
import { IkeError } from '../../main/ike/errors.js';
import { IkeSaState } from '../../main/ike/ike-sa-state.js';
import { encodeMessage, parseMessage } from '../../main/ike/message.js';
import { encodePayloadChain, type PlainPayload } from '../../main/ike/payloads/chain.js';
import { IkeSession } from '../../main/ike/session.js';
import type { Clock, IkeTransport } from '../../main/ike/transport.js';
import { silentLogger } from '../../main/ike/transport.js';

class FakeClock implements Clock {
  time = 0;
  private timers: { at: number; callback: () => void; id: number }[] = [];
  private nextId = 1;

  now(): number {
    return this.time;
  }
  date(): Date {
    return new Date(0);
  }
  setTimer(callback: () => void, delayMs: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.time + delayMs, callback, id });
    return id;
  }
  clearTimer(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer.id !== handle);
  }
  /** Runs every timer due within `ms`, in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (next === undefined || next.at > end) {
        break;
      }
      this.timers.shift();
      this.time = next.at;
      next.callback();
    }
    this.time = end;
  }
}

class FakeTransport implements IkeTransport {
  sent: { at: number; datagram: Uint8Array }[] = [];
  private receiver: (datagram: Uint8Array) => void = () => undefined;
  constructor(private readonly clock: FakeClock) {}
  send(datagram: Uint8Array): void {
    this.sent.push({ at: this.clock.now(), datagram });
  }
  onDatagram(callback: (datagram: Uint8Array) => void): void {
    this.receiver = callback;
  }
  deliver(datagram: Uint8Array): void {
    this.receiver(datagram);
  }
  floatToNatTraversal(): Promise<void> {
    return Promise.resolve();
  }
  localEndpoint() {
    return { address: fromHex('c000020a'), port: 500 };
  }
  remoteEndpoint() {
    return { address: fromHex('c0000201'), port: 500 };
  }
  close(): void {}
}

const SPI_I = fromHex('0102030405060708');
const SPI_R = fromHex('1112131415161718');
const KEY_EI = fromHex('11'.repeat(16) + '01020304');
const KEY_ER = fromHex('22'.repeat(16) + '05060708');

function makeSa(): IkeSaState {
  const suite = {
    encryption: SK_ENCRYPTIONS[20]!,
    encryptionKeyLength: 16,
    prf: PRF_ALGORITHMS[5]!,
    dhGroup: 19,
  };
  const keys = {
    skD: new Uint8Array(32),
    skAi: new Uint8Array(0),
    skAr: new Uint8Array(0),
    skEi: KEY_EI.slice(),
    skEr: KEY_ER.slice(),
    skPi: new Uint8Array(32),
    skPr: new Uint8Array(32),
  };
  return new IkeSaState(SPI_I, SPI_R, suite, keys, new Uint8Array(32), new Uint8Array(32), false);
}

/** Seals a message as the gateway would: with SK_er and the Initiator flag clear. */
function gatewayMessage(
  exchangeType: number,
  messageId: number,
  response: boolean,
  payloads: PlainPayload[],
) {
  const chain = encodePayloadChain(payloads);
  return sealEncryptedMessage(
    {
      fields: { spiI: SPI_I, spiR: SPI_R, exchangeType, initiator: false, response, messageId },
      payloadType: 46,
      innerType: chain.firstType,
      extraHeader: new Uint8Array(0),
      plaintext: chain.bytes,
    },
    { encryption: SK_ENCRYPTIONS[20]!, encryptionKey: KEY_ER },
  );
}

function setup() {
  const clock = new FakeClock();
  const transport = new FakeTransport(clock);
  const session = new IkeSession(transport, clock, silentLogger, SPI_I, {
    initialTimeoutMs: 1000,
    multiplier: 2,
    maxTimeoutMs: 8000,
    giveUpAfterMs: 20_000,
  });
  return { clock, transport, session };
}

describe('IKE session', () => {
  it('retransmits with back-off, then gives up', async () => {
    const { clock, transport, session } = setup();
    const request = encodeMessage(
      {
        spiI: SPI_I,
        spiR: new Uint8Array(8),
        exchangeType: 34,
        initiator: true,
        response: false,
        messageId: 0,
      },
      [{ type: 40, data: new Uint8Array(16) }],
    );
    const pending = session.requestInit(request);
    clock.advance(25_000);
    await assert.rejects(
      pending,
      (error: unknown) =>
        error instanceof IkeError && error.code === 'timeout' && /IKE_SA_INIT/.test(error.message),
    );
    // Sent at 0, then after waits of 1, 2, 4, 8 and 8 seconds, and the give-up at 20 s.
    assert.deepEqual(
      transport.sent.map((s) => s.at),
      [0, 1000, 3000, 7000, 15_000],
    );
    assert.equal(session.counters.retransmissions, 4);
    assert.equal(toHex(transport.sent[4]!.datagram), toHex(request));
  });

  it('matches response by message ID', async () => {
    const { transport, session } = setup();
    session.attach(makeSa());
    const pending = session.request(ExchangeType.INFORMATIONAL, []);
    const sent = parseMessage(transport.sent[0]!.datagram);
    assert.equal(sent.ok && sent.value.header.messageId, 1);

    transport.deliver(gatewayMessage(ExchangeType.INFORMATIONAL, 7, true, []));
    assert.equal(session.counters.drops['unexpected-message-id'], 1);
    transport.deliver(
      gatewayMessage(ExchangeType.INFORMATIONAL, 1, true, [{ type: 43, data: fromHex('aa') }]),
    );
    const payloads = await pending;
    assert.equal(payloads.length, 1);
    assert.equal(payloads[0]?.type, 43);
    assert.equal(session.ikeSa?.nextRequestId, 2);
  });

  it('drops forged and malformed responses', async () => {
    const { transport, session } = setup();
    session.attach(makeSa());
    const pending = session.request(ExchangeType.INFORMATIONAL, []);
    const forged = gatewayMessage(ExchangeType.INFORMATIONAL, 1, true, []);
    forged[forged.length - 1]! ^= 0x80;
    transport.deliver(forged);
    transport.deliver(fromHex('00112233'));
    assert.equal(session.counters.drops.integrity, 1);
    assert.equal(session.counters.drops.malformed, 1);
    transport.deliver(gatewayMessage(ExchangeType.INFORMATIONAL, 1, true, []));
    assert.deepEqual(await pending, []);
  });

  it('resends cached response to repeated request', () => {
    const { transport, session } = setup();
    session.attach(makeSa());
    let handled = 0;
    session.onRequest(() => {
      handled++;
      return [];
    });
    const request = gatewayMessage(ExchangeType.INFORMATIONAL, 0, false, []);
    transport.deliver(request);
    transport.deliver(request);
    assert.equal(handled, 1);
    assert.equal(transport.sent.length, 2);
    assert.equal(toHex(transport.sent[1]!.datagram), toHex(transport.sent[0]!.datagram));
    assert.equal(session.counters.cachedResponsesResent, 1);
    const response = parseMessage(transport.sent[0]!.datagram);
    assert.equal(response.ok && response.value.header.response, true);
    assert.equal(response.ok && response.value.header.messageId, 0);
  });

  it('drops request with future message ID', () => {
    const { transport, session } = setup();
    session.attach(makeSa());
    transport.deliver(gatewayMessage(ExchangeType.INFORMATIONAL, 3, false, []));
    assert.equal(transport.sent.length, 0);
    assert.equal(session.counters.drops['unexpected-message-id'], 1);
  });

  it('drops message with Initiator flag', () => {
    const { transport, session } = setup();
    session.attach(makeSa());
    const message = gatewayMessage(ExchangeType.INFORMATIONAL, 0, false, []);
    message[19]! |= 0x08;
    transport.deliver(message);
    assert.equal(transport.sent.length, 0);
    assert.equal(session.counters.drops.malformed, 1);
  });
});
