// Sprig's password hashes, which ESO 2.9 keeps (its literal-template example writes an htpasswd
// file with them): bcrypt at Go's DefaultCost and htpasswd in bcrypt or {SHA} form.
// The cost is sprig's fixed 10, not a template argument, so a tenant cannot ask for a dearer
// hash; a template calling bcrypt in a loop is stopped by the worker's time budget (src/compute),
// as any other long render is.
import { createHash } from 'node:crypto';
import bcryptjs from 'bcryptjs';
import { strBytes } from '../values.ts';
import type { GoBytes } from '../values.ts';

/** golang.org/x/crypto/bcrypt.DefaultCost, which sprig passes. */
export const BCRYPT_COST = 10;
/** Go's bcrypt refuses longer passwords (ErrPasswordTooLong) rather than cutting them. */
const BCRYPT_MAX_PASSWORD_BYTES = 72;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** sprig's bcrypt: the hash, or (as sprig returns errors) a message in its place. */
export function bcrypt(input: string | GoBytes): string {
  const bytes = strBytes(input);
  if (bytes.length > BCRYPT_MAX_PASSWORD_BYTES) return 'failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes';
  // bcryptjs hashes the UTF-8 bytes of a JS string, so bytes that are not UTF-8 (Go hashes any
  // bytes) cannot be passed through it; such a password gets a message, as sprig's errors do.
  let password: string;
  try {
    password = strictUtf8.decode(bytes);
  } catch {
    return 'failed to encrypt string with bcrypt: Tessera hashes only UTF-8 passwords';
  }
  const hash = bcryptjs.hashSync(password, bcryptjs.genSaltSync(BCRYPT_COST));
  // Go writes the "2a" variant; for passwords of at most 72 bytes "2a" and "2b" hash alike.
  return hash.replace(/^\$2b\$/, '$2a$');
}

/** sprig's htpasswd: "user:{SHA}base64(sha1)" for "sha", "user:bcrypt" otherwise. */
export function htpasswd(username: string, password: string | GoBytes, hashAlgorithm: string): string {
  if (username.includes(':')) return `invalid username: ${username}`;
  if (hashAlgorithm === 'sha') return `${username}:{SHA}${createHash('sha1').update(strBytes(password)).digest('base64')}`;
  return `${username}:${bcrypt(password)}`;
}
