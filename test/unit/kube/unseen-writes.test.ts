import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UnseenWrites } from '../../../src/kube/unseen-writes.ts';

describe('UnseenWrites', () => {
  const clock = () => {
    let t = 1_000;
    return { now: () => t, advance: (ms: number) => { t += ms; } };
  };

  it('a cache still at the version before the write is behind; any event of the key ends that and hands back the waiter', () => {
    const c = clock();
    const w = new UnseenWrites({ ttlMs: 5_000, now: c.now });
    w.wrote('ns/a', '7', '8');
    assert.equal(w.behind('ns/a', '7', 'ns/es-a'), true);
    assert.equal(w.seen('ns/a'), 'ns/es-a');
    assert.equal(w.behind('ns/a', '7', 'ns/es-a'), false, 'once seen, the cache is trusted');
    assert.equal(w.seen('ns/a'), undefined);
  });

  it('a cache at any other version is not behind (it moved on, perhaps past a change by someone else)', () => {
    const w = new UnseenWrites();
    w.wrote('ns/a', '7', '8');
    assert.equal(w.behind('ns/a', '9', 'ns/a'), false);
    assert.equal(w.size, 0, 'the record is dropped');
    assert.equal(w.behind('ns/b', '', 'ns/b'), false, 'nothing written: nothing to wait for');
  });

  it('a create is waited for while the cache has no object', () => {
    const w = new UnseenWrites();
    w.wrote('ns/s', '', '12');
    assert.equal(w.behind('ns/s', '', 'ns/es'), true);
    assert.equal(w.behind('ns/s', '12', 'ns/es'), false);
  });

  it('a write the server left unchanged (same resourceVersion) brings no event and is not waited for', () => {
    const w = new UnseenWrites();
    w.wrote('ns/a', '7', '7');
    w.wrote('ns/b', '7', undefined);
    assert.equal(w.behind('ns/a', '7', 'ns/a'), false);
    assert.equal(w.behind('ns/b', '7', 'ns/b'), false);
    assert.equal(w.size, 0);
  });

  it('a lost event costs at most the TTL: then the cache is trusted again', () => {
    const c = clock();
    const w = new UnseenWrites({ ttlMs: 5_000, now: c.now });
    w.wrote('ns/a', '7', '8');
    c.advance(4_999);
    assert.equal(w.behind('ns/a', '7', 'ns/a'), true);
    c.advance(2);
    assert.equal(w.behind('ns/a', '7', 'ns/a'), false);
    assert.equal(w.size, 0);
  });

  it('records never seen are swept by later writes, so the table holds only the last TTL of writes', () => {
    const c = clock();
    const w = new UnseenWrites({ ttlMs: 1_000, now: c.now });
    for (let i = 0; i < 10_000; i++) {
      w.wrote(`ns/o-${i}`, '1', '2');
      c.advance(1);
    }
    assert.ok(w.size <= 1_001, `at most one TTL of writes kept, got ${w.size}`);
    assert.equal(w.behind('ns/o-9999', '1', 'x'), true, 'the newest are kept');
    assert.equal(w.behind('ns/o-0', '1', 'x'), false, 'the oldest are gone');
  });
});
