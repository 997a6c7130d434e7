// PKCS#12 as ESO uses it (software.sslmate.com/src/go-pkcs12): DecodeChain for pkcs12key /
// pkcs12cert, Modern(2023).Encode for pemToPkcs12 / fullPemToPkcs12 and
// Modern.EncodeTrustStore for pemTruststoreToPKCS12. Error texts are go-pkcs12's.
//
// Crypto comes from node:crypto (AES, 3DES, PBKDF2, HMAC); RC2 (used by PKCS#12 files made by
// OpenSSL < 3 and Java) from node-forge, since OpenSSL 3 only has it in the legacy provider.

import { createCipheriv, createDecipheriv, createHash, createHmac, createPrivateKey, pbkdf2Sync, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import forge from 'node-forge';
import {
  Asn1Error, bmpString as derBmpString, children, concat, expect, explicit, implicitPrimitive, integer, nullValue,
  octets, oid, parseOne, readInt, readOctets, readOid, seq, seqOf, set, TAG,
} from './der.ts';
import type { Tlv } from './der.ts';
import { nameString, parseCertificates } from './x509.ts';
import type { Cert } from './x509.ts';

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  localKeyId: '1.2.840.113549.1.9.21',
  friendlyName: '1.2.840.113549.1.9.20',
  javaTrustStore: '2.16.840.1.113894.746875.1.1',
  anyExtendedKeyUsage: '2.5.29.37.0',
  pbeSha3DES: '1.2.840.113549.1.12.1.3',
  pbeSha128RC2: '1.2.840.113549.1.12.1.5',
  pbeSha40RC2: '1.2.840.113549.1.12.1.6',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  pbmac1: '1.2.840.113549.1.5.14',
  hmacSHA1: '1.2.840.113549.2.7',
  hmacSHA256: '1.2.840.113549.2.9',
  hmacSHA512: '1.2.840.113549.2.11',
  aes128: '2.16.840.1.101.3.4.1.2',
  aes192: '2.16.840.1.101.3.4.1.22',
  aes256: '2.16.840.1.101.3.4.1.42',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha512: '2.16.840.1.101.3.4.2.3',
} as const;

export class Pkcs12Error extends Error {}
const notImplemented = (s: string) => new Pkcs12Error(`pkcs12: ${s}`);
const errIncorrectPassword = () => new Pkcs12Error('pkcs12: decryption password incorrect');
const errDecryption = () => new Pkcs12Error('pkcs12: decryption error, incorrect padding');

// ---------------------------------------------------------------- passwords

/** UCS-2 big endian, NUL-terminated (RFC 7292 B.1). */
export function bmpPassword(password: string): Uint8Array {
  const out = new Uint8Array(password.length * 2 + 2);
  for (let i = 0; i < password.length; i++) {
    const c = password.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) throw new Pkcs12Error('pkcs12: string contains characters that cannot be encoded in UCS-2');
    out[2 * i] = c >> 8;
    out[2 * i + 1] = c & 0xff;
  }
  return out;
}

function bmpToUtf8(bmp: Uint8Array): Uint8Array {
  let end = bmp.length;
  if (end >= 2 && bmp[end - 1] === 0 && bmp[end - 2] === 0) end -= 2;
  let s = '';
  for (let i = 0; i + 1 < end; i += 2) s += String.fromCharCode((bmp[i]! << 8) | bmp[i + 1]!);
  return Buffer.from(s, 'utf8');
}

// ---------------------------------------------------------------- RFC 7292 appendix B KDF

function fillWithRepeats(pattern: Uint8Array, v: number): Uint8Array {
  if (pattern.length === 0) return new Uint8Array();
  const outLen = v * Math.ceil(pattern.length / v);
  const out = new Uint8Array(outLen);
  for (let i = 0; i < outLen; i++) out[i] = pattern[i % pattern.length]!;
  return out;
}

