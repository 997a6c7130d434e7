// Lint rules for what the type checker does not catch: promises nobody awaits or handles,
// promise-returning callbacks where a void is expected (an event handler that throws into
// nowhere), functions too branchy to review, and the dependency direction of
// docs/architecture.md, which the `tessera/layers` rule below encodes so the picture stays true.
import tseslint from 'typescript-eslint';
import path from 'node:path';

const root = import.meta.dirname;

// --- layers --------------------------------------------------------------------------------
// The arrows of docs/architecture.md: cli → controllers → compute → sync, providers, kube → api, go.
// A "unit" is a folder of src/ (providers/<name> and providers/common count as their own units,
// files at the root of providers/ as `providers`), or a shared file at the root of src/.
// Each unit lists what it may import; an entry is a unit or one file ("api/duration.ts").

/** Cross-cutting modules at the root of src/ (logging, the token bucket, a call shared by several
 * callers, deadlines): anyone may use them. */
const SHARED = ['log.ts', 'token-bucket.ts', 'http-proxy.ts', 'shared-call.ts', 'deadline.ts'];

const MAY_IMPORT = {
  cli: ['*'],
  controllers: ['compute', 'sync', 'providers', 'providers/common', 'kube', 'metrics', 'template', 'api', 'go', 'generators', ...SHARED],
  compute: ['sync', 'template', 'api', 'go', ...SHARED],
  // The pure core: no I/O module (see PURE below for packages).
  sync: ['template', 'api', 'go'],
  template: ['go'],
  metrics: ['api', 'go', ...SHARED],
  // The controller runtime knows nothing of secrets: of api only durations and object metadata,
  // of metrics only the registry helpers.
  kube: ['api/duration.ts', 'api/meta.ts', 'metrics/registry.ts', 'go', ...SHARED],
  // The provider contract, the reader and the registry (which loads each provider lazily). sync
  // defines the value type providers produce.
  providers: ['providers/*', 'sync/remote-value.ts', 'api', 'go', ...SHARED],
  'providers/common': ['providers/provider.ts', 'api', 'go', ...SHARED],
  // One provider: the contract and the shared helpers, never another provider or a controller.
  'providers/*': ['providers/provider.ts', 'providers/common', 'api', 'go', ...SHARED],
  // Generators reuse the stores' provider code (AWS credentials, the Vault client, the HTTP
  // transport) and the template engine; they never import a controller.
  generators: ['providers', 'providers/*', 'providers/common', 'template', 'api', 'go', ...SHARED],
  api: ['go'],
  go: [],
  'log.ts': [],
  'http-proxy.ts': [],
  'token-bucket.ts': ['api/duration.ts'],
  'shared-call.ts': [],
  'deadline.ts': [],
};

/** Units that must stay pure (no I/O): the packages and Node modules they may import. */
const PURE = new Set(['sync', 'template', 'api', 'go']);
const PURE_PACKAGES = new Set(['node:crypto', 'yaml', 'node-forge', 're2js', 'ajv', 'bcryptjs']);

/** The unit of a path relative to src/ ("providers/aws/x.ts" → "providers/aws"). */
function unitOf(rel) {
  const parts = rel.split('/');
  if (parts.length === 1) return parts[0];
  if (parts[0] === 'providers') return parts.length === 2 ? 'providers' : `providers/${parts[1]}`;
  return parts[0];
}

/** The entries of MAY_IMPORT that apply to a unit (a provider's folder falls under providers/*). */
function rulesOf(fromUnit) {
  return MAY_IMPORT[fromUnit] ?? (fromUnit.startsWith('providers/') ? MAY_IMPORT['providers/*'] : []);
}

function allows(fromUnit, toRel) {
  const toUnit = unitOf(toRel);
  if (toUnit === fromUnit) return true;
  return rulesOf(fromUnit).some((r) => r === '*'
    || r === toUnit
    || r === toRel
    || (r === 'providers/*' && toUnit.startsWith('providers/')));
}

const layersRule = {
  meta: {
    type: 'problem',
    docs: { description: 'imports follow the dependency direction of docs/architecture.md' },
    schema: [],
  },
  create(context) {
    const srcDir = path.join(root, 'src');
    const file = path.relative(srcDir, context.filename).split(path.sep).join('/');
    if (file.startsWith('..')) return {};
    const fromUnit = unitOf(file);
    const check = (node, source) => {
      if (!source || typeof source.value !== 'string') return;
      const spec = source.value;
      if (!spec.startsWith('.')) {
        if (PURE.has(fromUnit) && !PURE_PACKAGES.has(spec)) {
          context.report({ node, message: `src/${fromUnit} is pure (no I/O): it may not import ${spec}` });
        }
        return;
      }
      const target = path.relative(srcDir, path.resolve(path.dirname(context.filename), spec)).split(path.sep).join('/');
      if (target.startsWith('..')) return;
      if (!allows(fromUnit, target)) {
        const allowed = rulesOf(fromUnit).join(', ') || 'nothing outside itself';
        context.report({ node, message: `src/${fromUnit} may not import src/${target} (docs/architecture.md; it may import: ${allowed})` });
      }
    };
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source.type === 'Literal' ? node.source : undefined),
    };
  },
};

// --- config --------------------------------------------------------------------------------

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.peers/**', 'deploy/**', 'examples/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: root },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { '@typescript-eslint': tseslint.plugin, tessera: { rules: { layers: layersRule } } },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', {
        // node:test runs what test(), describe() and it() return; awaiting them is not needed.
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }],
      }],
      '@typescript-eslint/no-misused-promises': 'error',
      // Above 25 a function has too many paths to review or test one by one; split it into named
      // steps. Exemptions are per function, with the reason beside them.
      complexity: ['error', 25],
    },
  },
  {
    // Table-driven tests and fixture builders branch once per optional row field; their paths are
    // the rows, each tested. The limit still stops a harness from growing without bound.
    files: ['test/**/*.ts'],
    rules: { complexity: ['error', 40] },
  },
  {
    // Ports of Go's standard library (fmt, strconv, time, text/template, regexp) and of sprig keep
    // the shape of the Go function they transcribe (one switch per verb, layout element or
    // token), so each can be read beside its Go original; splitting them would break that.
    files: ['src/template/**/*.ts', 'src/go/**/*.ts'],
    rules: { complexity: ['error', 50] },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/go/**'],
    rules: {
      'tessera/layers': 'error',
      // A pattern built at run time may come from a tenant's manifest: JS RegExp backtracks
      // (exponential time) and is not Go's syntax ([[:alpha:]] means something else).
      'no-restricted-syntax': ['error',
        { selector: "NewExpression[callee.name='RegExp'][arguments.0.type!='Literal']", message: 'compile run-time patterns with src/go/regexp.ts (Go RE2 syntax, linear time)' },
        { selector: "CallExpression[callee.name='RegExp'][arguments.0.type!='Literal']", message: 'compile run-time patterns with src/go/regexp.ts (Go RE2 syntax, linear time)' },
      ],
    },
  },
  {
    files: ['src/go/**/*.ts'],
    rules: { 'tessera/layers': 'error' },
  },
);
