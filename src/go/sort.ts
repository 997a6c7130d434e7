// Go orders strings by their UTF-8 bytes (sort.Strings, encoding/json's map keys, text/template's
// `lt` and sorted map ranges); JS's default sort and `<` order by UTF-16 code units. The two agree
// except where a character above U+FFFF (a surrogate pair) meets one in U+E000..U+FFFF: "\u{1F600}"
// sorts after "\uFF01" in Go and before it in JS. Output ESO writes (JSON of a map, a merge order)
// must use Go's order to be byte-identical.

/**
 * Compares two strings as Go compares them (by UTF-8 bytes), without encoding them: UTF-8 byte
 * order is code point order, and mapping surrogates above U+E000..U+FFFF turns UTF-16 code unit
 * order into code point order. A lone surrogate (never produced by decoding bytes) sorts as a
 * supplementary character.
 */
export function compareGoStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca !== cb) {
      if (ca >= 0xd800 && ca <= 0xdfff) ca += 0x2000;
      else if (ca >= 0xe000) ca -= 0x800;
      if (cb >= 0xd800 && cb <= 0xdfff) cb += 0x2000;
      else if (cb >= 0xe000) cb -= 0x800;
      return ca < cb ? -1 : 1;
    }
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/** A sorted copy, in Go's order (sort.Strings). */
export function sortedGoStrings(items: Iterable<string>): string[] {
  return [...items].sort(compareGoStrings);
}
