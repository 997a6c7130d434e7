// The MFA generator: a TOTP code (RFC 6238) from a base32 seed kept in a Secret of the
// ExternalSecret's namespace. Output keys as ESO's: `token` (the code) and `timeLeft` (seconds
// until the code's period ends).
//
// ESO 2.9 accepts spec.algorithm but never applies it (its codes are always HMAC-SHA1); Tessera
// applies it, so a seed enrolled for SHA-256 yields the codes its authenticator shows. Absent, it
// is SHA-1 as in ESO and the RFC.
import { createHmac } from 'node:crypto';
import type { MFASpec } from '../api/types.generated.ts';
import { MAX_TOTP_DIGITS } from '../api/schema-generators.ts';
import { generatorErrors } from './errors.ts';

const HASHES: Readonly<Record<string, string>> = {
  sha1: 'sha1', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512', sha512_256: 'sha512-256',
};
/** A seed longer than this is not a TOTP seed (RFC 4226 recommends 160 bits). */
const MAX_SEED_CHARS = 1024;

export interface TotpOptions {
  seed: string;
  digits?: number | undefined;
  periodSeconds?: number | undefined;
  algorithm?: string | undefined;
  /** Milliseconds since the epoch. */
  at: number;
}

/** Base32 without padding, as ESO decodes a seed (spaces removed, upper-cased). */
export function decodeBase32Seed(seed: string, field: string): Buffer {
  const clean = seed.replace(/ /g, '').toUpperCase().replace(/=+$/, '');
  if (clean.length > MAX_SEED_CHARS) throw generatorErrors.invalidSpec(field, `the seed is longer than ${MAX_SEED_CHARS} characters`);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const c of clean) {
    const v = alphabet.indexOf(c);
    // The message names the field only: the seed is a secret.
    if (v < 0) throw generatorErrors.invalidSpec(field, 'the seed is not base32');
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

/** RFC 6238 TOTP: the code and the seconds left in its period. */
export function totp(o: TotpOptions, field = 'spec'): { token: string; timeLeft: number } {
  const digits = o.digits && o.digits > 0 ? o.digits : 6;
  const period = o.periodSeconds && o.periodSeconds > 0 ? o.periodSeconds : 30;
  if (digits > MAX_TOTP_DIGITS) throw generatorErrors.invalidSpec(`${field}.length`, `must be at most ${MAX_TOTP_DIGITS}`);
  const algorithm = (o.algorithm ?? 'sha1').toLowerCase();
  const hash = HASHES[algorithm];
  if (!hash) throw generatorErrors.invalidSpec(`${field}.algorithm`, `${JSON.stringify(o.algorithm)} is not one of ${Object.keys(HASHES).join(', ')}`);
  const seconds = Math.floor(o.at / 1000);
  const counter = Math.floor(seconds / period);
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const sum = createHmac(hash, decodeBase32Seed(o.seed, `${field}.secret`)).update(msg).digest();
  const offset = sum[sum.length - 1]! & 0xf;
  const value = ((sum[offset]! & 0x7f) << 24) | (sum[offset + 1]! << 16) | (sum[offset + 2]! << 8) | sum[offset + 3]!;
  const token = String(value % 10 ** digits).padStart(digits, '0');
  return { token, timeLeft: period - (seconds % period) };
}

export function mfaOutput(spec: MFASpec, seed: string, now: number, field = 'spec'): Record<string, Uint8Array> {
  const at = spec.when ? Date.parse(spec.when) : now;
  if (Number.isNaN(at)) throw generatorErrors.invalidSpec(`${field}.when`, 'is not an RFC 3339 time');
  const { token, timeLeft } = totp({ seed, digits: spec.length, periodSeconds: spec.timePeriod, algorithm: spec.algorithm, at }, field);
  return { token: Buffer.from(token), timeLeft: Buffer.from(String(timeLeft)) };
}
