// The worker side of the compute pool: announce readiness once the modules are loaded (so a
// task's deadline never pays for a cold start), then answer one task at a time. An error keeps
// only its name and code: its message could quote tenant data.
import { getHeapStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';

export type ToWorker = { type: 'task'; id: number; payload: unknown };
export type FromWorker =
  | { type: 'ready'; heapLimitMb: number }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; name: string; code: string | undefined };

export function serveTasks(handler: (payload: any) => unknown): void {
  const port = parentPort;
  if (!port) throw new Error('serveTasks must run in a worker thread');
  port.on('message', (msg: ToWorker) => {
    if (msg.type !== 'task') return;
    let reply: FromWorker;
    try {
      reply = { type: 'result', id: msg.id, result: handler(msg.payload) };
    } catch (err) {
      const e = err as { name?: unknown; code?: unknown };
      reply = { type: 'error', id: msg.id, name: typeof e?.name === 'string' ? e.name : 'Error', code: typeof e?.code === 'string' ? e.code : undefined };
    }
    port.postMessage(reply);
  });
  // The heap limit V8 actually applies, so the pool can check that its budget holds.
  port.postMessage({ type: 'ready', heapLimitMb: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20) } satisfies FromWorker);
}
