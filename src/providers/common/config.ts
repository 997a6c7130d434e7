// Provider configuration types come from the one source, the generated API types
// (src/api/types.generated.ts, made from src/api/schema.ts). ESO's schema leaves a
// SecretKeySelector's `name` optional (some fields default it), but every provider refuses a
// selector without a name before it builds a client (its semantic check), so the provider's view of
// its config is the generated type with each SecretKeySelector narrowed to the contract's
// selector (name required). Everything else (field names, enums, optionality) is the schema's.
import { validateProviderConfig, type ValidationIssue } from '../../api/validate.ts';
import type { SecretKeySelector as ContractSelector } from '../provider.ts';

type SelectorKeys = 'name' | 'namespace' | 'key';

/** True when T has exactly a SecretKeySelector's keys (name, namespace, key). */
type IsSecretKeySelector<T> = [Exclude<keyof T, SelectorKeys>] extends [never] ? ([Exclude<SelectorKeys, keyof T>] extends [never] ? true : false) : false;

/** The generated config type T as a provider sees it after validation (selectors named). */
export type Validated<T> = T extends readonly (infer U)[]
  ? Validated<U>[]
  : T extends object
    ? IsSecretKeySelector<T> extends true
      ? ContractSelector
      : { [K in keyof T]: Validated<T[K]> }
    : T;

/**
 * The schema's verdict on `spec.provider.<provider>`, one "field: message" line per problem, in
 * the apiserver's words. `skip` drops issues a provider deliberately tolerates (and documents).
 */
export function schemaProblems(provider: string, config: unknown, skip: (issue: ValidationIssue) => boolean = () => false): string[] {
  return validateProviderConfig(provider, config)
    .filter((i) => !skip(i))
    .map((i) => `${i.path}: ${i.message}`);
}
