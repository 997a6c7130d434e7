// The random outputs of ESO 2.9's sprig crypto functions, checked for structure (the differential
// suite compares their deterministic parts with Go): bcrypt and htpasswd hashes verify with an
// independent bcrypt implementation; certificates parse with node:crypto and carry the CA flag,
// SANs, key types and signatures sprig gives them. Then the cost side: keys a tenant hands in are
// capped, and hostile loops of these functions end at the worker's time budget.
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import bcryptjs from 'bcryptjs';
import { parseTemplate, esoData } from '../../../src/template/index.ts';
import { createDesiredSecretCompute } from '../../../src/compute/index.ts';
import type { SyncError } from '../../../src/sync/errors.ts';
import { anExternalSecret, remote, withData, withTemplate } from '../../fixtures/builders.ts';
import { MAX_TENANT_RSA_BITS } from '../../../src/template/funcs/certgen.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/template/${name}`, import.meta.url), 'utf8');

function render(template: string, data: Record<string, string> = {}): string {
  return parseTemplate('t', template, { missingKey: 'error', library: 'eso' }).executeBytes(esoData(data)).toString('utf8');
}

/** Renders a template that prints a certificate's Cert and Key separated by "|". */
function pair(template: string, data: Record<string, string> = {}): { cert: X509Certificate; certPem: string; keyPem: string } {
  const [certPem, keyPem] = render(template, data).split('|') as [string, string];
  return { cert: new X509Certificate(certPem), certPem, keyPem };
}

describe('bcrypt and htpasswd', () => {
  test('bcrypt gives a Go-style $2a$ hash at cost 10 that verifies, salted anew each call', () => {
    const a = render('{{ bcrypt .p }}', { p: 'correct horse ✓' });
    const b = render('{{ bcrypt .p }}', { p: 'correct horse ✓' });
    assert.match(a, /^\$2a\$10\$[./A-Za-z0-9]{53}$/);
    assert.notEqual(a, b, 'a new salt per call');
    assert.ok(bcryptjs.compareSync('correct horse ✓', a));
    assert.ok(!bcryptjs.compareSync('correct horse', a));
  });

  test('htpasswd: bcrypt (the default) verifies, {SHA} is base64 of SHA-1, a colon in the user is refused', () => {
    const line = render('{{ htpasswd .u .p "bcrypt" }}', { u: 'alice', p: 's3cret' });
    const [user, hash] = line.split(':') as [string, string];
    assert.equal(user, 'alice');
    assert.ok(bcryptjs.compareSync('s3cret', hash));
    assert.equal(render('{{ htpasswd "bob" "pw" "sha" }}'), `bob:{SHA}${createHash('sha1').update('pw').digest('base64')}`);
    assert.equal(render('{{ htpasswd "a:b" "pw" "sha" }}'), 'invalid username: a:b');
  });

  test('ESO\'s literal-template example: an htpasswd file of several users', () => {
    const tpl = '{{- $creds := list }}{{- range $user, $pw := . }}{{- $creds = append $creds (printf "%s" (htpasswd $user $pw "bcrypt")) }}{{- end }}{{ join "\\n" $creds }}';
    const lines = render(tpl, { ann: 'pw-a', bo: 'pw-b' }).split('\n');
    assert.deepEqual(lines.map((l) => l.split(':')[0]), ['ann', 'bo']);
    assert.ok(bcryptjs.compareSync('pw-a', lines[0]!.slice('ann:'.length)));
    assert.ok(bcryptjs.compareSync('pw-b', lines[1]!.slice('bo:'.length)));
  });
});

