// The Webhook generator: one HTTP call to a tenant-named server, whose JSON answer (or the part
// result.jsonPath selects) is an object of the generated keys. url, body and header values are Go
// templates over spec.secrets ({{ .<name>.<key> }}), as in ESO; the url sees its values
// query-escaped. Referenced Secrets must carry ESO's label external-secrets.io/type=webhook, so a
// tenant cannot send any Secret of the namespace to a server of its choice by naming it.
//
// The server is hostile input: the call goes through providers/common/http.ts (a total deadline,
// the response size cap, the reconcile's AbortSignal). Templates run with text/template's
// built-in functions only (no sprig library): they are bounded by their text and the secrets.
import type { WebhookSpec } from '../api/types.generated.ts';
import { parseDurationMs } from '../api/duration.ts';
import { MAX_WEBHOOK_BODY } from '../api/schema-generators.ts';
import { parseJsonKeepingNumbers } from '../go/json.ts';
import type { ProviderContext } from '../providers/provider.ts';
import { ProviderError } from '../providers/provider.ts';
import { callLimits, exchange, networkError, storeAgent } from '../providers/common/http.ts';
import { readCAProvider } from '../providers/common/ca-provider.ts';
import { esoData, mkMap, parseTemplate, redactTemplateError, TemplateError } from '../template/index.ts';
import { generatorErrors } from './errors.ts';
import { byteValue } from './vault.ts';

/** ESO's label a Secret needs before a webhook may read it. */
export const WEBHOOK_SECRET_LABEL = 'external-secrets.io/type';
const MAX_JSON_PATH = 1024;

export type ReadLabelledSecret = (name: string) => Promise<{ labels: Record<string, string>; data: Record<string, Uint8Array> } | undefined>;

type TemplateData = Map<string, unknown>;

function templateData(secrets: Map<string, Record<string, Uint8Array>>, escape: boolean): TemplateData {
  const m = new Map<string, unknown>();
  for (const [name, data] of secrets) {
    const values: Record<string, string> = {};
    for (const [k, v] of Object.entries(data)) {
      const s = Buffer.from(v).toString('utf8');
      values[k] = escape ? encodeURIComponent(s).replace(/%20/g, '+') : s;
    }
    m.set(name, esoData(values));
  }
  return mkMap(m, 'map[string]map[string]string');
}

/**
 * Webhook templates render on the event loop (a generator has no compute worker), where nothing
 * bounds their time: nested `range` over a tenant's Secret keys, or a self-calling `template`,
 * would hold every tenant's reconciles. So the actions that loop or recurse are refused before
 * parsing; what is left (fields, pipelines, if/with, the built-in functions) runs in time linear
 * in the template and its data. ESO's documented webhook templates are plain substitutions.
 */
