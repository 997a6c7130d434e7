// The cases of ESO's content hashes that test/unit/sync/eso-hash.test.ts checks against the Go
// reference (main.go): the fixed vectors in vectors.json are Go's answers for these, produced by
// generate.ts. Values are base64, as a Secret's data travels.

export interface HashCase {
  name: string;
  data?: Record<string, string>;
  /** ObjectHash of a string: ESO's created-by label hashes "<namespace>/<name>". */
  text?: string;
  meta?: { generation: number; labels?: Record<string, string> | null; annotations?: Record<string, string> | null };
}

const b64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64');
/** Deterministic bytes (xorshift), so the vectors never change. */
function pseudoRandomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export const HASH_CASES: HashCase[] = [
  { name: 'empty map', data: {} },
  { name: 'one empty value', data: { a: '' } },
  { name: 'empty and non-empty values', data: { empty: '', full: b64('x') } },
  { name: 'typical credentials', data: { password: b64('s3cret'), username: b64('admin') } },
  { name: 'every byte value', data: { bin: b64(Uint8Array.from({ length: 256 }, (_, i) => i)) } },
  { name: 'zero bytes and high bytes', data: { z: b64(new Uint8Array([0, 0, 255, 128, 10, 13, 32])) } },
  { name: 'value with spaces, colons and brackets', data: { k: b64('a b:c]d[e map[x:y]') } },
  { name: 'key order: inserted backwards', data: { c: b64('3'), b: b64('2'), a: b64('1') } },
  { name: 'key order: punctuation and case', data: { 'a.b': b64('1'), 'a-b': b64('2'), a_b: b64('3'), A: b64('4'), a: b64('5'), '_': b64('6'), '9': b64('7') } },
  { name: 'key order: prefixes', data: { ab: b64('1'), a: b64('2'), abc: b64('3'), 'a.': b64('4') } },
  { name: 'non-ASCII keys', data: { 'é': b64('1'), '日本': b64('2'), z: b64('3'), 'ß': b64('4') } },
  { name: 'UTF-8 order differs from UTF-16 order', data: { '\uffff': b64('bmp'), '😀': b64('astral'), '\ue000': b64('private') } },
  { name: 'keys with spaces and colons (Go prints them raw)', data: { 'a b': b64('1'), 'a:b': b64('2'), 'a]': b64('3') } },
  { name: 'non-UTF-8 value bytes', data: { k: b64(new Uint8Array([0xc3, 0x28, 0xff, 0xfe])) } },
  { name: 'a 64 KiB pseudo-random value', data: { big: b64(pseudoRandomBytes(65536, 42)), small: b64('s') } },
  { name: 'many keys', data: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`key-${(i * 7) % 40}`, b64(String(i))])) },
  { name: 'created-by label of team-a/db', text: 'team-a/db' },
  { name: 'created-by label with non-ASCII', text: 'ns/é😀' },
  { name: 'meta: generation only (nil maps)', meta: { generation: 1, labels: null, annotations: null } },
  { name: 'meta: empty maps', meta: { generation: 2, labels: {}, annotations: {} } },
  { name: 'meta: labels and annotations', meta: { generation: 7, labels: { team: 'a', app: 'db' }, annotations: { 'force-sync': '1700000000' } } },
  {
    name: 'meta: last-applied-configuration with quotes, newlines and spaces',
    meta: { generation: 3, labels: { 'app.kubernetes.io/name': 'x' }, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"external-secrets.io/v1",\n"kind": "ExternalSecret", "spec":{"a b":"c:d"}}\n' } },
  },
  { name: 'meta: non-ASCII values and key order', meta: { generation: 12, labels: { b: 'é', a: '日本', 'a.b': '' }, annotations: { '\uffff': 'x', '😀': 'y' } } },
  { name: 'meta: a large generation', meta: { generation: 2 ** 40, labels: { k: 'v' }, annotations: null } },
];