describe('certificates', () => {
  test('genCA: a self-signed RSA 2048 CA with keyCertSign, a SubjectKeyId, valid for the days asked', () => {
    const { cert, keyPem } = pair('{{ $ca := genCA "Example Root" 365 }}{{ $ca.Cert }}|{{ $ca.Key }}');
    assert.equal(cert.ca, true);
    assert.equal(cert.subject, 'CN=Example Root');
    assert.equal(cert.issuer, 'CN=Example Root');
    assert.ok(cert.verify(cert.publicKey), 'self-signed');
    assert.match(keyPem, /^-----BEGIN RSA PRIVATE KEY-----\n/);
    const key = createPrivateKey(keyPem);
    assert.equal(key.asymmetricKeyType, 'rsa');
    assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048);
    assert.ok(cert.checkPrivateKey(key));
    assert.equal(cert.serialNumber.length >= 30, true, '128-bit random serial');
    const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
    assert.equal(Math.round(days), 365);
    assert.ok(Date.parse(cert.validFrom) <= Date.now() + 1000);
    // sprig's extended key usages: server and client authentication.
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  });

  test('genSignedCert: a leaf signed by the CA, with its DNS and IP SANs, not a CA; certSANs reads them back', () => {
    const tpl = '{{ $ca := genCA "ca" 30 }}{{ $c := genSignedCert "svc.ns" (list "10.0.0.7" "2001:db8::5") (list "svc.ns.svc" "svc.ns") 7 $ca }}{{ $c.Cert }}|{{ $c.Key }}|{{ $ca.Cert }}|{{ $c.Cert | certSANs | join "," }}';
    const [leafPem, keyPem, caPem, sans] = render(tpl).split('|') as [string, string, string, string];
    const leaf = new X509Certificate(leafPem);
    const ca = new X509Certificate(caPem);
    assert.equal(leaf.ca, false);
    assert.ok(leaf.checkIssued(ca));
    assert.ok(leaf.verify(ca.publicKey));
    assert.ok(!leaf.verify(leaf.publicKey));
    assert.equal(leaf.subject, 'CN=svc.ns');
    assert.equal(leaf.subjectAltName, 'DNS:svc.ns.svc, DNS:svc.ns, IP Address:10.0.0.7, IP Address:2001:DB8:0:0:0:0:0:5');
    assert.equal(sans, 'svc.ns.svc,svc.ns,10.0.0.7,2001:db8::5');
    assert.ok(leaf.checkPrivateKey(createPrivateKey(keyPem)));
    assert.ok(leaf.checkHost('svc.ns.svc'));
    assert.equal(leaf.checkIP('10.0.0.7'), '10.0.0.7');
  });

  test('genSelfSignedCert and the WithKey forms: EC and Ed25519 keys sign with their own algorithms', () => {
    const ec = pair('{{ $k := genPrivateKey "ecdsa" }}{{ $c := genSelfSignedCertWithKey "ec.example" nil (list "ec.example") 2 $k }}{{ $c.Cert }}|{{ $c.Key }}');
    assert.equal(ec.cert.ca, false);
    assert.equal(ec.cert.publicKey.asymmetricKeyType, 'ec');
    assert.ok(ec.cert.verify(ec.cert.publicKey));
    assert.match(ec.keyPem, /^-----BEGIN EC PRIVATE KEY-----\n/);
    const ed = pair('{{ $c := genCAWithKey "ed" 2 (genPrivateKey "ed25519") }}{{ $c.Cert }}|{{ $c.Key }}');
    assert.equal(ed.cert.ca, true);
    assert.equal(ed.cert.publicKey.asymmetricKeyType, 'ed25519');
    assert.ok(ed.cert.verify(ed.cert.publicKey));
    const rsa = pair('{{ $c := genSelfSignedCert "" (list "192.0.2.1") nil 1 }}{{ $c.Cert }}|{{ $c.Key }}');
    assert.ok(!rsa.cert.subject, 'an empty subject');
    assert.equal(rsa.cert.subjectAltName, 'IP Address:192.0.2.1');
    // The leaf of an EC CA, with a given RSA key.
    const tpl = '{{ $ca := genCAWithKey "ec-ca" 1 (genPrivateKey "ecdsa") }}{{ $c := genSignedCertWithKey "x" nil (list "x.test") 1 $ca (genPrivateKey "rsa") }}{{ $c.Cert }}|{{ $ca.Cert }}';
    const [leafPem, caPem] = render(tpl).split('|') as [string, string];
    assert.ok(new X509Certificate(leafPem).verify(new X509Certificate(caPem).publicKey));
  });

  test('genSignedCert refuses a CA whose key does not match its certificate', () => {
    const a = pair('{{ $c := genCA "a" 1 }}{{ $c.Cert }}|{{ $c.Key }}');
    const b = pair('{{ $c := genCA "b" 1 }}{{ $c.Cert }}|{{ $c.Key }}');
    assert.throws(
      () => render('{{ genSignedCert "x" nil nil 1 (buildCustomCert (b64enc .c) (b64enc .k)) }}', { c: a.certPem, k: b.keyPem }),
      /error calling genSignedCert: error creating certificate: x509: provided PrivateKey doesn't match parent's PublicKey/,
    );
  });

  test(`a tenant's RSA key above ${MAX_TENANT_RSA_BITS} bits is refused with a clear message; ${MAX_TENANT_RSA_BITS} itself is accepted`, () => {
    assert.throws(() => render('{{ genCAWithKey "x" 1 .k }}', { k: fixture('rsa-9216.pem') }), new RegExp(`error calling genCAWithKey: parsing private key: RSA keys above ${MAX_TENANT_RSA_BITS} bits are refused by Tessera \\(this one has 9216\\)`));
    const ok = pair('{{ $c := genCAWithKey "x" 1 .k }}{{ $c.Cert }}|{{ $c.Key }}', { k: fixture('rsa-8192.pem') });
    assert.equal(ok.cert.publicKey.asymmetricKeyDetails?.modulusLength, 8192);
  });
});