const LOOPING_ACTION = /\{\{-?\s*(range|template|block|define|break|continue)\b/;

export function refuseLoopingTemplate(field: string, text: string): void {
  const m = LOOPING_ACTION.exec(text);
  if (m) throw generatorErrors.invalidSpec(field, `the "${m[1]}" action is not allowed in webhook templates (they render without a time budget); use fields, pipelines, if and with`);
}

/** Renders one template field; errors are redacted of every secret value. */
function render(field: string, text: string | undefined, data: TemplateData, secretValues: string[]): string {
  if (!text) return '';
  if (!text.includes('{{')) return text;
  refuseLoopingTemplate(field, text);
  try {
    return parseTemplate('webhooktemplate', text, { library: 'none' }).execute(data);
  } catch (e) {
    const why = e instanceof TemplateError ? redactTemplateError(e, secretValues) : (e as Error).name;
    throw generatorErrors.invalidSpec(field, `template failed: ${why}`);
  }
}

/** A small JSONPath: $.a.b, $.a[0], $['a.b']. ESO's library takes more; these cover its docs. */
export function jsonPathGet(value: unknown, path: string, field: string): unknown {
  if (path.length > MAX_JSON_PATH) throw generatorErrors.invalidSpec(field, 'is too long');
  let rest = path.trim();
  if (rest.startsWith('$')) rest = rest.slice(1);
  let cur = value;
  const step = /^(?:\.([^.[\]]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\])/;
  while (rest.length > 0) {
    const m = step.exec(rest);
    if (!m) throw generatorErrors.invalidSpec(field, `unsupported JSONPath ${JSON.stringify(path)}`);
    rest = rest.slice(m[0].length);
    const key = m[1] ?? m[3] ?? m[4];
    if (m[2] !== undefined) cur = Array.isArray(cur) ? cur[Number(m[2])] : undefined;
    else cur = cur !== null && typeof cur === 'object' && !Array.isArray(cur) ? (cur as Record<string, unknown>)[key!] : undefined;
    if (cur === undefined) throw generatorErrors.invalidSpec(field, `${JSON.stringify(path)} selects nothing in the answer`);
  }
  return cur;
}

/** spec.secrets, each checked for ESO's webhook label, merged by template name. */
async function readWebhookSecrets(spec: WebhookSpec, readSecret: ReadLabelledSecret, field: string): Promise<Map<string, Record<string, Uint8Array>>> {
  const secrets = new Map<string, Record<string, Uint8Array>>();
  for (const [i, s] of (spec.secrets ?? []).entries()) {
    const at = `${field}.secrets[${i}].secretRef`;
    if (!s.secretRef.name) throw generatorErrors.invalidSpec(`${at}.name`, 'is required');
    const secret = await readSecret(s.secretRef.name);
    if (!secret) throw generatorErrors.invalidSpec(at, `Secret ${JSON.stringify(s.secretRef.name)} not found`);
    if (secret.labels[WEBHOOK_SECRET_LABEL] !== 'webhook') {
      throw generatorErrors.invalidSpec(at, `Secret ${JSON.stringify(s.secretRef.name)} does not carry the label ${WEBHOOK_SECRET_LABEL}=webhook, which a webhook needs to read it`);
    }
    secrets.set(s.name, { ...(secrets.get(s.name) ?? {}), ...secret.data });
  }
  return secrets;
}

/** The request of spec with its templates rendered. */
function webhookRequest(spec: WebhookSpec, secrets: Map<string, Record<string, Uint8Array>>, field: string): { url: URL; payload: string; headers: Record<string, string> } {
  const secretValues = [...secrets.values()].flatMap((d) => Object.values(d).map((v) => Buffer.from(v).toString('utf8'))).filter((v) => v.length > 0);
  const raw = templateData(secrets, false);
  const urlText = render(`${field}.url`, spec.url, templateData(secrets, true), secretValues);
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    throw generatorErrors.invalidSpec(`${field}.url`, 'is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw generatorErrors.invalidSpec(`${field}.url`, 'must be http or https');
  const payload = render(`${field}.body`, spec.body, raw, secretValues);
  if (Buffer.byteLength(payload) > MAX_WEBHOOK_BODY) throw generatorErrors.invalidSpec(`${field}.body`, `the rendered body is larger than ${MAX_WEBHOOK_BODY} bytes`);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.headers ?? {})) headers[k] = render(`${field}.headers[${JSON.stringify(k)}]`, v, raw, secretValues);
  if (payload) headers['content-length'] = String(Buffer.byteLength(payload));
  return { url, payload, headers };
}

/** The answer's object (at result.jsonPath; a JSON string there is parsed once more, as ESO does). */
function webhookResult(text: string, jsonPath: string | undefined, where: string, field: string): Record<string, unknown> {
  let result: unknown;
  try {
    result = parseJsonKeepingNumbers(text);
  } catch {
    throw new ProviderError('Unknown', `${where}: the answer is not JSON`);
  }
  if (jsonPath) result = jsonPathGet(result, jsonPath, `${field}.result.jsonPath`);
  if (typeof result === 'string') {
    try {
      result = parseJsonKeepingNumbers(result);
    } catch {
      throw new ProviderError('Unknown', `${where}: the value at ${JSON.stringify(jsonPath ?? '$')} is a string that is not JSON`);
    }
  }
  if (result === null || typeof result !== 'object' || Array.isArray(result)) {
    throw new ProviderError('Unknown', `${where}: the answer${jsonPath ? ` at ${JSON.stringify(jsonPath)}` : ''} is not a JSON object`);
  }
  return result as Record<string, unknown>;
}

export async function generateWebhook(spec: WebhookSpec, ctx: ProviderContext, readSecret: ReadLabelledSecret, signal: AbortSignal, field = 'spec'): Promise<Record<string, Uint8Array>> {
  if (spec.auth) throw generatorErrors.invalidSpec(`${field}.auth`, 'NTLM authentication is not supported by this build');
  const { url, payload, headers } = webhookRequest(spec, await readWebhookSecrets(spec, readSecret, field), field);
  let ca: string | undefined;
  if (spec.caBundle) ca = Buffer.from(spec.caBundle, 'base64').toString('utf8');
  else if (spec.caProvider) ca = await readCAProvider(spec.caProvider as Parameters<typeof readCAProvider>[0], ctx, `${field}.caProvider`);
  // spec.timeout shortens the call's deadline, never lengthens it past --provider-timeout.
  const limits = callLimits(spec.timeout ? Math.min(parseDurationMs(spec.timeout), callLimits(ctx.callDeadlineMs).deadlineMs) : ctx.callDeadlineMs);
  const agent = storeAgent(url.origin, { ca, maxSockets: 1, keepAlive: false });
  const method = (spec.method || 'GET').toUpperCase();
  // The origin only: a path or query rendered from spec.secrets may carry a secret value.
  const where = `Webhook ${method} ${url.origin}`;
  let answer;
  try {
    answer = await exchange({ url, method, headers, payload: payload || undefined, agent, limits, signal });
  } catch (e) {
    if (signal.aborted) throw e;
    throw networkError(where, url.origin, e);
  } finally {
    agent.destroy();
  }
  if (answer.status < 200 || answer.status >= 300) {
    throw new ProviderError(answer.status === 401 || answer.status === 403 ? 'AccessDenied' : 'Unknown', `${where}: HTTP ${answer.status}`);
  }
  const out: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(webhookResult(answer.text, spec.result?.jsonPath, where, field))) out[k] = byteValue(v);
  return out;
}
