// Go encoding/base64 and encoding/base32 (StdEncoding) with Go's error offsets.

import { GoError } from '../exec.ts';

const b64alpha = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const b64map = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++) b64map[b64alpha.charCodeAt(i)] = i;

const b32alpha = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const b32map = new Int16Array(256).fill(-1);
for (let i = 0; i < 32; i++) b32map[b32alpha.charCodeAt(i)] = i;

export class CorruptInputError extends GoError {
  constructor(offset: number) {
    super(`illegal base64 data at input byte ${offset}`);
  }
}

export function b64encode(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64');
}

export function b64decode(src: Uint8Array): Uint8Array {
  const out: number[] = [];
  let si = 0;
  const len = src.length;
  for (;;) {
    const dbuf = [0, 0, 0, 0];
    let dlen = 4;
    let err: number | null = null;
    let done = false;
    let j = 0;
    for (; j < 4; j++) {
      if (len === si) {
        if (j === 0) return Uint8Array.from(out);
        throw new CorruptInputError(si - j);
      }
      const inb = src[si]!;
      si++;
      const o = b64map[inb]!;
      if (o >= 0) {
        dbuf[j] = o;
        continue;
      }
      if (inb === 10 || inb === 13) {
        j--;
        continue;
      }
      if (inb !== 61) throw new CorruptInputError(si - 1);
      switch (j) {
        case 0: case 1:
          throw new CorruptInputError(si - 1);
        case 2:
          while (si < len && (src[si] === 10 || src[si] === 13)) si++;
          if (si === len) throw new CorruptInputError(len);
          if (src[si] !== 61) throw new CorruptInputError(si - 1);
          si++;
      }
      while (si < len && (src[si] === 10 || src[si] === 13)) si++;
      if (si < len) err = si;
      dlen = j;
      done = true;
      break;
    }
    const val = (dbuf[0]! << 18) | (dbuf[1]! << 12) | (dbuf[2]! << 6) | dbuf[3]!;
    const b0 = (val >> 16) & 0xff;
    const b1 = (val >> 8) & 0xff;
    const b2 = val & 0xff;
    if (dlen === 4) out.push(b0, b1, b2);
    else if (dlen === 3) out.push(b0, b1);
    else if (dlen === 2) out.push(b0);
    if (err !== null) throw new CorruptInputError(err);
    if (done) return Uint8Array.from(out);
  }
}

export function b32encode(b: Uint8Array): string {
  let out = '';
  for (let i = 0; i < b.length; i += 5) {
    const chunk = [0, 0, 0, 0, 0];
    const n = Math.min(5, b.length - i);
    for (let k = 0; k < n; k++) chunk[k] = b[i + k]!;
    let bits = 0n;
    for (const c of chunk) bits = (bits << 8n) | BigInt(c);
    const chars = Math.ceil((n * 8) / 5);
    for (let k = 0; k < 8; k++) {
      if (k < chars) out += b32alpha[Number((bits >> BigInt(35 - 5 * k)) & 31n)];
      else out += '=';
    }
  }
  return out;
}

export class CorruptInputError32 extends GoError {
  constructor(offset: number) {
    super(`illegal base32 data at input byte ${offset}`);
  }
}

export function b32decode(input: Uint8Array): Uint8Array {
  const src0 = Array.from(input).filter((c) => c !== 10 && c !== 13);
  const olen = src0.length;
  let src = src0;
  const out: number[] = [];
  let end = false;
  while (src.length > 0 && !end) {
    const dbuf = [0, 0, 0, 0, 0, 0, 0, 0];
    let dlen = 8;
    for (let j = 0; j < 8;) {
      if (src.length === 0) throw new CorruptInputError32(olen - src.length - j);
      const inb = src[0]!;
      src = src.slice(1);
      if (inb === 61 && j >= 2 && src.length < 8) {
        if (src.length + j < 8 - 1) throw new CorruptInputError32(olen);
        for (let k = 0; k < 8 - 1 - j; k++) {
          if (src.length > k && src[k] !== 61) throw new CorruptInputError32(olen - src.length + k - 1);
        }
        dlen = j;
        end = true;
        if (dlen === 1 || dlen === 3 || dlen === 6) throw new CorruptInputError32(olen - src.length - 1);
        break;
      }
      const v = b32map[inb]!;
      if (v < 0) throw new CorruptInputError32(olen - src.length - 1);
      dbuf[j] = v;
      j++;
    }
    let bits = 0n;
    for (const c of dbuf) bits = (bits << 5n) | BigInt(c);
    const bytes = [];
    for (let k = 4; k >= 0; k--) bytes.unshift(Number((bits >> BigInt(8 * (4 - k))) & 0xffn));
    const nb = dlen === 8 ? 5 : dlen === 7 ? 4 : dlen === 5 ? 3 : dlen === 4 ? 2 : dlen === 2 ? 1 : 0;
    out.push(...bytes.slice(0, nb));
  }
  return Uint8Array.from(out);
}
