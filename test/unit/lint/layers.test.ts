// The `tessera/layers` rule of eslint.config.js encodes the dependency arrows of
// docs/architecture.md. `npm run lint` runs it over src/; these cases check that it refuses each
// kind of arrow the page forbids and accepts the ones it allows.
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

const repo = new URL('../../../', import.meta.url).pathname;
const configModule = (await import(pathToFileURL(path.join(repo, 'eslint.config.js')).href)) as { default: Array<{ plugins?: Record<string, unknown> }> };
const tessera = configModule.default.find((c) => c.plugins?.['tessera'])?.plugins?.['tessera'];
assert.ok(tessera, 'eslint.config.js defines the tessera plugin');

// Only the layers rule, and no type information: the probes are not files of the project.
const eslint = new ESLint({
  cwd: repo,
  overrideConfigFile: true,
  overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser }, plugins: { tessera: tessera as ESLint.Plugin }, rules: { 'tessera/layers': 'error' } }],
});

/** The layer messages for `code` as if it were the file at `file` (relative to the repository). */
async function refusals(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(repo, file) });
  return result!.messages.map((m) => m.message);
}

describe('tessera/layers', () => {
  test('sync is pure: no providers, kube, controllers, Node I/O or logging', async () => {
    const found = await refusals('src/sync/probe.ts', [
      "import type { ProviderClient } from '../providers/provider.ts';",
      "import { Client } from '../kube/client.ts';",
      "import { controllerErrors } from '../controllers/errors.ts';",
      "import { readFileSync } from 'node:fs';",
      "import pino from 'pino';",
    ].join('\n'));
    assert.equal(found.length, 5, found.join('\n'));
    assert.match(found[0]!, /^src\/sync may not import src\/providers\/provider\.ts/);
    assert.match(found[3]!, /src\/sync is pure \(no I\/O\): it may not import node:fs/);
  });

  test('sync may use template, api, go, node:crypto and yaml', async () => {
    assert.deepEqual(await refusals('src/sync/probe.ts', [
      "import { parseTemplate } from '../template/index.ts';",
      "import { compile } from '../go/regexp.ts';",
      "import type { ExternalSecret } from '../api/types.generated.ts';",
      "import { createHash } from 'node:crypto';",
      "import * as YAML from 'yaml';",
      "import { syncErrors } from './errors.ts';",
    ].join('\n')), []);
  });

  test('a provider imports neither another provider, nor a controller, nor the reader', async () => {
    const found = await refusals('src/providers/kubernetes/probe.ts', [
      "import { validateVaultConfig } from '../vault/config.ts';",
      "import { controllerErrors } from '../../controllers/errors.ts';",
      "import { CoalescingReader } from '../reader.ts';",
      "import { Client } from '../../kube/client.ts';",
      // allowed: the contract, shared helpers, its own folder, api and go
      "import { ProviderError } from '../provider.ts';",
      "import { readCAProvider } from '../common/ca-provider.ts';",
      "import { KubeTransport } from './http.ts';",
      "import { goJsonMarshal } from '../../go/json.ts';",
    ].join('\n'));
    assert.equal(found.length, 4, found.join('\n'));
    assert.match(found[0]!, /src\/providers\/kubernetes may not import src\/providers\/vault\/config\.ts/);
  });

  test('providers/common serves every provider and imports none; the reader, registry and controllers may use it', async () => {
    assert.equal((await refusals('src/providers/common/probe.ts', "import { x } from '../aws/refs.ts';")).length, 1);
    assert.deepEqual(await refusals('src/providers/reader.ts', "import { x } from './common/http.ts';\nimport { y } from './aws/index.ts';"), []);
    assert.deepEqual(await refusals('src/controllers/probe.ts', "import { x } from '../providers/common/http.ts';\nimport { y } from '../providers/registry.ts';"), []);
    assert.equal((await refusals('src/controllers/probe.ts', "import { x } from '../providers/aws/refs.ts';")).length, 1, 'a controller reaches providers through the registry');
  });

  test('kube knows nothing of secrets: of api only durations and metadata, of metrics only the registry', async () => {
    const found = await refusals('src/kube/probe.ts', [
      "import { LABEL_MANAGED } from '../api/constants.ts';",
      "import { syncMetrics } from '../metrics/index.ts';",
      "import { TokenBucket } from '../providers/reader.ts';",
      "import { timerDelayMs } from '../api/duration.ts';",
      "import type { ObjectMeta } from '../api/meta.ts';",
      "import { counter } from '../metrics/registry.ts';",
      "import { TokenBucket as Bucket } from '../token-bucket.ts';",
    ].join('\n'));
    assert.equal(found.length, 3, found.join('\n'));
  });

  test('arrows point down only: api and go import nothing above them; cli may import anything', async () => {
    assert.equal((await refusals('src/go/probe.ts', "import { x } from '../api/duration.ts';")).length, 1);
    assert.equal((await refusals('src/api/probe.ts', "import { x } from '../sync/errors.ts';")).length, 1);
    assert.equal((await refusals('src/compute/probe.ts', "import { x } from '../controllers/errors.ts';")).length, 1);
    assert.deepEqual(await refusals('src/cli/probe.ts', "import { x } from '../controllers/index.ts';\nimport { y } from '../kube/client.ts';"), []);
  });

  test('re-exports and dynamic imports are checked too; files outside src/ are not', async () => {
    assert.equal((await refusals('src/sync/probe.ts', "export { x } from '../kube/client.ts';\nexport const m = import('../providers/registry.ts');")).length, 2);
    assert.deepEqual(await refusals('test/unit/probe.ts', "import { x } from '../../src/kube/client.ts';"), []);
  });
});
