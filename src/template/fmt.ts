// Go fmt: Sprint, Sprintln, Sprintf over the Go value model in values.ts.

import { formatFloat, quote, quoteRune, canBackquote, isPrint, utf8Bytes } from './strconv.ts';
import { INVALID, TypedInt, GoTime, GoStruct, GoBytes, typeName, sortedKeys, isUnsignedKind, str } from './values.ts';
import { timeString } from './gotime.ts';

const ldigits = '0123456789abcdefx';
const udigits = '0123456789ABCDEFX';

class Flags {
  plus = false;
  minus = false;
  sharp = false;
  space = false;
  zero = false;
  plusV = false;
  sharpV = false;
  wid = 0;
  widPresent = false;
  prec = 0;
  precPresent = false;
  clear(): void {
    this.plus = this.minus = this.sharp = this.space = this.zero = this.plusV = this.sharpV = false;
    this.wid = this.prec = 0;
    this.widPresent = this.precPresent = false;
  }
}

function runeCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

function isNilArg(v: unknown): boolean {
  return v === null || v === undefined || v === INVALID;
}

function isStringArg(v: unknown): boolean {
  return typeof v === 'string' || v instanceof GoBytes;
}

// Go's fmt parsenum: a width or precision that grows past 1e6 ("crazy long number") is not a
// number at all, and the rest of the format is consumed (so Go prints %!(NOVERB) and, for unused
// arguments, %!(EXTRA …)). This also bounds a literal width at under 1e7 characters.
function parsenum(s: string, start: number, end: number): [number, boolean, number] {
  if (start >= end) return [0, false, end];
  let num = 0;
  let isnum = false;
  let i = start;
  for (; i < end && s[i]! >= '0' && s[i]! <= '9'; i++) {
    if (num > 1e6 || num < -1e6) return [0, false, end];
    num = num * 10 + (s.charCodeAt(i) - 48);
    isnum = true;
  }
  return [num, isnum, i];
}

class Printer {
  buf = '';
  f = new Flags();
  erroring = false;
  arg: unknown = null; // current operand (for badVerb)
  argIsValue = false; // badVerb prints via value path

  writePadding(n: number): void {
    if (n <= 0) return;
    const ch = this.f.zero && !this.f.minus ? '0' : ' ';
    this.buf += ch.repeat(n);
  }

  pad(s: string): void {
    if (!this.f.widPresent || this.f.wid === 0) {
      this.buf += s;
      return;
    }
    const width = this.f.wid - runeCount(s);
    if (!this.f.minus) {
      this.writePadding(width);
      this.buf += s;
    } else {
      this.buf += s;
      this.writePadding(width);
    }
  }

  fmtBoolean(v: boolean): void {
    this.pad(v ? 'true' : 'false');
  }

  fmtUnicode(u: bigint): void {
    let prec = 4;
    if (this.f.precPresent && this.f.prec > 4) prec = this.f.prec;
    let hex = u.toString(16).toUpperCase();
    if (hex.length < prec) hex = '0'.repeat(prec - hex.length) + hex;
    let s = 'U+' + hex;
    if (this.f.sharp && u <= 0x10ffffn && isPrint(Number(u))) s += " '" + String.fromCodePoint(Number(u)) + "'";
    const oldZero = this.f.zero;
    this.f.zero = false;
    this.pad(s);
    this.f.zero = oldZero;
  }

  // u is the two's complement uint64 value; isSigned indicates interpretation
  fmtIntegerBase(val: bigint, base: number, isSigned: boolean, verb: string, digits: string): void {
    let u = BigInt.asUintN(64, val);
    const negative = isSigned && BigInt.asIntN(64, u) < 0n;
    if (negative) u = BigInt.asUintN(64, -BigInt.asIntN(64, u));
    let prec = 0;
    const f = this.f;
    if (f.precPresent) {
      prec = f.prec;
      if (prec === 0 && u === 0n) {
        const oldZero = f.zero;
        f.zero = false;
        this.writePadding(f.wid);
        f.zero = oldZero;
        return;
      }
    } else if (f.zero && !f.minus && f.widPresent) {
      prec = f.wid;
      if (negative || f.plus || f.space) prec--;
    }
    let s = u.toString(base);
    if (digits === udigits) s = s.toUpperCase();
    if (s.length < prec) s = '0'.repeat(prec - s.length) + s;
    if (f.sharp) {
      if (base === 2) s = '0b' + s;
      else if (base === 8) {
        if (s[0] !== '0') s = '0' + s;
      } else if (base === 16) s = '0' + digits[16] + s;
    }
    if (verb === 'O') s = '0o' + s;
    if (negative) s = '-' + s;
    else if (f.plus) s = '+' + s;
    else if (f.space) s = ' ' + s;
    const oldZero = f.zero;
    f.zero = false;
    this.pad(s);
    f.zero = oldZero;
  }

