/**
 * A minimal DER reader (ITU-T X.690) for the few structures IKE needs: the subject of an X.509
 * certificate and the AlgorithmIdentifier of RFC 7427 signatures. Malformed data yields undefined
 * instead of an exception, which test/ike/auth.test.ts checks with random inputs.
 */

export interface DerElement {
  tag: number;
  /** Offset of the tag octet. */
  start: number;
  /** Offset of the first content octet. */
  contentStart: number;
  /** Offset after the last content octet. */
  end: number;
}

export const DerTag = {
  INTEGER: 0x02,
  NULL: 0x05,
  OID: 0x06,
  SEQUENCE: 0x30,
  CONTEXT_0: 0xa0,
  CONTEXT_1: 0xa1,
  CONTEXT_2: 0xa2,
} as const;

/** Reads the element at `offset`; only definite lengths of up to 4 length octets. */
export function readDerElement(
  bytes: Uint8Array,
  offset: number,
  limit = bytes.length,
): DerElement | undefined {
  if (offset + 2 > limit) {
    return undefined;
  }
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) {
    return undefined;
  }
  let length = bytes[offset + 1]!;
  let contentStart = offset + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4 || contentStart + octets > limit) {
      return undefined;
    }
    length = 0;
    for (let i = 0; i < octets; i++) {
      length = length * 256 + bytes[contentStart + i]!;
    }
    contentStart += octets;
  }
  const end = contentStart + length;
  if (end > limit) {
    return undefined;
  }
  return { tag, start: offset, contentStart, end };
}

/** Returns the children of a constructed element. */
export function readDerChildren(bytes: Uint8Array, parent: DerElement): DerElement[] | undefined {
  const children: DerElement[] = [];
  let offset = parent.contentStart;
  while (offset < parent.end) {
    const child = readDerElement(bytes, offset, parent.end);
    if (child === undefined) {
      return undefined;
    }
    children.push(child);
    offset = child.end;
  }
  return children;
}

/** Returns the DER of the subject Name of an X.509 certificate (RFC 5280 section 4.1). */
export function certificateSubjectDer(certificate: Uint8Array): Uint8Array | undefined {
  const outer = readDerElement(certificate, 0);
  if (outer?.tag !== DerTag.SEQUENCE) {
    return undefined;
  }
  const tbs = readDerElement(certificate, outer.contentStart, outer.end);
  if (tbs?.tag !== DerTag.SEQUENCE) {
    return undefined;
  }
  const fields = readDerChildren(certificate, tbs);
  if (fields === undefined) {
    return undefined;
  }
  // version [0] is optional; then serial, signature, issuer, validity, subject.
  const skip = fields[0]?.tag === DerTag.CONTEXT_0 ? 1 : 0;
  const subject = fields[skip + 4];
  if (subject?.tag !== DerTag.SEQUENCE) {
    return undefined;
  }
  return certificate.slice(subject.start, subject.end);
}

export function decodeOid(bytes: Uint8Array, element: DerElement): string | undefined {
  if (element.tag !== DerTag.OID || element.end <= element.contentStart) {
    return undefined;
  }
  const arcs: number[] = [];
  let value = 0;
  for (let i = element.contentStart; i < element.end; i++) {
    value = value * 128 + (bytes[i]! & 0x7f);
    if ((bytes[i]! & 0x80) === 0) {
      arcs.push(value);
      value = 0;
    }
  }
  const first = arcs.shift();
  if (first === undefined) {
    return undefined;
  }
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...arcs].join('.');
}

export function encodeOid(oid: string): Uint8Array {
  const arcs = oid.split('.').map(Number);
  const body: number[] = [];
  const values = [arcs[0]! * 40 + arcs[1]!, ...arcs.slice(2)];
  for (const arc of values) {
    const chunk: number[] = [arc & 0x7f];
    let rest = Math.floor(arc / 128);
    while (rest > 0) {
      chunk.unshift((rest & 0x7f) | 0x80);
      rest = Math.floor(rest / 128);
    }
    body.push(...chunk);
  }
  return encodeDer(DerTag.OID, new Uint8Array(body));
}

export function encodeDer(tag: number, content: Uint8Array): Uint8Array {
  let lengthOctets: number[];
  if (content.length < 0x80) {
    lengthOctets = [content.length];
  } else if (content.length < 0x100) {
    lengthOctets = [0x81, content.length];
  } else {
    lengthOctets = [0x82, content.length >> 8, content.length & 0xff];
  }
  const out = new Uint8Array(1 + lengthOctets.length + content.length);
  out[0] = tag;
  out.set(lengthOctets, 1);
  out.set(content, 1 + lengthOctets.length);
  return out;
}
