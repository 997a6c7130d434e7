// `tessera render`, exercised through the real command line (bin/tessera.js).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as YAML from 'yaml';

const root = new URL('../../../', import.meta.url).pathname;
const bin = join(root, 'bin/tessera.js');
const dir = mkdtempSync(join(tmpdir(), 'tessera-render-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function tessera(args: string[], stdin?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [bin, ...args], { cwd: dir, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    if (stdin !== undefined) child.stdin!.end(stdin);
    else child.stdin!.end();
  });
}

function file(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

const secretOf = (r: Run) => YAML.parseAllDocuments(r.stdout).map((d) => d.toJS() as Record<string, any>);
const text = (s: Record<string, any>, key: string) => Buffer.from(s['data'][key] as string, 'base64').toString('utf8');

const es = (name: string, spec: string, meta = '') => `apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: ${name}
${meta}spec:
  secretStoreRef: {name: store}
${spec}`;

const values = file('values.yaml', `db/user: admin
db/password: hunter2-secret
db/json: {host: db.local, port: 5432, tags: [a, b]}
db/list: [1, two]
db/password@v1: old-password
app/feature-a: "on"
app/feature-b: "off"
app/other: x
bin/blob: !!binary AP+ACg==
$tags:
  app/feature-a: {team: x}
$generators:
  Password/pw: {password: generated-pw}
`);

describe('tessera render', { concurrency: true }, () => {
  test('the worked example in examples/render renders as documented', async () => {
    const r = await tessera(['render', '-f', join(root, 'examples/render/externalsecret.yaml'), '--values', join(root, 'examples/render/values.yaml')]);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    const golden = readFileSync(join(root, 'examples/render/secret.yaml'), 'utf8');
    const noHash = (s: string) => s.replace(/(data-hash: )[0-9a-f]+/, '$1…');
    assert.equal(noHash(r.stdout), noHash(golden));
  });

  test('stdin, several documents, other kinds ignored; values: maps, lists, versions, binary', async () => {
    const input = [
      es('one', `  data:
    - {secretKey: user, remoteRef: {key: db/user}}
    - {secretKey: host, remoteRef: {key: db/json, property: host}}
    - {secretKey: tag, remoteRef: {key: db/json, property: tags.1}}
    - {secretKey: list, remoteRef: {key: db/list}}
    - {secretKey: old, remoteRef: {key: db/password, version: v1}}
    - {secretKey: current, remoteRef: {key: db/password, version: v9}}
    - {secretKey: blob, remoteRef: {key: bin/blob}}
`, '  namespace: team-a\n'),
      'apiVersion: external-secrets.io/v1\nkind: SecretStore\nmetadata: {name: store}\nspec: {provider: {fake: {data: []}}}\n',
      es('two', '  dataFrom:\n    - extract: {key: db/json}\n'),
    ].join('---\n');
    const r = await tessera(['render', '-f', '-', '--values', values, '-n', 'other'], input);
    assert.equal(r.code, 0, r.stderr);
    const [one, two] = secretOf(r);
    assert.equal(one!['metadata'].namespace, 'team-a');
    assert.equal(text(one!, 'user'), 'admin');
    assert.equal(text(one!, 'host'), 'db.local');
    assert.equal(text(one!, 'tag'), 'b');
    assert.equal(text(one!, 'list'), '[1,"two"]');
    assert.equal(text(one!, 'old'), 'old-password');
    assert.equal(text(one!, 'current'), 'hunter2-secret', 'an unknown version falls back to the plain key');
    assert.deepEqual([...Buffer.from(one!['data']['blob'], 'base64')], [0, 0xff, 0x80, 0x0a]);
    assert.equal(two!['metadata'].namespace, 'other');
    assert.deepEqual(Object.keys(two!['data']), ['host', 'port', 'tags']);
    assert.equal(text(two!, 'port'), '5432');
  });

  test('dataFrom.find by path, name.regexp and tags; generators; rewrite transform', async () => {
    const r = await tessera(['render', '-f', file('find.yaml', es('f', `  dataFrom:
    - find: {path: app/, name: {regexp: "feature-[a-z]$"}}
      rewrite: [{transform: {template: "{{ .value | replace \\"app/\\" \\"\\" | upper }}"}}]
    - find: {tags: {team: x}}
      rewrite: [{regexp: {source: "/", target: "_"}}]
    - sourceRef: {generatorRef: {kind: Password, name: pw}}
`)), '--values', values]);
    assert.equal(r.code, 0, r.stderr);
    const [s] = secretOf(r);
    assert.deepEqual(Object.keys(s!['data']).sort(), ['FEATURE-A', 'FEATURE-B', 'app_feature-a', 'password']);
    assert.equal(text(s!, 'password'), 'generated-pw');
  });

  test('find.name.regexp and rewrite are Go RE2: POSIX classes, Go errors, linear time', async () => {
    const r = await tessera(['render', '-f', file('re2.yaml', es('re2', `  dataFrom:
    - find: {name: {regexp: "^[[:alpha:]]+/[[:alpha:]]+$"}}
      rewrite: [{regexp: {source: "(?P<dir>[[:alpha:]]+)/(?P<name>\\\\w+)", target: "\${name}.\${dir}"}}]
`)), '--values', values]);
    assert.equal(r.code, 0, r.stderr);
    const [s] = secretOf(r);
    assert.deepEqual(Object.keys(s!['data']).sort(), ['blob.bin', 'json.db', 'list.db', 'other.app', 'password.db', 'user.db']);

    const bad = await tessera(['render', '-f', file('re2-bad.yaml', es('re2bad', `  dataFrom:
    - find: {name: {regexp: "(?<=db)/user"}}
`)), '--values', values]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /spec\.dataFrom\[0\]\.find\.name\.regexp: error parsing regexp: invalid named capture: `\(\?<=db\)\/user`/);

    const longKey = file('long-values.yaml', `? ${'a'.repeat(50_000)}!\n: x\nshort: y\n`);
    const started = performance.now();
    const redos = await tessera(['render', '-f', file('re2-redos.yaml', es('re2redos', `  dataFrom:
    - find: {name: {regexp: "^(a+)+$"}}
    - find: {name: {regexp: "."}}
      rewrite: [{regexp: {source: "^(a|a)*!$", target: "long"}}]
`)), '--values', longKey]);
    assert.equal(redos.code, 0, redos.stderr);
    assert.deepEqual(Object.keys(secretOf(redos)[0]!['data']).sort(), ['long', 'short']);
    // Wall time of a child process (a loaded machine slows it); a backtracking engine never finishes.
    assert.ok(performance.now() - started < 60_000);
  });

  test('templateFrom reads ConfigMaps and Secrets from other -f files; -o json and --decode', async () => {
    const sources = file('sources.yaml', `apiVersion: v1
kind: ConfigMap
metadata: {name: tpl}
data:
  cfg: "user={{ .user }}"
---
apiVersion: v1
kind: Secret
metadata: {name: stpl}
stringData:
  kv: "k1: {{ .user | upper }}"
`);
    const main = file('tf.yaml', es('tf', `  data: [{secretKey: user, remoteRef: {key: db/user}}]
  target:
    template:
      templateFrom:
        - configMap: {name: tpl, items: [{key: cfg}]}
        - secret: {name: stpl, items: [{key: kv, templateAs: KeysAndValues}]}
`));
    const r = await tessera(['render', '-f', main, '-f', sources, '--values', values, '-o', 'json', '--decode']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as Record<string, any>;
    assert.deepEqual(s['stringData'], { cfg: 'user=admin', k1: 'ADMIN' });
    assert.equal(s['data'], undefined);
  });

  test('an invalid ExternalSecret is refused with file:line:col and the field', async () => {
    const r = await tessera(['render', '-f', file('invalid.yaml', es('bad', `  refreshInterval: 1 hour
  data:
    - secretKey: a
      remoteRef: {}
`)), '--values', values]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^tessera render: invalid\.yaml:7:20: ExternalSecret default\/bad: spec\.refreshInterval: Invalid value: "1 hour"/m);
    assert.match(r.stderr, /^tessera render: invalid\.yaml:10:18: ExternalSecret default\/bad: spec\.data\[0\]\.remoteRef\.key: Required value$/m);
  });

  test('template errors point at the template line and column in the file, without secret values', async () => {
    const r = await tessera(['render', '-f', file('tpl.yaml', es('t', `  data: [{secretKey: password, remoteRef: {key: db/password}}]
  target:
    template:
      data:
        config: |
          user=admin
            {{ range .password }}{{ end }}
`)), '--values', values]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'tessera render: tpl.yaml:13:22: ExternalSecret default/t: spec.target.template.data.config: could not render template: '
      + 'template: config:2:11: executing "config" at <.password>: range can\'t iterate over [redacted]\n');
    assert.doesNotMatch(r.stderr, /hunter2/);
  });

  test('a template error inside a ConfigMap points into the ConfigMap', async () => {
    const cm = file('cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tpl}\ndata:\n  cfg: |\n    a\n    {{ .nope }}\n');
    const main = file('cmes.yaml', es('c', `  data: [{secretKey: user, remoteRef: {key: db/user}}]
  target: {template: {templateFrom: [{configMap: {name: tpl, items: [{key: cfg}]}}]}}
`));
    const r = await tessera(['render', '-f', main, '-f', cm, '--values', values]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^tessera render: cm\.yaml:7:8: ExternalSecret default\/c: spec\.target\.template\.templateFrom\[0\]\.configMap\.items\[0\]: could not render template: template: cfg:2:3: executing "cfg" at <\.nope>: map has no entry for key "nope"$/m);
  });

  test('missing remote keys follow deletionPolicy; Merge uses a Secret from the input', async () => {
    const retain = await tessera(['render', '-f', file('missing.yaml', es('m', '  data: [{secretKey: a, remoteRef: {key: no/such}}]\n')), '--values', values]);
    assert.equal(retain.code, 1);
    assert.match(retain.stderr, /spec\.data\[0\]: secret does not exist at provider using spec\.data\[0\] key="no\/such" \(deletionPolicy=Retain\)/);
    const del = await tessera(['render', '-f', file('del.yaml', es('d', '  target: {deletionPolicy: Delete}\n  data: [{secretKey: a, remoteRef: {key: no/such}}]\n')), '--values', values]);
    assert.equal(del.code, 0);
    assert.equal(del.stdout, '');
    assert.match(del.stderr, /deletionPolicy=Delete would delete Secret default\/d/);
    const merge = await tessera(['render', '-f', file('merge.yaml', es('mg', '  target: {creationPolicy: Merge}\n  data: [{secretKey: user, remoteRef: {key: db/user}}]\n')
      + '---\napiVersion: v1\nkind: Secret\nmetadata: {name: mg, labels: {keep: me}}\ndata: {other: b3RoZXI=}\n'), '--values', values]);
    assert.equal(merge.code, 0, merge.stderr);
    const [s] = secretOf(merge);
    assert.deepEqual(Object.keys(s!['data']).sort(), ['other', 'user']);
    assert.equal(s!['metadata'].labels.keep, 'me');
    // CreateOrMerge (ESO 2.9): merges into a Secret from the input, creates one when there is none.
    const com = (name: string, existing: string) => tessera(['render', '-f', file(`${name}.yaml`, es(name, '  target: {creationPolicy: CreateOrMerge}\n  data: [{secretKey: user, remoteRef: {key: db/user}}]\n')
      + existing), '--values', values]);
    const merged = await com('cm', '---\napiVersion: v1\nkind: Secret\nmetadata: {name: cm}\ndata: {other: b3RoZXI=}\n');
    assert.equal(merged.code, 0, merged.stderr);
    assert.deepEqual(Object.keys(secretOf(merged)[0]!['data']).sort(), ['other', 'user']);
    const createdFresh = await com('cc', '');
    assert.equal(createdFresh.code, 0, createdFresh.stderr);
    assert.deepEqual(Object.keys(secretOf(createdFresh)[0]!['data']), ['user']);
  });

  // The messages below prove each budget fired; the test's own timeout catches a hang. (No
  // wall-clock bound here: the process start alone varies tenfold with the machine's load.)
  test('a hostile template fails with the budget, it does not hang or run out of memory', { timeout: 180_000 }, async () => {
    const spec = (t: string) => `  data: [{secretKey: password, remoteRef: {key: db/password}}]\n  target:\n    template:\n      data: {k: '${t}'}\n`;
    const r = await tessera(['render', '--template-timeout=1s', '-f', file('hostile.yaml', [
      es('loop', spec('{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}')),
      es('big', spec('{{ repeat 100000000 "a" }}')),
      es('fine', spec('{{ .password | upper }}')),
    ].join('---\n')), '--values', values]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /ExternalSecret default\/loop: spec\.target\.template: compute budget exceeded: time limit 1s \(--template-timeout\)/);
    assert.match(r.stderr, /ExternalSecret default\/big: spec\.target\.template\.data\.k: compute budget exceeded: repeat would build a string of 100000000 characters/);
    assert.equal(text(secretOf(r)[0]!, 'k'), 'HUNTER2-SECRET', 'the other ExternalSecret still renders');
    assert.doesNotMatch(r.stderr, /hunter2/i);
  });

  test('usage errors exit 2; unreadable input and no ExternalSecret exit 1', async () => {
    const none = await tessera(['render']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /-f is required/);
    const flag = await tessera(['render', '-f', 'x.yaml', '--nope']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /unknown flag --nope/);
    const output = await tessera(['render', '-f', 'x.yaml', '-o', 'xml']);
    assert.equal(output.code, 2);
    const missing = await tessera(['render', '-f', 'does-not-exist.yaml']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /does-not-exist\.yaml: no such file/);
    const empty = await tessera(['render', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /no ExternalSecret found/);
    const broken = await tessera(['render', '-f', '-'], 'a: [\n');
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /<stdin>:2:1: invalid YAML/);
    const help = await tessera(['render', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--values/);
  });
});
