/** Security Association payload with its proposals, transforms and attributes (RFC 7296 3.3). */

import { concatBytes, uint16Bytes } from '../bytes.js';
import { TRANSFORM_ATTRIBUTE_KEY_LENGTH } from '../constants.js';
import { ByteReader, finish, type ParseResult } from '../parse-result.js';

export interface TransformAttribute {
  type: number;
  /** TV format (AF bit set) carries a 2-byte value; TLV format carries bytes. */
  value: number | Uint8Array;
}

export interface Transform {
  type: number;
  id: number;
  attributes: TransformAttribute[];
}

export interface Proposal {
  number: number;
  protocolId: number;
  spi: Uint8Array;
  transforms: Transform[];
}

export interface SaPayload {
  type: 33;
  proposals: Proposal[];
}

const LAST_SUBSTRUCTURE = 0;
const MORE_PROPOSALS = 2;
const MORE_TRANSFORMS = 3;
const ATTRIBUTE_FORMAT_TV = 0x8000;

/** Returns the key length attribute of a transform in bits, if present. */
export function transformKeyLength(transform: Transform): number | undefined {
  const attribute = transform.attributes.find((a) => a.type === TRANSFORM_ATTRIBUTE_KEY_LENGTH);
  return typeof attribute?.value === 'number' ? attribute.value : undefined;
}

/*
 * SA payload body: a list of proposal substructures.
 *
 * Proposal substructure (RFC 7296 section 3.3.1):
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Last Substruc |   RESERVED    |         Proposal Length       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Proposal Num  |  Protocol ID  |    SPI Size   |Num  Transforms|
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                        SPI (variable)                         ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                        <Transforms>                           ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
export function parseSaPayload(body: Uint8Array): ParseResult<SaPayload> {
  const reader = new ByteReader(body, 'SA payload');
  const proposals: Proposal[] = [];
  let last = false;

  while (!last && reader.remaining > 0 && reader.error === undefined) {
    const marker = reader.u8('last substructure');
    reader.skip(1, 'reserved');
    const length = reader.u16('proposal length');
    if (marker !== LAST_SUBSTRUCTURE && marker !== MORE_PROPOSALS) {
      reader.fail('invalid-value', `proposal marker ${marker} is neither 0 nor 2`);
    }
    if (length < 8) {
      reader.fail('invalid-length', `proposal length ${length} is below 8`);
    }
    const proposal = parseProposal(reader.take(length - 4, 'proposal'));
    if (!proposal.ok) {
      return proposal;
    }
    proposals.push(proposal.value);
    last = marker === LAST_SUBSTRUCTURE;
  }

  if (proposals.length === 0) {
    reader.fail('invalid-value', 'no proposal');
  } else if (!last) {
    reader.fail('invalid-value', 'the final proposal is not marked as last');
  }
  return finish(reader, { type: 33, proposals });
}

function parseProposal(body: Uint8Array): ParseResult<Proposal> {
  const reader = new ByteReader(body, 'proposal');
  const number = reader.u8('proposal number');
  const protocolId = reader.u8('protocol id');
  const spiSize = reader.u8('SPI size');
  const transformCount = reader.u8('transform count');
  const spi = reader.take(spiSize, 'SPI');
  const transforms: Transform[] = [];

  for (let i = 0; i < transformCount && reader.error === undefined; i++) {
    const marker = reader.u8('last substructure');
    const expected = i === transformCount - 1 ? LAST_SUBSTRUCTURE : MORE_TRANSFORMS;
    if (marker !== expected) {
      reader.fail('invalid-value', `transform ${i + 1} marker ${marker}, expected ${expected}`);
    }
    reader.skip(1, 'reserved');
    const length = reader.u16('transform length');
    if (length < 8) {
      reader.fail('invalid-length', `transform length ${length} is below 8`);
    }
    const transform = parseTransform(reader.take(length - 4, 'transform'));
    if (!transform.ok) {
      return transform;
    }
    transforms.push(transform.value);
  }
  return finish(reader, { number, protocolId, spi, transforms });
}

/*
 * Transform substructure (RFC 7296 section 3.3.2):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Last Substruc |   RESERVED    |        Transform Length       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Transform Type |   RESERVED    |          Transform ID         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                      Transform Attributes                     ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Transform attribute (RFC 7296 section 3.3.5):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |A|       Attribute Type        |    AF=0  Attribute Length     |
 * |F|                             |    AF=1  Attribute Value      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                   AF=0  Attribute Value                       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
function parseTransform(body: Uint8Array): ParseResult<Transform> {
  const reader = new ByteReader(body, 'transform');
  const type = reader.u8('transform type');
  reader.skip(1, 'reserved');
  const id = reader.u16('transform id');
  const attributes: TransformAttribute[] = [];

  while (reader.remaining > 0 && reader.error === undefined) {
    const typeField = reader.u16('attribute type');
    const attributeType = typeField & ~ATTRIBUTE_FORMAT_TV;
    if ((typeField & ATTRIBUTE_FORMAT_TV) !== 0) {
      attributes.push({ type: attributeType, value: reader.u16('attribute value') });
    } else {
      const length = reader.u16('attribute length');
      attributes.push({ type: attributeType, value: reader.take(length, 'attribute value') });
    }
  }
  return finish(reader, { type, id, attributes });
}

export function encodeSaPayload(payload: SaPayload): Uint8Array {
  const parts = payload.proposals.map((proposal, index) => {
    const marker = index === payload.proposals.length - 1 ? LAST_SUBSTRUCTURE : MORE_PROPOSALS;
    return encodeProposal(proposal, marker);
  });
  return concatBytes(...parts);
}

function encodeProposal(proposal: Proposal, marker: number): Uint8Array {
  const transforms = proposal.transforms.map((transform, index) => {
    const last = index === proposal.transforms.length - 1;
    return encodeTransform(transform, last ? LAST_SUBSTRUCTURE : MORE_TRANSFORMS);
  });
  const body = concatBytes(
    new Uint8Array([proposal.number, proposal.protocolId, proposal.spi.length, transforms.length]),
    proposal.spi,
    ...transforms,
  );
  return concatBytes(new Uint8Array([marker, 0]), uint16Bytes(body.length + 4), body);
}

function encodeTransform(transform: Transform, marker: number): Uint8Array {
  const attributes = transform.attributes.map((attribute) => {
    if (typeof attribute.value === 'number') {
      return concatBytes(
        uint16Bytes(attribute.type | ATTRIBUTE_FORMAT_TV),
        uint16Bytes(attribute.value),
      );
    }
    return concatBytes(
      uint16Bytes(attribute.type),
      uint16Bytes(attribute.value.length),
      attribute.value,
    );
  });
  const body = concatBytes(
    new Uint8Array([transform.type, 0]),
    uint16Bytes(transform.id),
    ...attributes,
  );
  return concatBytes(new Uint8Array([marker, 0]), uint16Bytes(body.length + 4), body);
}
