/**
 * A strict parser for the XML property list subset that configuration profiles use.
 *
 * Why not a general XML library: a plist needs eight element names and no DTD, so a parser that
 * knows only those can reject a DOCTYPE internal subset, every `<!ENTITY`, external references
 * and unknown markup outright, and can bound depth and node count. A general parser would have to
 * be configured to do the same, and a missed option (entity expansion, external DTD fetching) is
 * the usual way such parsers are attacked.
 */

export type PlistValue =
  | string
  | number
  | boolean
  | Uint8Array
  | Date
  | PlistValue[]
  | PlistDict;

export interface PlistDict {
  [key: string]: PlistValue;
}

export class PlistError extends Error {
  constructor(message: string, readonly line: number) {
    super(message);
    this.name = 'PlistError';
  }
}

export const PLIST_LIMITS = {
  bytes: 1024 * 1024,
  depth: 32,
  nodes: 100_000,
} as const;

const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype'];
const PREDEFINED_ENTITIES: Record<string, string> = {
  lt: '<', gt: '>', amp: '&', quot: '"', apos: "'",
};

/** Parses plist XML text; throws PlistError with the line of the problem. */
export function parsePlist(text: string): PlistValue {
  if (text.length > PLIST_LIMITS.bytes) {
    throw new PlistError(`the property list is larger than ${PLIST_LIMITS.bytes} bytes`, 1);
  }
  const parser = new PlistParser(text);
  return parser.parseDocument();
}

class PlistParser {
  private position = 0;
  private nodes = 0;
  /** The <key> whose value is being read, so errors can name it without showing the value. */
  private currentKey: string | undefined;

  constructor(private readonly text: string) {}

  parseDocument(): PlistValue {
    this.skipProlog();
    this.expectTag('plist');
    this.skipSpace();
    const value = this.parseValue(1);
    this.skipSpace();
    this.expectClosing('plist');
    this.skipMisc();
    if (this.position < this.text.length) {
      this.fail('unexpected content after </plist>');
    }
    return value;
  }

  private line(): number {
    let line = 1;
    for (let i = 0; i < this.position && i < this.text.length; i++) {
      if (this.text.charCodeAt(i) === 10) {
        line++;
      }
    }
    return line;
  }

  /**
   * Names the key of the value being read. Text content is never quoted in a message, because a
   * value that fails to parse may be a password written under the wrong element.
   */
  private where(): string {
    return this.currentKey === undefined ? 'outside any <key>' : `in the value of <key>${this.currentKey}</key>`;
  }

  private fail(message: string): never {
    throw new PlistError(message, this.line());
  }

  private startsWith(prefix: string): boolean {
    return this.text.startsWith(prefix, this.position);
  }

  private skipSpace(): void {
    while (this.position < this.text.length && /\s/.test(this.text[this.position]!)) {
      this.position++;
    }
  }

  private skipComment(): boolean {
    if (!this.startsWith('<!--')) {
      return false;
    }
    const end = this.text.indexOf('-->', this.position + 4);
    if (end < 0) {
      this.fail('unterminated comment');
    }
    this.position = end + 3;
    return true;
  }

  private skipMisc(): void {
    for (;;) {
      this.skipSpace();
      if (!this.skipComment()) {
        return;
      }
    }
  }

  /** Skips the XML declaration, comments and a DOCTYPE without an internal subset. */
  private skipProlog(): void {
    if (this.text.charCodeAt(0) === 0xfeff) {
      this.position = 1;
    }
    if (this.text.includes('<!ENTITY')) {
      this.fail('entity declarations (<!ENTITY) are not allowed in a profile; the file may be an ' +
        'entity-expansion attack');
    }
    this.skipSpace();
    if (this.startsWith('<?xml')) {
      const end = this.text.indexOf('?>', this.position);
      if (end < 0) {
        this.fail('unterminated XML declaration');
      }
      this.position = end + 2;
    }
    this.skipMisc();
    if (this.startsWith('<!DOCTYPE')) {
      const end = this.text.indexOf('>', this.position);
      const doctype = end < 0 ? '' : this.text.slice(this.position, end);
      if (end < 0 || doctype.includes('[')) {
        this.fail('a DOCTYPE with an internal subset is not allowed in a profile');
      }
      this.position = end + 1;
    }
    this.skipMisc();
    if (this.startsWith('<!') || this.startsWith('<?')) {
      this.fail('unexpected markup before <plist>');
    }
  }

