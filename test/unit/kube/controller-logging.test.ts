// A failure is logged once: when the reconciler has logged it with the object's own fields
// (markLogged), the controller's retry line drops to debug; otherwise the controller logs it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Controller, markLogged } from '../../../src/kube/controller.ts';

function logged() {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l) as { level: number; msg: string }) });
  return { lines, logger };
}

describe('controller failure logging', () => {
  it('an error the reconciler logged is not logged again above debug', async () => {
    const { lines, logger } = logged();
    const c = new Controller({ name: 'unit-logged-once', workers: 1, logger, reconcile: async () => { throw markLogged(new Error('store not found')); } });
    await c.processOne('ns/a');
    assert.deepEqual(lines.filter((l) => l.level >= 40), []);
    assert.ok(lines.some((l) => l.level === 20 && l.msg === 'reconcile failed; will retry'));
    c.queue.shutDown();
  });

  it('an error nobody logged is logged by the controller', async () => {
    const { lines, logger } = logged();
    const c = new Controller({ name: 'unit-logged-by-controller', workers: 1, logger, reconcile: async () => { throw new Error('unexpected'); } });
    await c.processOne('ns/a');
    assert.equal(lines.filter((l) => l.level === 40 && l.msg === 'reconcile failed; will retry').length, 1);
    c.queue.shutDown();
  });
});
