import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { conditionProblems, hasNamespaceRelativeRefs, namespaceAllowed, storeHandledBy, setCondition, type AnyStore } from '../../../src/controllers/stores.ts';
import { labelSelectorMatches } from '../../../src/kube/selectors.ts';
import { cpuMillis } from '../../fixtures/cpu-time.ts';

describe('ClusterSecretStore conditions', () => {
  it('allows every namespace without conditions', () => {
    assert.equal(namespaceAllowed(undefined, 'any', {}), true);
    assert.equal(namespaceAllowed([], 'any', {}), true);
  });
  it('matches by name, by unanchored RE2 regex, or by label selector; any condition suffices', () => {
    const conds = [{ namespaces: ['cert-manager', 'rhoai-model-registries'] }, { namespaceRegexes: ['^team-[a-z]+$', 'prod'] }, { namespaceSelector: { matchLabels: { tier: 'gold' } } }];
    assert.equal(namespaceAllowed(conds, 'rhoai-model-registries', {}), true);
    assert.equal(namespaceAllowed(conds, 'team-blue', {}), true);
    assert.equal(namespaceAllowed(conds, 'team-42', {}), false);
    assert.equal(namespaceAllowed(conds, 'eu-prod-1', {}), true, 'unanchored, as Go regexp.MatchString');
    assert.equal(namespaceAllowed(conds, 'other', { tier: 'gold' }), true);
    assert.equal(namespaceAllowed(conds, 'other', { tier: 'silver' }), false);
    assert.equal(namespaceAllowed(conds, 'other', undefined), false);
  });
  it('an invalid regex matches nothing instead of everything', () => {
    assert.equal(namespaceAllowed([{ namespaceRegexes: ['(unclosed'] }], 'unclosed', {}), false);
  });
  it('regexes are RE2: POSIX classes work, lookaround (JS only) is invalid, backtracking bombs are linear', () => {
    assert.equal(namespaceAllowed([{ namespaceRegexes: ['^team-[[:alpha:]]+$'] }], 'team-blue', {}), true);
    assert.equal(namespaceAllowed([{ namespaceRegexes: ['^team-(?!prod)'] }], 'team-dev', {}), false);
    const ms = cpuMillis(() => assert.equal(namespaceAllowed([{ namespaceRegexes: ['^(a+)+$'] }], `${'a'.repeat(100_000)}!`, {}), false));
    assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms of CPU`);
  });
  it('invalid regexes are reported with their field, for the store\'s Ready condition', () => {
    assert.deepEqual(conditionProblems(undefined), []);
    assert.deepEqual(conditionProblems([{ namespaces: ['a'] }, { namespaceRegexes: ['^ok$', '(unclosed', '^team-(?!prod)'] }]), [
      'spec.conditions[1].namespaceRegexes[1]: error parsing regexp: missing closing ): `(unclosed`',
      'spec.conditions[1].namespaceRegexes[2]: error parsing regexp: invalid or unsupported Perl syntax: `(?!`',
    ]);
  });
});

describe('label selectors', () => {
  it('supports matchLabels and In, NotIn, Exists, DoesNotExist', () => {
    const sel = {
      matchLabels: { a: '1' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['prod', 'stage'] },
        { key: 'legacy', operator: 'DoesNotExist' },
        { key: 'team', operator: 'Exists' },
        { key: 'zone', operator: 'NotIn', values: ['x'] },
      ],
    };
    assert.equal(labelSelectorMatches(sel, { a: '1', env: 'prod', team: 't' }), true);
    assert.equal(labelSelectorMatches(sel, { a: '1', env: 'dev', team: 't' }), false);
    assert.equal(labelSelectorMatches(sel, { a: '1', env: 'prod', team: 't', legacy: '' }), false);
    assert.equal(labelSelectorMatches(sel, { a: '1', env: 'prod', team: 't', zone: 'x' }), false);
    assert.equal(labelSelectorMatches({}, {}), true);
    assert.throws(() => labelSelectorMatches({ matchExpressions: [{ key: 'a', operator: 'Near' }] }, {}), /Near/);
  });
});

describe('stores', () => {
  const store = (controller?: string) => ({ metadata: { name: 's' }, spec: { controller, provider: { fake: {} } } }) as unknown as AnyStore;
  it('honours spec.controller against the controller class', () => {
    assert.equal(storeHandledBy(store(), 'default'), true);
    assert.equal(storeHandledBy(store('default'), 'default'), true);
    assert.equal(storeHandledBy(store('other'), 'default'), false);
  });
  it('finds credential references that resolve in the ExternalSecret namespace', () => {
    assert.equal(hasNamespaceRelativeRefs('aws', { service: 'SecretsManager', region: 'x' }), false, 'default chain: shareable');
    assert.equal(hasNamespaceRelativeRefs('aws', { auth: { secretRef: { accessKeyIDSecretRef: { name: 'c', key: 'id' } } } }), true);
    assert.equal(hasNamespaceRelativeRefs('aws', { auth: { secretRef: { accessKeyIDSecretRef: { name: 'c', key: 'id', namespace: 'ops' } } } }), false);
    assert.equal(hasNamespaceRelativeRefs('aws', { auth: { jwt: { serviceAccountRef: { name: 'sa' } } } }), true);
    assert.equal(hasNamespaceRelativeRefs('vault', { auth: { tokenSecretRef: { name: 't', key: 'token', namespace: 'ops' } } }), false);
    assert.equal(hasNamespaceRelativeRefs('vault', { auth: { tokenSecretRef: { name: 't', key: 'token' } } }), true);
    // Fields a name-based guess (`…Ref$`) missed: the schema says they are references too.
    assert.equal(hasNamespaceRelativeRefs('vault', { auth: { tokenSecretRef: { name: 't', key: 'token', namespace: 'ops' } }, caProvider: { type: 'Secret', name: 'ca', key: 'ca.crt' } }), true);
    assert.equal(hasNamespaceRelativeRefs('kubernetes', { auth: { token: { bearerToken: { name: 't', key: 'token' } } } }), true);
    assert.equal(hasNamespaceRelativeRefs('kubernetes', { auth: { cert: { clientCert: { name: 'c', key: 'crt', namespace: 'ops' }, clientKey: { name: 'c', key: 'key' } } } }), true);
  });
  it('keeps lastTransitionTime while the status does not change', () => {
    const first = setCondition(undefined, { type: 'Ready', status: 'True', reason: 'Valid', message: 'ok' });
    const t = first[0]!.lastTransitionTime;
    const same = setCondition([{ ...first[0]!, lastTransitionTime: '2020-01-01T00:00:00Z' }], { type: 'Ready', status: 'True', reason: 'Valid', message: 'still ok' });
    assert.equal(same[0]!.lastTransitionTime, '2020-01-01T00:00:00Z');
    assert.equal(same[0]!.message, 'still ok');
    const flipped = setCondition(same, { type: 'Ready', status: 'False', reason: 'ValidationFailed', message: 'no' });
    assert.notEqual(flipped[0]!.lastTransitionTime, '2020-01-01T00:00:00Z');
    assert.match(t ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'a new condition gets an RFC 3339 transition time');
  });
});