  /** Reads `<name ...>` or `<name .../>` and returns true when it was self-closing. */
  private readOpenTag(): { name: string; selfClosing: boolean } {
    const match = /^<([a-zA-Z]+)(\s+[a-zA-Z:]+\s*=\s*"[^"<&]*")*\s*(\/?)>/.exec(
      this.text.slice(this.position, this.position + 256));
    if (!match) {
      this.fail('expected an element');
    }
    this.position += match[0].length;
    this.nodes++;
    if (this.nodes > PLIST_LIMITS.nodes) {
      this.fail(`the property list has more than ${PLIST_LIMITS.nodes} elements`);
    }
    return { name: match[1]!, selfClosing: match[3] === '/' };
  }

  private expectTag(name: string): void {
    this.skipMisc();
    const tag = this.readOpenTag();
    if (tag.name !== name || tag.selfClosing) {
      this.fail(`expected <${name}>, found <${tag.name}>`);
    }
  }

  private expectClosing(name: string): void {
    this.skipMisc();
    const closing = `</${name}>`;
    if (!this.startsWith(closing)) {
      this.fail(`expected ${closing}`);
    }
    this.position += closing.length;
  }

  private readText(name: string): string {
    const end = this.text.indexOf('<', this.position);
    if (end < 0) {
      this.fail(`unterminated <${name}>`);
    }
    const raw = this.text.slice(this.position, end);
    this.position = end;
    this.expectClosing(name);
    return this.decodeEntities(raw);
  }

  private decodeEntities(raw: string): string {
    return raw.replace(/&([^;&\s]{0,10});?/g, (whole, entity: string) => {
      if (!whole.endsWith(';')) {
        this.fail(`"&" must start an entity such as &amp; ${this.where()}`);
      }
      const predefined = PREDEFINED_ENTITIES[entity];
      if (predefined !== undefined) {
        return predefined;
      }
      const numeric = /^#(x[0-9a-fA-F]{1,6}|[0-9]{1,7})$/.exec(entity);
      if (numeric) {
        const code = numeric[1]!.startsWith('x') ? parseInt(numeric[1]!.slice(1), 16) : Number(numeric[1]);
        if (code > 0x10ffff || code === 0) {
          this.fail(`invalid character reference ${this.where()}`);
        }
        return String.fromCodePoint(code);
      }
      this.fail(`unknown entity ${this.where()}; only the XML predefined entities are allowed`);
    });
  }

  private parseValue(depth: number): PlistValue {
    if (depth > PLIST_LIMITS.depth) {
      this.fail(`the property list is nested deeper than ${PLIST_LIMITS.depth} levels`);
    }
    this.skipMisc();
    const tag = this.readOpenTag();
    switch (tag.name) {
      case 'dict':
        return tag.selfClosing ? {} : this.parseDict(depth);
      case 'array':
        return tag.selfClosing ? [] : this.parseArray(depth);
      case 'string':
        return tag.selfClosing ? '' : this.readText('string');
      case 'true':
      case 'false':
        if (!tag.selfClosing) {
          this.expectClosing(tag.name);
        }
        return tag.name === 'true';
      case 'integer':
        return this.parseInteger(tag.selfClosing ? '' : this.readText('integer'));
      case 'real':
        return this.parseReal(tag.selfClosing ? '' : this.readText('real'));
      case 'data':
        return this.parseData(tag.selfClosing ? '' : this.readText('data'));
      case 'date':
        return this.parseDate(tag.selfClosing ? '' : this.readText('date'));
      default:
        this.fail(`unknown property list element <${tag.name}>`);
    }
  }

  private parseDict(depth: number): PlistDict {
    const dict: PlistDict = Object.create(null) as PlistDict;
    for (;;) {
      this.skipMisc();
      if (this.startsWith('</dict>')) {
        this.position += '</dict>'.length;
        return dict;
      }
      const tag = this.readOpenTag();
      if (tag.name !== 'key' || tag.selfClosing) {
        this.fail(`expected <key> in <dict>, found <${tag.name}>`);
      }
      const key = this.readText('key');
      if (FORBIDDEN_KEYS.includes(key)) {
        this.fail(`the key "${key}" is not allowed in a profile`);
      }
      const outerKey = this.currentKey;
      this.currentKey = key;
      dict[key] = this.parseValue(depth + 1);
      this.currentKey = outerKey;
    }
  }

  private parseArray(depth: number): PlistValue[] {
    const items: PlistValue[] = [];
    for (;;) {
      this.skipMisc();
      if (this.startsWith('</array>')) {
        this.position += '</array>'.length;
        return items;
      }
      items.push(this.parseValue(depth + 1));
    }
  }

  private parseInteger(text: string): number {
    const trimmed = text.trim();
    const value = /^[+-]?\d{1,15}$/.test(trimmed) ? Number(trimmed)
      : /^0x[0-9a-f]{1,12}$/i.test(trimmed) ? parseInt(trimmed, 16) : Number.NaN;
    if (!Number.isSafeInteger(value)) {
      this.fail(`invalid <integer> ${this.where()}; expected decimal digits`);
    }
    return value;
  }

  private parseReal(text: string): number {
    const value = Number(text.trim());
    if (!Number.isFinite(value) || text.trim() === '') {
      this.fail(`invalid <real> ${this.where()}`);
    }
    return value;
  }

  private parseData(text: string): Uint8Array {
    const compact = text.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
      this.fail(`invalid base64 in <data> ${this.where()}`);
    }
    return new Uint8Array(Buffer.from(compact, 'base64'));
  }

  private parseDate(text: string): Date {
    const date = new Date(text.trim());
    if (Number.isNaN(date.getTime())) {
      this.fail(`invalid <date> ${this.where()}; expected an ISO 8601 date`);
    }
    return date;
  }
}

export function isPlistDict(value: PlistValue | undefined): value is PlistDict {
  return typeof value === 'object' && value !== null && !Array.isArray(value) &&
    !(value instanceof Uint8Array) && !(value instanceof Date);
}