export function pkcs12Kdf(hash: 'sha1' | 'sha256' | 'sha512', u: number, v: number, salt: Uint8Array, password: Uint8Array, r: number, id: number, size: number): Uint8Array {
  const D = new Uint8Array(v).fill(id);
  const I = concat([fillWithRepeats(salt, v), fillWithRepeats(password, v)]);
  const c = Math.ceil(size / u);
  const A = new Uint8Array(c * u);
  for (let i = 0; i < c; i++) {
    let Ai: Uint8Array = createHash(hash).update(D).update(I).digest();
    for (let j = 1; j < r; j++) Ai = createHash(hash).update(Ai).digest();
    A.set(Ai, i * u);
    if (i < c - 1) {
      const B = new Uint8Array(v);
      for (let k = 0; k < v; k++) B[k] = Ai[k % Ai.length]!;
      for (let j = 0; j < I.length / v; j++) {
        // I_j = (I_j + B + 1) mod 2^(8v)
        let carry = 1;
        for (let k = v - 1; k >= 0; k--) {
          const x = I[j * v + k]! + B[k]! + carry;
          I[j * v + k] = x & 0xff;
          carry = x >> 8;
        }
      }
    }
  }
  return A.subarray(0, size);
}

// ---------------------------------------------------------------- PBE

interface AlgorithmIdentifier {
  oid: string;
  params: Tlv | undefined;
}

function readAlgId(t: Tlv | undefined, what: string): AlgorithmIdentifier {
  const parts = seqOf(t, what);
  return { oid: readOid(parts[0], what), params: parts[1] };
}

function pbeParams(alg: AlgorithmIdentifier): { salt: Uint8Array; iterations: number } {
  const parts = seqOf(alg.params, 'pbeParams');
  return { salt: readOctets(parts[0], 'salt'), iterations: readInt(parts[1], 'iterations') };
}

interface BlockCipher {
  blockSize: number;
  run(encrypt: boolean, data: Uint8Array): Uint8Array; // CBC without padding
}

function nodeCipher(name: string, key: Uint8Array, iv: Uint8Array, blockSize: number): BlockCipher {
  return {
    blockSize,
    run(encrypt, data) {
      const c = encrypt ? createCipheriv(name, key, iv) : createDecipheriv(name, key, iv);
      c.setAutoPadding(false);
      return concat([c.update(data), c.final()]);
    },
  };
}

function rc2Cipher(key: Uint8Array, iv: Uint8Array): BlockCipher {
  return {
    blockSize: 8,
    run(encrypt, data) {
      const bin = (b: Uint8Array) => forge.util.createBuffer(Buffer.from(b).toString('binary'));
      const keyBuf = bin(key);
      const c = encrypt ? forge.rc2.createEncryptionCipher(keyBuf, key.length * 8) : forge.rc2.createDecryptionCipher(keyBuf, key.length * 8);
      c.start(bin(iv), null as unknown as forge.util.ByteBuffer);
      c.update(bin(data));
      c.finish(() => true);
      return new Uint8Array(Buffer.from(c.output.getBytes(), 'binary'));
    },
  };
}