  truncateString(s: string): string {
    if (this.f.precPresent) {
      let n = this.f.prec;
      let i = 0;
      for (const ch of s) {
        n--;
        if (n < 0) return s.slice(0, i);
        i += ch.length;
      }
    }
    return s;
  }

  fmtS(s: string): void {
    this.pad(this.truncateString(s));
  }

  fmtSx(s: string | GoBytes, digits: string): void {
    const b = typeof s === 'string' ? utf8Bytes(s) : s.b;
    let length = b.length;
    const f = this.f;
    if (f.precPresent && f.prec < length) length = f.prec;
    let width = 2 * length;
    if (width > 0) {
      if (f.space) {
        if (f.sharp) width *= 2;
        width += length - 1;
      } else if (f.sharp) width += 2;
    } else {
      if (f.widPresent) this.writePadding(f.wid);
      return;
    }
    if (f.widPresent && f.wid > width && !f.minus) this.writePadding(f.wid - width);
    let out = '';
    if (f.sharp) out += '0' + digits[16];
    for (let i = 0; i < length; i++) {
      if (f.space && i > 0) {
        out += ' ';
        if (f.sharp) out += '0' + digits[16];
      }
      const c = b[i]!;
      out += digits[c >> 4]! + digits[c & 0xf]!;
    }
    this.buf += out;
    if (f.widPresent && f.wid > width && f.minus) this.writePadding(f.wid - width);
  }

  fmtQ(s: string): void {
    s = this.truncateString(s);
    if (this.f.sharp && canBackquote(s)) {
      this.pad('`' + s + '`');
      return;
    }
    this.pad(quote(s, this.f.plus));
  }

  fmtC(c: bigint): void {
    let r = Number(c);
    if (c > 0x10ffffn || (r >= 0xd800 && r <= 0xdfff)) r = 0xfffd;
    this.pad(String.fromCodePoint(r));
  }

  fmtQc(c: bigint): void {
    let r = Number(c);
    if (c > 0x10ffffn) r = 0xfffd;
    this.pad(quoteRune(r, this.f.plus));
  }

  fmtFloatRaw(v: number, verb: string, prec: number): void {
    const f = this.f;
    if (f.precPresent) prec = f.prec;
    let num = formatFloat(v, verb, prec);
    if (num[0] === '-' || num[0] === '+') {
      /* keep */
    } else num = '+' + num;
    if (f.space && num[0] === '+' && !f.plus) num = ' ' + num.slice(1);
    if (num[1] === 'I' || num[1] === 'N') {
      const oldZero = f.zero;
      f.zero = false;
      if (num[1] === 'N' && !f.space && !f.plus) num = num.slice(1);
      this.pad(num);
      f.zero = oldZero;
      return;
    }
    if (f.sharp && verb !== 'b') {
      let digits = 0;
      if (verb === 'v' || verb === 'g' || verb === 'G' || verb === 'x') {
        digits = prec;
        if (digits === -1) digits = 6;
      }
      let tail = '';
      let hasDecimalPoint = false;
      let sawNonzeroDigit = false;
      for (let i = 1; i < num.length; i++) {
        const c = num[i]!;
        if (c === '.') hasDecimalPoint = true;
        else if (c === 'p' || c === 'P') {
          tail = num.slice(i);
          num = num.slice(0, i);
          break;
        } else if ((c === 'e' || c === 'E') && verb !== 'x' && verb !== 'X') {
          tail = num.slice(i);
          num = num.slice(0, i);
          break;
        } else {
          if (c !== '0') sawNonzeroDigit = true;
          if (sawNonzeroDigit) digits--;
        }
      }
      if (!hasDecimalPoint) {
        if (num.length === 2 && num[1] === '0') digits--;
        num += '.';
      }
      while (digits > 0) {
        num += '0';
        digits--;
      }
      num += tail;
    }
    if (f.plus || num[0] !== '+') {
      if (f.zero && !f.minus && f.widPresent && f.wid > num.length) {
        this.buf += num[0];
        this.writePadding(f.wid - num.length);
        this.buf += num.slice(1);
        return;
      }
      this.pad(num);
      return;
    }
    this.pad(num.slice(1));
  }

