/**
 * IKE codec: byte layouts written by hand from RFC 7296 section 3 diagrams, round trips, and
 * every class of malformed input returning its typed error.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHex, toHex } from '../../main/ike/bytes.js';
import { ExchangeType, NotifyType, PayloadType } from '../../main/ike/constants.js';
import {
  encodeMessage,
  parseMessage,
  parseMessageSafe,
  payloadsOfType,
} from '../../main/ike/message.js';
import type { PlainPayload } from '../../main/ike/payloads/chain.js';
import { parseTrafficSelector } from '../../main/engine/traffic-selector.js';

const SPI_I = fromHex('0102030405060708');
const SPI_R = fromHex('1112131415161718');

function header(
  nextPayload: string,
  length: number,
  flags = '08',
  exchange = '22',
  version = '20',
): string {
  return (
    `${toHex(SPI_I)}${toHex(SPI_R)}${nextPayload}${version}${exchange}${flags}00000000` +
    length.toString(16).padStart(8, '0')
  );
}

describe('IKE header', () => {
  it('parses hand-built header fields', () => {
    // Header with a single Nonce payload of 16 bytes: 28 + 4 + 16 = 48.
    const bytes = fromHex(header('28', 48, '20', '23') + '00000014' + '11'.repeat(16));
    const result = parseMessage(bytes);
    assert.equal(result.ok, true);
    if (!result.ok) return;
    const { header: h } = result.value;
    assert.equal(toHex(h.spiI), '0102030405060708');
    assert.equal(toHex(h.spiR), '1112131415161718');
    assert.equal(h.exchangeType, ExchangeType.IKE_AUTH);
    assert.equal(h.response, true);
    assert.equal(h.initiator, false);
    assert.equal(h.majorVersion, 2);
    assert.equal(h.length, 48);
    const [nonce] = payloadsOfType(result.value.payloads, PayloadType.NONCE);
    assert.equal(nonce?.data.length, 16);
  });

  it('rejects length beyond the datagram', () => {
    const bytes = fromHex(header('00', 40));
    const result = parseMessageSafe(bytes);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.error.code, 'truncated');
    assert.equal(result.error.notify, NotifyType.INVALID_SYNTAX);
  });

  it('rejects bytes after the length', () => {
    const bytes = fromHex(header('00', 28) + 'ff');
    const result = parseMessageSafe(bytes);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.error.code, 'trailing-data');
  });

  it('rejects major version 3', () => {
    const result = parseMessageSafe(fromHex(header('00', 28, '08', '22', '30')));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.error.code, 'invalid-major-version');
    assert.equal(result.error.notify, NotifyType.INVALID_MAJOR_VERSION);
  });

  it('rejects a short header', () => {
    const result = parseMessageSafe(new Uint8Array(20));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.error.code, 'truncated');
  });
});

describe('payload chain', () => {
  it('skips unknown non-critical payload', () => {
    // Unknown type 200 (4 + 2 bytes), then a Nonce.
    const body = '28000006abcd' + '00000014' + '22'.repeat(16);
    const result = parseMessage(fromHex(header('c8', 28 + body.length / 2) + body));
    assert.equal(result.ok, true);
    if (!result.ok) return;
    assert.equal(result.value.payloads.length, 2);
    assert.equal(result.value.payloads[0]?.type, 'unknown');
    assert.equal(result.value.payloads[1]?.type, PayloadType.NONCE);
  });

  it('rejects unknown critical payload', () => {
    const body = '00800006abcd';
    const result = parseMessageSafe(fromHex(header('c8', 28 + body.length / 2) + body));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.error.code, 'unsupported-critical-payload');
    assert.equal(result.error.notify, NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD);
    assert.equal(result.error.payloadType, 200);
  });

  it('rejects payload length past the end', () => {
    const body = '00000020' + '22'.repeat(16);
    const result = parseMessageSafe(fromHex(header('28', 28 + body.length / 2) + body));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.error.code, 'invalid-length');
  });

  it('rejects payload length below four', () => {
    const body = '00000002' + '22'.repeat(16);
    const result = parseMessageSafe(fromHex(header('28', 28 + body.length / 2) + body));
    assert.equal(result.ok, false);
  });

  it('rejects payload after SK', () => {
    // SK (first inner = Nonce) of 4 + 8 bytes followed by a Nonce payload.
    const body = '28000008' + 'aabbccdd' + '00000014' + '22'.repeat(16);
    const result = parseMessageSafe(fromHex(header('2e', 28 + body.length / 2) + body));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.error.code, 'trailing-data');
  });

  it('records SK offset and first inner type', () => {
    const body = '28000008' + 'aabbccdd';
    const result = parseMessage(fromHex(header('2e', 28 + body.length / 2) + body));
    assert.equal(result.ok, true);
    if (!result.ok) return;
    const [sk] = payloadsOfType(result.value.payloads, PayloadType.SK);
    assert.equal(sk?.offset, 28);
    assert.equal(sk?.firstInnerType, PayloadType.NONCE);
    assert.equal(toHex(sk?.data ?? new Uint8Array()), 'aabbccdd');
  });

  it('rejects SKF fragment number zero', () => {
    const body = '2800000c' + '00000002' + 'aabbccdd';
    const result = parseMessageSafe(fromHex(header('35', 28 + body.length / 2) + body));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.error.code, 'invalid-value');
  });

  it('rejects nonce shorter than 16', () => {
    const body = '00000008' + '22'.repeat(4);
    const result = parseMessageSafe(fromHex(header('28', 28 + body.length / 2) + body));
    assert.equal(result.ok, false);
  });
});

describe('SA payload', () => {
  // One IKE proposal: ENCR_AES_GCM_16 with key length 256, PRF_HMAC_SHA2_384, DH 20.
  const proposal =
    '00000024' +
    '01010003' +
    '0300000c' +
    '01000014' +
    '800e0100' +
    '03000008' +
    '02000006' +
    '00000008' +
    '04000014';

  it('parses hand-built proposal', () => {
    const body = '0000' + (4 + proposal.length / 2).toString(16).padStart(4, '0') + proposal;
    const result = parseMessage(fromHex(header('21', 28 + body.length / 2) + body));
    assert.equal(result.ok, true);
    if (!result.ok) return;
    const [sa] = payloadsOfType(result.value.payloads, PayloadType.SA);
    const parsed = sa?.proposals[0];
    assert.equal(parsed?.number, 1);
    assert.equal(parsed?.protocolId, 1);
    assert.equal(parsed?.transforms.length, 3);
    assert.deepEqual(parsed?.transforms[0], {
      type: 1,
      id: 20,
      attributes: [{ type: 14, value: 256 }],
    });
    assert.equal(parsed?.transforms[2]?.id, 20);
  });

  it('encodes the same bytes', () => {
    const bytes = encodeMessage(
      {
        spiI: SPI_I,
        spiR: SPI_R,
        exchangeType: 34,
        initiator: true,
        response: false,
        messageId: 0,
      },
      [
        {
          type: 33,
          proposals: [
            {
              number: 1,
              protocolId: 1,
              spi: new Uint8Array(0),
              transforms: [
                { type: 1, id: 20, attributes: [{ type: 14, value: 256 }] },
                { type: 2, id: 6, attributes: [] },
                { type: 4, id: 20, attributes: [] },
              ],
            },
          ],
        },
      ],
    );
    const body = '0000' + (4 + proposal.length / 2).toString(16).padStart(4, '0') + proposal;
    assert.equal(toHex(bytes), header('21', 28 + body.length / 2) + body);
  });

  it('rejects wrong transform count', () => {
    const broken = proposal.slice(0, 14) + '04' + proposal.slice(16);
    const body = '0000' + (4 + broken.length / 2).toString(16).padStart(4, '0') + broken;
    const result = parseMessageSafe(fromHex(header('21', 28 + body.length / 2) + body));
    assert.equal(result.ok, false);
  });

  it('rejects wrong last-proposal marker', () => {
    const broken = '02' + proposal.slice(2);
    const body = '0000' + (4 + broken.length / 2).toString(16).padStart(4, '0') + broken;
    const result = parseMessageSafe(fromHex(header('21', 28 + body.length / 2) + body));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.match(result.error.message, /not marked as last|needs/);
  });
});

describe('payload round trip', () => {
  it('keeps every payload family', () => {
    const payloads: PlainPayload[] = [
      { type: 34, group: 31, data: fromHex('aa'.repeat(32)) },
      { type: 35, idType: 3, data: new TextEncoder().encode('client@example.org') },
      { type: 36, idType: 2, data: new TextEncoder().encode('gw.example.org') },
      { type: 37, encoding: 4, data: fromHex('3082') },
      { type: 38, encoding: 4, data: fromHex('11'.repeat(20)) },
      { type: 39, method: 2, data: fromHex('22'.repeat(32)) },
      { type: 40, data: fromHex('33'.repeat(32)) },
      {
        type: 41,
        protocolId: 3,
        spi: fromHex('c0ffee01'),
        notifyType: 16393,
        data: new Uint8Array(0),
      },
      { type: 42, protocolId: 3, spiSize: 4, spis: [fromHex('01020304'), fromHex('05060708')] },
      { type: 43, data: fromHex('deadbeef') },
      {
        type: 44,
        selectors: [parseTrafficSelector('192.0.2.0/24[tcp/443]')],
        unknownSelectors: [],
      },
      { type: 45, selectors: [parseTrafficSelector('2001:db8::/32')], unknownSelectors: [] },
      {
        type: 47,
        configType: 1,
        attributes: [
          { type: 1, value: new Uint8Array(0) },
          { type: 25, value: new Uint8Array(0) },
        ],
      },
      { type: 48, code: 1, identifier: 7, eapType: 1, data: new TextEncoder().encode('hi') },
    ];
    const bytes = encodeMessage(
      {
        spiI: SPI_I,
        spiR: SPI_R,
        exchangeType: 35,
        initiator: true,
        response: false,
        messageId: 1,
      },
      payloads,
    );
    const result = parseMessage(bytes);
    assert.equal(result.ok, true);
    if (!result.ok) return;
    assert.equal(result.value.header.messageId, 1);
    assert.deepEqual(result.value.payloads, payloads);
  });

  it('rejects EAP length mismatch', () => {
    // EAP payload: code 1, id 7, length 9 (but body has 6 bytes), type 1, 'h'.
    const body = '0000000a' + '01070009' + '0168';
    const result = parseMessageSafe(fromHex(header('30', 28 + body.length / 2) + body));
    assert.equal(result.ok, false);
  });

  it('rejects TS with wrong selector length', () => {
    // TSi with one IPv4 selector claiming 24 bytes but carrying 16.
    const body = '00000018' + '01000000' + '07000018' + '0000ffff' + 'c0000200c00002ff';
    const result = parseMessageSafe(fromHex(header('2c', 28 + body.length / 2) + body));
    assert.equal(result.ok, false);
  });

  it('rejects delete of IKE SA with SPIs', () => {
    const body = '0000000c' + '01040001' + '01020304';
    const result = parseMessageSafe(fromHex(header('2a', 28 + body.length / 2) + body));
    assert.equal(result.ok, false);
  });
});