function pbes2Cipher(alg: AlgorithmIdentifier, password: Uint8Array): BlockCipher {
  const [kdf, scheme] = seqOf(alg.params, 'pbes2Params');
  const kdfAlg = readAlgId(kdf, 'pbes2 kdf');
  if (kdfAlg.oid !== OID.pbkdf2) throw notImplemented(`pbes2 kdf algorithm ${kdfAlg.oid} is not supported`);
  const kp = seqOf(kdfAlg.params, 'pbkdf2Params');
  if (!kp[0] || kp[0].cls !== 0 || kp[0].tag !== TAG.OCTET_STRING) throw notImplemented('only octet string salts are supported for pbes2/pbkdf2');
  const salt = kp[0].body;
  const iterations = readInt(kp[1], 'iterations');
  let prfOid: string | undefined;
  for (const el of kp.slice(2)) if (el.cls === 0 && el.tag === TAG.SEQUENCE) prfOid = readAlgId(el, 'prf').oid;
  const prf = prfOid === undefined || prfOid === OID.hmacSHA1 ? 'sha1'
    : prfOid === OID.hmacSHA256 ? 'sha256' : prfOid === OID.hmacSHA512 ? 'sha512' : undefined;
  if (!prf) throw notImplemented(`pbes2 prf ${prfOid} is not supported`);
  const enc = readAlgId(scheme, 'pbes2 encryption scheme');
  const keyLen = enc.oid === OID.aes256 ? 32 : enc.oid === OID.aes192 ? 24 : enc.oid === OID.aes128 ? 16 : 0;
  if (!keyLen) throw notImplemented(`pbes2 algorithm ${enc.oid} is not supported`);
  const iv = enc.params?.body ?? new Uint8Array();
  if (iv.length !== 16) {
    throw new Pkcs12Error(`pkcs12: invalid IV length in PBES2 encryption scheme (IV length ${iv.length} does not match block size 16)`);
  }
  // RFC 8018 wants UTF-8 passwords for PBES2 (go-pkcs12 and OpenSSL agree).
  const key = pbkdf2Sync(bmpToUtf8(password), salt, iterations, keyLen, prf);
  return nodeCipher(`aes-${keyLen * 8}-cbc`, key, iv, 16);
}

function pbeCipher(alg: AlgorithmIdentifier, password: Uint8Array): BlockCipher {
  switch (alg.oid) {
    case OID.pbeSha3DES: {
      const p = pbeParams(alg);
      const key = pkcs12Kdf('sha1', 20, 64, p.salt, password, p.iterations, 1, 24);
      const iv = pkcs12Kdf('sha1', 20, 64, p.salt, password, p.iterations, 2, 8);
      return nodeCipher('des-ede3-cbc', key, iv, 8);
    }
    case OID.pbeSha128RC2: case OID.pbeSha40RC2: {
      const p = pbeParams(alg);
      const key = pkcs12Kdf('sha1', 20, 64, p.salt, password, p.iterations, 1, alg.oid === OID.pbeSha40RC2 ? 5 : 16);
      const iv = pkcs12Kdf('sha1', 20, 64, p.salt, password, p.iterations, 2, 8);
      return rc2Cipher(key, iv);
    }
    case OID.pbes2:
      return pbes2Cipher(alg, password);
  }
  throw notImplemented(`pbe algorithm ${alg.oid} is not supported`);
}

function pbDecrypt(alg: AlgorithmIdentifier, encrypted: Uint8Array, password: Uint8Array): Uint8Array {
  const cipher = pbeCipher(alg, password);
  if (encrypted.length === 0) throw new Pkcs12Error('pkcs12: empty encrypted data');
  if (encrypted.length % cipher.blockSize !== 0) throw new Pkcs12Error('pkcs12: input is not a multiple of the block size');
  const dec = cipher.run(false, encrypted);
  const psLen = dec[dec.length - 1]!;
  if (psLen === 0 || psLen > cipher.blockSize || dec.length < psLen) throw errDecryption();
  for (let i = dec.length - psLen; i < dec.length; i++) if (dec[i] !== psLen) throw errDecryption();
  return dec.subarray(0, dec.length - psLen);
}

function pbEncrypt(cipher: BlockCipher, data: Uint8Array): Uint8Array {
  const psLen = cipher.blockSize - (data.length % cipher.blockSize);
  const padded = new Uint8Array(data.length + psLen);
  padded.set(data);
  padded.fill(psLen, data.length);
  return cipher.run(true, padded);
}

// ---------------------------------------------------------------- MAC

interface MacData {
  alg: AlgorithmIdentifier;
  digest: Uint8Array;
  salt: Uint8Array;
  iterations: number;
}

