// target.template (engine v2) and dataFrom[].rewrite[].transform, rendered as ESO does
// (pkg/controllers/externalsecret ApplyTemplate, pkg/controllers/templating, pkg/template/v2):
//
//   1. templateFrom[], in order; per entry its configMap items, then its secret items, then literal.
//      target Data (default) | Labels | Annotations; templateAs Values (default): the item's key is
//      the output key and its value the template; KeysAndValues: the rendered text is YAML, a map
//      of output keys to values. valuesDecodingStrategy decodes each rendered value.
//   2. template.data: each value is a template, its key the output key (wins over templateFrom).
//   3. template.metadata.labels, then .annotations: each value is a template.
// mergePolicy and type are applied by desiredSecret (src/sync/desired.ts).
//
// Templates see the provider data as map[string]string, with missingkey=error. Pure: the
// ConfigMaps and Secrets that templateFrom names are passed in (templateRefs lists them).
import * as YAML from 'yaml';
import type { ExternalSecret, ExternalSecretTemplate, TemplateFrom, TemplateRefItem } from '../api/types.generated.ts';
import { asBudgetError, esoData, parseTemplate, redactTemplateError, TemplateError } from '../template/index.ts';
import type { Template, TemplateOptions } from '../template/index.ts';
import type { RenderTemplate, TemplateInput, TemplateOutput } from './desired.ts';
import { syncErrors, type SyncError } from './errors.ts';
import { compareGoStrings } from '../go/sort.ts';
import { isValidSecretKey } from './keys.ts';
import { decodeValue, type DecodingStrategy } from './decode.ts';
import type { RenderKeyTemplate } from './rewrite.ts';
import type { TemplateSources } from './template-refs.ts';

export interface RenderOptions {
  /** ESO's --template-left-delimiter / --template-right-delimiter (default {{ and }}). */
  leftDelim?: string;
  rightDelim?: string;
}

// --- parsed-template cache -------------------------------------------------------------------

// Parsing dominates for big templates (a 2,000-line template parses in ~20 ms and renders in a
// few). Templates are immutable once parsed, so reconciles share them.
const CACHE_LIMIT = 512;
const cache = new Map<string, Template>();

function cachedTemplate(name: string, text: string, opts: TemplateOptions): Template {
  const key = `${opts.missingKey ?? ''}\u0000${opts.leftDelim ?? ''}\u0000${opts.rightDelim ?? ''}\u0000${name}\u0000${text}`;
  let t = cache.get(key);
  if (t) {
    cache.delete(key); // refresh LRU position
  } else {
    t = parseTemplate(name, text, opts);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  }
  cache.set(key, t);
  return t;
}

// --- field paths for errors ------------------------------------------------------------------

