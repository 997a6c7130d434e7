// Generators (generators.external-secrets.io): values made on demand instead of read from a
// store. `generate` resolves a generatorRef (a namespaced generator in the ExternalSecret's
// namespace, or a ClusterGenerator) and runs the kind's implementation.
//
// Why a separate unit: generators read the cluster (their own object, Secrets they reference) and
// call remote services with the stores' own code (AWS credentials, the Vault client, the HTTP
// transport), but are not stores: no client is cached, and nothing is coalesced, because every
// call must produce fresh values (ESO calls a generator on every refresh of the ExternalSecret).
// Generated values go into the returned map only: no message, log line or event carries one.
// The kinds that call remote services (AWS, Vault, Webhook) load on first use, as the providers do:
// their clients and the template engine cost start-up time and memory a controller without
// such generators need not pay.
import {
  GENERATORS_API_VERSION, GENERATOR_KINDS, type GeneratorKind, type NamespacedGeneratorKind,
} from '../api/constants.ts';
import { CLUSTER_GENERATOR_SPEC_KEYS, SUPPORTED_GENERATOR_KINDS } from '../api/schema-generators.ts';
import type {
  ECRAuthorizationTokenSpec, FakeSpec, MFASpec, PasswordSpec, SSHKeySpec, STSSessionTokenSpec, VaultDynamicSecretSpec, WebhookSpec,
} from '../api/types.generated.ts';
import type { ProviderContext } from '../providers/provider.ts';
import { GeneratorError, generatorErrors } from './errors.ts';
import { mfaOutput } from './mfa.ts';
import { generatePasswords } from './password.ts';
import { generateSshKey } from './sshkey.ts';

export { GeneratorError, type GeneratorFailure } from './errors.ts';

/** What the generators need of the cluster; the controller implements it (src/controllers/generators.ts). */
export interface GeneratorDeps {
  /** A generator object: namespaced kinds in `namespace`, a ClusterGenerator with namespace undefined. */
  getGenerator(kind: GeneratorKind, namespace: string | undefined, name: string, signal: AbortSignal): Promise<{ spec?: unknown } | undefined>;
  /** A Secret of `namespace` (MFA seeds, Webhook secrets), or undefined when it does not exist. */
  readSecret(namespace: string, name: string, signal: AbortSignal): Promise<{ labels: Record<string, string>; data: Record<string, Uint8Array> } | undefined>;
  /** Credentials and calls for AWS and Vault generators, read in `namespace` only. */
  providerContext(namespace: string, label: string): ProviderContext;
  /** Milliseconds since the epoch (TOTP). */
  now?: () => number;
  /** --controller-class: a generator whose spec.controller names another class is not ours (ESO's rule). */
  controllerClass?: string | undefined;
}

export interface GeneratedOutput {
  values: Record<string, Uint8Array>;
  /** When the values expire before the ExternalSecret's refreshInterval (not set by this build's kinds). */
  refreshAfterMs?: number;
}

export interface GeneratorRef {
  apiVersion?: string | undefined;
  kind: string;
  name: string;
}

const isNamespacedKind = (kind: string): kind is NamespacedGeneratorKind => (GENERATOR_KINDS as readonly string[]).includes(kind);