function computeMac(mac: MacData, message: Uint8Array, password: Uint8Array): Uint8Array {
  if (mac.alg.oid === OID.pbmac1) {
    const [kdf, macAlg] = seqOf(mac.alg.params, 'PBMAC1 parameters');
    const kdfAlg = readAlgId(kdf, 'PBMAC1 kdf');
    if (kdfAlg.oid !== OID.pbkdf2) throw notImplemented(`PBMAC1 KDF algorithm ${kdfAlg.oid} is not supported`);
    const kp = seqOf(kdfAlg.params, 'pbkdf2Params');
    if (!kp[0] || kp[0].tag !== TAG.OCTET_STRING) throw notImplemented('only octet string salts are supported for PBMAC1/PBKDF2');
    let keyLength = 0;
    let prfOid: string | undefined;
    for (const el of kp.slice(2)) {
      if (el.tag === TAG.INTEGER) keyLength = readInt(el, 'keyLength');
      else if (el.tag === TAG.SEQUENCE) prfOid = readAlgId(el, 'prf').oid;
    }
    const hashOf = (o: string | undefined) => (o === undefined || o === OID.hmacSHA1 ? 'sha1' : o === OID.hmacSHA256 ? 'sha256' : o === OID.hmacSHA512 ? 'sha512' : undefined);
    const prf = hashOf(prfOid);
    if (!prf) throw notImplemented(`PBMAC1 PRF ${prfOid} is not supported`);
    const macOid = readAlgId(macAlg, 'PBMAC1 mac').oid;
    const h = macOid === OID.hmacSHA1 ? 'sha1' : macOid === OID.hmacSHA256 ? 'sha256' : macOid === OID.hmacSHA512 ? 'sha512' : undefined;
    if (!h) throw notImplemented(`PBMAC1 MAC algorithm ${macOid} is not supported`);
    if (keyLength === 0) throw new Pkcs12Error('pkcs12: PBMAC1 requires explicit KeyLength parameter in PBKDF2 parameters');
    if (keyLength < 20) throw new Pkcs12Error(`pkcs12: PBMAC1 key length ${keyLength} is too short to be secure (minimum 20 octets)`);
    const key = pbkdf2Sync(bmpToUtf8(password), kp[0].body, readInt(kp[1], 'iterations'), keyLength, prf);
    return createHmac(h, key).update(message).digest();
  }
  let hash: 'sha1' | 'sha256' | 'sha512';
  let u: number;
  let v: number;
  switch (mac.alg.oid) {
    case OID.sha1: hash = 'sha1'; u = 20; v = 64; break;
    case OID.sha256: hash = 'sha256'; u = 32; v = 64; break;
    case OID.sha512: hash = 'sha512'; u = 64; v = 128; break;
    default: throw notImplemented(`MAC digest algorithm not supported: ${mac.alg.oid}`);
  }
  const key = pkcs12Kdf(hash, u, v, mac.salt, password, mac.iterations, 3, u);
  return createHmac(hash, key).update(message).digest();
}

function verifyMac(mac: MacData, message: Uint8Array, password: Uint8Array): void {
  const expected = computeMac(mac, message, password);
  if (!Buffer.from(expected).equals(Buffer.from(mac.digest))) throw errIncorrectPassword();
}

// ---------------------------------------------------------------- decoding

interface SafeBag {
  id: string;
  value: Tlv; // content of [0] EXPLICIT
  attributes: Tlv[];
}

function readError(e: unknown): never {
  if (e instanceof Pkcs12Error) throw e;
  throw new Pkcs12Error(`pkcs12: error reading P12 data: ${e instanceof Error ? e.message : String(e)}`);
}

