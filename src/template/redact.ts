// Error messages that are safe to show in a status, an event or a log.
//
// Go's text/template errors keep the template's position and text (from Git, not secret), but
// some messages print the data they failed on, or text a template derived from it:
//   range can't iterate over VALUE            if/with can't use VALUE
//   can't use VALUE to iterate over more than one variable
//   error calling F: ...                      any function error that quotes its input, e.g.
//     toDate   parsing time "VALUE" as "2006-01-02": ...
//     urlParse unable to parse url: parse "VALUE": ...
//     duration/regex*/semver*/eq/call ...    (time: invalid duration "VALUE", regexp: Compile(`VALUE`),
//                                             improper constraint: VALUE, non-comparable types VALUE, ...)
//   fail MESSAGE                              a message the template author built, maybe from data
//                                             (`fail (upper .password)`)
// The rule: an execution error keeps its value-free parts (template name, line:col, the node or
// function that failed, Go's fixed words) and drops text that can derive from data:
//   - a function called only with literals of the template text keeps its message whole (it can
//     only repeat the template text), so `{{ fail "set .password" }}` still explains itself;
//   - `fail` with any computed argument loses its message: its text is whatever the author built;
//   - other functions keep Go's words with every quoted part and known value slot redacted;
//   - last, as a net for derived forms (upper, substr, trunc, printf of a value), every run of 4
//     or more characters that also occurs in a data value, in any letter case, is redacted.
// Parse errors quote only the template text and are kept.

import type { TemplateError } from './parse.ts';
import { compile, RegexpError, replaceAllStringSubmatchFunc } from '../go/regexp.ts';

export const REDACTED = '[redacted]';

/** Shorter shared runs are too common in ordinary words to say anything about a value. */
const MIN_FRAGMENT = 4;
/** A function message longer than this is cut: no useful Go error is that long. */
const MAX_FUNC_MESSAGE = 512;

// Go-quoted strings ("..." with escapes), raw strings (`...`) and quoted runes ('x' is kept: one
// character says nothing about a value and Go's JSON errors use it for the offending byte).
// RE2, not RegExp: messages carry tenant text, and a run of `\"` made the backtracking search
// quadratic (46 s on 80,000 characters).
const quoted = compile('"(?:[^"\\\\]|\\\\.)*"|`[^`]*`');

const valueSlots: Array<[RegExp, string]> = [
  [/^(range can't iterate over ).*$/s, `$1${REDACTED}`],
  [/^(if\/with can't use ).*$/s, `$1${REDACTED}`],
  [/^(can't use ).*( to iterate over more than one variable)$/s, `$1${REDACTED}$2`],
];

const funcSlots: Array<[RegExp, string]> = [
  [/^(improper constraint: ).*$/s, `$1${REDACTED}`],
  [/^(non-comparable types? ).*$/s, `$1${REDACTED}`],
  [/^(non-function ).*( of type \S+)$/s, `$1${REDACTED}$2`],
  [/^(json: cannot unmarshal number )\S+/, `$1${REDACTED}`],
  [/^(Cannot create a Decimal from ).*$/s, `$1${REDACTED}`],
];

function scrubValues(text: string, values: readonly string[]): string {
  let out = text;
  for (const v of values) if (v.length >= MIN_FRAGMENT && out.includes(v)) out = out.split(v).join(REDACTED);
  return out;
}

/**
 * Redacts every run of MIN_FRAGMENT or more characters of `text` that occurs in `haystack`
 * (the data values, lower-cased, joined by NUL), ignoring letter case. The REDACTED marker
 * itself is left alone.
 */
function scrubFragments(text: string, haystack: string): string {
  if (haystack.length === 0 || text.length < MIN_FRAGMENT) return text;
  const lowered = text.toLowerCase();
  const lower = lowered.length === text.length ? lowered : text; // a few letters change length when lower-cased
  const hit = new Uint8Array(text.length);
  let any = false;
  for (let i = 0; i + MIN_FRAGMENT <= text.length; i++) {
    const gram = lower.slice(i, i + MIN_FRAGMENT);
    if (haystack.includes(gram)) {
      hit.fill(1, i, i + MIN_FRAGMENT);
      any = true;
    }
  }
  if (!any) return text;
  let out = '';
  for (let i = 0; i < text.length;) {
    if (hit[i]) {
      while (i < text.length && hit[i]) i++;
      out += REDACTED;
    } else {
      out += text[i++];
    }
  }
  return out;
}

/** Applies scrubFragments outside the REDACTED markers already in `text`. */
function scrubDerived(text: string, haystack: string): string {
  return text.split(REDACTED).map((part) => scrubFragments(part, haystack)).join(REDACTED);
}

/**
 * The error's message with data removed. `values` are the template's data values (the secret
 * values); they, and text derived from them, are removed from the message part.
 */
export function redactTemplateError(err: TemplateError, values: Iterable<string | Uint8Array> = []): string {
  if (err.kind === 'parse') return err.message; // parse errors only quote the template text
  const strings: string[] = [];
  for (const v of values) strings.push(typeof v === 'string' ? v : Buffer.from(v).toString('utf8'));
  // Longest first, so a value that contains another is removed whole.
  strings.sort((a, b) => b.length - a.length);
  const haystack = strings.filter((v) => v.length >= MIN_FRAGMENT).join('\u0000').toLowerCase();
  let detail = err.detail;
  if (err.func !== undefined && err.funcMessage !== undefined && detail.endsWith(err.funcMessage)) {
    const head = detail.slice(0, detail.length - err.funcMessage.length);
    let msg = err.funcMessage;
    if (msg.length > MAX_FUNC_MESSAGE) msg = `${msg.slice(0, MAX_FUNC_MESSAGE)}…`;
    if (err.constantArgs) {
      // Only template text went in; still, never echo a value (a literal may equal one).
      msg = scrubValues(msg, strings);
    } else if (err.func === 'fail') {
      msg = REDACTED;
    } else {
      for (const [re, to] of funcSlots) msg = msg.replace(re, to);
      try {
        msg = replaceAllStringSubmatchFunc(quoted, msg, ([q]) => q![0] + REDACTED + q![0]);
      } catch (e) {
        if (!(e instanceof RegexpError)) throw e;
        msg = REDACTED; // a message too long to scan is dropped, never shown unscanned
      }
      msg = scrubDerived(scrubValues(msg, strings), haystack);
    }
    return err.prefix + scrubValues(head, strings) + msg;
  }
  for (const [re, to] of valueSlots) detail = detail.replace(re, to);
  return err.prefix + scrubValues(detail, strings);
}