  badVerb(verb: string): void {
    this.erroring = true;
    this.buf += '%!' + verb + '(';
    const a = this.arg;
    if (!isNilArg(a)) {
      this.buf += typeName(a) + '=';
      this.printArg(a, 'v', this.argIsValue ? 1 : 0);
    } else {
      this.buf += '<nil>';
    }
    this.buf += ')';
    this.erroring = false;
  }

  fmtBool(v: boolean, verb: string): void {
    if (verb === 't' || verb === 'v') this.fmtBoolean(v);
    else this.badVerb(verb);
  }

  fmtInteger(v: bigint, isSigned: boolean, verb: string): void {
    switch (verb) {
      case 'v':
        if (this.f.sharpV && !isSigned) {
          const sharp = this.f.sharp;
          this.f.sharp = true;
          this.fmtIntegerBase(v, 16, false, 'v', ldigits);
          this.f.sharp = sharp;
        } else this.fmtIntegerBase(v, 10, isSigned, verb, ldigits);
        return;
      case 'd': this.fmtIntegerBase(v, 10, isSigned, verb, ldigits); return;
      case 'b': this.fmtIntegerBase(v, 2, isSigned, verb, ldigits); return;
      case 'o': case 'O': this.fmtIntegerBase(v, 8, isSigned, verb, ldigits); return;
      case 'x': this.fmtIntegerBase(v, 16, isSigned, verb, ldigits); return;
      case 'X': this.fmtIntegerBase(v, 16, isSigned, verb, udigits); return;
      case 'c': this.fmtC(BigInt.asUintN(64, v)); return;
      case 'q': this.fmtQc(BigInt.asUintN(64, v)); return;
      case 'U': this.fmtUnicode(BigInt.asUintN(64, v)); return;
      default: this.badVerb(verb);
    }
  }

  fmtFloat(v: number, verb: string): void {
    switch (verb) {
      case 'v': this.fmtFloatRaw(v, 'g', -1); return;
      case 'b': case 'g': case 'G': case 'x': case 'X': this.fmtFloatRaw(v, verb, -1); return;
      case 'f': case 'e': case 'E': this.fmtFloatRaw(v, verb, 6); return;
      case 'F': this.fmtFloatRaw(v, 'f', 6); return;
      default: this.badVerb(verb);
    }
  }

  fmtString(v: string | GoBytes, verb: string): void {
    switch (verb) {
      case 'v':
        if (this.f.sharpV) this.fmtQ(str(v));
        else this.fmtS(str(v));
        return;
      case 's': this.fmtS(str(v)); return;
      case 'x': this.fmtSx(v, ldigits); return;
      case 'X': this.fmtSx(v, udigits); return;
      case 'q': this.fmtQ(str(v)); return;
      default: this.badVerb(verb);
    }
  }

  handleMethods(v: unknown, verb: string): boolean {
    if (this.erroring) return false;
    let s: string | undefined;
    if (v instanceof GoTime) s = timeString(v);
    else if (v instanceof GoStruct && v.stringer) s = v.stringer();
    if (s === undefined) return false;
    if (this.f.sharpV) return false;
    if (verb === 'v' || verb === 's' || verb === 'x' || verb === 'X' || verb === 'q') {
      this.fmtString(s, verb);
      return true;
    }
    return false;
  }

  // depth 0 = top-level operand
  printArg(a: unknown, verb: string, depth = 0): void {
    const saveArg = this.arg;
    const saveIsValue = this.argIsValue;
    this.arg = a;
    this.argIsValue = depth > 0;
    try {
      this.printArgInner(a, verb, depth);
    } finally {
      this.arg = saveArg;
      this.argIsValue = saveIsValue;
    }
  }

