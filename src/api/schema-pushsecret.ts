// PushSecret and ClusterPushSecret (external-secrets.io/v1alpha1), as ESO 2.9 defines them
// (apis/externalsecrets/v1alpha1/pushsecret_types.go). Kept apart from schema.ts because the push
// kinds are their own API (another version, another direction of data), but built from the same
// pieces: the template, generatorRef, label selectors and rewrite shapes are schema.ts's.
import {
  arr, cel, enumOf, named, obj, opaque, str, stringMap,
  type Schema,
} from './openapi.ts';
import {
  DNS1123_LABEL, DURATION_PATTERN, MAX_DATA_ITEMS, generatorRef, labelSelector, rewriteRegexp,
  rewriteTransform, root, statusCondition, subdomainName, template,
} from './schema.ts';

/** data[].conversionStrategy and dataTo[].conversionStrategy. */
export const PUSH_SECRET_CONVERSION = ['None', 'ReverseUnicode'];

function pushSecretStoreRef(description: string): Schema {
  return named('PushSecretStoreRef', obj({
    name: subdomainName('Optionally, sync to the SecretStore of the given name'),
    labelSelector: labelSelector('Optionally, sync to secret stores with label selector'),
    kind: enumOf(['SecretStore', 'ClusterSecretStore'], 'Kind of the SecretStore resource (SecretStore or ClusterSecretStore)', { default: 'SecretStore' }),
  }, description));
}

/** spec.data[].metadata and dataTo[].metadata: provider-specific, kept as written (ESO: apiextensionsv1.JSON). */
const pushMetadata = () => opaque('Metadata is metadata attached to the secret. The structure of metadata is provider specific, please look it up in the provider documentation.');

function pushSecretData(): Schema {
  return named('PushSecretData', obj({
    'match!': named('PushSecretMatch', obj({
      secretKey: str('Secret Key to be pushed'),
      'remoteRef!': named('PushSecretRemoteRef', obj({
        'remoteKey!': str('Name of the resulting provider secret.'),
        property: str('Name of the property in the resulting secret'),
      }, 'Remote Refs to push to providers.')),
    }, 'Match a given Secret Key to be pushed to the provider.')),
    metadata: pushMetadata(),
    conversionStrategy: enumOf(PUSH_SECRET_CONVERSION, 'Used to define a conversion Strategy for the secret keys', { default: 'None' }),
  }));
}

function pushSecretDataTo(): Schema {
  return named('PushSecretDataTo', obj({
    storeRef: pushSecretStoreRef('StoreRef specifies which SecretStore to push to. Required.'),
    remoteKey: str('RemoteKey is the name of the single provider secret that will receive ALL matched keys bundled as a JSON object. When not set, each matched key is pushed as its own individual provider secret.'),
    match: named('PushSecretDataToMatch', obj({
      regexp: str('Regexp matches keys by regular expression. If not specified, all keys are matched.'),
    }, 'Match pattern for selecting keys from the source Secret. If not specified, all keys are selected.')),
    rewrite: arr(named('PushSecretRewrite', obj({
      regexp: rewriteRegexp(),
      transform: rewriteTransform(),
    }, undefined, {
      'x-kubernetes-validations': [
        cel({
          rule: '(has(self.regexp) && !has(self.transform)) || (!has(self.regexp) && has(self.transform))',
          message: 'exactly one of regexp or transform must be set',
        }, (self) => (self.regexp !== undefined) !== (self.transform !== undefined)),
      ],
    })), 'Rewrite operations to transform keys before pushing to the provider. Operations are applied sequentially.'),
    metadata: pushMetadata(),
    conversionStrategy: enumOf(PUSH_SECRET_CONVERSION, 'Used to define a conversion Strategy for the secret keys', { default: 'None' }),
  }, 'PushSecretDataTo defines bulk push rules that expand source Secret keys into provider entries.', {
    'x-kubernetes-validations': [
      cel({
        rule: 'has(self.storeRef) && (has(self.storeRef.name) || has(self.storeRef.labelSelector))',
        message: 'storeRef must specify either name or labelSelector',
      }, (self) => self.storeRef !== undefined && (self.storeRef.name !== undefined || self.storeRef.labelSelector !== undefined)),
      cel({
        rule: '!has(self.remoteKey) || !has(self.rewrite) || size(self.rewrite) == 0',
        message: 'remoteKey and rewrite are mutually exclusive: rewrite is only supported in per-key mode (without remoteKey)',
      }, (self) => self.remoteKey === undefined || !Array.isArray(self.rewrite) || self.rewrite.length === 0),
    ],
  }));
}