describe('the worker budget holds against loops of expensive crypto', () => {
  const timeoutMs = 1500;
  const compute = createDesiredSecretCompute({ workers: 1, timeoutMs, memoryLimitMb: 48 });
  after(() => compute.close());
  const fetched = { data: [remote('unused')], dataFrom: [] };
  const es = (t: string) => anExternalSecret(withData('password', 'db/password'), withTemplate({ data: { k: t } }));

  for (const [name, template] of [
    ['bcrypt', '{{ range until 100000 }}{{ bcrypt "x" | len }}{{ end }}'],
    ['htpasswd', '{{ range until 100000 }}{{ htpasswd "u" "x" "bcrypt" | len }}{{ end }}'],
    ['genCA', '{{ range until 100000 }}{{ (genCA "x" 1).Cert | len }}{{ end }}'],
    ['genSignedCertWithKey with the largest key allowed', `{{ $ca := genCAWithKey "ca" 1 ${JSON.stringify(fixture('rsa-8192.pem'))} }}{{ range until 100000 }}{{ (genSignedCertWithKey "x" nil nil 1 $ca (genPrivateKey "ecdsa")).Cert | len }}{{ end }}`],
  ] as const) {
    test(`${name} in a loop ends at the time budget, and the pool carries on`, async () => {
      const t0 = performance.now();
      const r = await compute.computeDesiredSecret({ externalSecret: es(template), fetched });
      const took = performance.now() - t0;
      assert.equal(r.ok, false);
      const e = (r as { ok: false; error: SyncError }).error;
      assert.equal(e.code, 'ComputeBudgetExceeded');
      assert.equal(e.message, `compute budget exceeded: time limit ${timeoutMs}ms (--template-timeout)`);
      // A worker starts anew after each kill; allow for that and a busy machine, not for more.
      assert.ok(took < timeoutMs + 5000, `ended after ${Math.round(took)} ms`);
      const ok = await compute.computeDesiredSecret({ externalSecret: es('{{ bcrypt "x" | len }}'), fetched });
      assert.equal(ok.ok, true);
    });
  }
});
