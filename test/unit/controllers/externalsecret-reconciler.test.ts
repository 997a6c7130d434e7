// The controller unit tier: one reconcile of the ExternalSecret reconciler per table row, with
// in-memory caches, an in-memory kube client that records every call, a fake provider, a fake
// clock and the real sync core (computeInline). Each row says what is given (caches, stores,
// provider values, the Secret on the server, the time) and what must follow (every kube call in
// order, provider reads and their allowed age, status condition, events, Result or error code).
// In-memory fakes live in this tier only; the integration tests run the operator against a real
// apiserver.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { FINALIZER_ESO_EXTERNALSECRET } from '../../../src/api/constants.ts';
import type { ClusterSecretStoreCondition } from '../../../src/api/types.generated.ts';
import { computeInline } from '../../../src/compute/task.ts';
import { ExternalSecretReconciler, causeChain, maxReadAgeMs, type ES, type ReconcilerKube, type SS, type CSS } from '../../../src/controllers/externalsecret-reconciler.ts';
import { ControllerError } from '../../../src/controllers/errors.ts';
import type { GenerateValues } from '../../../src/controllers/generators.ts';
import { GeneratorError } from '../../../src/generators/index.ts';
import { syncedVersion } from '../../../src/controllers/externalsecret-predicates.ts';
import type { AnyStore } from '../../../src/controllers/stores.ts';
import { ApiError, type PatchType } from '../../../src/kube/client.ts';
import { UnseenWrites } from '../../../src/kube/unseen-writes.ts';
import type { Result } from '../../../src/kube/controller.ts';
import { rfc3339, type KubeObject, type ResourceType, type Secret } from '../../../src/kube/types.ts';
import { secretMetrics } from '../../../src/metrics/index.ts';
import { NotFoundError, ProviderError, type FindQuery, type ProviderClient, type RemoteValue, type RemoteValueRef } from '../../../src/providers/provider.ts';
import type { SyncPlan } from '../../../src/sync/desired.ts';
import { fieldOwnerFor } from '../../../src/sync/secret.ts';
import {
  aSecret, anExternalSecret, asCached, ownedBy, remote, withCreationPolicy, withData, withDeletionPolicy, withRefresh, withSecretData, withStore,
} from '../../fixtures/builders.ts';

// ---- the world one reconcile sees ----------------------------------------------------------------

const NOW = Date.parse('2026-06-01T12:00:00Z');
const NS = 'team-a';
const FM = fieldOwnerFor('app-db');
const TTL = 5 * 60_000;
const HOUR = 3_600_000;

/** The apiserver, in memory: objects by resource, every call recorded, failures injected per verb. */
class World {
  readonly objects = new Map<string, KubeObject>();
  readonly calls: string[] = [];
  readonly failures: Array<{ verb: string; plural: string; error: ApiError }> = [];
  private rv = 100;

  static key(plural: string, ns: string | undefined, name: string): string {
    return `${plural} ${ns ? `${ns}/` : ''}${name}`;
  }
  put(plural: string, obj: KubeObject): void {
    this.objects.set(World.key(plural, obj.metadata?.namespace, obj.metadata!.name!), structuredClone(obj));
  }
  find<T extends KubeObject>(plural: string, ns: string | undefined, name: string): T | undefined {
    return this.objects.get(World.key(plural, ns, name)) as T | undefined;
  }
  nextRv(): string {
    return String(++this.rv);
  }
  /** Records the call; throws the first injected failure for this verb and resource. */
  call(text: string, verb: string, plural: string): void {
    const i = this.failures.findIndex((f) => f.verb === verb && f.plural === plural);
    if (i >= 0) {
      const [f] = this.failures.splice(i, 1);
      this.calls.push(`${text} → ${f!.error.code}`);
      throw f!.error;
    }
    this.calls.push(text);
  }
}

const apiError = (code: number, reason: string, message = reason) => new ApiError(code, { reason, message, code }, 'X', '/x');