export function pushSecretSpec(): Schema {
  return named('PushSecretSpec', obj({
    refreshInterval: str('The Interval to which External Secrets will try to push a secret definition', { default: '1h0m0s', pattern: DURATION_PATTERN, maxLength: 64 }),
    'secretStoreRefs!': arr(pushSecretStoreRef('PushSecretStoreRef contains a reference on how to sync to a SecretStore.')),
    updatePolicy: enumOf(['Replace', 'IfNotExists'], 'UpdatePolicy to handle Secrets in the provider.', { default: 'Replace' }),
    deletionPolicy: enumOf(['Delete', 'None'], 'Deletion Policy to handle Secrets in the provider.', { default: 'None' }),
    'selector!': named('PushSecretSelector', obj({
      secret: named('PushSecretSecret', obj({
        name: subdomainName('Name of the Secret. The Secret must exist in the same namespace as the PushSecret manifest.'),
        selector: labelSelector('Selector chooses secrets using a labelSelector.'),
      }, 'Select a Secret to Push.')),
      generatorRef: generatorRef('v1'),
    }, 'The Secret Selector (k8s source) for the Push Secret')),
    data: arr(pushSecretData(), 'Secret Data that should be pushed to providers', { maxItems: MAX_DATA_ITEMS }),
    dataTo: arr(pushSecretDataTo(), 'DataTo defines bulk push rules that expand source Secret keys into provider entries.', { maxItems: MAX_DATA_ITEMS }),
    template: template('v1'),
  }, 'PushSecretSpec configures the behavior of the PushSecret.'));
}

function pushSecretStatus(): Schema {
  return named('PushSecretStatus', obj({
    refreshTime: str('refreshTime is the time and date the external secret was fetched and the target secret updated', { format: 'date-time', nullable: true }),
    syncedResourceVersion: str('SyncedResourceVersion keeps track of the last synced version.'),
    syncedPushSecrets: {
      type: 'object',
      description: 'Synced PushSecrets, including secrets that already exist in provider. Matches secret stores to PushSecretData that was stored to that secret store.',
      additionalProperties: { type: 'object', additionalProperties: pushSecretData() },
    },
    conditions: arr(statusCondition('PushSecretStatusCondition')),
  }, 'PushSecretStatus indicates the history of the status of PushSecret.'));
}

function clusterPushSecretSpec(): Schema {
  return named('ClusterPushSecretSpec', obj({
    'pushSecretSpec!': pushSecretSpec(),
    refreshTime: str('The time in which the controller should reconcile its objects and recheck namespaces for labels.', { pattern: DURATION_PATTERN, maxLength: 64 }),
    pushSecretName: subdomainName('The name of the push secrets to be created. Defaults to the name of the ClusterPushSecret'),
    pushSecretMetadata: named('PushSecretMetadata', obj({
      annotations: stringMap(),
      labels: stringMap(),
    }, 'The metadata of the external secrets to be created')),
    namespaceSelectors: arr(labelSelector('A label selector is a label query over a set of resources.'), 'A list of labels to select by to find the Namespaces to create the ExternalSecrets in. The selectors are ORed.'),
  }));
}

function clusterPushSecretStatus(): Schema {
  return named('ClusterPushSecretStatus', obj({
    failedNamespaces: arr(named('ClusterPushSecretNamespaceFailure', obj({
      'namespace!': str('Namespace is the namespace that failed when trying to apply an PushSecret'),
      reason: str('Reason is why the PushSecret failed to apply to the namespace'),
    })), 'Failed namespaces are the namespaces that failed to apply an PushSecret'),
    provisionedNamespaces: arr(str(undefined, { pattern: DNS1123_LABEL }), 'ProvisionedNamespaces are the namespaces where the ClusterPushSecret has secrets'),
    pushSecretName: str(),
    conditions: arr(statusCondition('PushSecretStatusCondition')),
  }));
}

export function pushSecretSchema(): Schema {
  return root('PushSecret', 'PushSecret is the Schema for the PushSecrets API that enables pushing Kubernetes secrets to external secret providers.',
    pushSecretSpec(), pushSecretStatus());
}

export function clusterPushSecretSchema(): Schema {
  return root('ClusterPushSecret', 'ClusterPushSecret is the Schema for the ClusterPushSecrets API that enables cluster-wide management of pushing Kubernetes secrets to external providers.',
    clusterPushSecretSpec(), clusterPushSecretStatus());
}
