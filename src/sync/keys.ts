// Secret key rules: ESO's conversionStrategy (for dataFrom keys) and Kubernetes key validation.

/** Kubernetes Secret data keys. */
export const SECRET_KEY_RE = /^[-._a-zA-Z0-9]+$/;
export const MAX_SECRET_KEY_LENGTH = 253;

export type ConversionStrategy = 'Default' | 'Unicode';

const KEEP = /^[\p{L}\p{N}._-]$/u;

/**
 * ESO's key conversion: characters that are not letters, numbers, '-', '.' or '_' become "_"
 * (Default) or "_Uxxxx_" (Unicode, lower-case hex of the code point). Unicode letters are kept,
 * as in ESO; key validation then refuses them, since Kubernetes only allows ASCII.
 */
export function convertKey(strategy: ConversionStrategy | undefined, key: string): string {
  let out = '';
  for (const ch of key) {
    if (KEEP.test(ch)) out += ch;
    else if ((strategy ?? 'Default') === 'Unicode') out += `_U${ch.codePointAt(0)!.toString(16).padStart(4, '0')}_`;
    else out += '_';
  }
  return out;
}

export function isValidSecretKey(key: string): boolean {
  return key.length <= MAX_SECRET_KEY_LENGTH && SECRET_KEY_RE.test(key);
}
