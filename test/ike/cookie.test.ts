/**
 * The COOKIE exchange of RFC 7296 section 2.6, as a gateway under load runs it: the first
 * IKE_SA_INIT is answered with only N(COOKIE), and the initiator sends the request again with
 * the cookie as its first payload.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExchangeType, NotifyType, PayloadType } from '../../main/ike/constants.js';
import { IkeError } from '../../main/ike/errors.js';
import { encodeMessage, parseMessageSafe, type IkeMessage } from '../../main/ike/message.js';
import { notify } from '../../main/ike/payloads/notify.js';
import { parseProposalSpec } from '../../main/ike/proposal.js';
import { IkeSaInitTask } from '../../main/ike/tasks/ike-sa-init.js';
import { silentLogger } from '../../main/ike/transport.js';

const SPI_I = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);

function task(): IkeSaInitTask {
  return new IkeSaInitTask({
    specs: [parseProposalSpec('aes128-sha256-x25519', 'ike')],
    spiI: SPI_I,
    local: { address: Uint8Array.of(192, 0, 2, 10), port: 500 },
    remote: { address: Uint8Array.of(192, 0, 2, 1), port: 500 },
    forceUdpEncapsulation: false,
    fragmentSize: 1280,
    logger: silentLogger,
  });
}

/** Builds the gateway's answer that carries only N(COOKIE). */
function cookieResponse(cookie: Uint8Array): IkeMessage {
  const bytes = encodeMessage({
    spiI: SPI_I,
    spiR: new Uint8Array(8),
    exchangeType: ExchangeType.IKE_SA_INIT,
    initiator: false,
    response: true,
    messageId: 0,
  }, [notify(NotifyType.COOKIE, cookie)]);
  const parsed = parseMessageSafe(bytes);
  assert.ok(parsed.ok);
  return parsed.value;
}

function parseRequest(bytes: Uint8Array): IkeMessage {
  const parsed = parseMessageSafe(bytes);
  assert.ok(parsed.ok);
  return parsed.value;
}

describe('IKE_SA_INIT cookie', () => {
  it('resends with the cookie first', () => {
    const init = task();
    const first = parseRequest(init.buildRequest());
    assert.equal(first.payloads[0]?.type, PayloadType.SA);

    const cookie = Uint8Array.from({ length: 32 }, (_, i) => i);
    assert.equal(init.processResponse(cookieResponse(cookie)), 'retry');

    const second = parseRequest(init.buildRequest());
    const head = second.payloads[0]!;
    assert.equal(head.type, PayloadType.NOTIFY);
    assert.ok(head.type === PayloadType.NOTIFY);
    assert.equal(head.notifyType, NotifyType.COOKIE);
    assert.deepEqual(Buffer.from(head.data), Buffer.from(cookie));
    // The rest of the request is the same offer again.
    assert.equal(second.payloads[1]?.type, PayloadType.SA);
    assert.equal(second.payloads.length, first.payloads.length + 1);
  });

  it('rejects a cookie over 64 bytes', () => {
    const init = task();
    init.buildRequest();
    assert.throws(() => init.processResponse(cookieResponse(new Uint8Array(65))), IkeError);
  });

  it('gives up after repeated cookies', () => {
    const init = task();
    init.buildRequest();
    assert.throws(() => {
      for (let i = 0; i < 10; i++) {
        init.processResponse(cookieResponse(Uint8Array.of(i + 1)));
        init.buildRequest();
      }
    }, /still rejected/);
  });
});
