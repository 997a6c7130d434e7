// A watch stream that goes silent is ended after its idle timeout, and one whose events keep
// coming is not: the timer is pushed back by every chunk. A local HTTP server plays the
// apiserver's part (a watch answer written by hand, one event at a time).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { KubeClient } from '../../../src/kube/client.ts';
import { clientFor } from './local-apiserver.ts';
import { core } from '../../../src/kube/types.ts';

/** A server that writes `events` watch events `everyMs` apart, then goes silent (the connection stays open). */
async function watchServer(events: number, everyMs: number): Promise<{ client: KubeClient; close: () => Promise<void> }> {
  const open = new Set<http.ServerResponse>();
  const server = http.createServer((_req, res) => {
    open.add(res);
    res.writeHead(200, { 'content-type': 'application/json' });
    let n = 0;
    const tick = setInterval(() => {
      if (n >= events) return clearInterval(tick);
      n++;
      res.write(JSON.stringify({ type: 'ADDED', object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `n-${n}`, resourceVersion: String(n) } } }) + '\n');
    }, everyMs);
    res.on('close', () => clearInterval(tick));
  });
  const client = await clientFor(server);
  return {
    client,
    close: () => {
      client.close();
      for (const r of open) r.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

test('a watch whose events keep coming outlives its idle timeout; silence then ends it with an error', async () => {
  // 8 events 100 ms apart: 800 ms of stream, far past the 300 ms idle timeout, each gap under it.
  const { client, close } = await watchServer(8, 100);
  try {
    const started = Date.now();
    const names: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const ev of client.watch(core.namespaces, undefined, { idleTimeoutMs: 300 })) names.push(ev.object.metadata!.name!);
      })(),
      /watch idle for 0 s/,
    );
    assert.equal(names.length, 8, 'every event arrived: the stream was not cut while events came');
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 800 + 250, `ended only after the silence (${elapsed} ms)`);
    assert.ok(elapsed < 800 + 3000, `ended soon after the silence began (${elapsed} ms)`);
  } finally {
    await close();
  }
});
