/**
 * A parser for strongSwan's settings syntax (strongswan.conf(5), used by swanctl.conf): nested
 * `name { ... }` sections, `key = value` settings, `#` comments and double-quoted values with
 * backslash escapes. `include` statements are not followed, because a profile must not make the
 * client read other files; each one is reported so the caller can warn.
 */

export interface SettingValue {
  value: string;
  line: number;
}

export interface SettingsSection {
  name: string;
  line: number;
  settings: Map<string, SettingValue>;
  sections: Map<string, SettingsSection>;
}

export interface ParsedSettings {
  root: SettingsSection;
  /** Lines of `include` statements that were skipped. */
  includes: SettingValue[];
  /** Settings or sections given twice; the later one wins, as in strongSwan. */
  duplicates: SettingValue[];
}

export class SettingsSyntaxError extends Error {
  constructor(message: string, readonly line: number) {
    super(message);
    this.name = 'SettingsSyntaxError';
  }
}

const MAX_DEPTH = 16;
const NAME = /^[A-Za-z0-9_.*%+-][A-Za-z0-9_.*%+:-]*$/;

function newSection(name: string, line: number): SettingsSection {
  return { name, line, settings: new Map(), sections: new Map() };
}

/** Parses settings text; throws SettingsSyntaxError with the line of the problem. */
export function parseSettings(text: string): ParsedSettings {
  const parser = new SettingsParser(text);
  return parser.parse();
}

class SettingsParser {
  private position = 0;
  private line = 1;
  private readonly includes: SettingValue[] = [];
  private readonly duplicates: SettingValue[] = [];

  constructor(private readonly text: string) {}

  parse(): ParsedSettings {
    const root = newSection('', 1);
    this.parseBody(root, 0);
    return { root, includes: this.includes, duplicates: this.duplicates };
  }

  private fail(message: string): never {
    throw new SettingsSyntaxError(message, this.line);
  }

  private peek(): string | undefined {
    return this.text[this.position];
  }

  private advance(): string {
    const char = this.text[this.position++]!;
    if (char === '\n') {
      this.line++;
    }
    return char;
  }

  /** Skips spaces, newlines and comments. */
  private skipBlank(): void {
    for (;;) {
      const char = this.peek();
      if (char === '#') {
        while (this.peek() !== undefined && this.peek() !== '\n') {
          this.advance();
        }
      } else if (char !== undefined && /\s/.test(char)) {
        this.advance();
      } else {
        return;
      }
    }
  }

  private skipInlineSpace(): void {
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === '\r') {
      this.advance();
    }
  }

  private readName(): string {
    const start = this.position;
    while (this.peek() !== undefined && /[^\s{}=#"]/.test(this.peek()!)) {
      this.advance();
    }
    return this.text.slice(start, this.position);
  }

  private parseBody(section: SettingsSection, depth: number): void {
    if (depth > MAX_DEPTH) {
      this.fail(`sections are nested deeper than ${MAX_DEPTH} levels`);
    }
    for (;;) {
      this.skipBlank();
      const char = this.peek();
      if (char === undefined) {
        if (depth > 0) {
          this.fail(`section "${section.name}" opened on line ${section.line} is not closed with "}"`);
        }
        return;
      }
      if (char === '}') {
        if (depth === 0) {
          this.fail('unexpected "}"');
        }
        this.advance();
        return;
      }
      this.parseStatement(section, depth);
    }
  }

  private parseStatement(section: SettingsSection, depth: number): void {
    const line = this.line;
    const name = this.readName();
    if (name === '') {
      this.fail(`unexpected "${this.peek()}"`);
    }
    this.skipInlineSpace();

    if (name === 'include') {
      this.includes.push({ value: this.readUnquotedValue(), line });
      return;
    }
    if (!NAME.test(name)) {
      this.fail(`invalid name "${name.slice(0, 40)}"`);
    }

    const char = this.peek();
    if (char === '=') {
      this.advance();
      this.skipInlineSpace();
      const value = this.peek() === '"' ? this.readQuotedValue() : this.readUnquotedValue();
      if (section.settings.has(name)) {
        this.duplicates.push({ value: name, line });
      }
      section.settings.set(name, { value, line });
      return;
    }
    this.skipBlank();
    if (this.peek() !== '{') {
      this.fail(`expected "=" or "{" after "${name}"`);
    }
    this.advance();
    const child = section.sections.get(name) ?? newSection(name, line);
    if (section.sections.has(name)) {
      this.duplicates.push({ value: name, line });
    }
    section.sections.set(name, child);
    this.parseBody(child, depth + 1);
  }

  private readUnquotedValue(): string {
    const start = this.position;
    while (this.peek() !== undefined && !['\n', '#', '}'].includes(this.peek()!)) {
      this.advance();
    }
    return this.text.slice(start, this.position).trim();
  }

  private readQuotedValue(): string {
    const startLine = this.line;
    this.advance();
    let value = '';
    for (;;) {
      const char = this.peek();
      if (char === undefined) {
        throw new SettingsSyntaxError('unterminated quoted value', startLine);
      }
      this.advance();
      if (char === '"') {
        break;
      }
      if (char === '\\') {
        const escaped = this.peek();
        if (escaped === undefined) {
          throw new SettingsSyntaxError('unterminated quoted value', startLine);
        }
        this.advance();
        value += { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\' }[escaped] ?? `\\${escaped}`;
        continue;
      }
      value += char;
    }
    this.skipInlineSpace();
    if (this.peek() !== undefined && !['\n', '#', '}'].includes(this.peek()!)) {
      this.fail('unexpected text after the quoted value');
    }
    return value;
  }
}

/** Returns a nested section by path, or undefined. */
export function getSection(section: SettingsSection, ...path: string[]): SettingsSection | undefined {
  let current: SettingsSection | undefined = section;
  for (const name of path) {
    current = current?.sections.get(name);
  }
  return current;
}
