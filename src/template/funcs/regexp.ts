// The template regex functions' view of src/go/regexp.ts (Go's RE2, linear time): errors become
// GoErrors, which the template engine reports as Go's text/template would ("error calling …").

import * as re2 from '../../go/regexp.ts';
import type { GoRegexp } from '../../go/regexp.ts';
import { GoError } from '../exec.ts';
import { canBackquote, quote } from '../strconv.ts';

export type { GoRegexp };
export { matchString, findString, findAllString, split, quoteMeta } from '../../go/regexp.ts';

/** regexp.Compile: an invalid pattern is a GoError carrying Go's message. */
export function compile(expr: string): GoRegexp {
  try {
    return re2.compile(expr);
  } catch (e) {
    if (e instanceof re2.RegexpSyntaxError) throw new GoError(e.message);
    throw e;
  }
}

/** regexp.MustCompile: Go panics with "regexp: Compile(`expr`): <error>". */
export function mustCompile(expr: string): GoRegexp {
  try {
    return re2.compile(expr);
  } catch (e) {
    if (!(e instanceof re2.RegexpSyntaxError)) throw e;
    const q = canBackquote(expr) ? '`' + expr + '`' : quote(expr);
    throw new GoError(`regexp: Compile(${q}): ${e.message}`);
  }
}

/** ReplaceAllString (repl expanded) or ReplaceAllLiteralString. */
export function replaceAll(r: GoRegexp, src: string, repl: string, literal: boolean): string {
  return literal ? re2.replaceAllLiteralString(r, src, repl) : re2.replaceAllString(r, src, repl);
}
