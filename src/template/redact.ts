// Error messages that are safe to show in a status, an event or a log.
//
// Go's text/template errors keep the template's position and text (not secret) but some messages
// print the data they failed on:
//   range can't iterate over VALUE            if/with can't use VALUE
//   can't use VALUE to iterate over more than one variable
//   error calling F: ...                      any function error that quotes its input, e.g.
//     toDate   parsing time "VALUE" as "2006-01-02": ...
//     urlParse unable to parse url: parse "VALUE": ...
//     duration/regex*/semver*/eq/call ...    (time: invalid duration "VALUE", regexp: Compile(`VALUE`),
//                                             improper constraint: VALUE, non-comparable types VALUE, ...)
//   fail MESSAGE                              a message the template author built, maybe from data
// redactTemplateError keeps the position, the node and the message's shape, and replaces
// quoted or known value slots with [redacted]; then, as a safety net, it removes every
// occurrence of the given data values (4 bytes or longer) from the message part.

import type { TemplateError } from './parse.ts';
import { compile, RegexpError, replaceAllStringSubmatchFunc } from '../go/regexp.ts';

export const REDACTED = '[redacted]';

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
  for (const v of values) if (v.length >= 4 && out.includes(v)) out = out.split(v).join(REDACTED);
  return out;
}

/**
 * The error's message with data removed. `values` are the template's data values (the secret
 * values); they are removed wherever they still appear in the message part.
 */
export function redactTemplateError(err: TemplateError, values: Iterable<string | Uint8Array> = []): string {
  const strings: string[] = [];
  for (const v of values) strings.push(typeof v === 'string' ? v : Buffer.from(v).toString('utf8'));
  // Longest first, so a value that contains another is removed whole.
  strings.sort((a, b) => b.length - a.length);
  if (err.kind === 'parse') return err.message; // parse errors only quote the template text
  let detail = err.detail;
  if (err.func !== undefined && err.funcMessage !== undefined && detail.endsWith(err.funcMessage)) {
    let msg = err.funcMessage;
    if (err.func !== 'fail') {
      for (const [re, to] of funcSlots) msg = msg.replace(re, to);
      try {
        msg = replaceAllStringSubmatchFunc(quoted, msg, ([q]) => q![0] + REDACTED + q![0]);
      } catch (e) {
        if (!(e instanceof RegexpError)) throw e;
        msg = REDACTED; // a message too long to scan is dropped, never shown unscanned
      }
    }
    detail = detail.slice(0, detail.length - err.funcMessage.length) + msg;
  } else {
    for (const [re, to] of valueSlots) detail = detail.replace(re, to);
  }
  return err.prefix + scrubValues(detail, strings);
}
