// sprig urlParse / urlJoin over a Go net/url-like parser (common cases).

import { GoError } from '../exec.ts';

export function urlParse(v: string): Map<string, unknown> {
  let rest = v;
  let fragment = '';
  const h = rest.indexOf('#');
  if (h >= 0) {
    fragment = decodeURIComponentSafe(rest.slice(h + 1));
    rest = rest.slice(0, h);
  }
  let scheme = '';
  const sm = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(rest);
  if (sm) {
    scheme = sm[1]!.toLowerCase();
    rest = rest.slice(sm[0].length);
  } else if (/^[^/?]*:/.test(rest) && !rest.startsWith('/')) {
    const colon = rest.indexOf(':');
    if (colon === 0) throw new GoError(`unable to parse url: parse ${JSON.stringify(v)}: missing protocol scheme`);
  }
  let query = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  let opaque = '';
  let host = '';
  let userinfo = '';
  let path = '';
  if (scheme !== '' && !rest.startsWith('/')) {
    opaque = rest;
  } else if (rest.startsWith('//')) {
    rest = rest.slice(2);
    const slash = rest.indexOf('/');
    let authority = slash >= 0 ? rest.slice(0, slash) : rest;
    path = slash >= 0 ? rest.slice(slash) : '';
    const at = authority.lastIndexOf('@');
    if (at >= 0) {
      userinfo = authority.slice(0, at);
      authority = authority.slice(at + 1);
    }
    host = authority;
  } else path = rest;
  path = decodeURIComponentSafe(path);
  const hostname = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d*$/, '');
  return new Map<string, unknown>([
    ['scheme', scheme], ['host', host], ['hostname', hostname], ['path', path], ['query', query],
    ['opaque', opaque], ['fragment', fragment], ['userinfo', userinfo],
  ]);
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function getStr(d: Map<string, unknown>, key: string): string {
  if (!d.has(key)) return '';
  const v = d.get(key);
  if (typeof v !== 'string') throw new GoError(`unable to parse ${key} key, must be of type string, but ${v === null ? 'invalid' : typeof v === 'bigint' ? 'int' : typeof v === 'number' ? 'float64' : typeof v} found`);
  return v;
}

function escapePath(p: string): string {
  return p.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/]/g, (c) => Buffer.from(c, 'utf8').reduce((a, b) => a + '%' + b.toString(16).toUpperCase().padStart(2, '0'), ''));
}

export function urlJoin(d: Map<string, unknown>): string {
  const scheme = getStr(d, 'scheme');
  const host = getStr(d, 'host');
  const path = getStr(d, 'path');
  const query = getStr(d, 'query');
  const opaque = getStr(d, 'opaque');
  const fragment = getStr(d, 'fragment');
  const userinfo = getStr(d, 'userinfo');
  let s = '';
  if (scheme) s += scheme + ':';
  if (opaque) s += opaque;
  else {
    if (scheme || host || userinfo) {
      if (host || path || userinfo) s += '//';
      if (userinfo) s += userinfo + '@';
      s += host;
    }
    let p = escapePath(path);
    if (p !== '' && p[0] !== '/' && host !== '') p = '/' + p;
    s += p;
  }
  if (query) s += '?' + query;
  if (fragment) s += '#' + escapePath(fragment).replace(/#/g, '%23');
  return s;
}
