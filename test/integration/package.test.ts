// The npm package as a user installs it: `npm pack` (which compiles src/ to dist/ first), then
// `npm install` of the tarball into an empty project, then the `tessera` bin on Node 24. Under
// node_modules Node refuses to strip types, so this passes only if the compiled JavaScript is what
// runs, including the compute worker thread that `tessera render` starts.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../peers/index.ts';

const execFileP = promisify(execFile);
const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
// npm and the scripts it runs (the prepack build) on the Node running this test: the pinned Node 24.
const npmEnv = { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` };

let dir: string;
let files: string[];

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'tessera-package-'));
  const { stdout } = await execFileP('npm', ['pack', '--json', '--pack-destination', dir], { cwd: repoRoot, env: npmEnv, maxBuffer: 16 << 20 });
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  assert.ok(packed);
  files = packed.files.map((f) => f.path);
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'tessera-install-test', private: true }));
  await execFileP('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', `./${packed.filename}`], { cwd: dir, env: npmEnv, maxBuffer: 16 << 20 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

const tessera = (...args: string[]) =>
  execFileP(process.execPath, [path.join(dir, 'node_modules/.bin/tessera'), ...args], { cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME }, maxBuffer: 16 << 20 });

describe('the npm package', () => {
  it('ships the compiled code and the bin only: no sources, tests or peers', () => {
    assert.ok(files.includes('bin/tessera.js'));
    assert.ok(files.includes('dist/cli/main.js'));
    assert.ok(files.includes('dist/compute/worker.js'));
    const unexpected = files.filter((f) => !/^(package\.json|README\.md|LICENSE|bin\/tessera\.js|dist\/.+\.js)$/.test(f));
    assert.deepEqual(unexpected, []);
  });

  it('runs `tessera --help` and `tessera version` from node_modules on Node 24', async () => {
    const help = await tessera('--help');
    assert.match(help.stdout, /^Usage: tessera <command>/);
    const version = await tessera('version');
    assert.equal(version.stdout, `tessera ${pkg.version} (node ${process.versions.node})\n`);
    assert.equal(process.versions.node.split('.')[0], '24');
  });

  it('renders an ExternalSecret through the compiled compute worker', async () => {
    const { stdout } = await tessera('render', '-f', path.join(repoRoot, 'examples/render/externalsecret.yaml'), '--values', path.join(repoRoot, 'examples/render/values.yaml'));
    assert.match(stdout, /^kind: Secret$/m);
    assert.match(stdout, /^ {2}username: YmlsbGluZ19hcHA=$/m, 'username billing_app, from the values file');
  });
});
