// apiextensions.k8s.io/v1 CustomResourceDefinitions built from the schema source.
import {
  CATEGORY, KINDS, LABEL_COMPONENT, RESOURCES, STORAGE_VERSION, groupOf, servedVersionsOf, storageVersionOf,
  type ApiKind, type ApiVersionName,
} from './constants.ts';
import { schemaFor } from './schema.ts';
import { generatorPrinterColumns, isGeneratorKind } from './schema-generators.ts';

interface PrinterColumn {
  name: string;
  type: 'string' | 'date' | 'integer' | 'boolean' | 'number';
  jsonPath: string;
}

const READY_REASON = '.status.conditions[?(@.type=="Ready")].reason';
const READY_STATUS = '.status.conditions[?(@.type=="Ready")].status';

/** Same columns as ESO, so `kubectl get es,ss,css` reads the same. */
function printerColumns(kind: ApiKind): PrinterColumn[] {
  if (isGeneratorKind(kind)) return generatorPrinterColumns(kind);
  if (kind === 'ClusterExternalSecret') {
    return [
      { name: 'Store', type: 'string', jsonPath: '.spec.externalSecretSpec.secretStoreRef.name' },
      { name: 'Refresh Interval', type: 'string', jsonPath: '.spec.refreshTime' },
      { name: 'Ready', type: 'string', jsonPath: READY_STATUS },
    ];
  }
  if (kind === 'PushSecret' || kind === 'ClusterPushSecret') {
    // ESO's columns for both push kinds; only PushSecret has Last Sync.
    return [
      { name: 'AGE', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      { name: 'Status', type: 'string', jsonPath: READY_REASON },
      ...(kind === 'PushSecret' ? [{ name: 'Last Sync', type: 'date' as const, jsonPath: '.status.refreshTime' }] : []),
    ];
  }
  if (kind === 'ExternalSecret') {
    return [
      { name: 'StoreType', type: 'string', jsonPath: '.spec.secretStoreRef.kind' },
      { name: 'Store', type: 'string', jsonPath: '.spec.secretStoreRef.name' },
      { name: 'Refresh Interval', type: 'string', jsonPath: '.spec.refreshInterval' },
      { name: 'Status', type: 'string', jsonPath: READY_REASON },
      { name: 'Ready', type: 'string', jsonPath: READY_STATUS },
      { name: 'Last Sync', type: 'date', jsonPath: '.status.refreshTime' },
    ];
  }
  return [
    { name: 'AGE', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'Status', type: 'string', jsonPath: READY_REASON },
    { name: 'Capabilities', type: 'string', jsonPath: '.status.capabilities' },
    { name: 'Ready', type: 'string', jsonPath: READY_STATUS },
  ];
}

/**
 * Field selectors the controller (and users) can list by; ESO declares the same, on v1 only.
 * Declaring identical selectableFields on every version while the schemas differ makes the
 * apiserver hoist them to spec.selectableFields and then refuse the CRD, so v1beta1 has none.
 */
function selectableFields(kind: ApiKind, version: ApiVersionName): Array<{ jsonPath: string }> {
  if (kind !== 'ExternalSecret' || version !== STORAGE_VERSION) return [];
  return [
    { jsonPath: '.spec.secretStoreRef.name' },
    { jsonPath: '.spec.secretStoreRef.kind' },
    { jsonPath: '.spec.target.name' },
    { jsonPath: '.spec.refreshInterval' },
  ];
}

function versionEntry(kind: ApiKind, version: ApiVersionName): Record<string, unknown> {
  const fields = selectableFields(kind, version);
  const columns = printerColumns(kind);
  return {
    name: version,
    served: true,
    storage: version === storageVersionOf(kind),
    ...(version === 'v1beta1'
      ? { deprecated: true, deprecationWarning: `${groupOf(kind)}/v1beta1 ${kind} is deprecated; use ${groupOf(kind)}/v1` }
      : {}),
    ...(columns.length ? { additionalPrinterColumns: columns } : {}),
    ...(fields.length ? { selectableFields: fields } : {}),
    schema: { openAPIV3Schema: schemaFor(kind, version) },
    subresources: { status: {} },
  };
}

export function crdFor(kind: ApiKind): Record<string, unknown> {
  const names = RESOURCES[kind];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${names.plural}.${groupOf(kind)}`,
      labels: { [LABEL_COMPONENT]: 'controller' },
    },
    spec: {
      group: groupOf(kind),
      names: {
        categories: [...(names.categories ?? [CATEGORY])],
        kind: names.kind,
        listKind: names.listKind,
        plural: names.plural,
        shortNames: names.shortNames,
        singular: names.singular,
      },
      scope: names.scope,
      // v1 and v1beta1 have the same shape (v1 only adds fields), so the apiserver rewrites the
      // apiVersion and nothing else: no conversion webhook. See docs/adr/0001-api-versions.md.
      conversion: { strategy: 'None' },
      versions: servedVersionsOf(kind).map((v) => versionEntry(kind, v)),
    },
  };
}

export function allCrds(): Array<{ kind: ApiKind; crd: Record<string, unknown> }> {
  return KINDS.map((kind) => ({ kind, crd: crdFor(kind) }));
}
