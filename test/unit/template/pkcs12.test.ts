// ESO's PKCS#12, certificate-chain and RSA functions. Fixtures are made at runtime with the
// openssl CLI; results are checked three ways: against what openssl says the files contain,
// against ESO's Go implementation (test/template-ref, go-pkcs12), and by letting openssl and Go
// read back the PKCS#12 files Tessera writes.

process.env['TZ'] = 'UTC';

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTemplate, esoData } from '../../../src/template/index.ts';
import { runRef } from './goref.ts';
import { compare, describe, renderTs } from './compare.ts';
import type { DiffCase } from './cases.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-pkcs12-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function openssl(args: string[], input?: string | Buffer): Buffer {
  return execFileSync('openssl', args, { cwd: dir, input, stdio: ['pipe', 'pipe', 'pipe'] });
}
const file = (name: string) => readFileSync(join(dir, name));
const text = (name: string) => file(name).toString('utf8');
const b64 = (name: string) => file(name).toString('base64');

// --- fixtures: root (RSA) → intermediate (RSA) → leaf (EC P-256), plus an Ed25519 self-signed cert
writeFileSync(join(dir, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
writeFileSync(join(dir, 'leaf.ext'), 'subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\nsubjectAltName=DNS:leaf.example.com\n');
openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'root.key', '-out', 'root.crt', '-subj', '/C=DE/O=Tessera, Inc./CN=Root CA', '-days', '30']);
openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'int.key', '-out', 'int.csr', '-subj', '/CN=Intermediate/emailAddress=ca@example.com']);
openssl(['x509', '-req', '-in', 'int.csr', '-CA', 'root.crt', '-CAkey', 'root.key', '-CAcreateserial', '-out', 'int.crt', '-days', '30', '-extfile', 'ca.ext']);
openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'leaf.key']);
openssl(['ec', '-in', 'leaf.key', '-out', 'leaf.sec1']);
openssl(['req', '-new', '-key', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=leaf.example.com']);
openssl(['x509', '-req', '-in', 'leaf.csr', '-CA', 'int.crt', '-CAkey', 'int.key', '-CAcreateserial', '-out', 'leaf.crt', '-days', '30', '-extfile', 'leaf.ext']);
openssl(['req', '-x509', '-newkey', 'ed25519', '-nodes', '-keyout', 'ed.key', '-out', 'ed.crt', '-subj', '/CN=ed', '-days', '30']);
openssl(['pkey', '-in', 'root.key', '-traditional', '-out', 'root.pkcs1']);
openssl(['pkey', '-in', 'root.key', '-pubout', '-out', 'root.pub']);
writeFileSync(join(dir, 'cas.pem'), text('root.crt') + text('int.crt')); // deliberately root first
writeFileSync(join(dir, 'chain.pem'), text('leaf.crt') + text('int.crt') + text('root.crt'));

const p12 = (out: string, args: string[]) => openssl(['pkcs12', '-export', '-out', out, ...args]);
p12('modern.p12', ['-inkey', 'leaf.key', '-in', 'leaf.crt', '-certfile', 'cas.pem', '-passout', 'pass:s3cret']);
p12('legacy.p12', ['-legacy', '-inkey', 'leaf.key', '-in', 'leaf.crt', '-certfile', 'cas.pem', '-passout', 'pass:s3cret']);
p12('descert.p12', ['-descert', '-inkey', 'root.key', '-in', 'root.crt', '-passout', 'pass:']);
p12('empty.p12', ['-inkey', 'int.key', '-in', 'int.crt', '-passout', 'pass:']);
p12('nomac.p12', ['-nomac', '-inkey', 'root.key', '-in', 'root.crt', '-passout', 'pass:']);
p12('nomacpw.p12', ['-nomac', '-inkey', 'root.key', '-in', 'root.crt', '-passout', 'pass:pw']);
p12('nocerts.p12', ['-nocerts', '-inkey', 'root.key', '-passout', 'pass:pw']);
p12('nokeys.p12', ['-nokeys', '-in', 'root.crt', '-passout', 'pass:pw']);
p12('ed.p12', ['-inkey', 'ed.key', '-in', 'ed.crt', '-passout', 'pass:pw']);
p12('unicode.p12', ['-inkey', 'leaf.key', '-in', 'leaf.crt', '-passout', 'pass:pässwörd✓']);
p12('sha512mac.p12', ['-macalg', 'sha512', '-inkey', 'leaf.key', '-in', 'leaf.crt', '-passout', 'pass:pw']);
writeFileSync(join(dir, 'msg'), 'the plaintext: p@ss w0rd');
for (const md of ['sha1', 'sha256', 'sha512']) {
  openssl(['pkeyutl', '-encrypt', '-pubin', '-inkey', 'root.pub', '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${md}`, '-in', 'msg', '-out', `msg.${md}`]);
}

/** The key as openssl normalises it to PKCS#8. */
const pkcs8 = (keyFile: string) => openssl(['pkcs8', '-topk8', '-nocrypt', '-in', keyFile]).toString();

const data: Record<string, string> = {
  modern: b64('modern.p12'), legacy: b64('legacy.p12'), descert: b64('descert.p12'), empty: b64('empty.p12'),
  nomac: b64('nomac.p12'), nomacpw: b64('nomacpw.p12'), nocerts: b64('nocerts.p12'), nokeys: b64('nokeys.p12'),
  ed: b64('ed.p12'), unicode: b64('unicode.p12'), sha512mac: b64('sha512mac.p12'),
  rootKey: text('root.key'), rootPkcs1: text('root.pkcs1'), rootCrt: text('root.crt'), intCrt: text('int.crt'),
  leafKey: text('leaf.key'), leafSec1: text('leaf.sec1'), leafCrt: text('leaf.crt'), edKey: text('ed.key'), edCrt: text('ed.crt'),
  chain: text('chain.pem'), cas: text('cas.pem'), leafAndRoot: text('leaf.crt') + text('root.crt'),
  withKey: text('leaf.crt') + text('leaf.key'), oaep1: b64('msg.sha1'), oaep256: b64('msg.sha256'), oaep512: b64('msg.sha512'),
};

function render(template: string, extra: Record<string, string> = {}): string {
  return parseTemplate('t', template).execute(esoData({ ...data, ...extra }));
}

test('pkcs12key / pkcs12cert extract what openssl put in', () => {
  for (const [p, pass] of [['modern', 's3cret'], ['legacy', 's3cret'], ['unicode', 'pässwörd✓'], ['sha512mac', 'pw']] as const) {
    assert.equal(render(`{{ .${p} | b64dec | pkcs12keyPass ${JSON.stringify(pass)} }}`), pkcs8('leaf.key'), p);
  }
  // chain order leaf → intermediate → root, although the file has root before the intermediate
  assert.equal(render('{{ .modern | b64dec | pkcs12certPass "s3cret" }}'), text('chain.pem'));
  assert.equal(render('{{ .legacy | b64dec | pkcs12certPass "s3cret" }}'), text('chain.pem'));
  assert.equal(render('{{ .descert | b64dec | pkcs12key }}'), pkcs8('root.key'));
  assert.equal(render('{{ .descert | b64dec | pkcs12cert }}'), text('root.crt'));
  assert.equal(render('{{ .empty | b64dec | pkcs12keyPass "" }}'), pkcs8('int.key'));
  assert.equal(render('{{ .nomac | b64dec | pkcs12key }}'), pkcs8('root.key'));
  assert.equal(render('{{ .ed | b64dec | pkcs12keyPass "pw" }}'), pkcs8('ed.key'));
});

test('PKCS#12 errors carry go-pkcs12 texts and no secret material', () => {
  const err = (t: string) => assert.throws(() => render(t), (e: Error) => {
    assert.doesNotMatch(e.message, /s3cret|PRIVATE KEY/);
    return true;
  });
  err('{{ .modern | b64dec | pkcs12keyPass "nope" }}');
  assert.throws(() => render('{{ .modern | b64dec | pkcs12keyPass "nope" }}'),
    /error calling pkcs12keyPass: unable to decode pkcs12 with password: pkcs12: decryption password incorrect$/);
  assert.throws(() => render('{{ .nocerts | b64dec | pkcs12keyPass "pw" }}'), /pkcs12: certificate missing$/);
  assert.throws(() => render('{{ .nokeys | b64dec | pkcs12certPass "pw" }}'), /unable to decode pkcs12 certificate with password: pkcs12: private key missing$/);
  assert.throws(() => render('{{ .nomacpw | b64dec | pkcs12keyPass "pw" }}'), /pkcs12: no MAC in data$/);
  assert.throws(() => render('{{ "not a pfx" | pkcs12key }}'), /pkcs12: error reading P12 data: asn1: /);
});

test('what Tessera writes, openssl reads back (go-pkcs12 Modern parameters)', () => {
  const cases: Array<[string, string, string, string]> = [
    // template, password, expected key file, expected certificates
    ['{{ pemToPkcs12 .leafCrt .leafKey }}', '', 'leaf.key', text('leaf.crt')],
    ['{{ pemToPkcs12Pass .rootCrt .rootPkcs1 "pw" }}', 'pw', 'root.key', text('root.crt')],
    ['{{ fullPemToPkcs12Pass .chain .leafSec1 "pässwörd" }}', 'pässwörd', 'leaf.key', text('chain.pem')],
    ['{{ fullPemToPkcs12 .edCrt .edKey }}', '', 'ed.key', text('ed.crt')],
  ];
  for (const [template, pass, keyFile, certs] of cases) {
    const pfx = Buffer.from(render(template), 'base64');
    writeFileSync(join(dir, 'out.p12'), pfx);
    const details = execFileSync('sh', ['-c', `openssl pkcs12 -in out.p12 -info -noout -passin pass:${pass} 2>&1`], { cwd: dir, encoding: 'utf8' });
    assert.match(details, /MAC: sha256, Iteration 2048/, template);
    assert.match(details, /PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256/);
    assert.match(details, /Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256/);
    const key = openssl(['pkcs12', '-in', 'out.p12', '-nocerts', '-nodes', '-passin', `pass:${pass}`]).toString();
    assert.equal(openssl(['pkcs8', '-topk8', '-nocrypt'], key).toString(), pkcs8(keyFile), template);
    const pem = openssl(['pkcs12', '-in', 'out.p12', '-nokeys', '-passin', `pass:${pass}`]).toString();
    const onlyCerts = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n/g)!.join('');
    assert.equal(onlyCerts, certs, template);
    // and Tessera reads its own output
    assert.equal(render(`{{ .p | b64dec | pkcs12keyPass ${JSON.stringify(pass)} }}`, { p: pfx.toString('base64') }), pkcs8(keyFile));
  }
});

test('trust stores: openssl reads them; friendly names are Go pkix.Name strings', () => {
  const ours = Buffer.from(render('{{ pemTruststoreToPKCS12Pass .cas "pw" }}'), 'base64');
  const [go] = runRef([{ name: 'ts', template: '{{ pemTruststoreToPKCS12Pass .cas "pw" }}', data: { cas: data['cas'] }, dataMode: 'eso' }]);
  assert.ok(go?.output, `Go failed: ${go?.error}`);
  const theirs = Buffer.from(Buffer.from(go.output, 'base64').toString(), 'base64');
  const names = (pfx: Buffer) => {
    writeFileSync(join(dir, 'ts.p12'), pfx);
    const out = execFileSync('sh', ['-c', 'openssl pkcs12 -in ts.p12 -info -nokeys -passin pass:pw 2>&1'], { cwd: dir, encoding: 'utf8' });
    return [...out.matchAll(/friendlyName: (.*)/g)].map((m) => m[1]);
  };
  assert.deepEqual(names(ours), names(theirs));
  assert.equal(names(ours).length, 2);
});

test('Go (ESO) reads what Tessera writes, and Tessera reads what Go writes', () => {
  const made = {
    full: render('{{ fullPemToPkcs12Pass .chain .leafKey "pw" }}'),
    single: render('{{ pemToPkcs12 .rootCrt .rootKey }}'),
  };
  const cases: DiffCase[] = [
    { name: 'g1', template: '{{ .full | b64dec | pkcs12keyPass "pw" }}{{ .full | b64dec | pkcs12certPass "pw" }}', data: made, dataMode: 'eso' },
    { name: 'g2', template: '{{ .single | b64dec | pkcs12key }}{{ .single | b64dec | pkcs12cert }}', data: made, dataMode: 'eso' },
    { name: 'g3', template: '{{ fullPemToPkcs12Pass .chain .leafKey "pw" }}', data, dataMode: 'eso' },
    { name: 'g4', template: '{{ pemToPkcs12 .edCrt .edKey }}', data, dataMode: 'eso' },
  ];
  const [g1, g2, g3, g4] = runRef(cases);
  const dec = (r: { output?: string; error?: string } | undefined) => {
    assert.ok(r?.output !== undefined, r?.error);
    return Buffer.from(r.output, 'base64').toString();
  };
  assert.equal(dec(g1), pkcs8('leaf.key') + text('chain.pem'));
  assert.equal(dec(g2), pkcs8('root.key') + text('root.crt'));
  assert.equal(render('{{ .p | b64dec | pkcs12keyPass "pw" }}{{ .p | b64dec | pkcs12certPass "pw" }}', { p: dec(g3) }), pkcs8('leaf.key') + text('chain.pem'));
  assert.equal(render('{{ .p | b64dec | pkcs12key }}', { p: dec(g4) }), pkcs8('ed.key'));
});

test('differential vs ESO (Go): PKCS#12, filterCertChain, rsaDecrypt', () => {
  const t: Array<[string, ('exact' | 'any')?]> = [];
  for (const p of ['modern', 'legacy']) {
    t.push([`{{ .${p} | b64dec | pkcs12keyPass "s3cret" }}`], [`{{ .${p} | b64dec | pkcs12certPass "s3cret" }}`]);
    t.push([`{{ .${p} | b64dec | pkcs12keyPass "wrong" }}`], [`{{ .${p} | b64dec | pkcs12certPass "" }}`]);
  }
  t.push(
    ['{{ .descert | b64dec | pkcs12key }}{{ .descert | b64dec | pkcs12cert }}'],
    ['{{ .empty | b64dec | pkcs12key }}'], ['{{ .nomac | b64dec | pkcs12key }}'], ['{{ .nomacpw | b64dec | pkcs12keyPass "pw" }}'],
    ['{{ .nocerts | b64dec | pkcs12keyPass "pw" }}'], ['{{ .nokeys | b64dec | pkcs12certPass "pw" }}'],
    ['{{ .ed | b64dec | pkcs12keyPass "pw" }}'], ['{{ .unicode | b64dec | pkcs12keyPass "pässwörd✓" }}'],
    ['{{ .sha512mac | b64dec | pkcs12keyPass "pw" }}'], ['{{ .modern | pkcs12key }}', 'any'], ['{{ "" | pkcs12key }}', 'any'],
    ['{{ pkcs12keyPass "\\U0001F600" "x" }}'],
  );
  for (const kind of ['leaf', 'intermediate', 'root', 'other']) {
    for (const input of ['chain', 'cas', 'leafAndRoot', 'rootCrt', 'leafCrt', 'edCrt']) t.push([`{{ filterCertChain ${JSON.stringify(kind)} .${input} }}`]);
  }
  t.push(['{{ filterCertChain "leaf" "" }}'], ['{{ filterCertChain "leaf" .withKey }}', 'any'], ['{{ filterCertChain "leaf" "junk" }}']);
  t.push(
    ['{{ pemToPkcs12 "" .leafKey }}'], ['{{ pemToPkcs12 .leafCrt "" }}'], ['{{ pemToPkcs12 .leafCrt .leafCrt }}'],
    ['{{ fullPemToPkcs12 (print .leafCrt "\\n") .leafKey }}'], ['{{ pemTruststoreToPKCS12 (print .cas "junk") }}'],
    ['{{ pemTruststoreToPKCS12 .withKey }}', 'any'], ['{{ pemToPkcs12 .leafCrt .leafKey | b64dec | pkcs12key }}'],
    ['{{ pemTruststoreToPKCS12 .cas | b64dec | pkcs12cert }}'],
  );
  for (const [c, md] of [['oaep1', 'SHA1'], ['oaep256', 'SHA256'], ['oaep256', 'None'], ['oaep512', 'SHA512'], ['oaep256', 'SHA1'], ['oaep256', 'MD5']]) {
    t.push([`{{ rsaDecrypt "RSA-OAEP" "${md}" (.${c} | b64dec) .rootKey }}`]);
  }
  t.push(
    ['{{ rsaDecrypt "RSA-OAEP" "SHA256" (.oaep256 | b64dec) .rootPkcs1 }}'], ['{{ rsaDecrypt "None" "x" "plain" "" }}'],
    ['{{ rsaDecrypt "RSA-PKCS1" "SHA256" "x" .rootKey }}'], ['{{ rsaDecrypt "RSA-OAEP" "SHA256" "x" "nope" }}'],
    ['{{ rsaDecrypt "RSA-OAEP" "SHA256" "x" .rootCrt }}'], ['{{ rsaDecrypt "RSA-OAEP" "SHA256" (.oaep256 | b64dec) .leafKey }}'],
    ['{{ rsaDecrypt "RSA-OAEP" "SHA256" "short" .rootKey }}'],
  );
  const cases: DiffCase[] = t.map(([template, errors], i) => ({ name: `p${i}`, template, data, dataMode: 'eso', errors: errors ?? 'exact' }));
  const go = runRef(cases);
  const failures: string[] = [];
  cases.forEach((c, i) => {
    const m = compare(c, renderTs(c), go[i]!);
    if (m) failures.push(describe(m));
  });
  console.log(`pkcs12 differential: ${cases.length - failures.length} of ${cases.length} match`);
  assert.deepEqual(failures, []);
});

test('getSecretKey is refused (it would read the cluster while rendering)', () => {
  assert.throws(() => render('{{ getSecretKey "s" "ns" "k" }}'), /error calling getSecretKey: getSecretKey reads Secrets from the cluster/);
});
