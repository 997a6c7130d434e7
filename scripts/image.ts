// `npm run image`: builds the container image localhost/tessera:<version> with buildah into local
// container storage, and writes it as an OCI archive to dist/tessera-<version>.oci.tar.
//
// No base image can be pulled where this runs, so the base is assembled the way distroless
// assembles its own: pinned Debian packages (the C and C++ runtimes Node links against, CA
// certificates, time zones) fetched with `apt-get download` and unpacked with `dpkg-deb -x`, an
// /etc/passwd with the nonroot user (65532), and Node itself (the binary of the pinned `node`
// devDependency, the one the tests run on). On top come the compiled app (npm run build) and its
// production dependencies. There is no shell and no package manager in the image; every file is
// owned by root and writable by no one else, so the image runs as any UID (OpenShift's
// restricted-v2 picks one, with group 0) on a read-only root filesystem.
//
// Downloads and production dependencies are cached outside the repository
// (~/.cache/tessera/image), keyed by version. The base is kept in container storage as
// localhost/tessera-base:<key>, and the image carries a label with the hash of its inputs, so
// ensureImage() (used by test/integration/image.test.ts) rebuilds only when something changed.
// podman and buildah come from `bash test/peers/build.sh container-tools` (Debian packages).
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string; license: string; description: string };
export const imageName = `localhost/tessera:${pkg.version}`;
export const ociArchive = path.join(repoRoot, 'dist', `tessera-${pkg.version}.oci.tar`);
const cacheDir = process.env.TESSERA_IMAGE_CACHE ?? path.join(homedir(), '.cache/tessera/image');

/** npm's own child processes (node -e, tsc) on the Node running this script, the pinned Node 24. */
const node24Env: NodeJS.ProcessEnv = { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` };

/** The environment podman and buildah run in: the project's containers.conf (see that file). */
export const containerEnv: NodeJS.ProcessEnv = { ...process.env, CONTAINERS_CONF: path.join(repoRoot, 'test/peers/containers/containers.conf') };

// The distroless "cc" set, pinned. Debian drops a superseded version from its mirror when a point
// release replaces it (downloads already cached keep working): then change the line to the version
// `apt-cache policy <package>` names.
const debianPackages: Readonly<Record<string, string>> = {
  libc6: '2.36-9+deb12u14',
  'libgcc-s1': '12.2.0-14+deb12u1',
  'libstdc++6': '12.2.0-14+deb12u1',
  'ca-certificates': '20250419~deb12u2',
  tzdata: '2026f-0+deb12u1',
};

/** distroless's nonroot user: a fixed numeric UID that Kubernetes' runAsNonRoot can verify. */
export const NONROOT_UID = 65532;
const nodeDir = '/nodejs';
const appDir = '/app';
const inputsLabel = 'dev.tessera.image.inputs';

function log(msg: string): void {
  process.stderr.write(`[image] ${msg}\n`);
}

function run(cmd: string, args: readonly string[], opts: ExecFileSyncOptions = {}): string {
  // With stdout not piped there is nothing to return (execFileSync gives null).
  const out = execFileSync(cmd, args, { encoding: 'utf8', env: containerEnv, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20, ...opts }) as string | Buffer | null;
  return out === null ? '' : out.toString().trim();
}

function succeeds(cmd: string, args: readonly string[]): boolean {
  try {
    execFileSync(cmd, args, { env: containerEnv, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function requireTools(): void {
  const missing = ['buildah', 'podman', 'apt-get', 'dpkg-deb'].filter((t) => !succeeds('sh', ['-c', `command -v ${t}`]));
  if (missing.length > 0) throw new Error(`${missing.join(', ')} not found: install them with \`bash test/peers/build.sh container-tools\` (as root)`);
}

function sha256(...parts: Array<string | Buffer>): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex');
}

/** Every regular file under dir (relative paths, sorted), for content hashing. */
function filesUnder(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const r = path.join(rel, e.name);
    if (e.isDirectory()) out.push(...filesUnder(dir, r));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

/** The installed `node` devDependency: its version and binary. */
function nodeRuntime(): { version: string; binary: string } {
  const dir = path.join(repoRoot, 'node_modules/node');
  const { version } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string };
  const binary = path.join(dir, 'bin/node');
  const reported = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  if (reported !== `v${version}`) throw new Error(`${binary} reports ${reported}, but the node devDependency is ${version}: run npm ci`);
  return { version, binary };
}

