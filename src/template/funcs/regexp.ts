// The template regex functions' view of src/go/regexp.ts (Go's RE2, linear time): errors become
// GoErrors, which the template engine reports as Go's text/template would ("error calling …").
// Besides Go's compile errors there is one Go never gives: a match refused as too costly.

import * as re2 from '../../go/regexp.ts';
import type { GoRegexp } from '../../go/regexp.ts';
import { BudgetExceededError, MAX_STRING_LENGTH } from '../budget.ts';
import { GoError } from '../exec.ts';
import { canBackquote, quote } from '../strconv.ts';

export type { GoRegexp };
export { quoteMeta } from '../../go/regexp.ts';

function goErrors<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  return (...args: A): R => {
    try {
      return fn(...args);
    } catch (e) {
      if (e instanceof re2.RegexpError) throw new GoError(e.message);
      throw e;
    }
  };
}

/** regexp.Compile: an invalid pattern is a GoError carrying Go's message. */
export const compile = goErrors(re2.compile);

/** regexp.MustCompile: Go panics with "regexp: Compile(`expr`): <error>". */
export function mustCompile(expr: string): GoRegexp {
  try {
    return re2.compile(expr);
  } catch (e) {
    if (!(e instanceof re2.RegexpError)) throw e;
    const q = canBackquote(expr) ? '`' + expr + '`' : quote(expr);
    throw new GoError(`regexp: Compile(${q}): ${e.message}`);
  }
}

export const matchString = goErrors(re2.matchString);
export const findString = goErrors(re2.findString);
export const findAllString = goErrors(re2.findAllString);
export const split = goErrors(re2.split);

/**
 * ReplaceAllString (repl expanded) or ReplaceAllLiteralString. Both the text and the replacement
 * are the tenant's: a short pattern matching everywhere multiplies them, so the result is cut at
 * the template's string budget while it is built, not after.
 */
export const replaceAll = goErrors((r: GoRegexp, src: string, repl: string, literal: boolean): string => {
  try {
    return literal ? re2.replaceAllLiteralString(r, src, repl, MAX_STRING_LENGTH) : re2.replaceAllString(r, src, repl, MAX_STRING_LENGTH);
  } catch (e) {
    if (e instanceof re2.RegexpCostError && /longer than/.test(e.message)) {
      throw new BudgetExceededError(`regexReplaceAll would build a string of more than ${MAX_STRING_LENGTH} characters (limit ${MAX_STRING_LENGTH})`);
    }
    throw e;
  }
});
