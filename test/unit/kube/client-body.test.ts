// How the kube client reads an answer's body: the bytes of every chunk, decoded as UTF-8 once they
// are all there, so a character split between two chunks (as TCP may deliver it) arrives whole. A
// local HTTP server plays the apiserver's part and sends each answer in pieces of its choosing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { ApiError, type KubeClient } from '../../../src/kube/client.ts';
import { core, type Secret } from '../../../src/kube/types.ts';
import { clientFor } from './local-apiserver.ts';

/** A server that answers every request with `status` and the bytes of `pieces`, flushed one at a time. */
async function chunked(status: number, pieces: Buffer[]): Promise<{ client: KubeClient; close: () => Promise<void> }> {
  const answer = async (res: http.ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    for (const p of pieces.slice(0, -1)) {
      res.write(p);
      await delay(20); // each piece its own read on the client's side
    }
    res.end(pieces.at(-1));
  };
  const server = http.createServer((req, res) => {
    req.resume().on('end', () => void answer(res));
  });
  const client = await clientFor(server);
  return { client, close: () => (client.close(), new Promise((r) => server.close(() => r()))) };
}

/** `text` as UTF-8, cut at the given byte offsets. */
function cut(text: string, ...at: number[]): Buffer[] {
  const bytes = Buffer.from(text, 'utf8');
  return [0, ...at].map((from, i) => bytes.subarray(from, at[i] ?? bytes.length));
}

test('characters split between chunks arrive whole', async () => {
  const value = 'café ☕ 😀 end';
  const text = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', annotations: { note: value } } });
  const bytes = Buffer.from(text, 'utf8');
  // Cut inside the two-byte "é", the three-byte "☕" and the four-byte "😀".
  const e = bytes.indexOf(Buffer.from('é')) + 1;
  const cup = bytes.indexOf(Buffer.from('☕')) + 2;
  const face = bytes.indexOf(Buffer.from('😀')) + 3;
  const s = await chunked(200, cut(text, e, cup, face));
  try {
    const got = await s.client.get<Secret>(core.secrets, 'team-a', 's');
    assert.equal(got.metadata?.annotations?.note, value);
  } finally {
    await s.close();
  }
});

test('an error answer in pieces keeps its message whole', async () => {
  const message = 'secrets "ü" is forbidden: ünïcödé';
  const text = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason: 'Forbidden', code: 403 });
  const at = Buffer.from(text, 'utf8').indexOf(Buffer.from('ü')) + 1;
  const s = await chunked(403, cut(text, at));
  try {
    const err = await s.client.get(core.secrets, 'team-a', 'ü').then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(err.code, 403);
    assert.match(err.message, /secrets "ü" is forbidden: ünïcödé/);
  } finally {
    await s.close();
  }
});

test('an empty answer reads as an empty object', async () => {
  const s = await chunked(200, [Buffer.alloc(0)]);
  try {
    assert.deepEqual(await s.client.get(core.secrets, 'team-a', 's'), {});
  } finally {
    await s.close();
  }
});