  printArgInner(a: unknown, verb: string, depth: number): void {
    if (isNilArg(a)) {
      if (depth > 0) {
        this.buf += this.f.sharpV ? 'interface {}(nil)' : '<nil>';
        return;
      }
      if (verb === 'T' || verb === 'v') this.pad('<nil>');
      else this.badVerb(verb);
      return;
    }
    if (depth === 0) {
      if (verb === 'T') {
        this.fmtS(typeName(a));
        return;
      }
      if (verb === 'p') {
        this.badVerb(verb);
        return;
      }
    }
    switch (typeof a) {
      case 'boolean': this.fmtBool(a, verb); return;
      case 'number': this.fmtFloat(a, verb); return;
      case 'bigint': this.fmtInteger(a, true, verb); return;
      case 'string': this.fmtString(a, verb); return;
    }
    if (a instanceof TypedInt) {
      this.fmtInteger(a.v, !isUnsignedKind(a.kind), verb);
      return;
    }
    if (a instanceof GoBytes) {
      this.fmtString(a, verb);
      return;
    }
    if (this.handleMethods(a, verb)) return;
    if (Array.isArray(a)) {
      if (this.f.sharpV) {
        this.buf += typeName(a) + '{';
        a.forEach((x, i) => {
          if (i > 0) this.buf += ', ';
          this.printArg(x, verb, depth + 1);
        });
        this.buf += '}';
        return;
      }
      this.buf += '[';
      a.forEach((x, i) => {
        if (i > 0) this.buf += ' ';
        this.printArg(x, verb, depth + 1);
      });
      this.buf += ']';
      return;
    }
    if (a instanceof Map) {
      if (this.f.sharpV) this.buf += typeName(a) + '{';
      else this.buf += 'map[';
      let i = 0;
      for (const k of sortedKeys(a)) {
        if (i++ > 0) this.buf += this.f.sharpV ? ', ' : ' ';
        this.printArg(k, verb, depth + 1);
        this.buf += ':';
        this.printArg(a.get(k), verb, depth + 1);
      }
      this.buf += this.f.sharpV ? '}' : ']';
      return;
    }
    if (a instanceof GoStruct) {
      if (a.isPointer && depth === 0) this.buf += '&';
      else if (a.isPointer) {
        this.buf += '0xc000010000';
        return;
      }
      if (this.f.sharpV) this.buf += a.typeName;
      this.buf += '{';
      let i = 0;
      for (const [k, v] of a.fields) {
        if (i++ > 0) this.buf += this.f.sharpV ? ', ' : ' ';
        if (this.f.plusV || this.f.sharpV) this.buf += k + ':';
        this.printArg(v, verb, depth + 1);
      }
      this.buf += '}';
      return;
    }
    if (a instanceof Uint8Array) {
      this.buf += '[' + [...a].join(' ') + ']';
      return;
    }
    this.buf += '?' + typeName(a) + '?';
  }

  // intFromArg
  intFromArg(a: unknown[], argNum: number): [number, boolean, number] {
    let num = 0;
    let isInt = false;
    let newArgNum = argNum;
    if (argNum < a.length) {
      const v = a[argNum];
      if (typeof v === 'bigint' || v instanceof TypedInt) {
        const n = typeof v === 'bigint' ? v : v.v;
        if (n >= -1000000n && n <= 1000000n) {
          num = Number(n);
          isInt = true;
        }
      }
      newArgNum = argNum + 1;
    }
    return [num, isInt, newArgNum];
  }

