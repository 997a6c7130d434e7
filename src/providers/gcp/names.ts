// Pure mapping of manifest fields to Secret Manager resource names, list filters and the
// metadata JSON, as ESO's gcpsm provider builds them. Every input here is tenant-written, so each
// is checked against what Secret Manager itself accepts before it goes into a name or a filter: a
// quote or a space in a label value must not turn into a second filter term.
import { goJsonMarshal } from '../../go/json.ts';
import { ProviderError } from '../provider.ts';

/** Secret ids: letters, digits, '-' and '_', at most 255 (Secret Manager's own rule). */
const SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/;
/** A version: "latest", a version number, or a version alias (letters, digits, '-', '_'). */
const VERSION = /^(latest|[1-9][0-9]{0,18}|[A-Za-z][A-Za-z0-9_-]{0,62})$/;
/** Project ids (6–30 lowercase letters, digits, '-') or numbers; locations like us-central1. */
const PROJECT = /^([a-z][a-z0-9-]{4,28}[a-z0-9]|[0-9]{1,20})$/;
const LOCATION = /^[a-z][a-z0-9-]{0,62}$/;
/** Label keys and values (https://cloud.google.com/secret-manager/docs/labels): lowercase, any script. */
const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;

/** Where secrets live: a project, and for regional secrets a location. */
export interface SecretScope {
  project: string;
  location?: string | undefined;
}

export function checkProject(project: string, field: string): void {
  if (!PROJECT.test(project)) throw new ProviderError('InvalidRequest', `${field}: ${JSON.stringify(project.slice(0, 64))} is not a Google Cloud project id or number`);
}

export function checkLocation(location: string, field: string): void {
  if (!LOCATION.test(location)) throw new ProviderError('InvalidRequest', `${field}: ${JSON.stringify(location.slice(0, 64))} is not a Google Cloud location`);
}

/** projects/{p} or projects/{p}/locations/{l}. */
export function parentName(scope: SecretScope): string {
  return scope.location ? `projects/${scope.project}/locations/${scope.location}` : `projects/${scope.project}`;
}

/** The secret's resource name; refuses a key Secret Manager could not hold (InvalidRequest). */
export function secretName(scope: SecretScope, key: string): string {
  if (!SECRET_ID.test(key)) {
    throw new ProviderError('InvalidRequest', `remoteRef.key: ${JSON.stringify(key.slice(0, 64))} is not a Secret Manager secret id (letters, digits, "-" and "_", at most 255)`);
  }
  return `${parentName(scope)}/secrets/${key}`;
}

/** ESO reads "latest" when no version is given; numbers and aliases are used as written. */
export function versionName(scope: SecretScope, key: string, version: string | undefined): string {
  const v = version === undefined || version === '' ? 'latest' : version;
  if (!VERSION.test(v)) {
    throw new ProviderError('InvalidRequest', `remoteRef.version: ${JSON.stringify(v.slice(0, 64))} is not a Secret Manager version ("latest", a version number or an alias)`);
  }
  return `${secretName(scope, key)}/versions/${v}`;
}

/**
 * The key of a listed secret: its name less `projects/{number}/[locations/{l}/]secrets/`. The API
 * answers with the project number, not the id the store names, so the prefix is cut by shape.
 */
export function remoteKeyOf(name: string): string {
  const i = name.lastIndexOf('/secrets/');
  return i < 0 ? name : name.slice(i + '/secrets/'.length);
}

/**
 * The ListSecrets filter for dataFrom.find: `labels.K=V` per tag and `name:PATH` for a path, joined
 * by spaces (AND), as ESO writes it. Names and tags that Secret Manager could not hold are refused
 * with the field named, rather than quoted into a filter that matches nothing.
 */
export function listFilter(tags: Record<string, string> | undefined, path: string | undefined): string {
  const terms: string[] = [];
  for (const [k, v] of Object.entries(tags ?? {})) {
    if (!LABEL_KEY.test(k)) throw new ProviderError('InvalidRequest', `find.tags: ${JSON.stringify(k.slice(0, 64))} is not a Secret Manager label key (lowercase letters, digits, "-" and "_", at most 63, starting with a letter)`);
    if (!LABEL_VALUE.test(v)) throw new ProviderError('InvalidRequest', `find.tags[${JSON.stringify(k)}]: ${JSON.stringify(v.slice(0, 64))} is not a Secret Manager label value (lowercase letters, digits, "-" and "_", at most 63)`);
    terms.push(`labels.${k}=${v}`);
  }
  if (path !== undefined && path !== '') {
    if (!SECRET_ID.test(path)) throw new ProviderError('InvalidRequest', `find.path: ${JSON.stringify(path.slice(0, 64))} is not a prefix of Secret Manager secret ids (letters, digits, "-" and "_")`);
    terms.push(`name:${path}`);
  }
  return terms.join(' ');
}

/**
 * metadataPolicy: Fetch returns the secret's annotations and labels as ESO does: Go's json.Marshal
 * of {"annotations": map, "labels": map}, keys sorted, HTML characters escaped, and `null` for an
 * empty map (protobuf leaves an empty map nil in Go). Properties ("labels.team") are then read
 * from it by the sync core, as from any JSON value.
 */
export function metadataJson(labels: Record<string, string> | null | undefined, annotations: Record<string, string> | null | undefined): string {
  const orNull = (m: Record<string, string> | null | undefined) => (m && Object.keys(m).length > 0 ? new Map(Object.entries(m)) : null);
  return goJsonMarshal(new Map<string, unknown>([['annotations', orNull(annotations)], ['labels', orNull(labels)]]), { escapeHTML: true });
}
