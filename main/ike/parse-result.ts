/**
 * Typed parse errors and a bounds-checked reader. A read past the end records the first error
 * and returns zeros or an empty array instead of throwing. Every later read fails too, so a
 * parser can read a whole structure and check `reader.error` once at the end.
 */

import { NotifyType } from './constants.js';

export type ParseErrorCode =
  | 'truncated'
  | 'invalid-length'
  | 'invalid-value'
  | 'trailing-data'
  | 'unsupported-critical-payload'
  | 'invalid-major-version'
  | 'invalid-nesting';

export interface IkeParseError {
  readonly code: ParseErrorCode;
  /** The notify that a responder sends back for this error (RFC 7296 section 2.21). */
  readonly notify: number;
  readonly message: string;
  /** For unsupported-critical-payload: the payload type to return in the notify data. */
  readonly payloadType?: number;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: IkeParseError };

export function parsed<T>(value: T): ParseResult<T> {
  return { ok: true, value };
}

export function parseFailure<T>(
  code: ParseErrorCode,
  message: string,
  payloadType?: number,
): ParseResult<T> {
  return { ok: false, error: makeParseError(code, message, payloadType) };
}

export function makeParseError(
  code: ParseErrorCode,
  message: string,
  payloadType?: number,
): IkeParseError {
  let notify: number = NotifyType.INVALID_SYNTAX;
  if (code === 'unsupported-critical-payload') {
    notify = NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD;
  } else if (code === 'invalid-major-version') {
    notify = NotifyType.INVALID_MAJOR_VERSION;
  }
  return payloadType === undefined
    ? { code, notify, message }
    : { code, notify, message, payloadType };
}

export class ByteReader {
  private offset = 0;
  private failure: IkeParseError | undefined;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly context: string,
  ) {}

  get error(): IkeParseError | undefined {
    return this.failure;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  get position(): number {
    return this.offset;
  }

  /** Records the first failure and moves to the end, so that nothing more is read. */
  fail(code: ParseErrorCode, reason: string, payloadType?: number): void {
    if (this.failure === undefined) {
      this.failure = makeParseError(code, `${this.context}: ${reason}`, payloadType);
    }
    this.offset = this.bytes.length;
  }

  u8(field: string): number {
    if (!this.ensure(1, field)) {
      return 0;
    }
    return this.bytes[this.offset++]!;
  }

  u16(field: string): number {
    if (!this.ensure(2, field)) {
      return 0;
    }
    const value = (this.bytes[this.offset]! << 8) | this.bytes[this.offset + 1]!;
    this.offset += 2;
    return value;
  }

  u32(field: string): number {
    if (!this.ensure(4, field)) {
      return 0;
    }
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.offset, 4);
    this.offset += 4;
    return view.getUint32(0);
  }

  /** Returns a copy of the next `length` bytes. */
  take(length: number, field: string): Uint8Array {
    if (!this.ensure(length, field)) {
      return new Uint8Array(0);
    }
    const out = this.bytes.slice(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  skip(length: number, field: string): void {
    if (this.ensure(length, field)) {
      this.offset += length;
    }
  }

  rest(): Uint8Array {
    const out = this.bytes.slice(this.offset);
    this.offset = this.bytes.length;
    return out;
  }

  private ensure(length: number, field: string): boolean {
    if (this.failure !== undefined) {
      return false;
    }
    if (!Number.isInteger(length) || length < 0 || length > this.remaining) {
      this.fail('truncated', `${field} needs ${length} bytes but ${this.remaining} remain`);
      return false;
    }
    return true;
  }
}

/** Converts a finished reader into a result: its error, or trailing bytes, or the value. */
export function finish<T>(reader: ByteReader, value: T, allowTrailing = false): ParseResult<T> {
  if (reader.error !== undefined) {
    return { ok: false, error: reader.error };
  }
  if (!allowTrailing && reader.remaining !== 0) {
    reader.fail('trailing-data', `${reader.remaining} unexpected bytes at the end`);
    return { ok: false, error: reader.error! };
  }
  return parsed(value);
}
