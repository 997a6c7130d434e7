// `tessera render`: the desired Secret of each ExternalSecret, computed offline (no cluster, no
// provider) from a values file that stands in for the secret manager. Step 3 of the sync flow on
// the command line: validate, resolve data/dataFrom against the values, rewrite, template.
import { readFileSync } from 'node:fs';
import * as YAML from 'yaml';
import { applyDefaults, KIND_EXTERNAL_SECRET, toV1, validate, type ExternalSecret } from '../api/index.ts';
import type { ExternalSecretDataFromRemoteRef, ExternalSecretFind } from '../api/types.generated.ts';
import {
  NOT_FOUND, type FetchedDataFrom, type FetchedValue, type FetchedValues, type Secret, type SyncPlan,
} from '../sync/index.ts';
import type { TemplateSources } from '../sync/template-refs.ts';
import { compareGoStrings } from '../go/sort.ts';
import { compile as compileRegexp, matchString, RegexpError, type GoRegexp } from '../go/regexp.ts';
import {
  createDesiredSecretCompute, DEFAULT_TEMPLATE_MEMORY_LIMIT, DEFAULT_TEMPLATE_TIMEOUT, type DesiredSecretCompute, type ComputeInput,
} from '../compute/index.ts';
import type { RemoteValue } from '../providers/provider.ts';
import { type FlagSpec, formatFlags, parseFlags, UsageError } from './flags.ts';
import { templateBudgetFromFlags } from './template-budget.ts';

export const renderFlags: FlagSpec[] = [
  { name: 'filename', type: 'string', multiple: true, aliases: ['f'], help: 'YAML file with ExternalSecrets, and ConfigMaps/Secrets that templateFrom reads; "-" reads stdin. Repeatable.' },
  { name: 'values', type: 'string', multiple: true, help: 'YAML or JSON file mapping remote keys to their values (see docs/render.md). Repeatable; later files win.' },
  { name: 'namespace', type: 'string', default: 'default', aliases: ['n'], help: 'Namespace of ExternalSecrets that do not set metadata.namespace.' },
  { name: 'name', type: 'string', help: 'Render only the ExternalSecret with this name.' },
  { name: 'output', type: 'string', default: 'yaml', aliases: ['o'], help: 'yaml or json.' },
  { name: 'decode', type: 'boolean', default: false, help: 'Print values as readable stringData instead of base64 data (binary values stay in data).' },
  { name: 'template-timeout', type: 'duration', default: DEFAULT_TEMPLATE_TIMEOUT, help: 'Wall-clock budget of one ExternalSecret\'s templates (as in tessera run).' },
  { name: 'template-memory-limit', type: 'string', default: DEFAULT_TEMPLATE_MEMORY_LIMIT, help: 'Heap of the template worker (as in tessera run).' },
];

export const renderUsage = `Usage: tessera render -f externalsecret.yaml [--values values.yaml] [flags]

Prints the Secret each ExternalSecret would produce, like \`kubectl get secret -o yaml\`, without
a cluster or a secret manager: the values file plays the provider. ExternalSecrets are validated
against the CRD schema first; other kinds are ignored, except ConfigMaps and Secrets, which
templateFrom can read. Exit status: 0 rendered, 1 an ExternalSecret failed, 2 bad usage.

Values file:
  db/password: s3cret              # remote key → value
  db/config: {host: db, port: 5432} # maps and lists are JSON documents (property works)
  db/password@v2: older            # remoteRef.version "v2"
  $tags: {db/password: {team: a}}  # tags for dataFrom.find.tags
  $generators: {Password/pw: {password: generated}}  # dataFrom.sourceRef.generatorRef

Flags:
${formatFlags(renderFlags)}
`;

// --- input documents -------------------------------------------------------------------------

interface Located {
  file: string;
  doc: YAML.Document.Parsed;
  lines: YAML.LineCounter;
  /** Path prefix of the object inside the document (a List's items[i]). */
  base: (string | number)[];
}