// --- the base: Debian runtime libraries, CA certificates, time zones, users, Node ---------------

/** A pinned .deb from the cache, downloaded with `apt-get download` the first time. */
function debianPackage(name: string, version: string): string {
  const dir = path.join(cacheDir, 'debs', `${name}_${version}`);
  const done = path.join(dir, 'package.deb');
  if (existsSync(done)) return done;
  mkdirSync(path.dirname(dir), { recursive: true });
  const tmp = mkdtempSync(`${dir}.tmp-`);
  // As root, apt drops to the _apt user to download, which may not write to our directory.
  const fetch = ['download', '-q', '-o', `APT::Sandbox::User=${run('id', ['-un'])}`, `${name}=${version}`];
  try {
    run('apt-get', fetch, { cwd: tmp, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`apt-get download ${name}=${version} failed: run apt-get update, or pin the version \`apt-cache policy ${name}\` names in scripts/image.ts`);
  }
  const [deb] = readdirSync(tmp).filter((f) => f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${name}=${version} wrote no .deb`);
  renameSync(path.join(tmp, deb), path.join(tmp, 'package.deb'));
  renameSync(tmp, dir);
  return done;
}

/** The directory tree of the base, written into root (an empty directory). */
function assembleBase(root: string, node: { version: string; binary: string }): void {
  const status = path.join(root, 'var/lib/dpkg/status.d');
  mkdirSync(status, { recursive: true });
  for (const [name, version] of Object.entries(debianPackages)) {
    const deb = debianPackage(name, version);
    run('dpkg-deb', ['-x', deb, root]);
    // What distroless records for scanners (trivy, grype): one control file per package.
    writeFileSync(path.join(status, name), run('dpkg-deb', ['-f', deb]) + '\n');
  }
  // Manuals and changelogs serve no one in an image; the copyright files stay (licences).
  for (const dir of ['usr/share/man', 'usr/share/info', 'usr/share/lintian', 'usr/sbin', 'usr/bin', 'sbin', 'bin', 'etc/init.d']) {
    rmSync(path.join(root, dir), { recursive: true, force: true });
  }
  const docs = path.join(root, 'usr/share/doc');
  for (const doc of readdirSync(docs, { withFileTypes: true })) {
    // libgcc-s1's and libstdc++6's are links to gcc-12-base's, a package without code: dangling.
    if (!doc.isDirectory()) rmSync(path.join(docs, doc.name));
    else for (const f of readdirSync(path.join(docs, doc.name))) if (f !== 'copyright') rmSync(path.join(docs, doc.name, f), { recursive: true, force: true });
  }
  // The CA bundle that ca-certificates' postinst (update-ca-certificates) would write.
  const caRoot = path.join(root, 'usr/share/ca-certificates');
  const bundle = filesUnder(caRoot).filter((f) => f.endsWith('.crt')).map((f) => readFileSync(path.join(caRoot, f), 'utf8'));
  mkdirSync(path.join(root, 'etc/ssl/certs'), { recursive: true });
  writeFileSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), bundle.join(''));
  writeFileSync(path.join(root, 'etc/passwd'), `root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:${NONROOT_UID}:${NONROOT_UID}:nonroot:/home/nonroot:/sbin/nologin\n`);
  writeFileSync(path.join(root, 'etc/group'), `root:x:0:\nnobody:x:65534:\nnonroot:x:${NONROOT_UID}:\n`);
  writeFileSync(path.join(root, 'etc/nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files dns\n');
  mkdirSync(path.join(root, 'tmp'), { recursive: true });
  mkdirSync(path.join(root, 'home/nonroot'), { recursive: true });
  mkdirSync(path.join(root, `${nodeDir.slice(1)}/bin`), { recursive: true });
  cpSync(node.binary, path.join(root, `${nodeDir.slice(1)}/bin/node`));
  restrictPermissions(root);
  chmodSync(path.join(root, 'tmp'), 0o1777);
  chownSync(path.join(root, 'home/nonroot'), NONROOT_UID, NONROOT_UID);
  chmodSync(path.join(root, 'home/nonroot'), 0o700);
}

/**
 * Owned by root, writable by the owner only: a container that runs as an arbitrary UID in group 0
 * (OpenShift) can read and execute everything and change nothing, even without a read-only root.
 */
function restrictPermissions(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) continue;
    chownSync(p, 0, 0);
    // Readable by all; executable by all where the owner may execute (directories, binaries).
    chmodSync(p, st.mode & 0o100 || st.isDirectory() ? 0o755 : 0o644);
    if (st.isDirectory()) restrictPermissions(p);
  }
}

/** A working container from the directory tree root, committed as image `name`. */
function commitTree(from: string, root: string, name: string, config: readonly string[]): void {
  const ctr = run('buildah', ['from', '--quiet', '--pull=never', from]);
  try {
    const mount = run('buildah', ['mount', ctr]);
    // cp -a as root keeps owners and modes exactly as assembled (buildah copy would not keep
    // the nonroot home's owner).
    run('cp', ['-a', `${root}/.`, mount]);
    run('buildah', ['umount', ctr]);
    run('buildah', ['config', ...config, ctr]);
    run('buildah', ['commit', '--quiet', '--format', 'oci', '--timestamp', '0', ctr, name], { stdio: ['ignore', 'ignore', 'inherit'] });
  } finally {
    succeeds('buildah', ['rm', ctr]);
  }
}

function ensureBase(node: { version: string; binary: string }): string {
  const key = sha256(JSON.stringify(debianPackages), node.version, readFileSync(import.meta.filename)).slice(0, 16);
  const name = `localhost/tessera-base:${key}`;
  if (succeeds('buildah', ['inspect', '--type', 'image', name])) return name;
  log(`assembling the base ${name} (Debian ${Object.keys(debianPackages).join(', ')}; Node ${node.version})`);
  const t0 = Date.now();
  const root = mkdtempSync(path.join(cacheDir, 'base-'));
  try {
    assembleBase(root, node);
    commitTree('scratch', root, name, ['--user', `${NONROOT_UID}:${NONROOT_UID}`, '--workingdir', '/home/nonroot', '--env', `PATH=/usr/local/bin:/usr/bin:/bin:${nodeDir}/bin`, '--env', 'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  log(`base assembled in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  // Bases of earlier pins or recipes would pile up in container storage (145 MB each).
  for (const old of run('podman', ['images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', 'reference=localhost/tessera-base']).split('\n')) {
    if (old && old !== name) succeeds('podman', ['rmi', old]);
  }
  return name;
}

// --- the app ---------------------------------------------------------------------------------------

/** Production dependencies (`npm ci --omit=dev`) for the lockfile, cached by its hash. */
function productionDependencies(): string {
  const lock = readFileSync(path.join(repoRoot, 'package-lock.json'));
  const dir = path.join(cacheDir, `deps-${sha256(lock).slice(0, 16)}-pruned`);
  if (existsSync(path.join(dir, 'node_modules'))) return path.join(dir, 'node_modules');
  log('installing production dependencies (npm ci --omit=dev)');
  const tmp = mkdtempSync(`${dir}.tmp-`);
  cpSync(path.join(repoRoot, 'package.json'), path.join(tmp, 'package.json'));
  cpSync(path.join(repoRoot, 'package-lock.json'), path.join(tmp, 'package-lock.json'));
  // No install scripts: none of the production dependencies has one, and the node
  // devDependency's (which downloads a binary) is not wanted here.
  run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: tmp, env: node24Env, stdio: ['ignore', 'ignore', 'inherit'] });
  pruneForRuntime(path.join(tmp, 'node_modules'));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return path.join(dir, 'node_modules');
}

