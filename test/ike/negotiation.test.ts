/**
 * Proposal notation and the responder-choice check, traffic selector narrowing, the
 * configuration reply, and SKF reassembly.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTrafficSelector } from '../../main/engine/traffic-selector.js';
import { fromHex, toHex } from '../../main/ike/bytes.js';
import { FragmentAssembler } from '../../main/ike/fragment-assembler.js';
import {
  checkSelectedProposal,
  parseProposalSpec,
  ProposalError,
  proposalFromSpec,
} from '../../main/ike/proposal.js';
import { selectorWithin } from '../../main/ike/tasks/child-sa-negotiation.js';
import { parseConfigReply } from '../../main/ike/tasks/configuration.js';
import { silentLogger } from '../../main/ike/transport.js';

describe('proposal notation', () => {
  it('AEAD IKE proposal', () => {
    const spec = parseProposalSpec('aes256gcm16-prfsha384-ecp384', 'ike');
    assert.deepEqual(spec.encryptions, [{ id: 20, keyBits: 256 }]);
    assert.deepEqual(spec.prfs, [6]);
    assert.deepEqual(spec.integrities, []);
    assert.deepEqual(spec.dhGroups, [20]);
  });

  it('CBC proposal derives PRF', () => {
    const spec = parseProposalSpec('aes128-sha256-x25519', 'ike');
    assert.deepEqual(spec.integrities, [12]);
    assert.deepEqual(spec.prfs, [5]);
    assert.deepEqual(spec.dhGroups, [31]);
  });

  it('ESP proposal defaults to no ESN', () => {
    const spec = parseProposalSpec('aes128gcm16', 'esp');
    assert.deepEqual(spec.esns, [0]);
    assert.deepEqual(spec.dhGroups, []);
  });

  it('rejects unknown words', () => {
    assert.throws(() => parseProposalSpec('aes128-md5', 'esp'), ProposalError);
  });

  it('rejects CBC without integrity', () => {
    assert.throws(() => parseProposalSpec('aes128-prfsha256-ecp256', 'ike'), /no integrity/);
  });
});

describe('chosen proposal check', () => {
  const offered = [
    proposalFromSpec(
      parseProposalSpec('aes256gcm16-prfsha384-ecp384', 'ike'),
      1,
      new Uint8Array(0),
    ),
    proposalFromSpec(parseProposalSpec('aes128-sha256-x25519-ecp256', 'ike'), 2, new Uint8Array(0)),
  ];
  const choose = (number: number, transforms: [number, number, number?][]) => [
    {
      number,
      protocolId: 1,
      spi: new Uint8Array(0),
      transforms: transforms.map(([type, id, bits]) => ({
        type,
        id,
        attributes: bits === undefined ? [] : [{ type: 14, value: bits }],
      })),
    },
  ];

  it('accepts one of each type', () => {
    const selected = checkSelectedProposal(
      choose(2, [
        [1, 12, 128],
        [2, 5],
        [3, 12],
        [4, 19],
      ]),
      offered,
      0,
    );
    assert.equal(selected.proposalNumber, 2);
    assert.equal(selected.dhGroup, 19);
    assert.deepEqual(selected.encryption, { id: 12, keyBits: 128 });
  });

  it('rejects transform from another proposal', () => {
    assert.throws(
      () =>
        checkSelectedProposal(
          choose(2, [
            [1, 20, 256],
            [2, 5],
            [3, 12],
            [4, 19],
          ]),
          offered,
          0,
        ),
      /not offered/,
    );
  });

  it('rejects changed key length', () => {
    assert.throws(
      () =>
        checkSelectedProposal(
          choose(1, [
            [1, 20, 128],
            [2, 6],
            [4, 20],
          ]),
          offered,
          0,
        ),
      /not offered/,
    );
  });

  it('rejects two DH groups', () => {
    assert.throws(
      () =>
        checkSelectedProposal(
          choose(2, [
            [1, 12, 128],
            [2, 5],
            [3, 12],
            [4, 19],
            [4, 31],
          ]),
          offered,
          0,
        ),
      /2 transforms/,
    );
  });

  it('rejects missing PRF', () => {
    assert.throws(
      () =>
        checkSelectedProposal(
          choose(1, [
            [1, 20, 256],
            [4, 20],
          ]),
          offered,
          0,
        ),
      /no PRF/,
    );
  });

  it('rejects unknown proposal number', () => {
    assert.throws(
      () => checkSelectedProposal(choose(3, [[1, 20, 256]]), offered, 0),
      /not offered/,
    );
  });
});

describe('traffic selector narrowing', () => {
  const any = parseTrafficSelector('0.0.0.0/0');

  it('accepts narrower selector', () => {
    assert.equal(selectorWithin(parseTrafficSelector('198.51.100.1/32'), any), true);
  });

  it('rejects wider port range', () => {
    const outer = parseTrafficSelector('192.0.2.0/24[tcp/443]');
    assert.equal(selectorWithin(parseTrafficSelector('192.0.2.0/24[tcp]'), outer), false);
  });

  it('rejects other address family', () => {
    assert.equal(selectorWithin(parseTrafficSelector('2001:db8::/32'), any), false);
  });

  it('rejects wider range', () => {
    const outer = parseTrafficSelector('192.0.2.0/25');
    assert.equal(selectorWithin(parseTrafficSelector('192.0.2.0/24'), outer), false);
  });
});

describe('configuration reply', () => {
  it('reads addresses, DNS and domain', () => {
    const config = parseConfigReply(
      {
        type: 47,
        configType: 2,
        attributes: [
          { type: 1, value: fromHex('c6336401') },
          { type: 3, value: fromHex('cb007135') },
          { type: 8, value: fromHex('20010db8000000000000000000000001' + '40') },
          { type: 10, value: fromHex('20010db8000000000000000000000053') },
          { type: 25, value: new TextEncoder().encode('corp.example.org') },
          { type: 1, value: fromHex('c63364') },
        ],
      },
      silentLogger,
    );
    assert.equal(toHex(config.ipv4!), 'c6336401');
    assert.equal(config.ipv6?.prefixLength, 64);
    assert.equal(config.dns.length, 2);
    assert.deepEqual(config.dnsDomains, ['corp.example.org']);
  });

  it('ignores CFG_REQUEST type', () => {
    const config = parseConfigReply(
      {
        type: 47,
        configType: 1,
        attributes: [{ type: 1, value: fromHex('c6336401') }],
      },
      silentLogger,
    );
    assert.equal(config.ipv4, undefined);
  });
});

describe('fragment reassembly', () => {
  it('joins fragments in order', () => {
    const assembler = new FragmentAssembler();
    assert.equal(assembler.add('r:1', 2, 3, 0, fromHex('bb')).state, 'incomplete');
    assert.equal(assembler.add('r:1', 3, 3, 0, fromHex('cc')).state, 'incomplete');
    const result = assembler.add('r:1', 1, 3, 35, fromHex('aa'));
    assert.equal(result.state, 'complete');
    assert.equal(result.state === 'complete' && toHex(result.plaintext), 'aabbcc');
    assert.equal(result.state === 'complete' && result.firstInnerType, 35);
  });

  it('restarts on larger total', () => {
    const assembler = new FragmentAssembler();
    assembler.add('r:1', 1, 2, 35, fromHex('aa'));
    assert.equal(assembler.add('r:1', 2, 3, 0, fromHex('bb')).state, 'incomplete');
    assert.equal(assembler.add('r:1', 1, 2, 35, fromHex('aa')).state, 'rejected');
  });

  it('rejects too many fragments', () => {
    const assembler = new FragmentAssembler();
    assert.equal(assembler.add('r:1', 1, 1000, 35, fromHex('aa')).state, 'rejected');
  });
});