function keyPath(base: string, key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

// --- rendering -------------------------------------------------------------------------------

type Target = 'data' | 'labels' | 'annotations';

/** A templateFrom entry's valuesDecodingStrategy and the field that names it in errors. */
interface ValuesDecoding {
  strategy: DecodingStrategy;
  field: string;
}

class Renderer {
  readonly data: Map<string, unknown>;
  readonly values: Uint8Array[];
  readonly opts: TemplateOptions;
  readonly out: { data: Map<string, Uint8Array>; labels: Record<string, string>; annotations: Record<string, string> };

  constructor(data: ReadonlyMap<string, Uint8Array>, opts: RenderOptions) {
    const record: Record<string, Uint8Array> = {};
    for (const [k, v] of data) record[k] = v;
    this.data = esoData(record);
    this.values = [...data.values()];
    this.opts = { missingKey: 'error', leftDelim: opts.leftDelim, rightDelim: opts.rightDelim };
    this.out = { data: new Map(), labels: {}, annotations: {} };
  }

  fail(field: string, err: unknown): never {
    if (err instanceof TemplateError) throw syncErrors.templateFailed(field, redactTemplateError(err, this.values));
    const budget = asBudgetError(err);
    if (budget) throw syncErrors.computeBudgetExceeded(field, budget.message);
    throw err;
  }

  /** Renders one template; errors become TemplateFailed naming `field`, with data redacted. */
  execute(name: string, text: string, field: string): Buffer {
    try {
      return cachedTemplate(name, text, this.opts).executeBytes(this.data);
    } catch (err) {
      this.fail(field, err);
    }
  }

  /** `position` names a key that rendering produced (KeysAndValues): it may be a value, so it is never quoted. */
  set(target: Target, key: string, value: Uint8Array, field: string, position?: string): void {
    if (target === 'data') {
      if (!isValidSecretKey(key)) throw position ? syncErrors.invalidRenderedSecretKey(field, position) : syncErrors.invalidSecretKey(field, key);
      this.out.data.set(key, value);
    } else {
      this.out[target][key] = Buffer.from(value).toString('utf8');
    }
  }

  /**
   * templateFrom[].valuesDecodingStrategy (ESO 2.9): each rendered value is decoded before it is
   * stored, for every target. A value that does not decode fails the sync; it is named by its key,
   * or by position when rendering produced the key.
   */
  decode(value: Uint8Array, decoding: ValuesDecoding | undefined, what: string): Uint8Array {
    if (decoding === undefined || decoding.strategy === 'None') return value;
    const decoded = decodeValue(decoding.strategy, value);
    if (decoded === undefined) throw syncErrors.decodeFailed(decoding.field, decoding.strategy, what);
    return decoded;
  }

  /** templateAs Values: the template's key is the output key. */
  values_(target: Target, key: string, text: string, field: string, decoding?: ValuesDecoding): void {
    this.set(target, key, this.decode(this.execute(key, text, field), decoding, `key ${JSON.stringify(key)}`), field);
  }

  /** templateAs KeysAndValues: the rendered text is a YAML map of output keys to values. */
  keysAndValues(target: Target, name: string, text: string, field: string, decoding?: ValuesDecoding): void {
    const rendered = this.execute(name, text, field).toString('utf8');
    let i = 0;
    for (const [k, v] of yamlStringMap(rendered, field)) {
      const position = `key ${i++} of the rendered map`;
      this.set(target, k, this.decode(Buffer.from(v, 'utf8'), decoding, position), field, position);
    }
  }
}

/** ESO 2.9 matches the target in any case, and its webhook admits an empty one: that is Data. */
function targetOf(from: TemplateFrom, field: string): Target {
  const t = (from.target || 'Data').toLowerCase();
  if (t === 'data' || t === 'labels' || t === 'annotations') return t;
  throw syncErrors.templateFailed(`${field}.target`, `templateFrom target ${JSON.stringify(from.target)} is not supported for a Secret: use Data, Labels or Annotations`);
}

/**
 * ESO unmarshals a KeysAndValues result into map[string]string (YAML 1.1 → JSON → Go): strings
 * are kept, null becomes "", anything else (numbers, booleans, yes/no, nested values) is an error.
 * Messages name lines and types, never the rendered (secret) text.
 */
function yamlStringMap(text: string, field: string): Map<string, string> {
  const bad = (why: string): SyncError => syncErrors.templateFailed(field, `could not unmarshal template to 'map[string][]byte': ${why}`);
  let doc: YAML.Document.Parsed;
  try {
    doc = YAML.parseDocument(text, { version: '1.1', uniqueKeys: false });
  } catch {
    throw bad('yaml: invalid YAML');
  }
  const err = doc.errors[0];
  if (err) throw bad(`yaml: line ${err.linePos?.[0].line ?? 0}: ${err.code.toLowerCase().replace(/_/g, ' ')}`);
  const value: unknown = doc.toJS({ mapAsMap: true });
  const out = new Map<string, string>();
  if (value === null || value === undefined) return out;
  const kind = (v: unknown) => (Array.isArray(v) ? 'array' : typeof v === 'number' || typeof v === 'bigint' ? 'number'
    : typeof v === 'boolean' ? 'bool' : typeof v === 'string' ? 'string' : v instanceof Date ? 'string' : 'object');
  if (!(value instanceof Map)) throw bad(`json: cannot unmarshal ${kind(value)} into Go value of type map[string]string`);
  for (const [k, v] of value) {
    if (v === null || v === undefined) out.set(String(k), '');
    else if (typeof v === 'string') out.set(String(k), v);
    else if (v instanceof Date) out.set(String(k), v.toISOString().replace('.000Z', 'Z'));
    else throw bad(`json: cannot unmarshal ${kind(v)} into Go value of type string`);
  }
  return out;
}

function renderTemplateFrom(r: Renderer, from: TemplateFrom, i: number, sources: TemplateSources): void {
  const field = `spec.target.template.templateFrom[${i}]`;
  const target = targetOf(from, field);
  const decoding: ValuesDecoding | undefined = from.valuesDecodingStrategy
    ? { strategy: from.valuesDecodingStrategy, field: `${field}.valuesDecodingStrategy` }
    : undefined;
  const items = (
    kind: 'configMap' | 'secret',
    name: string,
    list: readonly TemplateRefItem[],
    content: Readonly<Record<string, string | Uint8Array>> | undefined,
  ) => {
    if (!content) throw syncErrors.templateFailed(`${field}.${kind}.name`, `error fetching templateFrom data: ${kind === 'configMap' ? 'configmap' : 'secret'} ${JSON.stringify(name)} not found`);
    list.forEach((item, j) => {
      const itemField = `${field}.${kind}.items[${j}]`;
      const raw = Object.hasOwn(content, item.key) ? content[item.key] : undefined;
      if (raw === undefined) {
        throw syncErrors.templateFailed(`${itemField}.key`, `error in ${kind === 'configMap' ? 'configmap' : 'secret'} ${name}: missing key ${item.key}`);
      }
      const text = typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8');
      if ((item.templateAs ?? 'Values') === 'KeysAndValues') r.keysAndValues(target, item.key, text, itemField, decoding);
      else r.values_(target, item.key, text, itemField, decoding);
    });
  };
  if (from.configMap) items('configMap', from.configMap.name, from.configMap.items, sources.configMaps?.get(from.configMap.name));
  if (from.secret) items('secret', from.secret.name, from.secret.items, sources.secrets?.get(from.secret.name));
  if (from.literal !== undefined) r.keysAndValues(target, 'literal', from.literal, `${field}.literal`, decoding);
}

function sortedEntries(rec: Record<string, string> | undefined): Array<[string, string]> {
  return Object.entries(rec ?? {}).sort(([a], [b]) => compareGoStrings(a, b));
}

/** Renders an ExternalSecret's target.template against the provider data. Throws SyncError. */
export function renderTemplate(input: TemplateInput, sources: TemplateSources = {}, opts: RenderOptions = {}): TemplateOutput {
  const template: ExternalSecretTemplate = input.template;
  const r = new Renderer(input.data, opts);
  (template.templateFrom ?? []).forEach((from, i) => renderTemplateFrom(r, from, i, sources));
  // Go ranges over maps in random order; only which error comes first could differ. Sorted here.
  for (const [k, v] of sortedEntries(template.data)) r.values_('data', k, v, keyPath('spec.target.template.data', k));
  for (const [k, v] of sortedEntries(template.metadata?.labels)) r.values_('labels', k, v, keyPath('spec.target.template.metadata.labels', k));
  for (const [k, v] of sortedEntries(template.metadata?.annotations)) r.values_('annotations', k, v, keyPath('spec.target.template.metadata.annotations', k));
  return { data: r.out.data, labels: r.out.labels, annotations: r.out.annotations };
}

/** The RenderTemplate hook for desiredSecret, over the fetched templateFrom sources. */
export function makeRenderTemplate(sources: TemplateSources = {}, opts: RenderOptions = {}): RenderTemplate {
  return (input) => renderTemplate(input, sources, opts);
}

/**
 * The RenderKeyTemplate hook: rewrite[].transform.template with `.value` = the key. As in ESO the
 * template is named "transform", uses ESO's functions and the default missingkey behaviour
 * (a missing key prints "<no value>"). Errors are redacted (the key may come from the provider).
 * Transforms always use the default delimiters, as in ESO.
 */
export function makeRenderKeyTemplate(): RenderKeyTemplate {
  // ESO parses transforms with the default delimiters, whatever --template-*-delimiter say.
  const topts: TemplateOptions = { missingKey: 'default' };
  return (template, key) => {
    try {
      return cachedTemplate('transform', template, topts).execute(esoData({ value: key }));
    } catch (err) {
      if (err instanceof TemplateError) throw new Error(redactTemplateError(err, [key]));
      throw asBudgetError(err) ?? err;
    }
  };
}

export const renderKeyTemplate: RenderKeyTemplate = makeRenderKeyTemplate();
