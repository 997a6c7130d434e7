// The Password generator: ESO's options (length, digits, symbols, symbolCharacters, noUpper,
// allowRepeat, secretKeys, encoding) with the character classes and defaults of the library ESO
// uses (sethvargo/go-password): letters fill what digits and symbols leave, and the classes are
// mixed at random positions. Every pick comes from node:crypto.
//
// Why picks from a pool instead of ESO's "draw again until unused": drawing again loops forever
// when the classes cannot supply enough distinct characters (custom symbols that overlap letters);
// drawing from what is left is the same distribution and always ends.
import { randomInt } from 'node:crypto';
import type { PasswordSpec } from '../api/types.generated.ts';
import { MAX_PASSWORD_KEYS, MAX_PASSWORD_LENGTH, MAX_SYMBOL_CHARACTERS } from '../api/schema-generators.ts';
import { generatorErrors } from './errors.ts';

export const LOWER_LETTERS = 'abcdefghijklmnopqrstuvwxyz';
export const UPPER_LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const DIGITS = '0123456789';
export const DEFAULT_SYMBOLS = '~!@#$%^&*()_+`-={}|[]\\:"<>?,./';
const DEFAULT_LENGTH = 24;

export interface PasswordOptions {
  length: number;
  digits: number;
  symbols: number;
  symbolCharacters: string;
  noUpper: boolean;
  allowRepeat: boolean;
}

/** ESO's defaults: length 24; digits and symbols a quarter of the length each (rounded down). */
export function passwordOptions(spec: PasswordSpec | undefined, field: string): PasswordOptions {
  const length = spec?.length && spec.length > 0 ? spec.length : DEFAULT_LENGTH;
  const o: PasswordOptions = {
    length,
    digits: spec?.digits ?? Math.floor(length * 0.25),
    symbols: spec?.symbols ?? Math.floor(length * 0.25),
    // An empty symbol set falls back to the default one, as go-password's NewGenerator does.
    symbolCharacters: spec?.symbolCharacters || DEFAULT_SYMBOLS,
    noUpper: spec?.noUpper ?? false,
    allowRepeat: spec?.allowRepeat ?? false,
  };
  // The schema bounds these at admission; checked again for objects stored before it did.
  if (o.length > MAX_PASSWORD_LENGTH) throw generatorErrors.invalidSpec(`${field}.length`, `must be at most ${MAX_PASSWORD_LENGTH}`);
  if (o.digits < 0 || o.symbols < 0) throw generatorErrors.invalidSpec(`${field}.digits`, 'digits and symbols must not be negative');
  if ([...o.symbolCharacters].length > MAX_SYMBOL_CHARACTERS) throw generatorErrors.invalidSpec(`${field}.symbolCharacters`, `must be at most ${MAX_SYMBOL_CHARACTERS} characters`);
  return o;
}

/** Draws `count` characters of `classChars`; without repeats, none already in `used`. */
function draw(classChars: readonly string[], count: number, used: Set<string>, allowRepeat: boolean, field: string): string[] {
  const out: string[] = [];
  const pool = allowRepeat ? classChars : [...new Set(classChars)].filter((c) => !used.has(c));
  if (count > 0 && pool.length === 0) throw generatorErrors.invalidSpec(field, 'no characters left to draw from');
  if (!allowRepeat && count > pool.length) {
    throw generatorErrors.invalidSpec(field, `asks for ${count} distinct characters but only ${pool.length} are available (set allowRepeat: true or ask for fewer)`);
  }
  const left = [...pool];
  for (let i = 0; i < count; i++) {
    const at = randomInt(left.length);
    const c = left[at]!;
    out.push(c);
    if (!allowRepeat) {
      left[at] = left[left.length - 1]!;
      left.pop();
      used.add(c);
    }
  }
  return out;
}

/** One password. Throws GeneratorError (InvalidSpec) when the options cannot be met. */
export function generatePassword(o: PasswordOptions, field = 'spec'): string {
  const letters = o.length - o.digits - o.symbols;
  if (letters < 0) throw generatorErrors.invalidSpec(`${field}.length`, `digits (${o.digits}) and symbols (${o.symbols}) exceed the length (${o.length})`);
  const used = new Set<string>();
  const letterSet = [...(o.noUpper ? LOWER_LETTERS : LOWER_LETTERS + UPPER_LETTERS)];
  const chars = [
    ...draw(letterSet, letters, used, o.allowRepeat, `${field}.length`),
    ...draw([...DIGITS], o.digits, used, o.allowRepeat, `${field}.digits`),
    ...draw([...o.symbolCharacters], o.symbols, used, o.allowRepeat, `${field}.symbols`),
  ];
  // Fisher–Yates: every arrangement of the drawn characters equally likely (go-password inserts
  // each at a random position, which gives the same distribution).
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}

/** spec.encoding: Go's encodings, padded as Go's StdEncoding/URLEncoding are. */
export function encodePassword(password: string, encoding: string | undefined): string {
  const b = Buffer.from(password, 'utf8');
  switch (encoding) {
    case 'base64': return b.toString('base64');
    case 'base64url': return b.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
    case 'base32': return base32(b);
    case 'hex': return b.toString('hex');
    default: return password;
  }
}

/** RFC 4648 base32 with padding (Go's base32.StdEncoding). */
export function base32(b: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of b) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  while (out.length % 8 !== 0) out += '=';
  return out;
}

/** Every key of spec.secretKeys (default "password") gets its own password. */
export function generatePasswords(spec: PasswordSpec | undefined, field = 'spec'): Record<string, Uint8Array> {
  const keys = spec?.secretKeys && spec.secretKeys.length > 0 ? spec.secretKeys : ['password'];
  if (keys.length > MAX_PASSWORD_KEYS) throw generatorErrors.invalidSpec(`${field}.secretKeys`, `at most ${MAX_PASSWORD_KEYS} keys`);
  if (keys.some((k) => k === '') || new Set(keys).size !== keys.length) throw generatorErrors.invalidSpec(`${field}.secretKeys`, 'secretKeys must be non-empty and unique');
  const o = passwordOptions(spec, field);
  const out: Record<string, Uint8Array> = {};
  for (const key of keys) out[key] = Buffer.from(encodePassword(generatePassword(o, field), spec?.encoding), 'utf8');
  return out;
}
