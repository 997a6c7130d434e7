// dataFrom.find.name.regexp, the same for every provider: Go's regexp.MatchString (RE2 syntax,
// unanchored, linear time) through src/go/regexp.ts, and one error for an invalid pattern.

import { compile, matchString, RegexpError, type GoRegexp } from '../../go/regexp.ts';
import { ProviderError } from '../provider.ts';

/** A predicate for remote names; throws ProviderError 'InvalidRequest' naming find.name.regexp. */
export function nameRegexpFilter(pattern: string): (name: string) => boolean {
  const refuse = (err: unknown): never => {
    if (!(err instanceof RegexpError)) throw err;
    throw new ProviderError('InvalidRequest', `find.name.regexp: ${err.message}`);
  };
  let re: GoRegexp;
  try {
    re = compile(pattern);
  } catch (err) {
    return refuse(err);
  }
  return (name) => {
    try {
      return matchString(re, name);
    } catch (err) {
      return refuse(err); // too costly for this (very long) name
    }
  };
}
