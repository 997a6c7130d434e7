// Public surface of the external-secrets.io API package.
export * from './constants.ts';
export type * from './types.generated.ts';
export type { ObjectMeta, OwnerReference, ManagedFieldsEntry } from './meta.ts';
export { validate, formatIssues, type ValidationIssue, type ValidateOptions } from './validate.ts';
export { applyDefaults, versionOf } from './defaults.ts';
export { toV1 } from './convert.ts';
export { schemaFor, DURATION_PATTERN, SECRET_KEY_PATTERN, DNS1123_SUBDOMAIN, DNS1123_LABEL, MAX_DATA_ITEMS, MODELLED_PROVIDERS, OPAQUE_PROVIDERS } from './schema.ts';
export { crdFor, allCrds } from './crds.ts';
export { parseDurationNs, parseDurationMs, formatDurationNs, isValidDuration, DurationError } from './duration.ts';
export type { Schema, CelRule } from './openapi.ts';
