// The command-line tools the deploy/ tests drive (kustomize, Helm, the OLM bundle validator): Go
// programs built once by test/peers/build.sh into the peers' cache, keyed by version. Unlike the
// peers they are not servers, so nothing is started: a test asks for a tool's path, which builds
// it on first use (under build.sh's lock) and fails loudly when the build does.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './index.ts';

const execFileP = promisify(execFile);
const buildScript = path.join(repoRoot, 'test/peers/build.sh');

export type ToolName = 'kustomize' | 'helm' | 'olm-validate';

const pathVariable: Record<ToolName, string> = { kustomize: 'KUSTOMIZE_BIN', helm: 'HELM_BIN', 'olm-validate': 'OLM_VALIDATE_BIN' };

/** The tool's binary, built first when the cache does not hold this version yet. */
export async function toolPath(name: ToolName): Promise<string> {
  const { stdout } = await execFileP('bash', [buildScript, 'paths']);
  const line = stdout.split('\n').find((l) => l.startsWith(`${pathVariable[name]}=`));
  if (!line) throw new Error(`build.sh paths names no ${pathVariable[name]}`);
  const bin = line.slice(line.indexOf('=') + 1);
  if (existsSync(bin)) return bin;
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', [buildScript, name], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`build.sh ${name} exited with ${code}`))));
  });
  if (!existsSync(bin)) throw new Error(`build.sh ${name} succeeded but ${bin} is missing`);
  return bin;
}

/** Runs a tool; its stdout, or an error carrying its stderr. */
export async function runTool(name: ToolName, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const bin = await toolPath(name);
  try {
    const { stdout } = await execFileP(bin, args, { cwd: opts.cwd ?? repoRoot, env: { ...process.env, ...opts.env }, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string; stdout?: string };
    throw new Error(`${name} ${args.join(' ')} failed: ${err.stderr || err.message}\n${err.stdout ?? ''}`);
  }
}
