// Which proxy a request goes through, decided as Go's net/http does it (golang.org/x/net/http/
// httpproxy, what ESO and kubectl do): HTTPS_PROXY for https URLs, HTTP_PROXY for http URLs (the
// lower-case names first), never for localhost or a loopback address, and not for hosts NO_PROXY
// names. NO_PROXY entries are "*", IP addresses, CIDR ranges, and domain names (which match the
// name and its subdomains; with a leading "." or "*.", the subdomains only), each with an optional
// port. Node's own proxy support (the Agent's proxyEnv, NODE_USE_ENV_PROXY) matches neither CIDR
// ranges nor loopback the same way, and OpenShift's cluster-wide proxy puts the service and machine
// networks into NO_PROXY as CIDRs: a controller deciding as Node does would send its API server
// calls to the proxy. So the decision is made here, per target, and Node is only told the result.
import net from 'node:net';
import { domainToASCII } from 'node:url';

export interface ProxyConfig {
  httpProxy?: URL | undefined;
  httpsProxy?: URL | undefined;
  noProxy: NoProxyMatcher;
}

type Env = Record<string, string | undefined>;

interface NoProxyMatcher {
  all: boolean;
  cidrs: net.BlockList;
  ips: Array<{ ip: string; port: string }>;
  domains: Array<{ suffix: string; matchHost: boolean; port: string }>;
}

const defaultPorts: Record<string, string> = { 'http:': '80', 'https:': '443' };
/** Longer values are not proxy settings anyone writes; refusing them bounds the parsing work. */
const MAX_VARIABLE_LENGTH = 64 * 1024;

/** The lower-case spelling first, as Go reads them. */
function variable(env: Env, name: string): string {
  const v = env[name.toLowerCase()] || env[name] || '';
  return v.length > MAX_VARIABLE_LENGTH ? '' : v;
}

/** A proxy address; "host:port" without a scheme means http://, as in Go. Throws naming the variable (never its value, which may hold credentials). */
export function parseProxyUrl(value: string, name: string): URL | undefined {
  const v = value.trim();
  if (!v) return undefined;
  let url: URL | undefined;
  // Only a value without a scheme gets http:// put in front (a URL with one is taken as it is).
  for (const candidate of v.includes('://') ? [v] : [v, `http://${v}`]) {
    try {
      const u = new URL(candidate);
      if (u.host) {
        url = u;
        break;
      }
    } catch {
      // Try the next spelling.
    }
  }
  // Go ignores an address it cannot parse and connects directly; a controller that silently
  // bypasses the cluster's proxy fails later with a timeout nobody can explain, so refuse it.
  if (!url) throw new Error(`${name}: invalid proxy address`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${name}: only http:// and https:// proxies are supported, got ${url.protocol}//`);
  return url;
}

/** A host as node:net wants it: an IPv6 literal without the URL's brackets. */
export function stripBrackets(h: string): string {
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

function parseNoProxy(value: string): NoProxyMatcher {
  const m: NoProxyMatcher = { all: false, cidrs: new net.BlockList(), ips: [], domains: [] };
  for (const raw of value.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return { ...m, all: true };
    const slash = entry.indexOf('/');
    if (slash > 0) {
      const ip = entry.slice(0, slash);
      const bits = Number(entry.slice(slash + 1));
      const family = net.isIP(ip);
      if (family && Number.isInteger(bits) && bits >= 0 && bits <= (family === 4 ? 32 : 128)) {
        m.cidrs.addSubnet(ip, bits, family === 4 ? 'ipv4' : 'ipv6');
      }
      continue;
    }
    // host:port, [v6]:port, a bare v6 address, or a bare host.
    let host = entry;
    let port = '';
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    if (bracketed) {
      host = bracketed[1]!;
      port = bracketed[2] ?? '';
    } else if (!net.isIPv6(entry)) {
      const colon = entry.lastIndexOf(':');
      if (colon >= 0) {
        host = entry.slice(0, colon);
        port = entry.slice(colon + 1);
      }
    }
    if (!host) continue;
    if (net.isIP(host)) {
      m.ips.push({ ip: host, port });
      continue;
    }
    if (host.startsWith('*.')) host = host.slice(1);
    // "foo.com" matches foo.com and its subdomains; ".foo.com" (or "*.foo.com") the subdomains only.
    const matchHost = !host.startsWith('.');
    const name = matchHost ? host : host.slice(1);
    m.domains.push({ suffix: `.${domainToASCII(name) || name}`, matchHost, port });
  }
  return m;
}

/** The proxy settings in `env` (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, either case). */
export function proxyConfigFromEnv(env: Env): ProxyConfig {
  return {
    httpProxy: parseProxyUrl(variable(env, 'HTTP_PROXY'), 'HTTP_PROXY'),
    httpsProxy: parseProxyUrl(variable(env, 'HTTPS_PROXY'), 'HTTPS_PROXY'),
    noProxy: parseNoProxy(variable(env, 'NO_PROXY')),
  };
}

function isLoopback(ip: string): boolean {
  return net.isIPv4(ip) ? ip.startsWith('127.') : ip === '::1' || ip.toLowerCase() === '0:0:0:0:0:0:0:1';
}

/** Whether NO_PROXY or Go's loopback rule sends a request to host:port directly. */
function bypassed(m: NoProxyMatcher, host: string, port: string): boolean {
  if (host === 'localhost') return true;
  const family = net.isIP(host);
  if (family && isLoopback(host)) return true;
  if (m.all) return true;
  if (family) {
    if (m.cidrs.check(host, family === 4 ? 'ipv4' : 'ipv6')) return true;
    return m.ips.some((e) => (e.ip === host || (net.isIPv6(e.ip) && family === 6 && sameV6(e.ip, host))) && (e.port === '' || e.port === port));
  }
  return m.domains.some((d) => (host.endsWith(d.suffix) || (d.matchHost && host === d.suffix.slice(1))) && (d.port === '' || d.port === port));
}

function sameV6(a: string, b: string): boolean {
  const list = new net.BlockList();
  list.addAddress(a, 'ipv6');
  return list.check(b, 'ipv6');
}

/** The proxy for a request to `target`, or undefined to connect directly. */
export function proxyForUrl(config: ProxyConfig, target: URL): URL | undefined {
  const proxy = target.protocol === 'https:' ? config.httpsProxy : target.protocol === 'http:' ? config.httpProxy : undefined;
  if (!proxy) return undefined;
  const host = stripBrackets(target.hostname.toLowerCase());
  const port = target.port || defaultPorts[target.protocol] || '';
  return bypassed(config.noProxy, host, port) ? undefined : proxy;
}

/** Node Agent options that send every request of the agent through `proxy`. */
export function viaProxy(proxy: URL): { proxyEnv: { HTTP_PROXY: string; HTTPS_PROXY: string } } {
  // Node applies HTTP_PROXY to http:// and HTTPS_PROXY to https:// requests; the choice between
  // them is made already, and without NO_PROXY Node proxies every request of the agent.
  return { proxyEnv: { HTTP_PROXY: proxy.href, HTTPS_PROXY: proxy.href } };
}

/**
 * Options for a Node Agent that serves requests to `target` (one server per agent): through the
 * proxy `env` chooses for it, or none. Throws, naming the variable, when a proxy setting is invalid.
 */
export function agentProxyOptions(env: Env, target: string | URL): { proxyEnv?: { HTTP_PROXY: string; HTTPS_PROXY: string } } {
  const proxy = proxyForUrl(proxyConfigFromEnv(env), typeof target === 'string' ? new URL(target) : target);
  return proxy ? viaProxy(proxy) : {};
}