/**
 * Drops what only compilers, editors and debuggers read: type declarations and source maps (about
 * 45 of 124 MB, most of it @kubernetes/client-node's) and Markdown. Node never loads them
 * (the image does not enable --enable-source-maps).
 */
function pruneForRuntime(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) pruneForRuntime(p);
    else if (e.isFile() && /\.(d\.[cm]?ts|map|md|markdown)$/i.test(e.name)) rmSync(p);
  }
}

/** Hash of everything the image is made from, to tell whether localhost/tessera is current. */
export function imageInputsHash(): string {
  const files = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/image.ts', 'test/peers/containers/containers.conf'];
  for (const dir of ['src', 'bin']) files.push(...filesUnder(path.join(repoRoot, dir)).map((f) => path.join(dir, f)));
  return sha256(...files.flatMap((f) => [f, readFileSync(path.join(repoRoot, f))]));
}

/** The inputs hash recorded on the local image, or undefined when there is no such image. */
function builtInputsHash(): string | undefined {
  try {
    return run('podman', ['image', 'inspect', '--format', `{{index .Labels "${inputsLabel}"}}`, imageName], { stdio: ['ignore', 'pipe', 'ignore'] }) || undefined;
  } catch {
    return undefined;
  }
}

export interface BuiltImage {
  name: string;
  /** Uncompressed size of all layers, bytes (what `podman images` shows). */
  sizeBytes: number;
  rebuilt: boolean;
}