  doPrintf(format: string, a: unknown[]): void {
    const end = format.length;
    let argNum = 0;
    let afterIndex = false;
    let reordered = false;
    const f = this.f;
    let i = 0;
    formatLoop: while (i < end) {
      let goodArgNum = true;
      const lasti = i;
      while (i < end && format.charCodeAt(i) !== 0x25) i++;
      if (i > lasti) this.buf += format.slice(lasti, i);
      if (i >= end) break;
      i++;
      f.clear();
      simple: for (; i < end; i++) {
        const c = format[i]!;
        switch (c) {
          case '#': f.sharp = true; break;
          case '0': f.zero = true; break;
          case '+': f.plus = true; break;
          case '-': f.minus = true; break;
          case ' ': f.space = true; break;
          default:
            if (c >= 'a' && c <= 'z' && argNum < a.length) {
              if (c === 'v') {
                f.sharpV = f.sharp;
                f.sharp = false;
                f.plusV = f.plus;
                f.plus = false;
              }
              this.printArg(a[argNum], c);
              argNum++;
              i++;
              continue formatLoop;
            }
            break simple;
        }
      }
      // argument index
      const argNumber = (): void => {
        if (i >= end || format[i] !== '[') return;
        reordered = true;
        // parseArgNumber
        let ok = false;
        let index = 0;
        let wid = 0;
        let found = false;
        if (end - i >= 3) {
          for (let j = i + 1; j < end; j++) {
            if (format[j] === ']') {
              const body = format.slice(i + 1, j);
              if (/^[0-9]+$/.test(body)) {
                index = Number(body) - 1;
                ok = true;
              } else ok = false;
              wid = j - i + 1;
              found = true;
              break;
            }
          }
        }
        if (!found) {
          wid = 1;
          ok = false;
        }
        if (ok && index >= 0 && index < a.length) {
          argNum = index;
          i += wid;
          afterIndex = true;
          return;
        }
        goodArgNum = false;
        i += wid;
        afterIndex = ok;
      };
      afterIndex = false;
      argNumber();
      if (i < end && format[i] === '*') {
        i++;
        [f.wid, f.widPresent, argNum] = this.intFromArg(a, argNum);
        if (!f.widPresent) this.buf += '%!(BADWIDTH)';
        if (f.wid < 0) {
          f.wid = -f.wid;
          f.minus = true;
          f.zero = false;
        }
        afterIndex = false;
      } else {
        [f.wid, f.widPresent, i] = parsenum(format, i, end);
        if (afterIndex && f.widPresent) goodArgNum = false;
      }
      if (i + 1 < end && format[i] === '.') {
        i++;
        if (afterIndex) goodArgNum = false;
        afterIndex = false;
        argNumber();
        if (i < end && format[i] === '*') {
          i++;
          [f.prec, f.precPresent, argNum] = this.intFromArg(a, argNum);
          if (f.prec < 0) {
            f.prec = 0;
            f.precPresent = false;
          }
          if (!f.precPresent) this.buf += '%!(BADPREC)';
          afterIndex = false;
        } else {
          [f.prec, f.precPresent, i] = parsenum(format, i, end);
          if (!f.precPresent) {
            f.prec = 0;
            f.precPresent = true;
          }
        }
      }
      if (!afterIndex) argNumber();
      if (i >= end) {
        this.buf += '%!(NOVERB)';
        break;
      }
      const verb = String.fromCodePoint(format.codePointAt(i)!);
      i += verb.length;
      if (verb === '%') this.buf += '%';
      else if (!goodArgNum) this.buf += '%!' + verb + '(BADINDEX)';
      else if (argNum >= a.length) this.buf += '%!' + verb + '(MISSING)';
      else {
        if (verb === 'v') {
          f.sharpV = f.sharp;
          f.sharp = false;
          f.plusV = f.plus;
          f.plus = false;
        }
        this.printArg(a[argNum], verb === 'w' ? 'w' : verb);
        argNum++;
      }
    }
    if (!reordered && argNum < a.length) {
      f.clear();
      this.buf += '%!(EXTRA ';
      for (let j = argNum; j < a.length; j++) {
        if (j > argNum) this.buf += ', ';
        const arg = a[j];
        if (isNilArg(arg)) this.buf += '<nil>';
        else {
          this.buf += typeName(arg) + '=';
          this.printArg(arg, 'v');
        }
      }
      this.buf += ')';
    }
  }
}

export function sprintf(format: string, args: unknown[]): string {
  const p = new Printer();
  p.doPrintf(format, args);
  return p.buf;
}

export function sprint(args: unknown[]): string {
  const p = new Printer();
  let prevString = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const isString = isStringArg(a);
    if (i > 0 && !isString && !prevString) p.buf += ' ';
    p.printArg(a, 'v');
    prevString = isString;
  }
  return p.buf;
}

export function sprintln(args: unknown[]): string {
  const p = new Printer();
  for (let i = 0; i < args.length; i++) {
    if (i > 0) p.buf += ' ';
    p.printArg(args[i], 'v');
  }
  return p.buf + '\n';
}

// fmt.Sprint of a single value (%v) — fast path for common scalars
export function formatValue(v: unknown): string {
  switch (typeof v) {
    case 'string': return v;
    case 'bigint': return v.toString();
    case 'boolean': return v ? 'true' : 'false';
    case 'number': return formatFloat(v, 'g', -1);
  }
  return sprint([v]);
}
