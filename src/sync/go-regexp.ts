// Go RE2 patterns and regexp.ReplaceAllString, on JavaScript RegExp.
//
// Differences handled: (?P<name>) groups, leading inline flags (?i)(?s)(?m), \A and \z,
// \Q...\E literals, POSIX classes [[:alpha:]], \pL short Unicode classes, \x{...} escapes,
// escaped punctuation that JS's u-mode refuses, Go's `$name`/`${name}` replacement syntax, and
// Go's rule that an empty match right after a previous match is not replaced.
// Not handled (refused): inline flags after the start, (?U), negated POSIX classes. JS accepts
// some things RE2 refuses (backreferences, lookaround); such patterns work here but not in ESO.

export class RegexpTranslationError extends Error {}

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z', alpha: 'A-Za-z', ascii: '\\x00-\\x7F', blank: '\\t ', cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9', graph: '!-~', lower: 'a-z', print: ' -~', punct: '!-\\/:-@\\[-`{-~', space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z', word: '0-9A-Za-z_', xdigit: '0-9A-Fa-f',
};
/** Characters that may be escaped with a backslash in a JS u-mode pattern. */
const JS_SYNTAX = new Set([...'^$\\.*+?()[]{}|/']);

export function translateGoRegexp(source: string): RegExp {
  let flags = 'u';
  let pattern = source;
  const lead = /^\(\?([imsU]+)\)/.exec(pattern);
  if (lead) {
    for (const f of lead[1]!) {
      if (f === 'U') throw new RegexpTranslationError('the ungreedy flag (?U) is not supported');
      if (!flags.includes(f)) flags += f;
    }
    pattern = pattern.slice(lead[0].length);
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const n = pattern[i + 1];
      if (n === undefined) throw new RegexpTranslationError('trailing backslash');
      if (n === 'Q') {
        const end = pattern.indexOf('\\E', i + 2);
        const literal = pattern.slice(i + 2, end === -1 ? undefined : end);
        out += literal.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
        i = end === -1 ? pattern.length : end + 1;
        continue;
      }
      if (!inClass && n === 'A') { out += '(?<![\\s\\S])'; i++; continue; }
      if (!inClass && n === 'z') { out += '(?![\\s\\S])'; i++; continue; }
      if ((n === 'p' || n === 'P') && pattern[i + 2] !== '{') {
        const cls = pattern[i + 2];
        if (cls === undefined) throw new RegexpTranslationError('incomplete \\p class');
        out += `\\${n}{${cls}}`;
        i += 2;
        continue;
      }
      if (n === 'x' && pattern[i + 2] === '{') {
        const end = pattern.indexOf('}', i + 3);
        if (end === -1) throw new RegexpTranslationError('unterminated \\x{');
        out += `\\u{${pattern.slice(i + 3, end)}}`;
        i = end;
        continue;
      }
      if (/[!-/:-@[-`{-~]/.test(n) && !JS_SYNTAX.has(n) && !(inClass && n === '-')) {
        out += n; // Go allows escaping any punctuation; JS u-mode only syntax characters.
        i++;
        continue;
      }
      out += c + n;
      i++;
      continue;
    }
    if (inClass) {
      if (c === '[' && pattern[i + 1] === ':') {
        const end = pattern.indexOf(':]', i + 2);
        if (end !== -1) {
          const name = pattern.slice(i + 2, end);
          if (name.startsWith('^')) throw new RegexpTranslationError(`negated POSIX class [:${name}:] is not supported`);
          const range = POSIX[name];
          if (range === undefined) throw new RegexpTranslationError(`unknown POSIX class [:${name}:]`);
          out += range;
          i = end + 1;
          continue;
        }
      }
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (pattern[i + 1] === '^') { out += '^'; i++; }
      if (pattern[i + 1] === ']') { out += '\\]'; i++; } // Go: "[]a]" has a literal ']' first
      continue;
    }
    if (c === '(' && pattern.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
      continue;
    }
    if (c === '(' && pattern[i + 1] === '?' && /^\(\?[imsU-]+[:)]/.test(pattern.slice(i))) {
      const m = /^\(\?([imsU-]+)([:)])/.exec(pattern.slice(i))!;
      if (m[2] === ')') throw new RegexpTranslationError('inline flags are only supported at the start of the pattern');
      if (m[1]!.includes('U')) throw new RegexpTranslationError('the ungreedy flag (?U) is not supported');
      out += m[0]; // (?i:...) modifier groups are JS syntax too
      i += m[0].length - 1;
      continue;
    }
    out += c;
  }
  try {
    return new RegExp(out, `${flags}g`);
  } catch (err) {
    throw new RegexpTranslationError((err as Error).message);
  }
}

/** Go's Regexp.Expand for a replacement template: $1, ${1}, $name, ${name}, $$. */
function expand(template: string, match: RegExpExecArray): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c !== '$') { out += c; continue; }
    if (template[i + 1] === '$') { out += '$'; i++; continue; }
    let name: string | undefined;
    let consumed = 0;
    if (template[i + 1] === '{') {
      const end = template.indexOf('}', i + 2);
      const inner = end === -1 ? '' : template.slice(i + 2, end);
      if (end !== -1 && /^\w+$/.test(inner)) { name = inner; consumed = end - i; }
    } else {
      const m = /^\w+/.exec(template.slice(i + 1));
      if (m) { name = m[0]; consumed = m[0].length; }
    }
    if (name === undefined) { out += '$'; continue; } // malformed: literal '$'
    i += consumed;
    if (/^\d+$/.test(name)) out += match[Number(name)] ?? '';
    else out += match.groups?.[name] ?? '';
  }
  return out;
}

/** Go's Regexp.ReplaceAllString(src, repl). `re` must carry the g flag. */
export function goReplaceAll(re: RegExp, src: string, repl: string): string {
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= src.length) {
    re.lastIndex = searchPos;
    const m = re.exec(src);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    out += src.slice(lastMatchEnd, start);
    if (end > lastMatchEnd || start === 0) out += expand(repl, m);
    lastMatchEnd = end;
    const width = searchPos < src.length ? (src.codePointAt(searchPos)! > 0xffff ? 2 : 1) : 1;
    searchPos = searchPos + width > end ? searchPos + width : end;
  }
  return out + src.slice(lastMatchEnd);
}
