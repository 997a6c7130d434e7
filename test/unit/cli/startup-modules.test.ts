// What `tessera run` loads before it serves: the controller's own modules and the libraries every
// controller needs. The template engine (and node-forge and bcryptjs, which its functions use), the
// provider SDKs and the generators that call remote services load when first needed, so a
// controller pays in start-up time and memory only for what its objects use (~55 ms of CPU and
// ~6 MB of RSS for the template engine alone on the 2-core bench machine).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registerHooks } from 'node:module';

test("loading `tessera run` loads no template engine, provider SDK or remote generator", async () => {
  const loaded: string[] = [];
  const hooks = registerHooks({
    resolve(specifier, context, next) {
      const r = next(specifier, context);
      loaded.push(r.url);
      return r;
    },
  });
  try {
    await import('../../../src/cli/run.ts');
  } finally {
    hooks.deregister();
  }
  const unwanted = [
    /\/src\/template\/index\.ts$/, /\/src\/template\/funcs\//, /\/src\/sync\/template\.ts$/, /\/src\/compute\/task\.ts$/,
    /\/node_modules\/node-forge\//, /\/node_modules\/bcryptjs\//, /\/node_modules\/@aws-sdk\//, /\/node_modules\/@azure\//, /\/node_modules\/@google-cloud\//,
    /\/src\/providers\/(aws|vault|gcp|azure|kubernetes|fake)\//, /\/src\/generators\/(aws|vault|webhook)\.ts$/,
  ];
  const found = loaded.filter((url) => unwanted.some((re) => re.test(url)));
  assert.deepEqual(found, []);
  // The hook did see the controller's graph (the test would pass vacuously otherwise).
  assert.ok(loaded.some((url) => url.endsWith('/src/controllers/externalsecret-reconciler.ts')));
  assert.ok(loaded.some((url) => url.endsWith('/src/compute/plain.ts')));
});