/** The kube verbs of the reconciler over the World; a field manager per view, as KubeClient.withFieldManager. */
class RecordingKube implements ReconcilerKube {
  private readonly w: World;
  private readonly fieldManager: string;
  constructor(w: World, fieldManager = 'tessera') {
    this.w = w;
    this.fieldManager = fieldManager;
  }
  withFieldManager(fieldManager: string): ReconcilerKube {
    return new RecordingKube(this.w, fieldManager);
  }
  private by(rt: ResourceType): string {
    return rt.plural === 'secrets' ? ` by ${this.fieldManager}` : '';
  }
  async get<T extends KubeObject>(rt: ResourceType, ns: string | undefined, name: string): Promise<T> {
    const found = this.w.find<T>(rt.plural, ns, name);
    this.w.call(`get ${World.key(rt.plural, ns, name)}${found ? '' : ' → 404'}`, 'get', rt.plural);
    if (!found) throw apiError(404, 'NotFound');
    return structuredClone(found);
  }
  async tryGet<T extends KubeObject>(rt: ResourceType, ns: string | undefined, name: string): Promise<T | undefined> {
    try {
      return await this.get<T>(rt, ns, name);
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return undefined;
      throw e;
    }
  }
  async create<T extends KubeObject>(rt: ResourceType, obj: T): Promise<T> {
    const { namespace: ns, name } = obj.metadata!;
    const exists = this.w.find(rt.plural, ns, name!);
    this.w.call(`create ${World.key(rt.plural, ns, name!)}${this.by(rt)}${exists ? ' → 409' : ''}`, 'create', rt.plural);
    if (exists) throw apiError(409, 'AlreadyExists');
    const stored = structuredClone(obj);
    stored.metadata = { ...stored.metadata, uid: `uid-${name}`, resourceVersion: this.w.nextRv() };
    this.w.put(rt.plural, stored);
    return structuredClone(stored);
  }
  async update<T extends KubeObject>(rt: ResourceType, obj: T): Promise<T> {
    const { namespace: ns, name, resourceVersion } = obj.metadata!;
    const current = this.w.find(rt.plural, ns, name!);
    const stale = !current || current.metadata?.resourceVersion !== resourceVersion;
    this.w.call(`update ${World.key(rt.plural, ns, name!)}${this.by(rt)}${stale ? ' → 409' : ''}`, 'update', rt.plural);
    if (stale) throw apiError(409, 'Conflict');
    const stored = structuredClone(obj);
    stored.metadata = { ...stored.metadata, uid: current!.metadata?.uid, resourceVersion: this.w.nextRv() };
    this.w.put(rt.plural, stored);
    return structuredClone(stored);
  }
  async patch<T extends KubeObject>(rt: ResourceType, ns: string | undefined, name: string, type: PatchType, patch: unknown, opts: { subresource?: string } = {}): Promise<T> {
    const target = `${rt.plural}${opts.subresource ? `/${opts.subresource}` : ''}`;
    const current = this.w.find<KubeObject & { status?: unknown }>(rt.plural, ns, name);
    if (type === 'json') {
      // The one JSON patch the reconciler sends: test a finalizer at an index, then remove it.
      const [test, remove] = patch as Array<{ op: string; path: string; value?: string }>;
      const index = Number(test!.path.split('/').pop());
      const ok = current && current.metadata?.finalizers?.[index] === test!.value && remove!.path === test!.path;
      this.w.call(`patch ${World.key(target, ns, name)} (json: remove ${test!.value} at ${index})${!current ? ' → 404' : ok ? '' : ' → 422'}`, 'patch', target);
      if (!current) throw apiError(404, 'NotFound');
      if (!ok) throw apiError(422, 'Invalid');
      current.metadata!.finalizers = current.metadata!.finalizers!.filter((_, i) => i !== index);
      return structuredClone(current) as T;
    }
    this.w.call(`patch ${World.key(target, ns, name)}${current ? '' : ' → 404'}`, 'patch', target);
    if (!current) throw apiError(404, 'NotFound');
    if (opts.subresource === 'status') current.status = (patch as { status: unknown }).status;
    current.metadata = { ...current.metadata, resourceVersion: this.w.nextRv() };
    return structuredClone(current) as T;
  }
  async delete(rt: ResourceType, ns: string | undefined, name: string, opts: { preconditions?: { uid?: string } } = {}): Promise<void> {
    const current = this.w.find(rt.plural, ns, name);
    const uid = opts.preconditions?.uid;
    const refused = !current ? 404 : uid !== undefined && current.metadata?.uid !== uid ? 409 : 0;
    this.w.call(`delete ${World.key(rt.plural, ns, name)}${uid ? ` uid=${uid}` : ''}${refused ? ` → ${refused}` : ''}`, 'delete', rt.plural);
    if (refused) throw apiError(refused, refused === 404 ? 'NotFound' : 'Conflict');
    this.w.objects.delete(World.key(rt.plural, ns, name));
  }
}

/** Remote values by key; an Error value is thrown by the read. */
class FakeProvider implements ProviderClient {
  private readonly values: Record<string, string | Error>;
  constructor(values: Record<string, string | Error>) {
    this.values = values;
  }
  async getValue(ref: RemoteValueRef): Promise<RemoteValue> {
    const v = this.values[ref.key];
    if (v === undefined) throw new NotFoundError(`fake: key ${JSON.stringify(ref.key)} not found`);
    if (v instanceof Error) throw v;
    return remote(v);
  }
  async findValues(_q: FindQuery): Promise<Map<string, RemoteValue>> {
    return new Map();
  }
  async validate(): Promise<void> {}
  async close(): Promise<void> {}
}

// ---- fixtures ------------------------------------------------------------------------------------

// Distinctive values: none of them may ever appear in a log line, event, status or error.
const V1 = 'pw-v1-Zq8xK2';
const V2 = 'pw-v2-Rt5mW9';
const VALUES = [V1, V2, 'do-not-touch-Hj3'];

const base = () => anExternalSecret(withData('password', 'db/password'), withRefresh('1h'), (e) => { e.metadata.generation = 1; }) as ES;

function aStore(opts: { controller?: string } = {}): SS {
  return { apiVersion: 'external-secrets.io/v1', kind: 'SecretStore', metadata: { name: 'aws', namespace: NS, uid: 'ss-uid', generation: 1 }, spec: { provider: { fake: {} }, ...(opts.controller ? { controller: opts.controller } : {}) } } as SS;
}
function aClusterStore(conditions: ClusterSecretStoreCondition[]): CSS {
  return { apiVersion: 'external-secrets.io/v1', kind: 'ClusterSecretStore', metadata: { name: 'shared', uid: 'css-uid', generation: 1 }, spec: { provider: { fake: {} }, conditions } } as CSS;
}

/** The ExternalSecret as it is after a successful sync at `at`, and the Secret it wrote then. */
function synced(es: ES, value: string, at: number): { es: ES; secret: Secret } {
  const r = computeInline({ externalSecret: es, fetched: { data: [remote(value)], dataFrom: [] } });
  if (!r.ok) throw r.error;
  const secret = asCached((r.plan as Extract<SyncPlan, { action: 'write' }>).secret, '50') as unknown as Secret;
  secret.metadata!.uid = 'secret-uid';
  const done = structuredClone(es);
  done.status = {
    refreshTime: rfc3339(new Date(at)),
    syncedResourceVersion: syncedVersion(es),
    binding: { name: 'app-db' },
    conditions: [{ type: 'Ready', status: 'True', reason: 'SecretSynced', message: 'secret synced', lastTransitionTime: rfc3339(new Date(at)) }],
  };
  return { es: done, secret };
}