function getSafeContents(p12: Uint8Array, password: Uint8Array, minItems: number, maxItems: number): { bags: SafeBag[]; password: Uint8Array } {
  let version: number;
  let authSafe: Tlv[];
  let macData: MacData | undefined;
  try {
    const pfx = seqOf(parseOne(p12), 'pfxPdu');
    version = readInt(pfx[0], 'version');
    authSafe = seqOf(pfx[1], 'contentInfo');
    if (pfx[2]) {
      const m = seqOf(pfx[2], 'macData');
      const di = seqOf(m[0], 'digestInfo');
      macData = {
        alg: readAlgId(di[0], 'digest algorithm'),
        digest: readOctets(di[1], 'digest'),
        salt: readOctets(m[1], 'macSalt'),
        iterations: m[2] ? readInt(m[2], 'iterations') : 1,
      };
    }
  } catch (e) {
    readError(e);
  }
  if (version !== 3) throw notImplemented("can only decode v3 PFX PDU's");
  if (readOid(authSafe[0], 'contentType') !== OID.data) throw notImplemented('only password-protected PFX is implemented');
  const content = authSafe[1];
  if (!content || content.cls !== 2 || content.tag !== 0) throw new Asn1Error('asn1: syntax error: sequence truncated');
  const authSafeBytes = parseOne(content.body).body;

  const isEmptyPassword = password.length === 2 && password[0] === 0 && password[1] === 0;
  if (!macData) {
    if (!isEmptyPassword) throw new Pkcs12Error('pkcs12: no MAC in data');
  } else {
    try {
      verifyMac(macData, authSafeBytes, password);
    } catch (e) {
      if (!(e instanceof Pkcs12Error && e.message === errIncorrectPassword().message && isEmptyPassword)) throw e;
      // Some implementations use an empty byte string for the empty password: try that too.
      password = new Uint8Array();
      verifyMac(macData, authSafeBytes, password);
    }
  }

  const infos = seqOf(parseOne(authSafeBytes), 'authenticatedSafe');
  if (infos.length < minItems || infos.length > maxItems) {
    if (minItems === maxItems) throw notImplemented(`expected exactly ${minItems} items in the authenticated safe, but this file has ${infos.length}`);
    throw notImplemented(`expected between ${minItems} and ${maxItems} items in the authenticated safe, but this file has ${infos.length}`);
  }
  const bags: SafeBag[] = [];
  for (const ci of infos) {
    const parts = seqOf(ci, 'contentInfo');
    const type = readOid(parts[0], 'contentType');
    const body = parts[1] && parts[1].cls === 2 && parts[1].tag === 0 ? parseOne(parts[1].body) : undefined;
    let data: Uint8Array;
    if (type === OID.data) {
      data = readOctets(body, 'data');
    } else if (type === OID.encryptedData) {
      const ed = seqOf(body, 'encryptedData');
      if (readInt(ed[0], 'version') !== 0) throw notImplemented('only version 0 of EncryptedData is supported');
      const eci = seqOf(ed[1], 'encryptedContentInfo');
      const alg = readAlgId(eci[1], 'contentEncryptionAlgorithm');
      const enc = eci[2] && eci[2].cls === 2 && eci[2].tag === 0 ? eci[2].body : new Uint8Array();
      data = pbDecrypt(alg, enc, password);
    } else {
      throw notImplemented('only data and encryptedData content types are supported in authenticated safe');
    }
    for (const bag of seqOf(parseOne(data), 'safeContents')) {
      const b = seqOf(bag, 'safeBag');
      const wrapper = expect(b[1], 0, 'bagValue', 2);
      bags.push({ id: readOid(b[0], 'bagId'), value: parseOne(wrapper.body), attributes: b[2] ? children(expect(b[2], TAG.SET, 'attributes')) : [] });
    }
  }
  return { bags, password };
}

function decodeCertBag(value: Tlv): Uint8Array {
  let parts: Tlv[];
  let id: string;
  let der: Uint8Array;
  try {
    parts = seqOf(value, 'certBag');
    id = readOid(parts[0], 'certId');
    der = readOctets(parseOne(expect(parts[1], 0, 'certValue', 2).body), 'certValue');
  } catch (e) {
    throw new Pkcs12Error(`pkcs12: error decoding cert bag: ${(e as Error).message}`);
  }
  if (id !== OID.x509Certificate) throw notImplemented('only X509 certificates are supported in cert bags');
  return der;
}

