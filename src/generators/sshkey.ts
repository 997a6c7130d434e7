// The SSHKey generator: an RSA, ECDSA or Ed25519 key pair as ESO writes it, `privateKey` in
// OpenSSH's own format (-----BEGIN OPENSSH PRIVATE KEY-----, unencrypted) and `publicKey` in
// authorized_keys form ("ssh-ed25519 AAAA… comment\n").
//
// Why written here: Node exports PKCS#8/PKCS#1 PEM, not the openssh-key-v1 container, so the key
// is exported as JWK and its numbers packed as the format (PROTOCOL.key of OpenSSH) says. Keys are
// generated asynchronously (the thread pool), so a 4096-bit RSA key does not hold the event loop.
import { generateKeyPair, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { SSHKeySpec } from '../api/types.generated.ts';
import { MAX_RSA_BITS, MAX_SSH_COMMENT, MIN_RSA_BITS } from '../api/schema-generators.ts';
import { generatorErrors } from './errors.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

const CURVES: Readonly<Record<number, { nodeName: string; sshName: string }>> = {
  256: { nodeName: 'P-256', sshName: 'nistp256' },
  384: { nodeName: 'P-384', sshName: 'nistp384' },
  521: { nodeName: 'P-521', sshName: 'nistp521' },
};

/** SSH wire "string": uint32 length, then the bytes. */
function sshString(b: Uint8Array | string): Buffer {
  const bytes = typeof b === 'string' ? Buffer.from(b, 'utf8') : Buffer.from(b);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

/** SSH wire "mpint" of a positive integer given big-endian (JWK's base64url numbers). */
function mpint(b64url: string | undefined): Buffer {
  let b = Buffer.from(b64url ?? '', 'base64url');
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  b = b.subarray(i);
  if (b.length > 0 && (b[0]! & 0x80) !== 0) b = Buffer.concat([Buffer.from([0]), b]);
  return sshString(b);
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

interface KeyParts {
  type: string;
  /** The public key blob (authorized_keys' base64 part). */
  publicBlob: Buffer;
  /** The private fields after the key type, as openssh-key-v1 lists them. */
  privateFields: Buffer;
}

function rsaParts(jwk: JsonWebKey): KeyParts {
  const type = 'ssh-rsa';
  return {
    type,
    publicBlob: Buffer.concat([sshString(type), mpint(jwk.e), mpint(jwk.n)]),
    privateFields: Buffer.concat([mpint(jwk.n), mpint(jwk.e), mpint(jwk.d), mpint(jwk.qi), mpint(jwk.p), mpint(jwk.q)]),
  };
}

function ecdsaParts(jwk: JsonWebKey, curve: string): KeyParts {
  const type = `ecdsa-sha2-${curve}`;
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]);
  return {
    type,
    publicBlob: Buffer.concat([sshString(type), sshString(curve), sshString(point)]),
    privateFields: Buffer.concat([sshString(curve), sshString(point), mpint(jwk.d)]),
  };
}

function ed25519Parts(jwk: JsonWebKey): KeyParts {
  const type = 'ssh-ed25519';
  const pub = Buffer.from(jwk.x ?? '', 'base64url');
  const seed = Buffer.from(jwk.d ?? '', 'base64url');
  return {
    type,
    publicBlob: Buffer.concat([sshString(type), sshString(pub)]),
    privateFields: Buffer.concat([sshString(pub), sshString(Buffer.concat([seed, pub]))]),
  };
}

/** The openssh-key-v1 container, unencrypted, PEM-armoured with 64-column lines as Go's pem package writes. */
export function opensshPrivateKey(parts: KeyParts, comment: string): string {
  const check = randomBytes(4);
  let section = Buffer.concat([check, check, sshString(parts.type), parts.privateFields, sshString(comment)]);
  const pad: number[] = [];
  for (let i = 1; (section.length + pad.length) % 8 !== 0; i++) pad.push(i);
  section = Buffer.concat([section, Buffer.from(pad)]);
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'), sshString('none'), sshString(''),
    uint32(1),
    sshString(parts.publicBlob),
    sshString(section),
  ]).toString('base64');
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

export function authorizedKey(parts: KeyParts, comment: string): string {
  return `${parts.type} ${parts.publicBlob.toString('base64')}${comment ? ` ${comment}` : ''}\n`;
}

async function keyParts(spec: SSHKeySpec | undefined, field: string): Promise<KeyParts> {
  const keyType = spec?.keyType ?? 'rsa';
  const jwkOf = (k: KeyObject) => k.export({ format: 'jwk' });
  switch (keyType) {
    case 'rsa': {
      const bits = spec?.keySize ?? 2048;
      // ESO admits 256–8192; keys under 2048 bits are breakable and 8192-bit ones take the
      // thread pool for tens of seconds, so this build makes 2048–4096.
      if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) throw generatorErrors.invalidSpec(`${field}.keySize`, `RSA keys of ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits are supported (got ${bits})`);
      const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: bits, publicExponent: 65537 });
      return rsaParts(jwkOf(privateKey));
    }
    case 'ecdsa': {
      // ESO falls back to P-256 for any other size.
      const curve = CURVES[spec?.keySize ?? 256] ?? CURVES[256]!;
      const { privateKey } = await generateKeyPairAsync('ec', { namedCurve: curve.nodeName });
      return ecdsaParts(jwkOf(privateKey), curve.sshName);
    }
    case 'ed25519': {
      const { privateKey } = await generateKeyPairAsync('ed25519');
      return ed25519Parts(jwkOf(privateKey));
    }
    default:
      throw generatorErrors.invalidSpec(`${field}.keyType`, `unsupported key type ${JSON.stringify(keyType)}`);
  }
}

export async function generateSshKey(spec: SSHKeySpec | undefined, field = 'spec'): Promise<Record<string, Uint8Array>> {
  const comment = spec?.comment ?? '';
  if (comment.length > MAX_SSH_COMMENT || /[\r\n]/.test(comment)) throw generatorErrors.invalidSpec(`${field}.comment`, `must be one line of at most ${MAX_SSH_COMMENT} characters`);
  const parts = await keyParts(spec, field);
  return { privateKey: Buffer.from(opensshPrivateKey(parts, comment)), publicKey: Buffer.from(authorizedKey(parts, comment)) };
}
