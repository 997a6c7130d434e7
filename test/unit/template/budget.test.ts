// The engine's own caps: lengths known before the work is done fail fast with a budget error (not a
// Go error, and not a crash), and long lists no longer overflow the stack inside functions.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BudgetExceededError, MAX_LIST_LENGTH, MAX_RENDER_ALLOCATION, MAX_STRING_LENGTH, parseTemplate } from '../../../src/template/index.ts';

const render = (t: string) => parseTemplate('t', t).execute({});
function budgetError(t: string): string {
  try {
    render(t);
  } catch (e) {
    assert.ok(e instanceof BudgetExceededError, `expected a budget error, got ${(e as Error).name}: ${(e as Error).message}`);
    return e.message;
  }
  assert.fail('expected a budget error');
}

describe('template budgets', () => {
  test('repeat past the string cap', () => {
    assert.equal(budgetError('{{ repeat 100000000 "a" }}'), `repeat would build a string of 100000000 characters (limit ${MAX_STRING_LENGTH})`);
    assert.equal(render('{{ repeat 3 "ab" }}'), 'ababab');
  });

  test('seq, until and untilStep past the list cap', () => {
    assert.equal(budgetError('{{ seq 1 100000000 | len }}'), `a list function would build a list of 100000000 elements (limit ${MAX_LIST_LENGTH})`);
    assert.match(budgetError('{{ until 2000000 | len }}'), /a list function would build a list of 2000000 elements/);
    assert.match(budgetError('{{ untilStep 0 100000000 2 | len }}'), /list of 50000000 elements/);
    assert.equal(render('{{ seq 1 5 }}|{{ until 3 | len }}'), '1 2 3 4 5|3');
  });

  test('random strings past the string cap', () => {
    assert.match(budgetError('{{ randAlphaNum 100000000 | len }}'), /a random string function would build a string of 100000000 characters/);
    assert.match(budgetError('{{ randBytes 100000000 | len }}'), /randBytes would build a string/);
  });

  test('regexReplaceAll past the string cap, cut while it is built', () => {
    // Every position of a 1 Mi text matches "": each gets a 20-character replacement (21 Mi).
    const huge = '{{ regexReplaceAll "" (repeat 1048576 "a") (repeat 20 "b") }}';
    assert.match(budgetError(huge), /regexReplaceAll would build a string of more than/);
    assert.match(budgetError(huge.replace('regexReplaceAll', 'regexReplaceAllLiteral')), /regexReplaceAll would build a string of more than/);
    assert.equal(render('{{ regexReplaceAll "a" "banana" "o" }}'), 'bonono');
  });

  test('a generated certificate past its names budget fails before any key or DER is made', () => {
    const names = '(list (repeat 600000 "a") (repeat 600000 "b"))';
    assert.match(budgetError(`{{ genSelfSignedCert "x" nil ${names} 30 }}`), /a certificate's names would take 1200001 bytes \(limit 1048576\)/);
  });

  test('the template output past the string cap', () => {
    assert.match(budgetError('{{ range until 20 }}{{ repeat 1000000 "a" }}{{ end }}'), /the template output would build a string of \d+ characters/);
  });

  test('what functions return, in all, past the allocation meter', () => {
    const msg = budgetError('{{ range until 200 }}{{ $_ := randBytes 16000000 }}{{ end }}');
    assert.equal(msg, `template functions returned more than ${MAX_RENDER_ALLOCATION} characters in all`);
    // The meter starts again for every execution.
    assert.equal(render('{{ randBytes 16 | len }}'), '24');
  });

  test('long lists go through concat and wrap without running out of stack', () => {
    assert.equal(render('{{ len (concat (until 1000000) (until 1000000)) }}'), '2000000');
    assert.equal(render('{{ wrap 10000000 (repeat 1000000 "a") | len }}'), '1000000');
  });
});