/** x509.ParsePKCS8PrivateKey, limited to the key types Go supports. */
export function parsePkcs8(der: Uint8Array): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
  } catch {
    throw new Error('x509: failed to parse private key (use ParsePKCS1PrivateKey instead for this key format)');
  }
  checkGoKeyType(key);
  return key;
}

const goCurves = new Set(['secp224r1', 'prime256v1', 'secp384r1', 'secp521r1']);

function checkGoKeyType(key: KeyObject): void {
  switch (key.asymmetricKeyType) {
    case 'rsa': case 'ed25519': case 'x25519': return;
    case 'ec':
      if (goCurves.has(key.asymmetricKeyDetails?.namedCurve ?? '')) return;
      throw new Error('x509: unknown elliptic curve');
  }
  throw new Error(`x509: PKCS#8 wrapping contained private key with unknown algorithm`);
}

function decodeShroudedKeyBag(value: Tlv, password: Uint8Array): KeyObject {
  let alg: AlgorithmIdentifier;
  let enc: Uint8Array;
  try {
    const parts = seqOf(value, 'encryptedPrivateKeyInfo');
    alg = readAlgId(parts[0], 'algorithm');
    enc = readOctets(parts[1], 'encryptedData');
  } catch (e) {
    throw new Pkcs12Error(`pkcs12: error decoding PKCS#8 shrouded key bag: ${(e as Error).message}`);
  }
  let pk: Uint8Array;
  try {
    pk = pbDecrypt(alg, enc, password);
  } catch (e) {
    throw new Pkcs12Error(`pkcs12: error decrypting PKCS#8 shrouded key bag: ${(e as Error).message}`);
  }
  try {
    parseOne(pk);
  } catch (e) {
    throw new Pkcs12Error(`pkcs12: error unmarshaling decrypted private key: ${(e as Error).message}`);
  }
  try {
    return parsePkcs8(pk);
  } catch (e) {
    throw new Pkcs12Error(`pkcs12: error parsing PKCS#8 private key: ${(e as Error).message}`);
  }
}

export interface DecodedChain {
  key: KeyObject;
  cert: Cert;
  caCerts: Cert[];
}

/** go-pkcs12 DecodeChain: one private key, the first certificate is the leaf. */
export function decodeChain(p12: Uint8Array, password: string): DecodedChain {
  const pw = bmpPassword(password);
  let result: { bags: SafeBag[]; password: Uint8Array };
  try {
    result = getSafeContents(p12, pw, 1, 2);
  } catch (e) {
    if (e instanceof Pkcs12Error) throw e;
    throw new Pkcs12Error(e instanceof Error ? e.message : String(e));
  }
  let key: KeyObject | undefined;
  let cert: Cert | undefined;
  const caCerts: Cert[] = [];
  for (const bag of result.bags) {
    if (bag.id === OID.certBag) {
      const certs = parseCertificates(decodeCertBag(bag.value));
      if (certs.length !== 1) throw new Pkcs12Error('pkcs12: expected exactly one certificate in the certBag');
      if (!cert) cert = certs[0];
      else caCerts.push(certs[0]!);
    } else if (bag.id === OID.keyBag) {
      if (key) throw new Pkcs12Error('pkcs12: expected exactly one key bag');
      key = parsePkcs8(bag.value.full);
    } else if (bag.id === OID.shroudedKeyBag) {
      if (key) throw new Pkcs12Error('pkcs12: expected exactly one key bag');
      key = decodeShroudedKeyBag(bag.value, result.password);
    }
  }
  if (!cert) throw new Pkcs12Error('pkcs12: certificate missing');
  if (!key) throw new Pkcs12Error('pkcs12: private key missing');
  return { key, cert, caCerts };
}

// ---------------------------------------------------------------- encoding (Modern2023)

const SALT_LEN = 16;
const ITERATIONS = 2048;

function algId(o: string, params?: Uint8Array): Uint8Array {
  return params ? seq(oid(o), params) : seq(oid(o));
}

