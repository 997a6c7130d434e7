// Regenerates deploy/crds/*.yaml (and the copies of deploy/ files in the Helm chart and OLM bundle) and
// src/api/types.generated.ts from src/api/schema.ts.
// Usage: node scripts/generate.ts [--check]   (--check: exit 1 if a file is stale, write nothing)
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedFiles } from '../src/api/generate.ts';
import { withDeployCopies } from './deploy-copies.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
let stale = 0;
for (const [path, content] of withDeployCopies(generatedFiles(), root)) {
  const target = join(root, path);
  const current = await readFile(target, 'utf8').catch(() => undefined);
  if (current === content) continue;
  stale++;
  if (check) {
    console.error(`stale: ${path}`);
    continue;
  }
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, content);
  console.log(`wrote ${path}`);
}
if (check && stale > 0) {
  console.error('generated files are stale: run node scripts/generate.ts');
  process.exit(1);
}
