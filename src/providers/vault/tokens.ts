// One Vault login per store and credentials, shared by every client built for them (the
// controller may build a client per reconcile) and reused until it nears expiry:
// - a token is used as it is for the first two thirds of its lease (as Vault Agent renews);
// - then one caller renews it (auth/token/renew-self) or, when it is not renewable, when renewal
//   fails or when the max TTL cuts the renewal short, logs in again; concurrent callers wait for
//   that one refresh instead of logging in themselves (a SharedCall: a caller that gives up stops
//   waiting, and the login is aborted only when every caller has gone);
// - failed logins are not cached: the next read tries again.
import { vaultHttpError } from './errors.ts';
import type { LoginAuth, LoginResult } from './auth.ts';
import { loginResult } from './auth.ts';
import type { VaultTransport } from './http.ts';
import { SharedCall } from '../../shared-call.ts';

interface Entry {
  token: string;
  obtainedAt: number;
  /** 0: never expires. */
  leaseMs: number;
  renewable: boolean;
  /** The lease the login granted; a renewal giving much less means the max TTL is near. */
  loginLeaseMs: number;
}

/** Never use a token in its last seconds: a read could reach Vault after it expired. */
const EXPIRY_SAFETY_MS = 5_000;

export class LoginCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, SharedCall<Entry>>();
  private readonly now: () => number;
  private readonly maxEntries: number;

  constructor(now: () => number = Date.now, maxEntries = 1024) {
    this.now = now;
    this.maxEntries = maxEntries;
  }

  /** A valid token for `plan`: cached, renewed or from a new login. */
  async token(plan: LoginAuth, transport: VaultTransport, signal?: AbortSignal): Promise<string> {
    const e = this.entries.get(plan.cacheKey);
    if (e && this.fresh(e)) return e.token;
    let call = this.inflight.get(plan.cacheKey);
    if (!call) {
      const started = new SharedCall((shared) => this.refresh(plan, transport, e, shared));
      const clear = () => this.inflight.get(plan.cacheKey) === started && this.inflight.delete(plan.cacheKey);
      started.onAbandon(clear);
      started.promise.then(clear, clear);
      this.inflight.set(plan.cacheKey, started);
      call = started;
    }
    return (await call.join(signal)).token;
  }

  /** Forgets `token` (Vault refused it: revoked or expired early) so the next call logs in. */
  invalidate(cacheKey: string, token: string): void {
    if (this.entries.get(cacheKey)?.token === token) this.entries.delete(cacheKey);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private fresh(e: Entry): boolean {
    return e.leaseMs === 0 || this.now() < e.obtainedAt + (e.leaseMs * 2) / 3;
  }

  private usable(e: Entry): boolean {
    return e.leaseMs === 0 || this.now() < e.obtainedAt + e.leaseMs - EXPIRY_SAFETY_MS;
  }

  private async refresh(plan: LoginAuth, transport: VaultTransport, current: Entry | undefined, signal: AbortSignal): Promise<Entry> {
    if (current && current.renewable && this.usable(current)) {
      const renewed = await this.renew(plan, transport, current, signal).catch(() => undefined);
      signal.throwIfAborted();
      // A renewal capped by the token's max TTL would only buy a short while: log in instead.
      if (renewed && renewed.leaseSeconds * 1000 >= current.loginLeaseMs / 2) {
        return this.store(plan.cacheKey, { ...renewed, token: current.token }, current.loginLeaseMs);
      }
    }
    const r = await plan.login(transport, signal);
    return this.store(plan.cacheKey, r, r.leaseSeconds * 1000);
  }

  private async renew(plan: LoginAuth, transport: VaultTransport, current: Entry, signal: AbortSignal): Promise<LoginResult> {
    const site = { operation: 'RenewSelf', path: 'auth/token/renew-self' };
    const res = await transport.send(site, 'POST', site.path, { token: current.token, body: {}, namespace: plan.namespace, signal });
    if (res.status < 200 || res.status >= 300) throw vaultHttpError(site, res.status, res.errors);
    return loginResult(res.body ?? {}, 'renew-self');
  }

  private store(key: string, r: LoginResult, loginLeaseMs: number): Entry {
    const e: Entry = { token: r.token, obtainedAt: this.now(), leaseMs: r.leaseSeconds * 1000, renewable: r.renewable, loginLeaseMs };
    this.entries.delete(key);
    this.entries.set(key, e);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return e;
  }
}

/** The process-wide cache every Vault client uses. */
export const sharedLoginCache = new LoginCache();