function pbes2Encrypt(data: Uint8Array, password: Uint8Array): { alg: Uint8Array; encrypted: Uint8Array } {
  const salt = randomBytes(SALT_LEN);
  const iv = randomBytes(16);
  const params = seq(
    algId(OID.pbkdf2, seq(octets(salt), integer(ITERATIONS), algId(OID.hmacSHA256, nullValue()))),
    algId(OID.aes256, octets(iv)),
  );
  const key = pbkdf2Sync(bmpToUtf8(password), salt, ITERATIONS, 32, 'sha256');
  return { alg: algId(OID.pbes2, params), encrypted: pbEncrypt(nodeCipher('aes-256-cbc', key, iv, 16), data) };
}

function attribute(o: string, value: Uint8Array): Uint8Array {
  return seq(oid(o), set(value));
}

function certBag(der: Uint8Array, attributes: Uint8Array[]): Uint8Array {
  const bag = seq(oid(OID.x509Certificate), explicit(0, octets(der)));
  return seq(oid(OID.certBag), explicit(0, bag), set(...attributes));
}

function encryptedSafeContents(bags: Uint8Array[], password: Uint8Array): Uint8Array {
  const { alg, encrypted } = pbes2Encrypt(seq(...bags), password);
  const encryptedData = seq(integer(0), seq(oid(OID.data), alg, implicitPrimitive(0, encrypted)));
  return seq(oid(OID.encryptedData), explicit(0, encryptedData));
}

function pfx(authenticatedSafe: Uint8Array, password: Uint8Array): Uint8Array {
  const salt = randomBytes(SALT_LEN);
  const digest = pkcs12Kdf('sha256', 32, 64, salt, password, ITERATIONS, 3, 32);
  const mac = createHmac('sha256', digest).update(authenticatedSafe).digest();
  const macData = seq(seq(algId(OID.sha256), octets(mac)), octets(salt), integer(ITERATIONS));
  return seq(integer(3), seq(oid(OID.data), explicit(0, octets(authenticatedSafe))), macData);
}

/** go-pkcs12 Modern.Encode(privateKey, certificate, caCerts, password). */
export function encodePkcs12(key: KeyObject, cert: Cert, caCerts: Cert[], password: string): Uint8Array {
  const pw = bmpPassword(password);
  const localKeyId = attribute(OID.localKeyId, octets(createHash('sha1').update(cert.raw).digest()));
  const certBags = [certBag(cert.raw, [localKeyId]), ...caCerts.map((c) => certBag(c.raw, []))];
  const pkcs8 = new Uint8Array(key.export({ format: 'der', type: 'pkcs8' }));
  const { alg, encrypted } = pbes2Encrypt(pkcs8, pw);
  const keyBag = seq(oid(OID.shroudedKeyBag), explicit(0, seq(alg, octets(encrypted))), set(localKeyId));
  const keySafe = seq(oid(OID.data), explicit(0, octets(seq(keyBag))));
  return pfx(seq(encryptedSafeContents(certBags, pw), keySafe), pw);
}

/** go-pkcs12 Modern.EncodeTrustStore(certs, password): friendly names are the subjects. */
export function encodeTrustStore(certs: Cert[], password: string): Uint8Array {
  const pw = bmpPassword(password);
  const trusted = attribute(OID.javaTrustStore, oid(OID.anyExtendedKeyUsage));
  const bags = certs.map((c) => {
    const name = nameString(c.subject);
    for (let i = 0; i < name.length; i++) {
      const ch = name.charCodeAt(i);
      if (ch >= 0xd800 && ch <= 0xdfff) throw new Pkcs12Error('pkcs12: string contains characters that cannot be encoded in UCS-2');
    }
    return certBag(c.raw, [trusted, attribute(OID.friendlyName, derBmpString(name))]);
  });
  return pfx(seq(encryptedSafeContents(bags, pw)), pw);
}
