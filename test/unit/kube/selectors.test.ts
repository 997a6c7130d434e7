import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { labelSelectorMatches, serverLabelSelector } from '../../../src/kube/selectors.ts';

describe('serverLabelSelector', () => {
  it('writes matchLabels and every operator as the apiserver parses them', () => {
    assert.equal(
      serverLabelSelector({
        matchLabels: { 'app.kubernetes.io/name': 'web', tier: '' },
        matchExpressions: [
          { key: 'env', operator: 'In', values: ['dev', 'prod'] },
          { key: 'team', operator: 'NotIn', values: ['ops'] },
          { key: 'push', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      }),
      'app.kubernetes.io/name=web,tier=,env in (dev,prod),team notin (ops),push,!legacy',
    );
  });

  it('an empty selector narrows nothing', () => {
    assert.equal(serverLabelSelector({}), undefined);
    assert.equal(serverLabelSelector({ matchLabels: {}, matchExpressions: [] }), undefined);
  });

  it('leaves out what cannot be written safely, so the result selects a superset', () => {
    const hostile = {
      matchLabels: { 'a,b': 'x', ok: 'y', c: 'v),!d' },
      matchExpressions: [
        { key: 'e', operator: 'In', values: ['p', 'q)'] },
        { key: 'g h', operator: 'Exists' },
      ],
    };
    assert.equal(serverLabelSelector(hostile), 'ok=y');
    // Every label set the full selector matches also matches the narrowed one.
    const labels = { 'a,b': 'x', ok: 'y', c: 'v),!d', e: 'p', 'g h': '' };
    assert.equal(labelSelectorMatches(hostile, labels), true);
    assert.equal(labelSelectorMatches({ matchLabels: { ok: 'y' } }, labels), true);
    // An In with no values matches nothing; it is left to the exact filter.
    assert.equal(serverLabelSelector({ matchExpressions: [{ key: 'f', operator: 'In', values: [] }] }), undefined);
  });
});