interface InputObject extends Located {
  obj: Record<string, any>;
}

class RenderError extends Error {}

function readText(file: string): string {
  try {
    return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (e) {
    throw new RenderError(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

function yamlError(file: string, err: YAML.YAMLError): RenderError {
  const pos = err.linePos?.[0];
  return new RenderError(`${file}${pos ? `:${pos.line}:${pos.col}` : ''}: invalid YAML: ${err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
}

/** "spec.data[0].remoteRef.key" / 'data["tls.crt"]' → path segments. */
function fieldSegments(field: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /([A-Za-z_$][A-Za-z0-9_$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g;
  for (const m of field.matchAll(re)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(JSON.parse(m[3]!) as string);
  }
  return out;
}

/** The file position of a field (or of its closest existing parent). */
function locate(at: Located, field: string): { line: number; col: number; node?: YAML.Scalar } {
  const path = [...at.base, ...fieldSegments(field)];
  for (let n = path.length; n >= 0; n--) {
    const node = at.doc.getIn(path.slice(0, n), true) as YAML.Node | undefined;
    if (node && YAML.isNode(node) && node.range) {
      const pos = at.lines.linePos(node.range[0]);
      return { ...pos, ...(n === path.length && YAML.isScalar(node) ? { node } : {}) };
    }
  }
  return { line: 1, col: 1 };
}

/**
 * Where a template error is in the file: Go reports NAME:LINE[:COL] inside the template; for a
 * block literal (|) that maps exactly onto file lines, else the template's own position is used.
 */
function templatePosition(at: Located, field: string, message: string): string {
  const where = locate(at, field);
  const m = /template: [^:\s]+:(\d+)(?::(\d+))?: /.exec(message);
  if (m && where.node && where.node.type === 'BLOCK_LITERAL') {
    const line = where.line + Number(m[1]);
    // The block's indentation is that of its first non-empty line (YAML's auto-detection).
    let indent = 0;
    for (let l = where.line + 1; l <= at.lines.lineStarts.length; l++) {
      const text = readLine(at, l);
      if (text.trim() === '') continue;
      indent = text.length - text.trimStart().length;
      break;
    }
    const col = m[2] !== undefined ? indent + Number(m[2]) + 1 : indent + 1;
    return `${line}:${col}`;
  }
  return `${where.line}:${where.col}`;
}

function readLine(at: Located, line: number): string {
  const starts = at.lines.lineStarts;
  const text = sourceOf.get(at.doc) ?? '';
  return text.slice(starts[line - 1] ?? 0, starts[line] ?? text.length).replace(/\r?\n$/, '');
}

const sourceOf = new WeakMap<YAML.Document.Parsed, string>();

// --- values ----------------------------------------------------------------------------------

interface Values {
  byKey: Map<string, Uint8Array>;
  tags: Map<string, Record<string, string>>;
  generators: Map<string, Map<string, Uint8Array>>;
}

function toBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v; // !!binary
  if (typeof v === 'string') return new TextEncoder().encode(v);
  if (v === null || v === undefined) return new Uint8Array();
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return new TextEncoder().encode(String(v));
  return new TextEncoder().encode(JSON.stringify(v, (_k, x: unknown) => (x instanceof Uint8Array ? Buffer.from(x).toString('base64') : x)));
}

function readValues(files: string[]): Values {
  const values: Values = { byKey: new Map(), tags: new Map(), generators: new Map() };
  for (const file of files) {
    const lines = new YAML.LineCounter();
    const docs = YAML.parseAllDocuments(readText(file), { lineCounter: lines });
    for (const doc of docs) {
      if (doc.errors.length) throw yamlError(file === '-' ? '<stdin>' : file, doc.errors[0]!);
      const obj = doc.toJS() as unknown;
      if (obj === null || obj === undefined) continue;
      if (typeof obj !== 'object' || Array.isArray(obj)) throw new RenderError(`${file}: values must be a map of remote keys to values`);
      for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
        if (k === '$tags') {
          for (const [key, tags] of Object.entries((v ?? {}) as Record<string, Record<string, unknown>>)) {
            values.tags.set(key, Object.fromEntries(Object.entries(tags ?? {}).map(([a, b]) => [a, String(b)])));
          }
        } else if (k === '$generators') {
          for (const [gen, out] of Object.entries((v ?? {}) as Record<string, unknown>)) {
            if (!out || typeof out !== 'object' || Array.isArray(out)) throw new RenderError(`${file}: $generators.${gen} must be a map of keys to values`);
            values.generators.set(gen, new Map(Object.entries(out as Record<string, unknown>).map(([a, b]) => [a, toBytes(b)])));
          }
        } else {
          values.byKey.set(k, toBytes(v));
        }
      }
    }
  }
  return values;
}

function lookup(values: Values, key: string, version: string | undefined): FetchedValue {
  const bytes = (version ? values.byKey.get(`${key}@${version}`) : undefined) ?? values.byKey.get(key);
  return bytes === undefined ? NOT_FOUND : { value: bytes };
}

/** dataFrom.find over the values: path is a key prefix, name.regexp a Go (RE2) pattern, tags must all match. */
function find(values: Values, query: ExternalSecretFind, field: string): Map<string, RemoteValue> {
  let re: GoRegexp | undefined;
  if (query.name?.regexp) {
    try {
      re = compileRegexp(query.name.regexp);
    } catch (e) {
      if (!(e instanceof RegexpError)) throw e;
      throw new RenderError(`${field}.find.name.regexp: ${e.message}`);
    }
  }
  const out = new Map<string, RemoteValue>();
  for (const [key, value] of values.byKey) {
    const at = key.lastIndexOf('@');
    if (at > 0 && values.byKey.has(key.slice(0, at))) continue; // a version of another key
    if (query.path && !key.startsWith(query.path)) continue;
    if (re) {
      try {
        if (!matchString(re, key)) continue;
      } catch (e) {
        if (!(e instanceof RegexpError)) throw e;
        throw new RenderError(`${field}.find.name.regexp: ${e.message}`);
      }
    }
    if (query.tags) {
      const tags = values.tags.get(key) ?? {};
      if (!Object.entries(query.tags).every(([k, v]) => tags[k] === v)) continue;
    }
    out.set(key, { value });
  }
  return out;
}

function fetchDataFrom(values: Values, ref: ExternalSecretDataFromRemoteRef, field: string): FetchedDataFrom {
  const gen = ref.sourceRef?.generatorRef;
  if (gen && !ref.extract && !ref.find) {
    const out = values.generators.get(`${gen.kind}/${gen.name}`);
    if (!out) throw new RenderError(`${field}.sourceRef.generatorRef: no values for generator ${gen.kind}/${gen.name} (add them under $generators)`);
    return new Map([...out].map(([k, v]) => [k, { value: v }]));
  }
  if (ref.extract) return lookup(values, ref.extract.key, ref.extract.version);
  if (ref.find) return find(values, ref.find, field);
  return new Map();
}

function fetchAll(es: ExternalSecret, values: Values): FetchedValues {
  return {
    data: (es.spec.data ?? []).map((d) => lookup(values, d.remoteRef.key, d.remoteRef.version)),
    dataFrom: (es.spec.dataFrom ?? []).map((ref, i) => fetchDataFrom(values, ref, `spec.dataFrom[${i}]`)),
  };
}

// --- templateFrom sources --------------------------------------------------------------------

function sourcesFor(objects: InputObject[], namespace: string): { sources: TemplateSources; located: Map<string, InputObject> } {
  const configMaps = new Map<string, Record<string, string>>();
  const secrets = new Map<string, Record<string, Uint8Array>>();
  const located = new Map<string, InputObject>();
  for (const o of objects) {
    const { obj } = o;
    if (obj['apiVersion'] !== 'v1' || typeof obj['metadata']?.name !== 'string') continue;
    const ns = obj['metadata'].namespace;
    if (ns !== undefined && ns !== namespace) continue;
    const name = obj['metadata'].name as string;
    if (obj['kind'] === 'ConfigMap') {
      configMaps.set(name, Object.fromEntries(Object.entries((obj['data'] ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)])));
      located.set(`configMap/${name}`, o);
    } else if (obj['kind'] === 'Secret') {
      const data: Record<string, Uint8Array> = {};
      for (const [k, v] of Object.entries((obj['data'] ?? {}) as Record<string, unknown>)) data[k] = new Uint8Array(Buffer.from(String(v), 'base64'));
      for (const [k, v] of Object.entries((obj['stringData'] ?? {}) as Record<string, unknown>)) data[k] = new TextEncoder().encode(String(v));
      secrets.set(name, data);
      located.set(`secret/${name}`, o);
    }
  }
  return { sources: { configMaps, secrets }, located };
}

/** For creationPolicy Merge and CreateOrMerge: a Secret of the target's name in the input is the existing Secret. */
function existingSecret(objects: InputObject[], name: string, namespace: string): Secret | undefined {
  const o = objects.find((x) => x.obj['apiVersion'] === 'v1' && x.obj['kind'] === 'Secret' && x.obj['metadata']?.name === name
    && (x.obj['metadata'].namespace ?? namespace) === namespace);
  if (!o) return undefined;
  const secret = structuredClone(o.obj) as Secret & { stringData?: Record<string, string> };
  secret.metadata.namespace = namespace;
  for (const [k, v] of Object.entries(secret.stringData ?? {})) (secret.data ??= {})[k] = Buffer.from(String(v)).toString('base64');
  delete secret.stringData;
  return secret;
}

// --- output ----------------------------------------------------------------------------------

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort(compareGoStrings)) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

function decoded(secret: Secret): Record<string, unknown> {
  const data: Record<string, string> = {};
  const stringData: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) {
    const bytes = Buffer.from(v, 'base64');
    try {
      stringData[k] = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      data[k] = v;
    }
  }
  const rest: Secret = { ...secret };
  delete rest.data;
  return { ...rest, ...(Object.keys(data).length ? { data } : {}), ...(Object.keys(stringData).length ? { stringData } : {}) };
}

// --- command ---------------------------------------------------------------------------------

type RenderFlagValues = ReturnType<typeof parseFlags>['values'];

/** The flags render needs, checked: usage errors are thrown before any file is read. */
function renderOptions(argv: string[]): { f: RenderFlagValues; files: string[]; output: 'yaml' | 'json'; defaultNamespace: string } {
  const { values: f, positionals } = parseFlags(renderFlags, argv);
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"; give files with -f`);
  const files = (f['filename'] as string[] | undefined) ?? [];
  if (files.length === 0) throw new UsageError('-f is required (a file with ExternalSecrets, or - for stdin)');
  if (files.filter((x) => x === '-').length > 1) throw new UsageError('stdin (-f -) can be read only once');
  const output = String(f['output']);
  if (output !== 'yaml' && output !== 'json') throw new UsageError(`--output: expected yaml or json, got "${output}"`);
  return { f, files, output, defaultNamespace: String(f['namespace']) };
}

/**
 * Where a TemplateFailed error of a templateFrom item points: into the ConfigMap/Secret that holds
 * the template, when the input files contain it ("file:line:col"); undefined otherwise.
 */
function templateFromPosition(es: ExternalSecret, field: string, message: string, located: Map<string, InputObject>): { file: string; where: string } | undefined {
  const m = /^spec\.target\.template\.templateFrom\[(\d+)\]\.(configMap|secret)\.items\[(\d+)\]$/.exec(field);
  if (!m) return undefined;
  const from = es.spec.target?.template?.templateFrom?.[Number(m[1])];
  const ref = from?.[m[2] as 'configMap' | 'secret'];
  const src = ref ? located.get(`${m[2]}/${ref.name}`) : undefined;
  const item = ref?.items[Number(m[3])];
  if (!src || !item) return undefined;
  const inner = src.obj['data']?.[item.key] !== undefined ? `data[${JSON.stringify(item.key)}]` : `stringData[${JSON.stringify(item.key)}]`;
  return { file: src.file, where: templatePosition(src, inner, message) };
}

/** What a plan that writes nothing means, for the notes printed on stderr. */
function noSecretNote(plan: Exclude<SyncPlan, { action: 'write' }>, namespace: string): string {
  if (plan.action === 'delete') return `no Secret: the provider data is gone and deletionPolicy=Delete would delete Secret ${plan.namespace ?? namespace}/${plan.name}`;
  return `no Secret is written (${plan.reason === 'CreationPolicyNone' ? 'creationPolicy=None' : 'no provider data and deletionPolicy=Retain'})`;
}

function writeRendered(output: 'yaml' | 'json', rendered: unknown[]): void {
  if (output === 'json') {
    const doc = rendered.length === 1 ? rendered[0] : { apiVersion: 'v1', items: rendered, kind: 'List' };
    if (rendered.length) process.stdout.write(`${JSON.stringify(doc, null, 4)}\n`);
  } else {
    // YAML 1.1 quoting, so kubectl and other go-yaml readers keep "on", "yes", "0777" as strings.
    process.stdout.write(rendered.map((s) => YAML.stringify(s, { version: '1.1', lineWidth: 0 })).join('---\n'));
  }
}

type ReportFailure = (field: string | undefined, message: string, pos?: string) => void;

/**
 * One ExternalSecret validated, defaulted and given its values: the compute input, or undefined
 * once the reasons it cannot be rendered are reported.
 */
function prepareInput(input: InputObject, namespace: string, objects: InputObject[], values: Values, fail: ReportFailure):
  { computeInput: ComputeInput; es: ExternalSecret; located: Map<string, InputObject> } | undefined {
  const issues = validate(KIND_EXTERNAL_SECRET, input.obj);
  if (issues.length) {
    for (const issue of issues) fail(issue.path || undefined, issue.message);
    return undefined;
  }
  const es = applyDefaults(KIND_EXTERNAL_SECRET, toV1(structuredClone(input.obj) as ExternalSecret));
  es.metadata.namespace = namespace;
  let fetched: FetchedValues;
  try {
    fetched = fetchAll(es, values);
  } catch (e) {
    if (!(e instanceof RenderError)) throw e;
    const [field, ...rest] = e.message.split(': ');
    fail(field, rest.join(': '));
    return undefined;
  }
  const { sources, located } = sourcesFor(objects, namespace);
  const target = es.spec.target?.name || es.metadata.name || '';
  const creation = es.spec.target?.creationPolicy;
  const existing = creation === 'Merge' || creation === 'CreateOrMerge' ? existingSecret(objects, target, namespace) : undefined;
  return { computeInput: { externalSecret: es, fetched, existing, sources }, es, located };
}

export async function render(argv: string[]): Promise<number> {
  const { f, files, output, defaultNamespace } = renderOptions(argv);

  let objects: InputObject[];
  let values: Values;
  try {
    objects = readObjects(files);
    values = readValues((f['values'] as string[] | undefined) ?? []);
  } catch (e) {
    if (e instanceof RenderError) {
      process.stderr.write(`tessera render: ${e.message}\n`);
      return 1;
    }
    throw e;
  }

  const externalSecrets = objects.filter((o) => typeof o.obj['apiVersion'] === 'string' && o.obj['apiVersion'].startsWith('external-secrets.io/')
    && o.obj['kind'] === KIND_EXTERNAL_SECRET && (f['name'] === undefined || o.obj['metadata']?.name === f['name']));
  if (externalSecrets.length === 0) {
    process.stderr.write(`tessera render: no ExternalSecret${f['name'] !== undefined ? ` named "${String(f['name'])}"` : ''} found in ${files.join(', ')}\n`);
    return 1;
  }

  const { timeoutMs, memoryLimitMb } = templateBudgetFromFlags(f);
  // Started on the first ExternalSecret with a template; an idle worker never keeps the process alive.
  let compute: DesiredSecretCompute | undefined;

  const rendered: unknown[] = [];
  const notes: string[] = [];
  let failed = 0;
  for (const input of externalSecrets) {
    const namespace = (input.obj['metadata']?.namespace as string | undefined) ?? defaultNamespace;
    const label = `ExternalSecret ${namespace}/${String(input.obj['metadata']?.name ?? '<unnamed>')}`;
    const fail: ReportFailure = (field, message, pos) => {
      const where = pos ?? (field ? (({ line, col }) => `${line}:${col}`)(locate(input, field)) : `${locate(input, '').line}:1`);
      process.stderr.write(`tessera render: ${input.file}:${where}: ${label}: ${field ? `${field}: ` : ''}${message}\n`);
      failed++;
    };
    const prepared = prepareInput(input, namespace, objects, values, fail);
    if (!prepared) continue;
    const { es, located } = prepared;
    // The same budget as the controller: a hostile template fails this ExternalSecret, it does not hang or kill the command.
    compute ??= createDesiredSecretCompute({ workers: 1, timeoutMs, memoryLimitMb });
    const result = await compute.computeDesiredSecret(prepared.computeInput);
    if (!result.ok) {
      const { field, message, code } = result.error;
      const inTemplateSource = field && code === 'TemplateFailed' ? templateFromPosition(es, field, message, located) : undefined;
      if (inTemplateSource) {
        process.stderr.write(`tessera render: ${inTemplateSource.file}:${inTemplateSource.where}: ${label}: ${field}: ${message}\n`);
        failed++;
      } else {
        fail(field, message, field && code === 'TemplateFailed' ? templatePosition(input, field, message) : undefined);
      }
      continue;
    }
    const plan = result.plan;
    if (plan.action === 'write') {
      rendered.push(sortKeys(f['decode'] ? decoded(plan.secret) : plan.secret));
      for (const s of plan.skipped) notes.push(`${label}: ${s.field}: skipped: ${s.message}`);
    } else {
      notes.push(`${label}: ${noSecretNote(plan, namespace)}`);
    }
  }

  writeRendered(output, rendered);
  for (const n of notes) process.stderr.write(`tessera render: ${n}\n`);
  await compute?.close();
  return failed > 0 ? 1 : 0;
}

/** Every object in the files (documents, and the items of a List), with where it came from. */
function readObjects(files: string[]): InputObject[] {
  const out: InputObject[] = [];
  for (const file of files) {
    const name = file === '-' ? '<stdin>' : file;
    const text = readText(file);
    const lines = new YAML.LineCounter();
    for (const doc of YAML.parseAllDocuments(text, { lineCounter: lines })) {
      sourceOf.set(doc, text); // for mapping template error columns
      if (doc.errors.length) throw yamlError(name, doc.errors[0]!);
      const obj = doc.toJS() as unknown;
      if (obj === null || obj === undefined || typeof obj !== 'object' || Array.isArray(obj)) continue;
      const rec = obj as Record<string, any>;
      if (rec['kind'] === 'List' && Array.isArray(rec['items'])) {
        rec['items'].forEach((item: unknown, i: number) => {
          if (item && typeof item === 'object') out.push({ file: name, doc, lines, base: ['items', i], obj: item as Record<string, any> });
        });
      } else {
        out.push({ file: name, doc, lines, base: [], obj: rec });
      }
    }
  }
  return out;
}