function imageSize(): number {
  return Number(run('podman', ['image', 'inspect', '--format', '{{.Size}}', imageName]));
}

/** Builds localhost/tessera:<version> and its OCI archive, unless the local image is current. */
export function ensureImage(opts: { force?: boolean } = {}): BuiltImage {
  requireTools();
  const inputs = imageInputsHash();
  if (!opts.force && builtInputsHash() === inputs && existsSync(ociArchive)) {
    log(`${imageName} is current (inputs ${inputs.slice(0, 12)}); --force rebuilds it`);
    return { name: imageName, sizeBytes: imageSize(), rebuilt: false };
  }
  const t0 = Date.now();
  const node = nodeRuntime();
  mkdirSync(cacheDir, { recursive: true });
  const base = ensureBase(node);
  log('compiling (npm run build)');
  run('npm', ['run', '--silent', 'build'], { cwd: repoRoot, env: node24Env, stdio: ['ignore', 'ignore', 'inherit'] });
  const deps = productionDependencies();
  const previous = succeeds('podman', ['image', 'exists', imageName]) ? run('podman', ['image', 'inspect', '--format', '{{.Id}}', imageName]) : undefined;
  const root = mkdtempSync(path.join(cacheDir, 'app-'));
  try {
    const app = path.join(root, appDir.slice(1));
    mkdirSync(app, { recursive: true });
    cpSync(path.join(repoRoot, 'package.json'), path.join(app, 'package.json'));
    cpSync(path.join(repoRoot, 'bin'), path.join(app, 'bin'), { recursive: true });
    // The compiled JavaScript only: dist/ also holds the OCI archive of the previous build.
    cpSync(path.join(repoRoot, 'dist'), path.join(app, 'dist'), { recursive: true, filter: (src) => lstatSync(src).isDirectory() || src.endsWith('.js') });
    cpSync(deps, path.join(app, 'node_modules'), { recursive: true });
    restrictPermissions(root);
    log(`committing ${imageName}`);
    commitTree(base, root, imageName, [
      '--entrypoint', JSON.stringify([`${nodeDir}/bin/node`, `${appDir}/bin/tessera.js`]),
      '--cmd', JSON.stringify(['run']),
      '--workingdir', appDir,
      '--env', 'NODE_ENV=production',
      '--port', '8080/tcp',
      '--port', '8081/tcp',
      '--label', `org.opencontainers.image.title=tessera`,
      '--label', `org.opencontainers.image.description=${pkg.description}`,
      '--label', `org.opencontainers.image.version=${pkg.version}`,
      '--label', `org.opencontainers.image.licenses=${pkg.license}`,
      '--label', `${inputsLabel}=${inputs}`,
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  // The image this one replaces is left untagged: remove it (refused, harmlessly, while in use).
  if (previous && previous !== run('podman', ['image', 'inspect', '--format', '{{.Id}}', imageName])) succeeds('podman', ['rmi', previous]);
  rmSync(ociArchive, { force: true });
  run('buildah', ['push', '--quiet', imageName, `oci-archive:${ociArchive}:${imageName}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  const sizeBytes = imageSize();
  log(`${imageName} built in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${(sizeBytes / 1e6).toFixed(1)} MB; archive ${path.relative(repoRoot, ociArchive)}`);
  return { name: imageName, sizeBytes, rebuilt: true };
}

if (import.meta.main) {
  try {
    ensureImage({ force: process.argv.includes('--force') });
  } catch (e) {
    log((e as Error).message);
    process.exitCode = 1;
  }
}