const foreignSecret = () => aSecret(withSecretData({ precious: 'do-not-touch-Hj3' })) as unknown as Secret;
const otherEsSecret = () => aSecret(withSecretData({ precious: 'do-not-touch-Hj3' }), ownedBy('other-es', 'other-uid')) as unknown as Secret;
const textOf = (s: Secret | undefined) => Object.fromEntries(Object.entries(s?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
const deleting = (es: ES, finalizers: string[]) => { es.metadata.deletionTimestamp = rfc3339(new Date(NOW - 1000)); es.metadata.finalizers = finalizers; return es; };
const withGen = (es: ES, g: number) => { es.metadata.generation = g; return es; };
const editedByHand = (s: Secret) => { const c = structuredClone(s); c.data = { ...c.data, password: Buffer.from('hand-edit-Pp1').toString('base64') }; return c; };
const withReady = (es: ES, status: 'True' | 'False', reason: string, message: string) => {
  es.status = { ...es.status, conditions: [{ type: 'Ready', status, reason, message, lastTransitionTime: rfc3339(new Date(NOW - HOUR)) }] };
  return es;
};

// ---- the table -----------------------------------------------------------------------------------

interface Row {
  name: string;
  es: ES;
  /** The target Secret on the server. */
  secret?: Secret;
  /** In the managed-Secret cache; default: when it carries the managed label. */
  cached?: Secret | 'none';
  /** The managed-Secret cache has finished its first list (default true). */
  secretsSynced?: boolean;
  /** The ExternalSecret on the server when it differs from the cached one. */
  esOnServer?: ES;
  stores?: AnyStore[];
  namespaceLabels?: Record<string, string>;
  provider?: Record<string, string | Error>;
  clientError?: Error;
  failures?: Array<{ verb: string; plural: string; error: ApiError }>;
  /** The reconcile's deadline passes while its provider read is in flight. */
  deadlineDuringRead?: boolean;
  /** The generators (dataFrom[].sourceRef.generatorRef); each call is recorded in Outcome.generated. */
  generate?: GenerateValues;
  expect: {
    calls: string[];
    reads?: Array<[key: string, maxAgeMs: number]>;
    condition?: { status: 'True' | 'False'; reason: string; message?: RegExp } | 'not written';
    events?: string[];
    result?: Result;
    error?: string;
    secret?: Record<string, string> | 'gone' | 'unchanged';
    finalizers?: string[];
    debug?: RegExp;
  };
}

const STATUS = `patch externalsecrets/status ${NS}/app-db`;
const CREATE = `create secrets ${NS}/app-db by ${FM}`;
const UPDATE = `update secrets ${NS}/app-db by ${FM}`;
const GET_SECRET = `get secrets ${NS}/app-db`;
const FIRST_READ = (key = 'db/password'): [string, number] => [key, TTL];
const FRESH_READ = (key = 'db/password'): [string, number] => [key, 0];

const s10m = synced(base(), V1, NOW - 10 * 60_000);
const s2h = synced(base(), V1, NOW - 2 * HOUR);

const rows: Row[] = [
  {
    name: 'create: a new ExternalSecret creates its Secret without a GET first',
    es: base(),
    provider: { 'db/password': V1 },
    expect: { calls: [CREATE, STATUS], reads: [FIRST_READ()], condition: { status: 'True', reason: 'SecretSynced' }, events: ['Normal Created'], result: { requeueAfter: HOUR }, secret: { password: V1 } },
  },
  {
    name: 'create before the Secret cache is synced: GET first, then create',
    es: base(),
    secretsSynced: false,
    provider: { 'db/password': V1 },
    expect: { calls: [`${GET_SECRET} → 404`, CREATE, STATUS], reads: [FIRST_READ()], condition: { status: 'True', reason: 'SecretSynced' }, events: ['Normal Created'], result: { requeueAfter: HOUR }, secret: { password: V1 } },
  },
  {
    name: 'blind create hits AlreadyExists: a hand-made Secret is read and refused (SecretNotManaged)',
    es: base(),
    secret: foreignSecret(),
    provider: { 'db/password': V1 },
    expect: { calls: [`${CREATE} → 409`, GET_SECRET, STATUS], error: 'SecretNotManaged', condition: { status: 'False', reason: 'SecretSyncedError', message: /not managed by this ExternalSecret/ }, events: ['Warning UpdateFailed'], secret: 'unchanged' },
  },
  {
    name: 'blind create hits AlreadyExists: a Secret another ExternalSecret controls is refused (SecretOwnedByOther)',
    es: base(),
    secret: otherEsSecret(),
    cached: 'none', // the cache has not seen it yet
    provider: { 'db/password': V1 },
    expect: { calls: [`${CREATE} → 409`, GET_SECRET, STATUS], error: 'SecretOwnedByOther', condition: { status: 'False', reason: 'SecretSyncedError', message: /other-es/ }, events: ['Warning UpdateFailed'], secret: 'unchanged' },
  },
  {
    name: 'update: a due refresh with a new remote value rewrites the Secret (cached reads allowed)',
    es: s2h.es,
    secret: s2h.secret,
    provider: { 'db/password': V2 },
    expect: { calls: [UPDATE, STATUS], reads: [FIRST_READ()], condition: { status: 'True', reason: 'SecretSynced' }, events: ['Normal Updated'], result: { requeueAfter: HOUR }, secret: { password: V2 } },
  },
  {
    name: 'up to date: a due refresh with the same value writes status only',
    es: s2h.es,
    secret: s2h.secret,
    provider: { 'db/password': V1 },
    expect: { calls: [STATUS], reads: [FIRST_READ()], condition: { status: 'True', reason: 'SecretSynced' }, events: [], result: { requeueAfter: HOUR }, secret: 'unchanged' },
  },
  {
    name: 'not due (also right after a restart): no provider read, no write, requeue at the next refresh',
    es: s10m.es,
    secret: s10m.secret,
    provider: { 'db/password': V2 },
    expect: { calls: [], reads: [], condition: 'not written', events: [], result: { requeueAfter: 50 * 60_000 }, secret: 'unchanged', debug: /no refresh due/ },
  },
  {
    name: 'spec changed: a fresh read (age 0) even within the interval',
    es: withGen(structuredClone(s10m.es), 2),
    secret: s10m.secret,
    provider: { 'db/password': V2 },
    expect: { calls: [UPDATE, STATUS], reads: [FRESH_READ()], condition: { status: 'True', reason: 'SecretSynced' }, events: ['Normal Updated'], result: { requeueAfter: HOUR }, secret: { password: V2 } },
  },
  {
    name: 'drift repair: a Secret edited by hand is rewritten from a fresh read',
    es: s10m.es,
    secret: editedByHand(s10m.secret),
    provider: { 'db/password': V1 },
    expect: { calls: [UPDATE, STATUS], reads: [FRESH_READ()], condition: { status: 'True', reason: 'SecretSynced' }, events: ['Normal Updated'], result: { requeueAfter: HOUR }, secret: { password: V1 } },
  },
  {
    name: 'a deleted target Secret is recreated',
    es: s10m.es,
    provider: { 'db/password': V1 },
    expect: { calls: [CREATE, STATUS], reads: [FRESH_READ()], condition: { status: 'True', reason: 'SecretSynced' }, events: ['Normal Created'], result: { requeueAfter: HOUR }, secret: { password: V1 } },
  },
  {
    name: 'deletionPolicy Delete, owned: the provider has nothing, the Secret is deleted by uid',
    es: synced(withDeletion(base()), V1, NOW - 2 * HOUR).es,
    secret: synced(withDeletion(base()), V1, NOW - 2 * HOUR).secret,
    provider: {},
    expect: { calls: [`delete secrets ${NS}/app-db uid=secret-uid`, STATUS], reads: [FIRST_READ()], condition: { status: 'True', reason: 'SecretDeleted' }, events: ['Normal MissingProviderSecret', 'Normal Deleted'], secret: 'gone' },
  },
  {
    name: 'deletionPolicy Delete, not owned: the Secret is read, refused, and left',
    es: withDeletion(base()),
    secret: foreignSecret(),
    provider: {},
    expect: { calls: [GET_SECRET, STATUS], error: 'SecretNotManaged', condition: { status: 'False', reason: 'SecretSyncedError' }, events: ['Normal MissingProviderSecret', 'Warning UpdateFailed'], secret: 'unchanged' },
  },
  {
    name: 'Merge: the foreign Secret is read and our key merged in, its keys kept',
    es: withCreation(base(), 'Merge'),
    secret: foreignSecret(),
    provider: { 'db/password': V1 },
    expect: { calls: [GET_SECRET, UPDATE, STATUS], reads: [FIRST_READ()], condition: { status: 'True', reason: 'SecretSynced' }, events: ['Normal Updated'], secret: { precious: 'do-not-touch-Hj3', password: V1 } },
  },
  {
    name: 'Merge without a target: Ready=True SecretMissing as ESO, nothing written, looked at again at the next refresh',
    es: withCreation(base(), 'Merge'),
    provider: { 'db/password': V1 },
    expect: { calls: [`${GET_SECRET} → 404`, STATUS], condition: { status: 'True', reason: 'SecretMissing', message: /^secret will not be created due to CreationPolicy=Merge$/ }, events: [], secret: 'gone' },
  },
  {
    name: 'store missing: StoreNotFound, no provider read',
    es: s10m.es,
    secret: s10m.secret,
    stores: [],
    expect: { calls: [STATUS], reads: [], error: 'StoreNotFound', condition: { status: 'False', reason: 'SecretSyncedError', message: /SecretStore "aws" in namespace "team-a" not found/ }, events: ['Warning UpdateFailed'], secret: 'unchanged', debug: /missing or does not admit/ },
  },
  {
    name: 'store of another controller class: skipped, nothing read or written',
    es: base(),
    stores: [aStore({ controller: 'other' })],
    provider: { 'db/password': V1 },
    expect: { calls: [], reads: [], condition: 'not written', events: [], result: {}, secret: 'gone', debug: /another controller class/ },
  },
  {
    name: 'ClusterSecretStore closed to the namespace: NamespaceNotAllowed',
    es: anExternalSecret(withData('password', 'db/password'), withStore('shared', 'ClusterSecretStore')) as ES,
    stores: [aClusterStore([{ namespaces: ['team-b'] }])],
    provider: { 'db/password': V1 },
    expect: { calls: [STATUS], reads: [], error: 'NamespaceNotAllowed', condition: { status: 'False', reason: 'SecretSyncedError', message: /does not allow ExternalSecrets in namespace "team-a"/ }, events: ['Warning UpdateFailed'] },
  },
  {
    name: 'ClusterSecretStore admitting the namespace by its labels (namespace cache)',
    es: anExternalSecret(withData('password', 'db/password'), withStore('shared', 'ClusterSecretStore')) as ES,
    stores: [aClusterStore([{ namespaceSelector: { matchLabels: { tier: 'prod' } } }])],
    namespaceLabels: { tier: 'prod' },
    provider: { 'db/password': V1 },
    expect: { calls: [CREATE, STATUS], reads: [FIRST_READ()], condition: { status: 'True', reason: 'SecretSynced' }, events: ['Normal Created'], secret: { password: V1 } },
  },
  {
    name: 'invalid refreshInterval: InvalidSpec names the field',
    es: withRefreshOf(base(), '2562048h'),
    provider: { 'db/password': V1 },
    expect: { calls: [STATUS], reads: [], error: 'InvalidSpec', condition: { status: 'False', reason: 'SecretSyncedError', message: /spec\.refreshInterval/ }, events: ['Warning UpdateFailed'] },
  },
  {
    name: 'provider NotFound with deletionPolicy Retain: ProviderSecretNotFound, the Secret is kept',
    es: s2h.es,
    secret: s2h.secret,
    provider: {},
    expect: { calls: [STATUS], reads: [FIRST_READ()], error: 'ProviderSecretNotFound', condition: { status: 'False', reason: 'SecretSyncedError' }, events: ['Warning UpdateFailed'], secret: 'unchanged' },
  },
  {
    name: 'provider error: AccessDenied is reported with its code, never a value',
    es: s2h.es,
    secret: s2h.secret,
    provider: { 'db/password': new ProviderError('AccessDenied', 'fake: AccessDeniedException reading "db/password"') },
    expect: { calls: [STATUS], reads: [FIRST_READ()], error: 'ProviderAccessDenied', condition: { status: 'False', reason: 'SecretSyncedError', message: /AccessDeniedException/ }, events: ['Warning UpdateFailed'], secret: 'unchanged' },
  },
  {
    name: 'provider client cannot be built: bad credentials',
    es: base(),
    clientError: new ProviderError('BadCredentials', 'SecretStore/team-a/aws: credentials secret team-a/creds not found'),
    expect: { calls: [STATUS], reads: [], error: 'ProviderBadCredentials', condition: { status: 'False', reason: 'SecretSyncedError', message: /credentials secret team-a\/creds not found/ }, events: ['Warning UpdateFailed'] },
  },
  {
    name: 'conflict on write: SecretWriteFailed, retried with backoff',
    es: s2h.es,
    secret: s2h.secret,
    provider: { 'db/password': V2 },
    failures: [{ verb: 'update', plural: 'secrets', error: apiError(409, 'Conflict') }],
    expect: { calls: [`${UPDATE} → 409`, STATUS], reads: [FIRST_READ()], error: 'SecretWriteFailed', condition: { status: 'False', reason: 'SecretSyncedError', message: /changed while we wrote it/ }, events: ['Warning UpdateFailed'], secret: 'unchanged' },
  },
  {
    name: 'a refused write does not quote the apiserver (its message may hold a value)',
    es: s2h.es,
    secret: s2h.secret,
    provider: { 'db/password': V2 },
    failures: [{ verb: 'update', plural: 'secrets', error: apiError(422, 'Invalid', `Secret "app-db" is invalid: data[password]: Invalid value: "${V2}"`) }],
    expect: { calls: [`${UPDATE} → 422`, STATUS], error: 'SecretWriteFailed', condition: { status: 'False', reason: 'SecretSyncedError', message: /refused it \(422 Invalid\)/ }, events: ['Warning UpdateFailed'], secret: 'unchanged' },
  },
  {
    name: 'an unchanged failure is not written to status again',
    es: withReady(structuredClone(s10m.es), 'False', 'SecretSyncedError', 'could not get secret data from provider: SecretStore "aws" in namespace "team-a" not found'),
    secret: s10m.secret,
    stores: [],
    expect: { calls: [], error: 'StoreNotFound', condition: 'not written', events: ['Warning UpdateFailed'], debug: /status unchanged/ },
  },
  {
    name: "deleted with ESO's finalizer: it is removed with a tested JSON patch; other finalizers stay",
    es: deleting(base(), [FINALIZER_ESO_EXTERNALSECRET, 'example.com/keep']),
    provider: { 'db/password': V1 },
    expect: { calls: [`patch externalsecrets ${NS}/app-db (json: remove ${FINALIZER_ESO_EXTERNALSECRET} at 0)`], reads: [], condition: 'not written', result: {}, finalizers: ['example.com/keep'] },
  },
  {
    name: "ESO's finalizer moved meanwhile: the failed test reads again and removes it at its new index",
    es: deleting(base(), [FINALIZER_ESO_EXTERNALSECRET]),
    esOnServer: deleting(base(), ['example.com/first', FINALIZER_ESO_EXTERNALSECRET]),
    expect: {
      calls: [`patch externalsecrets ${NS}/app-db (json: remove ${FINALIZER_ESO_EXTERNALSECRET} at 0) → 422`, `get externalsecrets ${NS}/app-db`, `patch externalsecrets ${NS}/app-db (json: remove ${FINALIZER_ESO_EXTERNALSECRET} at 1)`],
      result: {}, finalizers: ['example.com/first'],
    },
  },
  {
    name: 'deleted without our finalizer: nothing to do',
    es: deleting(base(), ['example.com/keep']),
    expect: { calls: [], reads: [], condition: 'not written', result: {}, finalizers: ['example.com/keep'] },
  },
  {
    name: "deleted, store of another controller class: that controller removes its finalizer",
    es: deleting(base(), [FINALIZER_ESO_EXTERNALSECRET]),
    stores: [aStore({ controller: 'other' })],
    expect: { calls: [], result: {}, finalizers: [FINALIZER_ESO_EXTERNALSECRET], debug: /another controller class/ },
  },
];

function withDeletion(es: ES): ES {
  withDeletionPolicy('Delete')(es);
  return es;
}
function withCreation(es: ES, policy: 'Merge' | 'Orphan' | 'None'): ES {
  withCreationPolicy(policy)(es);
  return es;
}
function withRefreshOf(es: ES, interval: string): ES {
  es.spec.refreshInterval = interval;
  return es;
}

// ---- running a row -------------------------------------------------------------------------------

interface Outcome {
  world: World;
  reads: Array<[string, number]>;
  events: string[];
  eventMessages: string[];
  logs: Array<Record<string, unknown>>;
  /** The signal each provider read was given. */
  signals: Array<AbortSignal | undefined>;
  result?: Result;
  error?: unknown;
}

async function run(row: Row): Promise<Outcome> {
  const world = new World();
  const es = structuredClone(row.es);
  world.put('externalsecrets', row.esOnServer ?? es);
  if (row.secret) world.put('secrets', row.secret);
  const managedLabel = (s: Secret | undefined) => s?.metadata?.labels?.['reconcile.external-secrets.io/managed'] === 'true';
  const cached = row.cached === 'none' ? undefined : row.cached ?? (managedLabel(row.secret) ? structuredClone(row.secret) : undefined);
  const stores = row.stores ?? [aStore()];
  const reads: Array<[string, number]> = [];
  const events: string[] = [];
  const eventMessages: string[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const provider = new FakeProvider(row.provider ?? {});
  const deadline = new AbortController();
  const signals: Array<AbortSignal | undefined> = [];
  const reconciler = new ExternalSecretReconciler({
    caches: {
      externalSecret: (key) => (key === `${NS}/app-db` ? es : undefined),
      managedSecret: (ns, name) => (cached && ns === NS && name === 'app-db' ? cached : undefined),
      managedSecretsSynced: () => row.secretsSynced ?? true,
      secretStore: (ns, name) => stores.find((s) => s.kind === 'SecretStore' && s.metadata.namespace === ns && s.metadata.name === name) as SS | undefined,
      clusterSecretStore: (name) => stores.find((s) => s.kind === 'ClusterSecretStore' && s.metadata.name === name) as CSS | undefined,
      namespaceLabels: (ns) => (ns === NS ? row.namespaceLabels : undefined),
    },
    kube: new RecordingKube(world),
    clients: {
      clientFor: async () => {
        if (row.clientError) throw row.clientError;
        return { id: 'SecretStore/team-a/aws@1', provider: 'fake', client: provider };
      },
    },
    reader: {
      read: (handle, ref, maxAgeMs, signal) => {
        reads.push([ref.key, maxAgeMs]);
        signals.push(signal);
        if (row.deadlineDuringRead) {
          deadline.abort(new DOMException('the reconcile passed its deadline', 'TimeoutError'));
          return Promise.reject(signal?.reason as Error);
        }
        return handle.client.getValue(ref);
      },
      memo: (_h, _what, _age, fn, signal) => fn(signal ?? new AbortController().signal),
    },
    computeDesiredSecret: async (input) => computeInline(input),
    events: {
      normal: (_o, reason, message) => void (events.push(`Normal ${reason}`), eventMessages.push(message)),
      warning: (_o, reason, message) => void (events.push(`Warning ${reason}`), eventMessages.push(message)),
    },
    logger,
    clock: { now: () => NOW },
    random: () => 0,
    controllerClass: 'tessera',
    providerCacheTtlMs: TTL,
    generate: row.generate,
  });
  for (const f of row.failures ?? []) world.failures.push(f);
  const out: Outcome = { world, reads, events, eventMessages, logs, signals };
  try {
    out.result = await reconciler.reconcile(`${NS}/app-db`, deadline.signal);
  } catch (e) {
    out.error = e;
  }
  return out;
}

const codeOf = (e: unknown) => (e as { code?: unknown } | undefined)?.code;

describe('ExternalSecret reconciler (one reconcile per row)', () => {
  for (const row of rows) {
    it(row.name, async () => {
      const out = await run(row);
      const x = row.expect;
      assert.deepEqual(out.world.calls, x.calls, 'kube calls, in order');
      if (x.reads) assert.deepEqual(out.reads, x.reads, 'provider reads [key, allowed age ms]');
      if (x.error) assert.equal(codeOf(out.error), x.error, `error code (got ${String((out.error as Error | undefined)?.message)})`);
      else assert.equal(out.error, undefined, `no error (got ${String((out.error as Error | undefined)?.message)})`);
      if (x.result) assert.deepEqual(out.result, x.result);
      if (x.events) assert.deepEqual(out.events, x.events);
      const status = out.world.find<ES>('externalsecrets', NS, 'app-db')?.status;
      const ready = (status?.conditions ?? []).find((c) => c.type === 'Ready');
      if (x.condition === 'not written') {
        assert.ok(!out.world.calls.some((c) => c.startsWith(STATUS)), 'status not written');
      } else if (x.condition) {
        assert.equal(ready?.status, x.condition.status, `Ready status (message: ${ready?.message})`);
        assert.equal(ready?.reason, x.condition.reason);
        if (x.condition.message) assert.match(ready?.message ?? '', x.condition.message);
        if (x.condition.status === 'True') {
          assert.equal(status?.refreshTime, rfc3339(new Date(NOW)), 'refreshTime from the clock');
          assert.equal(status?.syncedResourceVersion, syncedVersion(row.es));
        }
      }
      const onServer = out.world.find<Secret>('secrets', NS, 'app-db');
      if (x.secret === 'gone') assert.equal(onServer, undefined, 'no Secret');
      else if (x.secret === 'unchanged') assert.deepEqual(onServer, row.secret);
      else if (x.secret) assert.deepEqual(textOf(onServer), x.secret);
      if (x.finalizers) assert.deepEqual(out.world.find<ES>('externalsecrets', NS, 'app-db')?.metadata.finalizers, x.finalizers);
      const debug = out.logs.filter((l) => l.level === 20).map((l) => String(l.msg));
      if (x.debug) assert.ok(debug.some((m) => x.debug!.test(m)), `a debug line matching ${x.debug}: ${debug.join(' | ')}`);

      // Every reconcile logs with ESO's and controller-runtime's fields and a reconcile id.
      for (const l of out.logs) {
        assert.deepEqual(l.ExternalSecret, { name: 'app-db', namespace: NS });
        assert.equal(l.namespace, NS);
        assert.equal(l.name, 'app-db');
        assert.match(String(l.reconcileID), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a UUID, as controller-runtime logs it');
      }
      // A failure is logged once (warn), with its code; src/kube/controller.ts then logs it at debug only.
      const warns = out.logs.filter((l) => l.level === 40);
      if (out.error) assert.equal(warns.length, 1, `one warn line: ${JSON.stringify(warns)}`);
      else assert.equal(warns.length, 0);

      // No value in logs, events, status, or the error.
      const said = [JSON.stringify(out.logs), ...out.eventMessages, JSON.stringify(status ?? {}), String((out.error as Error | undefined)?.message ?? '')].join('\n');
      for (const v of VALUES) {
        assert.ok(!said.includes(v), `value ${v} leaked`);
        assert.ok(!said.includes(Buffer.from(v).toString('base64')), `value ${v} leaked (base64)`);
      }
      // Secret writes go with the ExternalSecret's own field manager.
      for (const c of out.world.calls) if (/^(create|update) secrets/.test(c)) assert.ok(c.includes(`by ${FM}`), c);
    });
  }
});

describe('ExternalSecret reconciler: ESO 2.9 wording', () => {
  // Word for word ESO's (pkg/controllers/externalsecret): users and tools match on these.
  it('Ready message and event texts on create, update and delete', async () => {
    const created = await run(rows.find((r) => r.name.startsWith('create:'))!);
    assert.deepEqual(created.eventMessages, ['secret created']);
    const ready = (created.world.find<ES>('externalsecrets', NS, 'app-db')?.status?.conditions ?? []).find((c) => c.type === 'Ready');
    assert.deepEqual([ready?.reason, ready?.message], ['SecretSynced', 'secret synced']);
    const updated = await run(rows.find((r) => r.expect.events?.[0] === 'Normal Updated')!);
    assert.deepEqual(updated.eventMessages, ['secret updated']);
    const deleted = await run(rows.find((r) => r.name.startsWith('deletionPolicy Delete, owned'))!);
    assert.deepEqual(deleted.eventMessages, ['secret does not exist at provider using spec.data[0] (key=db/password)', 'secret deleted due to DeletionPolicy=Delete']);
    const gone = (deleted.world.find<ES>('externalsecrets', NS, 'app-db')?.status?.conditions ?? []).find((c) => c.type === 'Ready');
    assert.deepEqual([gone?.reason, gone?.message], ['SecretDeleted', 'secret deleted due to DeletionPolicy=Delete']);
  });
});

describe('ExternalSecret reconciler: deadline', () => {
  it('hands its signal to the provider read; past the deadline it reports nothing and rethrows for the controller', async () => {
    const es = base();
    const out = await run({ name: 'deadline', es, provider: { 'db/password': V1 }, deadlineDuringRead: true, expect: { calls: [] } });
    assert.equal(out.signals.length, 1);
    assert.ok(out.signals[0]?.aborted, 'the read got the reconcile\'s signal');
    assert.match((out.error as Error | undefined)?.message ?? '', /cancelled/, 'rethrown as a cancelled read');
    assert.deepEqual(out.world.calls, [], 'no status write, no Secret write');
    assert.deepEqual(out.events, [], 'no event');
    assert.ok(!out.logs.some((l) => l.level === 40 || l.level === 50), 'not logged as a failure (the controller logs the deadline)');
  });
});

describe('ExternalSecret reconciler: metrics', () => {
  it('sync calls and errors are counted with name and namespace (ESO labels)', async () => {
    secretMetrics.syncCalls.reset();
    secretMetrics.syncErrors.reset();
    await run(rows.find((r) => r.name.startsWith('create:'))!);
    await run(rows.find((r) => r.name.startsWith('store missing'))!);
    const calls = (await secretMetrics.syncCalls.get()).values;
    assert.deepEqual(calls.map((v) => [v.labels, v.value]), [[{ name: 'app-db', namespace: NS }, 2]]);
    const errors = (await secretMetrics.syncErrors.get()).values;
    assert.deepEqual(errors.map((v) => [v.labels, v.value]), [[{ name: 'app-db', namespace: NS, reason: 'StoreNotFound' }, 1]]);
  });
});

describe('ExternalSecret reconciler: restart', () => {
  it('a fresh reconciler over many synced ExternalSecrets reads nothing and writes nothing', async () => {
    // The reconciler keeps no memory between reconciles: each row already runs as the first
    // reconcile after a restart. Here, several objects synced at different times, all not due.
    for (const minutesAgo of [1, 20, 59]) {
      const s = synced(base(), V1, NOW - minutesAgo * 60_000);
      const out = await run({ name: 'restart', es: s.es, secret: s.secret, provider: { 'db/password': V2 }, expect: { calls: [] } });
      assert.deepEqual(out.world.calls, []);
      assert.deepEqual(out.reads, []);
      assert.deepEqual(out.result, { requeueAfter: (60 - minutesAgo) * 60_000 });
    }
  });
});

describe('ExternalSecret reconciler: pure decisions', () => {
  it('maxReadAgeMs: fresh for a change or a repair of a synced object; shared reads otherwise', () => {
    const base = { specChanged: false, targetBroken: false, firstSync: false, refreshMs: HOUR, providerCacheTtlMs: TTL };
    assert.equal(maxReadAgeMs(base), TTL);
    assert.equal(maxReadAgeMs({ ...base, specChanged: true }), 0);
    assert.equal(maxReadAgeMs({ ...base, targetBroken: true }), 0);
    assert.equal(maxReadAgeMs({ ...base, specChanged: true, firstSync: true }), TTL, 'a first sync may share a read');
    assert.equal(maxReadAgeMs({ ...base, refreshMs: 1000 }), 1000, 'never older than the refresh interval');
    assert.equal(maxReadAgeMs({ ...base, refreshMs: 0 }), TTL);
  });

  it('causeChain: each typed message once; of anything else only its name and code', () => {
    const provider = new ProviderError('AccessDenied', 'aws: AccessDeniedException on "db/password"');
    const wrapped = new ControllerError('ProviderAccessDenied', `could not get secret data from provider (store SecretStore "aws"): ${provider.message}`, true, { cause: provider });
    assert.equal(causeChain(wrapped), wrapped.message);
    const sdk = Object.assign(new Error(`echoed ${V1}`), { name: 'ThrottlingException', code: 'Throttling' });
    assert.equal(causeChain(new ProviderError('Throttled', 'aws: throttled', { cause: sdk })), 'aws: throttled: ThrottlingException Throttling');
    const api = apiError(422, 'Invalid', `data: Invalid value: "${V1}"`);
    assert.equal(causeChain(api), 'ApiError 422 Invalid');
  });
});

describe('ExternalSecret reconciler: generators', () => {
  /** dataFrom[0] runs the generator; no secretStoreRef, as ESO's docs write such ExternalSecrets. */
  const generatorOnly = () => {
    const es = base();
    delete (es.spec as { secretStoreRef?: unknown }).secretStoreRef;
    es.spec.data = [];
    es.spec.dataFrom = [{ sourceRef: { generatorRef: { apiVersion: 'generators.external-secrets.io/v1alpha1', kind: 'Password', name: 'pw' } } }];
    return es;
  };

  it('a generator feeds the Secret on each sync; no store is needed and nothing is read through the reader', async () => {
    const calls: string[] = [];
    let n = 0;
    const generate: GenerateValues = async (namespace, ref) => {
      calls.push(`${namespace} ${ref.kind}/${ref.name}`);
      return { values: { password: Buffer.from(`gen-${++n}-Xy7`) } };
    };
    const out = await run({ name: 'generator', es: generatorOnly(), stores: [], generate, expect: { calls: [] } });
    assert.equal(out.error, undefined, String((out.error as Error | undefined)?.message));
    assert.deepEqual(out.world.calls, [CREATE, STATUS]);
    assert.deepEqual(out.reads, []);
    assert.deepEqual(calls, [`${NS} Password/pw`]);
    assert.deepEqual(textOf(out.world.find<Secret>('secrets', NS, 'app-db')), { password: 'gen-1-Xy7' });
    assert.ok(!JSON.stringify(out.logs).includes('gen-1-Xy7'), 'the generated value is not logged');
  });

  it('a generator failure names the field and the kind, in status and event; the Secret is not touched', async () => {
    const generate: GenerateValues = async () => { throw new GeneratorError('NotSupported', 'generator kind GCRAccessToken is not supported by this build'); };
    const out = await run({ name: 'generator fails', es: generatorOnly(), stores: [], generate, expect: { calls: [] } });
    assert.equal(codeOf(out.error), 'GeneratorNotSupported');
    assert.deepEqual(out.world.calls, [STATUS]);
    const ready = (out.world.find<ES>('externalsecrets', NS, 'app-db')?.status?.conditions ?? []).find((c) => c.type === 'Ready');
    assert.equal(ready?.message, 'could not get secret data from provider: spec.dataFrom[0].sourceRef.generatorRef: generator kind GCRAccessToken is not supported by this build');
    assert.deepEqual(out.events, ['Warning UpdateFailed']);
  });

  it('a generator of another controller class makes the ExternalSecret another controller\'s: nothing written, no error', async () => {
    const generate: GenerateValues = async () => { throw new GeneratorError('OtherController', 'Password "pw" belongs to controller class "other"'); };
    const out = await run({ name: 'other class', es: generatorOnly(), stores: [], generate, expect: { calls: [] } });
    assert.equal(out.error, undefined);
    assert.deepEqual(out.world.calls, []);
    assert.deepEqual(out.events, []);
  });

  it('without a secretStoreRef, an entry that reads a store is refused by field', async () => {
    const es = generatorOnly();
    es.spec.data = [{ secretKey: 'x', remoteRef: { key: 'db/password' } }];
    const out = await run({ name: 'no store', es, stores: [], generate: async () => ({ values: {} }), expect: { calls: [] } });
    assert.equal(codeOf(out.error), 'InvalidSpec');
    assert.match((out.error as Error).message, /spec\.secretStoreRef: is required: spec\.data\[0\] reads a store/);
  });
});

describe('ExternalSecret reconciler: caches that have not yet shown its own writes', () => {
  /**
   * A first sync, then a second reconcile of the same key (a store event, say) while the caches
   * lag: the Secret's add has arrived, the ExternalSecret's status patch has not. Returns the
   * provider reads and kube calls of each reconcile.
   */
  async function firstSyncThenLaggingCache(unseenWrites?: { externalSecrets: UnseenWrites; secrets: UnseenWrites }) {
    const world = new World();
    const es = structuredClone(base());
    es.metadata.resourceVersion = '7';
    world.put('externalsecrets', es);
    let cachedSecret: Secret | undefined;
    const reads: Array<[string, number]> = [];
    const reconciler = new ExternalSecretReconciler({
      caches: {
        externalSecret: (key) => (key === `${NS}/app-db` ? es : undefined),
        managedSecret: (ns, name) => (ns === NS && name === 'app-db' ? cachedSecret : undefined),
        managedSecretsSynced: () => true,
        secretStore: (ns, name) => (ns === NS && name === 'aws' ? aStore() : undefined),
        clusterSecretStore: () => undefined,
        namespaceLabels: () => undefined,
      },
      kube: new RecordingKube(world),
      clients: { clientFor: async () => ({ id: 'SecretStore/team-a/aws@1', provider: 'fake', client: new FakeProvider({ 'db/password': V1 }) }) },
      reader: {
        read: (handle, ref, maxAgeMs) => { reads.push([ref.key, maxAgeMs]); return handle.client.getValue(ref); },
        memo: (_h, _what, _age, fn, signal) => fn(signal ?? new AbortController().signal),
      },
      computeDesiredSecret: async (input) => computeInline(input),
      events: { normal: () => {}, warning: () => {} },
      logger: pino({ level: 'silent' }),
      clock: { now: () => NOW },
      random: () => 0,
      controllerClass: 'tessera',
      providerCacheTtlMs: TTL,
      unseenWrites,
    });
    const first = await reconciler.reconcile(`${NS}/app-db`);
    const firstCalls = world.calls.splice(0);
    const firstReads = reads.splice(0);
    // The Secret's watch event has arrived; the ExternalSecret's has not (the cache still holds rv 7).
    cachedSecret = structuredClone(world.find<Secret>('secrets', NS, 'app-db'));
    unseenWrites?.secrets.seen(`${NS}/app-db`);
    const second = await reconciler.reconcile(`${NS}/app-db`);
    return { first, firstCalls, firstReads, second, secondCalls: world.calls, secondReads: reads };
  }

  it('without the record, the lagging cache makes a synced ExternalSecret look changed: a fresh read (the defect)', async () => {
    const out = await firstSyncThenLaggingCache();
    assert.deepEqual(out.firstReads, [FIRST_READ()]);
    assert.deepEqual(out.secondReads, [FRESH_READ()], 'read again, at age 0');
  });

  it('with the record, the second reconcile waits for the cache: no read, no write, and the waiter comes back with the event', async () => {
    const unseen = { externalSecrets: new UnseenWrites(), secrets: new UnseenWrites() };
    const out = await firstSyncThenLaggingCache(unseen);
    assert.deepEqual(out.firstCalls, [CREATE, STATUS]);
    assert.deepEqual(out.firstReads, [FIRST_READ()]);
    assert.deepEqual(out.secondReads, [], 'no provider read');
    assert.deepEqual(out.secondCalls, [], 'no kube call');
    assert.deepEqual(out.second, { requeueAfter: unseen.externalSecrets.ttlMs }, 'a fallback requeue, should the event be lost');
    assert.equal(unseen.externalSecrets.seen(`${NS}/app-db`), `${NS}/app-db`, 'the ExternalSecret\'s event hands back the deferred key');
    assert.equal(unseen.externalSecrets.size, 0);
  });
});
