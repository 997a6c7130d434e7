// TOTP as RFC 6238 defines it (Appendix B test vectors), with ESO's output keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { base32 } from '../../../src/generators/password.ts';
import { mfaOutput, totp } from '../../../src/generators/mfa.ts';

// The RFC's seeds: ASCII "12345678901234567890" repeated to the hash's size.
const seed = (n: number) => base32(Buffer.from('12345678901234567890'.repeat(4).slice(0, n))).replace(/=+$/, '');
const SHA1 = seed(20);
const SHA256 = seed(32);
const SHA512 = seed(64);

const vectors: Array<[number, string, string, string]> = [
  // time (s), SHA1, SHA256, SHA512 (8 digits)
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
];

test('RFC 6238 Appendix B vectors for SHA-1, SHA-256 and SHA-512', () => {
  for (const [t, s1, s256, s512] of vectors) {
    assert.equal(totp({ seed: SHA1, digits: 8, at: t * 1000 }).token, s1, `SHA1 at ${t}`);
    assert.equal(totp({ seed: SHA256, digits: 8, algorithm: 'sha256', at: t * 1000 }).token, s256, `SHA256 at ${t}`);
    assert.equal(totp({ seed: SHA512, digits: 8, algorithm: 'SHA512', at: t * 1000 }).token, s512, `SHA512 at ${t}`);
  }
});

test('ESO defaults: 6 digits, 30 s period; timeLeft counts down within the period', () => {
  const r = totp({ seed: SHA1, at: 59_000 });
  assert.equal(r.token, '287082');
  assert.equal(r.timeLeft, 1);
  assert.equal(totp({ seed: SHA1, at: 60_000 }).timeLeft, 30);
});

test('a seed written with spaces and in lower case is the same seed (as ESO cleans it)', () => {
  const spaced = SHA1.toLowerCase().replace(/(.{4})/g, '$1 ');
  assert.equal(totp({ seed: spaced, digits: 8, at: 59_000 }).token, '94287082');
});

test('output keys token and timeLeft; when pins the time', () => {
  const out = mfaOutput({ secret: { name: 's', key: 'k' }, length: 8, when: '2009-02-13T23:31:30Z' }, SHA1, 0);
  assert.equal(Buffer.from(out['token']!).toString(), '89005924');
  assert.equal(Buffer.from(out['timeLeft']!).toString(), '30');
});

test('a bad seed or algorithm is refused without quoting the seed', () => {
  assert.throws(() => totp({ seed: 'not base32 !!', at: 0 }), (e: Error) => /spec\.secret: the seed is not base32/.test(e.message) && !e.message.includes('!!'));
  assert.throws(() => totp({ seed: SHA1, algorithm: 'md5', at: 0 }), /spec\.algorithm/);
});
