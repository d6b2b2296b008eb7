/**
 * Escapes text from profiles, files and the control socket before the CLI prints it, so that a
 * profile name cannot move the cursor, retitle the terminal or reorder a line.
 */

/**
 * C0 and C1 control characters, DEL, the Unicode line and paragraph separators and the
 * bidirectional formatting characters (the "Trojan Source" characters of CVE-2021-42574).
 */
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Characters that JSON.stringify leaves as they are but a terminal may still act on. */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Replaces each unsafe character with a visible escape: `\x1b` below U+0100, `\u202e` above. */
export function escapeControlCharacters(text: string): string {
  return text.replace(UNSAFE_CHARACTERS, (character) => {
    const code = character.charCodeAt(0);
    return code < 0x100 ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`;
  });
}

/** Formats a value as indented JSON in which every unsafe character is a `\uXXXX` escape. */
export function formatJsonForTerminal(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(UNSAFE_IN_JSON, (character) => `\\u${hex(character.charCodeAt(0), 4)}`);
}

function hex(code: number, digits: number): string {
  return code.toString(16).padStart(digits, '0');
}
