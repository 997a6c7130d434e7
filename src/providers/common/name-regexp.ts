// dataFrom.find.name.regexp, the same for every provider: Go's regexp.MatchString (RE2 syntax,
// unanchored, linear time) through src/go/regexp.ts, and one error for an invalid pattern.

import { compile, matchString, RegexpSyntaxError, type GoRegexp } from '../../go/regexp.ts';
import { ProviderError } from '../provider.ts';

/** A predicate for remote names; throws ProviderError 'InvalidRequest' naming find.name.regexp. */
export function nameRegexpFilter(pattern: string): (name: string) => boolean {
  let re: GoRegexp;
  try {
    re = compile(pattern);
  } catch (err) {
    if (!(err instanceof RegexpSyntaxError)) throw err;
    throw new ProviderError('InvalidRequest', `find.name.regexp: ${err.message}`);
  }
  return (name) => matchString(re, name);
}
