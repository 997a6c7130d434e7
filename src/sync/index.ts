// Public surface of the pure sync core.
export {
  desiredSecret, providerData, extractProperty, targetName, NOT_FOUND, NOT_COPIED_ANNOTATIONS,
  type DesiredSecretInput, type DesiredSecretResult, type SyncPlan, type FetchedValues, type FetchedValue,
  type FetchedDataFrom, type NotFound, type RenderTemplate, type TemplateInput, type TemplateOutput,
  type ReadyCondition, type SkippedRef,
} from './desired.ts';
export { ConditionReason, EventReason, SyncError, SyncErrorCode, isSyncError, syncErrors } from './errors.ts';
export type { RenderKeyTemplate } from './rewrite.ts';
export { rewriteKeys } from './rewrite.ts';
export { gjsonGet, splitPath, UnsupportedPathError } from './gjson.ts';
export { decodeValue, type DecodingStrategy } from './decode.ts';
export { convertKey, isValidSecretKey, SECRET_KEY_RE, type ConversionStrategy } from './keys.ts';
export {
  checkOwnership, contentHash, controllerReference, createdByLabelValue, decodeSecretData, encodeSecretData,
  esoDataHashMatches, managedFieldKeys, recordedContentMatches, type Secret, type SecretData,
} from './secret.ts';
export { esoDataHash, esoSyncedResourceVersion, type EsoObjectMeta } from './eso-hash.ts';
