// ESO's controller flags never make `tessera run` exit with a usage error (a crash-loop for a
// Deployment carried over from ESO), unless docs/flags-eso.md says why; the doc and the code agree.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { run, runFlags } from '../../../src/cli/run.ts';
import { parseFlags, UsageError } from '../../../src/cli/flags.ts';
import { esoCompatibilityFlags, esoFlagWarnings, logLevelFromFlag } from '../../../src/cli/eso-flags.ts';

const allFlags = [...runFlags, ...esoCompatibilityFlags];
const doc = readFileSync(new URL('../../../docs/flags-eso.md', import.meta.url), 'utf8');

interface DocRow {
  flag: string;
  esoDefault: string;
  state: string;
}

const docRows: DocRow[] = doc
  .split('\n')
  .filter((line) => line.startsWith('| `--'))
  .map((line) => {
    const [flag, esoDefault, state] = line.split('|').slice(1).map((c) => c.trim());
    return { flag: flag!.replace(/^`--|`$/g, ''), esoDefault: esoDefault!.replace(/`/g, ''), state: state! };
  });

/** The argument ESO's own default would be, in a form that exercises the flag's value parsing. */
function esoDefaultArg(row: DocRow): string {
  return row.esoDefault === 'empty' ? `--${row.flag}=` : `--${row.flag}=${row.esoDefault}`;
}

/** The args ESO's Helm chart (2.9) renders with its default values, plus leader election. */
const esoChartArgs = [
  '--enable-leader-election=true',
  '--leader-election-lease-duration=15s',
  '--leader-election-renew-deadline=10s',
  '--leader-election-retry-period=2s',
  '--concurrent=1',
  '--metrics-addr=:8080',
  '--loglevel=info',
  '--zap-time-encoding=epoch',
  '--live-addr=:8082',
];

describe('docs/flags-eso.md', () => {
  it('lists ESO\'s flags (root command and provider features)', () => {
    assert.equal(docRows.length, 47);
    assert.equal(new Set(docRows.map((r) => r.flag)).size, docRows.length, 'no flag twice');
  });

  it('an implemented flag is a flag or alias of tessera run; a warning flag is an ESO compatibility flag', () => {
    const implemented = new Set(runFlags.flatMap((f) => [f.name, ...(f.aliases ?? [])]));
    const compat = new Map(esoCompatibilityFlags.map((f) => [f.name, f]));
    for (const row of docRows) {
      if (row.state === 'implemented') {
        assert.ok(implemented.has(row.flag), `${row.flag} is documented as implemented`);
        assert.ok(!compat.has(row.flag), row.flag);
      } else {
        assert.match(row.state, /^warning(; refused when .+)?$/, row.flag);
        const spec = compat.get(row.flag);
        assert.ok(spec, `${row.flag} is documented as accepted with a warning`);
        assert.equal(/refused/.test(row.state), spec.refuse !== undefined, `${row.flag}: documented refusal matches the code`);
      }
    }
    assert.deepEqual(esoCompatibilityFlags.map((f) => f.name).filter((n) => !docRows.some((r) => r.flag === n)), [], 'every compatibility flag is documented');
  });

  it('every ESO flag with ESO\'s default value parses, and a warning flag then logs its reason', () => {
    for (const row of docRows) {
      const { values } = parseFlags(allFlags, [esoDefaultArg(row)]);
      if (row.state === 'implemented') continue;
      assert.deepEqual(esoFlagWarnings(values).map((w) => w.flag), [row.flag]);
    }
  });
});

describe('ESO compatibility flags', () => {
  it("ESO chart's default arguments parse; only --zap-time-encoding warns", () => {
    const { values } = parseFlags(allFlags, esoChartArgs);
    assert.equal(values['leader-elect'], true);
    assert.equal(values['lease-duration'], '15s');
    assert.equal(values['renew-deadline'], '10s');
    assert.equal(values['retry-period'], '2s');
    assert.equal(values['health-addr'], ':8082');
    assert.equal(values.concurrent, 1);
    assert.deepEqual(esoFlagWarnings(values), [{ flag: 'zap-time-encoding', reason: 'Tessera logs with pino; the "time" field of every line is ISO 8601 (UTC)' }]);
  });

  it('a value flag consumes its value in the two-argument form', () => {
    const { values, positionals } = parseFlags(allFlags, ['--vault-token-cache-size', '100', '--enable-flood-gate', '--concurrent', '3']);
    assert.equal(values['vault-token-cache-size'], 100);
    assert.equal(values['enable-flood-gate'], true);
    assert.equal(values.concurrent, 3);
    assert.deepEqual(positionals, []);
  });

  it('booleans take Go\'s spellings, as pflag does', () => {
    for (const [raw, want] of [['1', true], ['t', true], ['TRUE', true], ['True', true], ['0', false], ['F', false], ['False', false]] as const) {
      assert.equal(parseFlags(allFlags, [`--enable-leader-election=${raw}`]).values['leader-elect'], want, raw);
    }
    assert.throws(() => parseFlags(allFlags, ['--enable-http2=yes']), (e: unknown) => e instanceof UsageError && e.message.includes('--enable-http2'));
  });

  it('refuses a value it would silently not honour, naming the flag and the reason', () => {
    for (const [arg, reason] of [
      ['--metrics-secure=true', /plain HTTP/],
      ['--metrics-auth', /NetworkPolicy/],
      ['--template-left-delimiter=[[', /\{\{ and \}\}/],
      ['--template-right-delimiter=]]', /\{\{ and \}\}/],
    ] as const) {
      const { values } = parseFlags(allFlags, [arg]);
      assert.throws(() => esoFlagWarnings(values), (e: unknown) => e instanceof UsageError && e.message.startsWith(`${arg.split('=')[0]}=`) && reason.test(e.message), arg);
    }
    const { values } = parseFlags(allFlags, ['--metrics-secure=false', '--template-left-delimiter={{']);
    assert.deepEqual(esoFlagWarnings(values).map((w) => w.flag), ['metrics-secure', 'template-left-delimiter']);
  });

  it('a flag that is neither ESO\'s nor Tessera\'s is still a usage error', () => {
    assert.throws(() => parseFlags(allFlags, ['--enable-leader-elections']), (e: unknown) => e instanceof UsageError && /unknown flag --enable-leader-elections/.test(e.message));
  });

  it("--loglevel takes zap's levels: dpanic logs as error, panic as fatal", () => {
    assert.equal(logLevelFromFlag('dpanic'), 'error');
    assert.equal(logLevelFromFlag('panic'), 'fatal');
    assert.equal(logLevelFromFlag('debug'), 'debug');
    assert.throws(() => logLevelFromFlag('verbose'), (e: unknown) => e instanceof UsageError && /--log-level: expected one of .*dpanic.*"verbose"/.test(e.message));
  });

  it('tessera run gets past flag checking with ESO\'s chart arguments (it then fails on the missing kubeconfig, not with a usage error)', async () => {
    await assert.rejects(run([...esoChartArgs, '--kubeconfig=/nonexistent/tessera-eso-flags.kubeconfig', '--loglevel=fatal']), (e: unknown) => !(e instanceof UsageError));
    await assert.rejects(run(['--metrics-secure', '--kubeconfig=/nonexistent/tessera-eso-flags.kubeconfig']), UsageError);
  });
});