/** The kind and spec a generatorRef stands for (a ClusterGenerator's inner generator). */
async function resolve(deps: GeneratorDeps, namespace: string, ref: GeneratorRef, signal: AbortSignal): Promise<{ kind: NamespacedGeneratorKind; spec: unknown; label: string; field: string }> {
  if (ref.apiVersion && ref.apiVersion !== GENERATORS_API_VERSION) {
    throw generatorErrors.invalidSpec('generatorRef.apiVersion', `${JSON.stringify(ref.apiVersion)} is not ${GENERATORS_API_VERSION}`);
  }
  if (ref.kind === 'ClusterGenerator') {
    const obj = await deps.getGenerator('ClusterGenerator', undefined, ref.name, signal);
    if (!obj) throw generatorErrors.notFound('ClusterGenerator', ref.name, undefined);
    const spec = (obj.spec ?? {}) as { kind?: string; generator?: Record<string, unknown> };
    const kind = spec.kind ?? '';
    if (!isNamespacedKind(kind)) throw generatorErrors.invalidSpec(`ClusterGenerator ${JSON.stringify(ref.name)} spec.kind`, `unknown generator kind ${JSON.stringify(kind)}`);
    const key = CLUSTER_GENERATOR_SPEC_KEYS[kind];
    if (!SUPPORTED_GENERATOR_KINDS.has(kind)) throw generatorErrors.notSupported(kind);
    const inner = spec.generator?.[key];
    if (inner === undefined) throw generatorErrors.invalidSpec(`ClusterGenerator ${JSON.stringify(ref.name)} spec.generator.${key}`, `is required for kind ${kind}`);
    return { kind, spec: inner, label: `ClusterGenerator ${JSON.stringify(ref.name)}`, field: `ClusterGenerator ${JSON.stringify(ref.name)} spec.generator.${key}` };
  }
  if (!isNamespacedKind(ref.kind)) throw generatorErrors.invalidSpec('generatorRef.kind', `unknown generator kind ${JSON.stringify(ref.kind)}`);
  // Refused before any read: the message names the kind, whatever the object holds.
  if (!SUPPORTED_GENERATOR_KINDS.has(ref.kind)) throw generatorErrors.notSupported(ref.kind);
  const obj = await deps.getGenerator(ref.kind, namespace, ref.name, signal);
  if (!obj) throw generatorErrors.notFound(ref.kind, ref.name, namespace);
  const controller = (obj.spec as { controller?: unknown } | undefined)?.controller;
  if (typeof controller === 'string' && controller !== '' && deps.controllerClass !== undefined && controller !== deps.controllerClass) {
    throw new GeneratorError('OtherController', `${ref.kind} ${JSON.stringify(ref.name)} belongs to controller class ${JSON.stringify(controller)}`);
  }
  const label = `${ref.kind} ${JSON.stringify(ref.name)}`;
  return { kind: ref.kind, spec: obj.spec ?? {}, label, field: `${label} spec` };
}

/**
 * Runs the generator `ref` points to for an ExternalSecret (or PushSecret) in `namespace`.
 * Throws GeneratorError (not found, not supported, invalid spec) or the ProviderError of a
 * remote call; rejects with the signal's reason when it aborts.
 */
export async function generate(deps: GeneratorDeps, namespace: string, ref: GeneratorRef, signal: AbortSignal): Promise<GeneratedOutput> {
  const { kind, spec, label, field } = await resolve(deps, namespace, ref, signal);
  signal.throwIfAborted();
  const ctx = () => deps.providerContext(namespace, label);
  switch (kind) {
    case 'Password':
      return { values: generatePasswords(spec as PasswordSpec, field) };
    case 'UUID':
      return { values: { uuid: Buffer.from(crypto.randomUUID()) } };
    case 'Fake': {
      const values: Record<string, Uint8Array> = {};
      for (const [k, v] of Object.entries((spec as FakeSpec).data ?? {})) values[k] = Buffer.from(v, 'utf8');
      return { values };
    }
    case 'SSHKey':
      return { values: await generateSshKey(spec as SSHKeySpec, field) };
    case 'MFA': {
      const s = spec as MFASpec;
      const secret = s.secret?.name ? await deps.readSecret(namespace, s.secret.name, signal) : undefined;
      const seed = secret?.data[s.secret?.key ?? ''];
      if (!secret) throw generatorErrors.invalidSpec(`${field}.secret`, `Secret ${JSON.stringify(s.secret?.name ?? '')} not found in namespace ${JSON.stringify(namespace)}`);
      if (!seed) throw generatorErrors.invalidSpec(`${field}.secret.key`, `Secret ${JSON.stringify(s.secret.name)} has no key ${JSON.stringify(s.secret.key ?? '')}`);
      return { values: mfaOutput(s, Buffer.from(seed).toString('utf8'), (deps.now ?? Date.now)(), field) };
    }
    case 'STSSessionToken':
      return { values: await (await import('./aws.ts')).generateStsSessionToken(spec as STSSessionTokenSpec, ctx(), signal, field) };
    case 'ECRAuthorizationToken':
      return { values: await (await import('./aws.ts')).generateEcrAuthorizationToken(spec as ECRAuthorizationTokenSpec, ctx(), signal, field) };
    case 'VaultDynamicSecret':
      return { values: await (await import('./vault.ts')).generateVaultDynamicSecret(spec as VaultDynamicSecretSpec, ctx(), signal, field) };
    case 'Webhook':
      return { values: await (await import('./webhook.ts')).generateWebhook(spec as WebhookSpec, ctx(), (name) => deps.readSecret(namespace, name, signal), signal, field) };
    default:
      throw generatorErrors.notSupported(kind);
  }
}
