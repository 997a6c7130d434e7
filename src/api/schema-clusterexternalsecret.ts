// The ClusterExternalSecret kind: one ExternalSecret spec, stamped into every namespace that a
// list of label selectors (or of names) chooses. Field names, defaults and shapes follow ESO 2.9
// (apis/externalsecrets/v1/clusterexternalsecret_types.go; v1beta1 has the same shape around the
// v1beta1 ExternalSecret spec).
//
// The selectors are written by cluster admins but read by a controller that lists every namespace
// against them, so every list and string is bounded here: the apiserver refuses an oversized
// object with a message naming the field, and the controller never loops over more than these.
import type { ApiVersionName } from './constants.ts';
import { arr, enumOf, named, obj, str, stringMap, type Schema } from './openapi.ts';
import { DNS1123_LABEL, DNS1123_SUBDOMAIN, DURATION_PATTERN, externalSecretSpec, root } from './schema.ts';

/** At most this many label selectors in spec.namespaceSelectors (they are ORed). */
export const MAX_NAMESPACE_SELECTORS = 64;
/** At most this many names in spec.namespaces. */
export const MAX_NAMESPACE_NAMES = 1024;
/** At most this many requirements per selector (matchExpressions) and labels (matchLabels). */
export const MAX_SELECTOR_REQUIREMENTS = 32;
/** At most this many values in one matchExpressions requirement. */
export const MAX_SELECTOR_VALUES = 256;
/** At most this many labels, and annotations, given to the created ExternalSecrets. */
export const MAX_METADATA_ENTRIES = 128;

/** A label key: an optional DNS subdomain prefix (253) and "/", then a name of 63. */
const LABEL_KEY_MAX = 317;
const LABEL_VALUE_MAX = 63;

/**
 * metav1.LabelSelector with bounds and the operator as an enum (apimachinery refuses other
 * operators at match time; refusing them at admission names the field instead).
 */
function namespaceLabelSelector(description: string): Schema {
  return named('ClusterExternalSecretNamespaceSelector', obj({
    matchExpressions: arr(named('ClusterExternalSecretNamespaceSelectorRequirement', obj({
      'key!': str('key is the label key that the selector applies to.', { minLength: 1, maxLength: LABEL_KEY_MAX }),
      'operator!': enumOf(['In', 'NotIn', 'Exists', 'DoesNotExist'], "operator represents a key's relationship to a set of values."),
      values: arr(str(undefined, { maxLength: LABEL_VALUE_MAX }), 'values is an array of string values.', { maxItems: MAX_SELECTOR_VALUES, 'x-kubernetes-list-type': 'atomic' }),
    })), 'matchExpressions is a list of label selector requirements. The requirements are ANDed.', { maxItems: MAX_SELECTOR_REQUIREMENTS, 'x-kubernetes-list-type': 'atomic' }),
    matchLabels: stringMap('matchLabels is a map of {key,value} pairs.', { maxProperties: MAX_SELECTOR_REQUIREMENTS }),
  }, description, { 'x-kubernetes-map-type': 'atomic' }));
}

/**
 * The ExternalSecret spec without its CEL rules. ESO validates an ExternalSecret in a webhook and
 * has none for ClusterExternalSecrets: a ClusterExternalSecret whose ExternalSecret spec ESO's
 * webhook would refuse is admitted (ESO's own documentation example is one), and each namespace
 * then fails when the ExternalSecret is created, reported in status.failedNamespaces. Tessera's
 * ExternalSecret CRD carries those rules, so the same happens here, and the manifests ESO admits
 * apply unchanged. The structural checks (types, enums, patterns, sizes) stay.
 */
function withoutCelRules(schema: Schema): Schema {
  delete schema['x-kubernetes-validations'];
  for (const child of [...Object.values(schema.properties ?? {}), schema.items, schema.additionalProperties]) {
    if (child) withoutCelRules(child);
  }
  return schema;
}

function clusterExternalSecretSpec(version: ApiVersionName): Schema {
  return named('ClusterExternalSecretSpec', obj({
    'externalSecretSpec!': withoutCelRules(externalSecretSpec(version)),
    externalSecretName: str('The name of the external secrets to be created. Defaults to the name of the ClusterExternalSecret',
      { minLength: 1, maxLength: 253, pattern: DNS1123_SUBDOMAIN }),
    externalSecretMetadata: named('ExternalSecretMetadata', obj({
      annotations: stringMap(undefined, { maxProperties: MAX_METADATA_ENTRIES }),
      labels: stringMap(undefined, { maxProperties: MAX_METADATA_ENTRIES }),
    }, 'The metadata of the external secrets to be created')),
    namespaceSelector: namespaceLabelSelector('The labels to select by to find the Namespaces to create the ExternalSecrets in. Deprecated: Use NamespaceSelectors instead.'),
    namespaceSelectors: arr(namespaceLabelSelector('A label selector of namespaces.'),
      'A list of labels to select by to find the Namespaces to create the ExternalSecrets in. The selectors are ORed.', { maxItems: MAX_NAMESPACE_SELECTORS }),
    namespaces: arr(str(undefined, { minLength: 1, maxLength: 63, pattern: DNS1123_LABEL }),
      'Choose namespaces by name. This field is ORed with anything that NamespaceSelectors ends up choosing. Deprecated: Use NamespaceSelectors instead.', { maxItems: MAX_NAMESPACE_NAMES }),
    refreshTime: str('The time in which the controller should reconcile its objects and recheck namespaces for labels.',
      { pattern: DURATION_PATTERN, maxLength: 64 }),
  }, 'ClusterExternalSecretSpec defines the desired state of ClusterExternalSecret.'));
}

function clusterExternalSecretStatus(): Schema {
  // ESO's condition has no reason and no lastTransitionTime: the same three fields, so that
  // tools reading ESO's status read Tessera's.
  return named('ClusterExternalSecretStatus', obj({
    externalSecretName: str('ExternalSecretName is the name of the ExternalSecrets created by the ClusterExternalSecret'),
    failedNamespaces: arr(named('ClusterExternalSecretNamespaceFailure', obj({
      'namespace!': str('Namespace is the namespace that failed when trying to apply an ExternalSecret'),
      reason: str('Reason is why the ExternalSecret failed to apply to the namespace'),
    }, "ClusterExternalSecretNamespaceFailure represents a failed namespace deployment and it's reason.")),
    'Failed namespaces are the namespaces that failed to apply an ExternalSecret'),
    provisionedNamespaces: arr(str(), 'ProvisionedNamespaces are the namespaces where the ClusterExternalSecret has secrets'),
    conditions: arr(named('ClusterExternalSecretStatusCondition', obj({
      'type!': str(),
      'status!': str(),
      message: str(),
    }, 'ClusterExternalSecretStatusCondition defines the observed state of a ClusterExternalSecret resource.'))),
  }, 'ClusterExternalSecretStatus defines the observed state of ClusterExternalSecret.'));
}

export function clusterExternalSecretSchema(version: ApiVersionName): Schema {
  return root('ClusterExternalSecret', 'ClusterExternalSecret is the Schema for the clusterexternalsecrets API.',
    clusterExternalSecretSpec(version), clusterExternalSecretStatus());
}
