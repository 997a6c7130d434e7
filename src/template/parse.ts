// Lexer and parser for Go text/template syntax (mirrors text/template/parse).

import { isLetter, isDigit, quote, unquote, unquoteChar, parseUint, parseInt64, parseFloat64, utf8Len, SyntaxError_, RangeOrSyntax } from './strconv.ts';

// ---------------------------------------------------------------- lexer

const enum_ = {
  Error: 0, Bool: 1, Char: 2, CharConstant: 3, Comment: 4, Complex: 5, Assign: 6, Declare: 7, EOF: 8,
  Field: 9, Identifier: 10, LeftDelim: 11, LeftParen: 12, Number: 13, Pipe: 14, RawString: 15,
  RightDelim: 16, RightParen: 17, Space: 18, String: 19, Text: 20, Variable: 21,
  Keyword: 22, Block: 23, Break: 24, Continue: 25, Dot: 26, Define: 27, Else: 28, End: 29, If: 30,
  Nil: 31, Range: 32, Template: 33, With: 34,
} as const;
const T = enum_;
type ItemType = (typeof enum_)[keyof typeof enum_];

const keywords: Record<string, ItemType> = {
  '.': T.Dot, block: T.Block, break: T.Break, continue: T.Continue, define: T.Define, else: T.Else,
  end: T.End, if: T.If, range: T.Range, nil: T.Nil, template: T.Template, with: T.With,
};

interface Item {
  typ: ItemType;
  pos: number;
  val: string;
  line: number;
}

function itemString(i: Item): string {
  if (i.typ === T.EOF) return 'EOF';
  if (i.typ === T.Error) return i.val;
  if (i.typ > T.Keyword) return `<${i.val}>`;
  const cps = [...i.val];
  if (cps.length > 10) return quote(cps.slice(0, 10).join('')) + '...';
  return quote(i.val);
}

const EOF = -1;

function isSpace(r: number): boolean {
  return r === 0x20 || r === 0x09 || r === 0x0d || r === 0x0a;
}

function isAlphaNumeric(r: number): boolean {
  return r === 0x5f || isLetter(r) || isDigit(r);
}

function trimRightSpaceLen(s: string): number {
  let n = s.length;
  while (n > 0 && isSpace(s.charCodeAt(n - 1))) n--;
  return s.length - n;
}

function trimLeftSpaceLen(s: string, from: number): number {
  let i = from;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  return i - from;
}

function countNL(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (s.charCodeAt(i) === 10) n++;
  return n;
}

function formatU(r: number): string {
  // %#U
  const hex = r.toString(16).toUpperCase().padStart(4, '0');
  return `U+${hex} '${String.fromCodePoint(r)}'`;
}

class Lexer {
  input: string;
  leftDelim: string;
  rightDelim: string;
  pos = 0;
  start = 0;
  atEOF = false;
  parenDepth = 0;
  line = 1;
  startLine = 1;
  item: Item = { typ: T.EOF, pos: 0, val: 'EOF', line: 1 };
  insideAction = false;
  breakOK = true;
  continueOK = true;

  constructor(input: string, left: string, right: string) {
    this.input = input;
    this.leftDelim = left || '{{';
    this.rightDelim = right || '}}';
  }

  next(): number {
    if (this.pos >= this.input.length) {
      this.atEOF = true;
      return EOF;
    }
    const r = this.input.codePointAt(this.pos)!;
    this.pos += r > 0xffff ? 2 : 1;
    if (r === 10) this.line++;
    return r;
  }

  peek(): number {
    const r = this.next();
    this.backup();
    return r;
  }

  backup(): void {
    if (!this.atEOF && this.pos > 0) {
      let w = 1;
      const c = this.input.charCodeAt(this.pos - 1);
      if (c >= 0xdc00 && c <= 0xdfff && this.pos >= 2) {
        const h = this.input.charCodeAt(this.pos - 2);
        if (h >= 0xd800 && h <= 0xdbff) w = 2;
      }
      this.pos -= w;
      if (c === 10) this.line--;
    }
  }

  thisItem(t: ItemType): Item {
    const i = { typ: t, pos: this.start, val: this.input.slice(this.start, this.pos), line: this.startLine };
    this.start = this.pos;
    this.startLine = this.line;
    return i;
  }

  emit(t: ItemType): null {
    this.item = this.thisItem(t);
    return null;
  }

  emitItem(i: Item): null {
    this.item = i;
    return null;
  }

  ignore(): void {
    this.line += countNL(this.input, this.start, this.pos);
    this.start = this.pos;
    this.startLine = this.line;
  }

  accept(valid: string): boolean {
    const r = this.next();
    if (r !== EOF && valid.includes(String.fromCodePoint(r))) return true;
    this.backup();
    return false;
  }

  acceptRun(valid: string): void {
    for (;;) {
      const r = this.next();
      if (r === EOF || !valid.includes(String.fromCodePoint(r))) break;
    }
    this.backup();
  }

  errorf(msg: string): null {
    this.item = { typ: T.Error, pos: this.start, val: msg, line: this.startLine };
    this.start = 0;
    this.pos = 0;
    this.input = '';
    return null;
  }

  nextItem(): Item {
    this.item = { typ: T.EOF, pos: this.pos, val: 'EOF', line: this.startLine };
    let state: StateFn | null = this.insideAction ? lexInsideAction : lexText;
    while (state !== null) state = state(this);
    return this.item;
  }

  atRightDelim(): [boolean, boolean] {
    const s = this.input;
    const p = this.pos;
    if (hasRightTrimMarker(s, p) && s.startsWith(this.rightDelim, p + 2)) return [true, true];
    if (s.startsWith(this.rightDelim, p)) return [true, false];
    return [false, false];
  }

  atTerminator(): boolean {
    const r = this.peek();
    if (isSpace(r)) return true;
    switch (r) {
      case EOF: case 0x2e: case 0x2c: case 0x7c: case 0x3a: case 0x29: case 0x28:
        return true;
    }
    return this.input.startsWith(this.rightDelim, this.pos);
  }

  scanNumber(): boolean {
    this.accept('+-');
    let digits = '0123456789_';
    if (this.accept('0')) {
      if (this.accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (this.accept('oO')) digits = '01234567_';
      else if (this.accept('bB')) digits = '01_';
    }
    this.acceptRun(digits);
    if (this.accept('.')) this.acceptRun(digits);
    if (digits.length === 11 && this.accept('eE')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    if (digits.length === 23 && this.accept('pP')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    this.accept('i');
    const p = this.peek();
    if (p !== EOF && isAlphaNumeric(p)) {
      this.next();
      return false;
    }
    return true;
  }
}

type StateFn = (l: Lexer) => StateFn | null;

function hasLeftTrimMarker(s: string, p: number): boolean {
  return s.length - p >= 2 && s.charCodeAt(p) === 0x2d && isSpace(s.charCodeAt(p + 1));
}

function hasRightTrimMarker(s: string, p: number): boolean {
  return s.length - p >= 2 && isSpace(s.charCodeAt(p)) && s.charCodeAt(p + 1) === 0x2d;
}

const lexText: StateFn = (l) => {
  const x = l.input.indexOf(l.leftDelim, l.pos);
  if (x >= 0) {
    if (x > l.pos) {
      l.pos = x;
      let trimLength = 0;
      const delimEnd = l.pos + l.leftDelim.length;
      if (hasLeftTrimMarker(l.input, delimEnd)) trimLength = trimRightSpaceLen(l.input.slice(l.start, l.pos));
      l.pos -= trimLength;
      l.line += countNL(l.input, l.start, l.pos);
      const i = l.thisItem(T.Text);
      l.pos += trimLength;
      l.ignore();
      if (i.val.length > 0) return l.emitItem(i);
    }
    return lexLeftDelim;
  }
  l.pos = l.input.length;
  if (l.pos > l.start) {
    l.line += countNL(l.input, l.start, l.pos);
    return l.emit(T.Text);
  }
  return l.emit(T.EOF);
};

const lexLeftDelim: StateFn = (l) => {
  l.pos += l.leftDelim.length;
  const trimSpace = hasLeftTrimMarker(l.input, l.pos);
  const afterMarker = trimSpace ? 2 : 0;
  if (l.input.startsWith('/*', l.pos + afterMarker)) {
    l.pos += afterMarker;
    l.ignore();
    return lexComment;
  }
  const i = l.thisItem(T.LeftDelim);
  l.insideAction = true;
  l.pos += afterMarker;
  l.ignore();
  l.parenDepth = 0;
  return l.emitItem(i);
};

const lexComment: StateFn = (l) => {
  l.pos += 2;
  const x = l.input.indexOf('*/', l.pos);
  if (x < 0) return l.errorf('unclosed comment');
  l.pos = x + 2;
  const [delim, trimSpace] = l.atRightDelim();
  if (!delim) return l.errorf('comment ends before closing delimiter');
  l.line += countNL(l.input, l.start, l.pos);
  l.thisItem(T.Comment);
  if (trimSpace) l.pos += 2;
  l.pos += l.rightDelim.length;
  if (trimSpace) l.pos += trimLeftSpaceLen(l.input, l.pos);
  l.ignore();
  return lexText;
};

const lexRightDelim: StateFn = (l) => {
  const [, trimSpace] = l.atRightDelim();
  if (trimSpace) {
    l.pos += 2;
    l.ignore();
  }
  l.pos += l.rightDelim.length;
  const i = l.thisItem(T.RightDelim);
  if (trimSpace) {
    l.pos += trimLeftSpaceLen(l.input, l.pos);
    l.ignore();
  }
  l.insideAction = false;
  return l.emitItem(i);
};

const lexInsideAction: StateFn = (l) => {
  const [delim] = l.atRightDelim();
  if (delim) {
    if (l.parenDepth === 0) return lexRightDelim;
    return l.errorf('unclosed left paren');
  }
  const r = l.next();
  if (r === EOF) return l.errorf('unclosed action');
  if (isSpace(r)) {
    l.backup();
    return lexSpace;
  }
  switch (r) {
    case 0x3d: return l.emit(T.Assign);
    case 0x3a:
      if (l.next() !== 0x3d) return l.errorf('expected :=');
      return l.emit(T.Declare);
    case 0x7c: return l.emit(T.Pipe);
    case 0x22: return lexQuote;
    case 0x60: return lexRawQuote;
    case 0x24: return lexVariable;
    case 0x27: return lexChar;
    case 0x2e:
      if (l.pos < l.input.length) {
        const c = l.input.charCodeAt(l.pos);
        if (c < 0x30 || c > 0x39) return lexField;
      }
      l.backup();
      return lexNumber;
    case 0x28:
      l.parenDepth++;
      return l.emit(T.LeftParen);
    case 0x29:
      l.parenDepth--;
      if (l.parenDepth < 0) return l.errorf('unexpected right paren');
      return l.emit(T.RightParen);
  }
  if (r === 0x2b || r === 0x2d || (r >= 0x30 && r <= 0x39)) {
    l.backup();
    return lexNumber;
  }
  if (isAlphaNumeric(r)) {
    l.backup();
    return lexIdentifier;
  }
  if (r < 0x80 && r >= 0x20 && r < 0x7f) return l.emit(T.Char);
  return l.errorf(`unrecognized character in action: ${formatU(r)}`);
};

const lexSpace: StateFn = (l) => {
  let numSpaces = 0;
  for (;;) {
    const r = l.peek();
    if (!isSpace(r)) break;
    l.next();
    numSpaces++;
  }
  if (hasRightTrimMarker(l.input, l.pos - 1) && l.input.startsWith(l.rightDelim, l.pos - 1 + 2)) {
    l.backup();
    if (numSpaces === 1) return lexRightDelim;
  }
  return l.emit(T.Space);
};

const lexIdentifier: StateFn = (l) => {
  for (;;) {
    const r = l.next();
    if (r !== EOF && isAlphaNumeric(r)) continue;
    l.backup();
    const word = l.input.slice(l.start, l.pos);
    if (!l.atTerminator()) return l.errorf(`bad character ${formatU(r)}`);
    const kw = keywords[word];
    if (kw !== undefined && Object.hasOwn(keywords, word) && kw > T.Keyword) {
      if ((kw === T.Break && !l.breakOK) || (kw === T.Continue && !l.continueOK)) return l.emit(T.Identifier);
      return l.emit(kw);
    }
    if (word[0] === '.') return l.emit(T.Field);
    if (word === 'true' || word === 'false') return l.emit(T.Bool);
    return l.emit(T.Identifier);
  }
};

const lexField: StateFn = (l) => lexFieldOrVariable(l, T.Field);

const lexVariable: StateFn = (l) => {
  if (l.atTerminator()) return l.emit(T.Variable);
  return lexFieldOrVariable(l, T.Variable);
};

function lexFieldOrVariable(l: Lexer, typ: ItemType): StateFn | null {
  if (l.atTerminator()) {
    if (typ === T.Variable) return l.emit(T.Variable);
    return l.emit(T.Dot);
  }
  let r: number;
  for (;;) {
    r = l.next();
    if (r === EOF || !isAlphaNumeric(r)) {
      l.backup();
      break;
    }
  }
  if (!l.atTerminator()) return l.errorf(`bad character ${formatU(r)}`);
  return l.emit(typ);
}

const lexChar: StateFn = (l) => {
  for (;;) {
    let r = l.next();
    if (r === 0x5c) {
      r = l.next();
      if (r !== EOF && r !== 10) continue;
      return l.errorf('unterminated character constant');
    }
    if (r === EOF || r === 10) return l.errorf('unterminated character constant');
    if (r === 0x27) break;
  }
  return l.emit(T.CharConstant);
};

const lexNumber: StateFn = (l) => {
  if (!l.scanNumber()) return l.errorf(`bad number syntax: ${quote(l.input.slice(l.start, l.pos))}`);
  const sign = l.peek();
  if (sign === 0x2b || sign === 0x2d) {
    if (!l.scanNumber() || l.input[l.pos - 1] !== 'i') return l.errorf(`bad number syntax: ${quote(l.input.slice(l.start, l.pos))}`);
    return l.emit(T.Complex);
  }
  return l.emit(T.Number);
};

const lexQuote: StateFn = (l) => {
  for (;;) {
    let r = l.next();
    if (r === 0x5c) {
      r = l.next();
      if (r !== EOF && r !== 10) continue;
      return l.errorf('unterminated quoted string');
    }
    if (r === EOF || r === 10) return l.errorf('unterminated quoted string');
    if (r === 0x22) break;
  }
  return l.emit(T.String);
};

const lexRawQuote: StateFn = (l) => {
  for (;;) {
    const r = l.next();
    if (r === EOF) return l.errorf('unterminated raw quoted string');
    if (r === 0x60) break;
  }
  return l.emit(T.RawString);
};

// ---------------------------------------------------------------- nodes

export interface TreeRef {
  name: string; // template name
  parseName: string; // name of the top-level template during parsing
  text: string;
}

interface NodeBase {
  pos: number;
  tr: TreeRef;
}

export interface TextNode extends NodeBase { type: 'text'; text: string }
export interface CommentNode extends NodeBase { type: 'comment'; text: string }
export interface ListNode extends NodeBase { type: 'list'; nodes: Node[] }
export interface PipeNode extends NodeBase { type: 'pipe'; isAssign: boolean; decl: VariableNode[]; cmds: CommandNode[]; line: number }
export interface ActionNode extends NodeBase { type: 'action'; pipe: PipeNode; line: number }
export interface CommandNode extends NodeBase { type: 'command'; args: Node[] }
export interface IdentifierNode extends NodeBase {
  type: 'identifier';
  ident: string;
  /** Executor cache: the function this name resolved to in `fnEnv` (a template's function table). */
  fnEnv: object | null;
  fn: unknown;
}
export interface VariableNode extends NodeBase { type: 'variable'; ident: string[] }
export interface DotNode extends NodeBase { type: 'dot' }
export interface NilNode extends NodeBase { type: 'nil' }
export interface FieldNode extends NodeBase { type: 'field'; ident: string[] }
export interface ChainNode extends NodeBase { type: 'chain'; node: Node; field: string[] }
export interface BoolNode extends NodeBase { type: 'bool'; value: boolean }
export interface NumberNode extends NodeBase {
  type: 'number';
  isInt: boolean; isUint: boolean; isFloat: boolean; isComplex: boolean;
  int64: bigint; uint64: bigint; float64: number; text: string;
  /** Executor cache: the constant's value once evaluated (constants never change). */
  ideal: unknown;
}
export interface StringNode extends NodeBase { type: 'string'; quoted: string; text: string }
export interface EndNode extends NodeBase { type: 'end' }
export interface ElseNode extends NodeBase { type: 'else'; line: number }
export interface BranchNode extends NodeBase { type: 'if' | 'range' | 'with'; pipe: PipeNode; list: ListNode; elseList: ListNode | null; line: number }
export interface BreakNode extends NodeBase { type: 'break' }
export interface ContinueNode extends NodeBase { type: 'continue' }
export interface TemplateNode extends NodeBase { type: 'template'; name: string; pipe: PipeNode | null; line: number }

export type Node = TextNode | CommentNode | ListNode | PipeNode | ActionNode | CommandNode | IdentifierNode |
  VariableNode | DotNode | NilNode | FieldNode | ChainNode | BoolNode | NumberNode | StringNode | EndNode |
  ElseNode | BranchNode | BreakNode | ContinueNode | TemplateNode;

export function nodeString(n: Node): string {
  switch (n.type) {
    case 'text': return n.text;
    case 'comment': return '{{' + n.text + '}}';
    case 'list': return n.nodes.map(nodeString).join('');
    case 'pipe': {
      let s = '';
      if (n.decl.length > 0) {
        s = n.decl.map(nodeString).join(', ') + (n.isAssign ? ' = ' : ' := ');
      }
      return s + n.cmds.map(nodeString).join(' | ');
    }
    case 'action': return '{{' + nodeString(n.pipe) + '}}';
    case 'command': return n.args.map((a) => (a.type === 'pipe' ? '(' + nodeString(a) + ')' : nodeString(a))).join(' ');
    case 'identifier': return n.ident;
    case 'variable': return n.ident.join('.');
    case 'dot': return '.';
    case 'nil': return 'nil';
    case 'field': return n.ident.map((i) => '.' + i).join('');
    case 'chain': {
      const base = n.node.type === 'pipe' ? '(' + nodeString(n.node) + ')' : nodeString(n.node);
      return base + n.field.map((f) => '.' + f).join('');
    }
    case 'bool': return n.value ? 'true' : 'false';
    case 'number': return n.text;
    case 'string': return n.quoted;
    case 'end': return '{{end}}';
    case 'else': return '{{else}}';
    case 'if': case 'range': case 'with': {
      let s = '{{' + n.type + ' ' + nodeString(n.pipe) + '}}' + nodeString(n.list);
      if (n.elseList) s += '{{else}}' + nodeString(n.elseList);
      return s + '{{end}}';
    }
    case 'break': return '{{break}}';
    case 'continue': return '{{continue}}';
    case 'template': return '{{template ' + quote(n.name) + (n.pipe ? ' ' + nodeString(n.pipe) : '') + '}}';
  }
}

// ---------------------------------------------------------------- errors

export interface TemplateErrorParts {
  /** Everything before the message, e.g. `template: k:1:3: executing "k" at <.x>: `. */
  prefix: string;
  /** The function whose call failed (`error calling NAME: ...`), if any. */
  func?: string;
  /** That function's own error text. */
  funcMessage?: string;
  /** Every argument of the failed call is a literal of the template text (none derives from data). */
  constantArgs?: boolean | undefined;
}

export class TemplateError extends Error {
  readonly kind: 'parse' | 'exec';
  /** message = prefix + detail; detail is the part that can contain data (see redactTemplateError). */
  readonly prefix: string;
  readonly detail: string;
  readonly func: string | undefined;
  readonly funcMessage: string | undefined;
  readonly constantArgs: boolean;
  constructor(kind: 'parse' | 'exec', message: string, parts?: TemplateErrorParts) {
    super(message);
    this.name = 'TemplateError';
    this.kind = kind;
    const prefix = parts && message.startsWith(parts.prefix) ? parts.prefix : '';
    this.prefix = prefix;
    this.detail = message.slice(prefix.length);
    this.func = parts?.func;
    this.funcMessage = parts?.funcMessage;
    this.constantArgs = parts?.constantArgs === true;
  }
}

class ParseAbort extends Error {}

// location "NAME:LINE:COL" of a node, columns in bytes as Go does
export function errorContext(n: Node): [string, string] {
  const tr = n.tr;
  const text = tr.text.slice(0, n.pos);
  const nl = text.lastIndexOf('\n');
  const byteNum = nl === -1 ? utf8Len(text) : utf8Len(text.slice(nl + 1));
  const lineNum = 1 + countNL(text, 0, text.length);
  return [`${tr.parseName}:${lineNum}:${byteNum}`, nodeString(n)];
}

// ---------------------------------------------------------------- parser

export interface Tree {
  name: string;
  root: ListNode;
  ref: TreeRef;
}

export type TreeSet = Map<string, Tree>;

const maxStackDepth = 10000;

function newNumber(tr: TreeRef, pos: number, text: string, typ: ItemType): NumberNode {
  const n: NumberNode = { type: 'number', pos, tr, isInt: false, isUint: false, isFloat: false, isComplex: false, int64: 0n, uint64: 0n, float64: 0, text, ideal: undefined };
  if (typ === T.CharConstant) {
    const { value, tail } = unquoteChar(text.slice(1), text.charCodeAt(0));
    if (tail !== "'") throw new ParseMsg(`malformed character constant: ${text}`);
    n.int64 = BigInt(value);
    n.isInt = true;
    n.uint64 = BigInt(value);
    n.isUint = true;
    n.float64 = value;
    n.isFloat = true;
    return n;
  }
  if (typ === T.Complex) {
    throw new ParseMsg(`complex constants are not supported: ${text}`);
  }
  if (text.length > 0 && text[text.length - 1] === 'i') {
    try {
      const f = parseFloat64(text.slice(0, -1));
      n.isComplex = true;
      // simplifyComplex: imaginary part nonzero -> not float
      n.isFloat = f === 0;
      if (n.isFloat) {
        n.float64 = 0;
        n.isInt = true;
        n.isUint = true;
      }
      return n;
    } catch {
      /* fall through */
    }
  }
  let u: bigint | undefined;
  try {
    u = parseUint(text);
    n.isUint = true;
    n.uint64 = u;
  } catch { /* */ }
  try {
    const i = parseInt64(text);
    n.isInt = true;
    n.int64 = i;
    if (i === 0n) {
      n.isUint = true;
      n.uint64 = u ?? 0n;
    }
  } catch { /* */ }
  if (n.isInt) {
    n.isFloat = true;
    n.float64 = Number(n.int64);
  } else if (n.isUint) {
    n.isFloat = true;
    n.float64 = Number(n.uint64);
  } else {
    let f: number | undefined;
    try {
      f = parseFloat64(text);
    } catch (e) {
      if (e instanceof RangeOrSyntax && e.reason === 'range' && /[.eEpP]/.test(text)) f = undefined;
    }
    if (f !== undefined) {
      if (!/[.eEpP]/.test(text)) throw new ParseMsg(`integer overflow: ${quote(text)}`);
      n.isFloat = true;
      n.float64 = f;
      if (Number.isInteger(f) && f >= -9223372036854775808 && f < 9223372036854775808) {
        n.isInt = true;
        n.int64 = BigInt(f);
      }
      if (Number.isInteger(f) && f >= 0 && f < 18446744073709551616) {
        n.isUint = true;
        n.uint64 = BigInt(f);
      }
    }
  }
  if (!n.isInt && !n.isUint && !n.isFloat) throw new ParseMsg(`illegal number syntax: ${quote(text)}`);
  return n;
}

class ParseMsg extends Error {}

export interface ParseOptions {
  leftDelim?: string;
  rightDelim?: string;
  hasFunction: (name: string) => boolean;
}

class Parser {
  name: string;
  ref: TreeRef;
  root: ListNode | null = null;
  lex: Lexer;
  token: Item[] = [];
  peekCount = 0;
  vars: string[] = ['$'];
  treeSet: TreeSet;
  actionLine = 0;
  rangeDepth = 0;
  stackDepth = 0;
  opts: ParseOptions;

  constructor(name: string, ref: TreeRef, lex: Lexer, treeSet: TreeSet, opts: ParseOptions) {
    this.name = name;
    this.ref = ref;
    this.lex = lex;
    this.treeSet = treeSet;
    this.opts = opts;
    this.token = [lex.item, lex.item, lex.item];
  }

  errorf(msg: string): never {
    this.root = null;
    throw new TemplateError('parse', `template: ${this.ref.parseName}:${this.token[0]!.line}: ${msg}`);
  }

  next(): Item {
    if (this.peekCount > 0) this.peekCount--;
    else this.token[0] = this.lex.nextItem();
    return this.token[this.peekCount]!;
  }
  backup(): void {
    this.peekCount++;
  }
  backup2(t1: Item): void {
    this.token[1] = t1;
    this.peekCount = 2;
  }
  backup3(t2: Item, t1: Item): void {
    this.token[1] = t1;
    this.token[2] = t2;
    this.peekCount = 3;
  }
  peek(): Item {
    if (this.peekCount > 0) return this.token[this.peekCount - 1]!;
    this.peekCount = 1;
    this.token[0] = this.lex.nextItem();
    return this.token[0];
  }
  nextNonSpace(): Item {
    let token: Item;
    for (;;) {
      token = this.next();
      if (token.typ !== T.Space) break;
    }
    return token;
  }
  peekNonSpace(): Item {
    const token = this.nextNonSpace();
    this.backup();
    return token;
  }
  expect(expected: ItemType, context: string): Item {
    const token = this.nextNonSpace();
    if (token.typ !== expected) this.unexpected(token, context);
    return token;
  }
  expectOneOf(e1: ItemType, e2: ItemType, context: string): Item {
    const token = this.nextNonSpace();
    if (token.typ !== e1 && token.typ !== e2) this.unexpected(token, context);
    return token;
  }
  unexpected(token: Item, context: string): never {
    if (token.typ === T.Error) {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== token.line) {
        extra = ` in action started at ${this.ref.parseName}:${this.actionLine}`;
        if (token.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.errorf(`${itemString(token)}${extra}`);
    }
    this.errorf(`unexpected ${itemString(token)} in ${context}`);
  }

  wrap<R>(f: () => R): R {
    try {
      return f();
    } catch (e) {
      if (e instanceof ParseMsg) this.errorf(e.message);
      if (e instanceof SyntaxError_) this.errorf(e.message);
      throw e;
    }
  }

  newList(pos: number): ListNode {
    return { type: 'list', pos, tr: this.ref, nodes: [] };
  }

  parse(): void {
    this.root = this.newList(this.peek().pos);
    while (this.peek().typ !== T.EOF) {
      if (this.peek().typ === T.LeftDelim) {
        const delim = this.next();
        if (this.nextNonSpace().typ === T.Define) {
          const ref: TreeRef = { name: 'definition', parseName: this.ref.parseName, text: this.ref.text };
          const newT = new Parser('definition', ref, this.lex, this.treeSet, this.opts);
          newT.token = this.token;
          newT.peekCount = 0;
          newT.parseDefinition();
          continue;
        }
        this.backup2(delim);
      }
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') this.errorf(`unexpected ${nodeString(n)}`);
      this.root.nodes.push(n);
    }
  }

  add(): void {
    const tree = this.treeSet.get(this.name);
    if (tree === undefined || isEmptyTree(tree.root)) {
      this.treeSet.set(this.name, { name: this.name, root: this.root!, ref: this.ref });
      return;
    }
    if (!isEmptyTree(this.root!)) this.errorf(`template: multiple definition of template ${quote(this.name)}`);
  }

  parseDefinition(): void {
    const context = 'define clause';
    const name = this.expectOneOf(T.String, T.RawString, context);
    this.name = this.wrap(() => unquote(name.val));
    this.ref.name = this.name;
    this.expect(T.RightDelim, context);
    const [list, end] = this.itemList();
    this.root = list;
    if (end.type !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`);
    this.add();
  }

  itemList(): [ListNode, Node] {
    const list = this.newList(this.peekNonSpace().pos);
    while (this.peekNonSpace().typ !== T.EOF) {
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') return [list, n];
      list.nodes.push(n);
    }
    this.errorf('unexpected EOF');
  }

  textOrAction(): Node {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case T.Text:
        return { type: 'text', pos: token.pos, tr: this.ref, text: token.val };
      case T.LeftDelim: {
        this.actionLine = token.line;
        try {
          return this.action();
        } finally {
          this.actionLine = 0;
        }
      }
      case T.Comment:
        return { type: 'comment', pos: token.pos, tr: this.ref, text: token.val };
    }
    this.unexpected(token, 'input');
  }

  action(): Node {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case T.Block: return this.blockControl();
      case T.Break: return this.breakControl(token.pos);
      case T.Continue: return this.continueControl(token.pos);
      case T.Else: return this.elseControl();
      case T.End: return this.endControl();
      case T.If: return this.parseControlNode('if');
      case T.Range: return this.parseControlNode('range');
      case T.Template: return this.templateControl();
      case T.With: return this.parseControlNode('with');
    }
    this.backup();
    const tok = this.peek();
    return { type: 'action', pos: tok.pos, tr: this.ref, line: tok.line, pipe: this.pipeline('command', T.RightDelim) };
  }

  breakControl(pos: number): Node {
    const token = this.nextNonSpace();
    if (token.typ !== T.RightDelim) this.unexpected(token, '{{break}}');
    if (this.rangeDepth === 0) this.errorf('{{break}} outside {{range}}');
    return { type: 'break', pos, tr: this.ref };
  }

  continueControl(pos: number): Node {
    const token = this.nextNonSpace();
    if (token.typ !== T.RightDelim) this.unexpected(token, '{{continue}}');
    if (this.rangeDepth === 0) this.errorf('{{continue}} outside {{range}}');
    return { type: 'continue', pos, tr: this.ref };
  }

  newVariable(pos: number, ident: string): VariableNode {
    return { type: 'variable', pos, tr: this.ref, ident: ident.split('.') };
  }

  pipeline(context: string, end: ItemType): PipeNode {
    const token = this.peekNonSpace();
    const pipe: PipeNode = { type: 'pipe', pos: token.pos, tr: this.ref, line: token.line, isAssign: false, decl: [], cmds: [] };
    decls: for (;;) {
      const v = this.peekNonSpace();
      if (v.typ === T.Variable) {
        this.next();
        const tokenAfterVariable = this.peek();
        const next = this.peekNonSpace();
        if (next.typ === T.Assign || next.typ === T.Declare) {
          pipe.isAssign = next.typ === T.Assign;
          this.nextNonSpace();
          pipe.decl.push(this.newVariable(v.pos, v.val));
          this.vars.push(v.val);
        } else if (next.typ === T.Char && next.val === ',') {
          this.nextNonSpace();
          pipe.decl.push(this.newVariable(v.pos, v.val));
          this.vars.push(v.val);
          if (context === 'range' && pipe.decl.length < 2) {
            const p = this.peekNonSpace().typ;
            if (p === T.Variable || p === T.RightDelim || p === T.RightParen) continue decls;
            this.errorf('range can only initialize variables');
          }
          this.errorf(`too many declarations in ${context}`);
        } else if (tokenAfterVariable.typ === T.Space) {
          this.backup3(v, tokenAfterVariable);
        } else {
          this.backup2(v);
        }
      }
      break;
    }
    for (;;) {
      const token = this.nextNonSpace();
      if (token.typ === end) {
        this.checkPipeline(pipe, context);
        return pipe;
      }
      switch (token.typ) {
        case T.Bool: case T.CharConstant: case T.Complex: case T.Dot: case T.Field: case T.Identifier:
        case T.Number: case T.Nil: case T.RawString: case T.String: case T.Variable: case T.LeftParen:
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(token, context);
      }
    }
  }

  checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    for (let i = 1; i < pipe.cmds.length; i++) {
      const t = pipe.cmds[i]!.args[0]!.type;
      if (t === 'bool' || t === 'dot' || t === 'nil' || t === 'number' || t === 'string') {
        this.errorf(`non executable command in pipeline stage ${i + 1}`);
      }
    }
  }

  parseControl(context: 'if' | 'range' | 'with'): [PipeNode, ListNode, ListNode | null] {
    const nvars = this.vars.length;
    try {
      const pipe = this.pipeline(context, T.RightDelim);
      if (context === 'range') this.rangeDepth++;
      let [list, next] = this.itemList();
      if (context === 'range') this.rangeDepth--;
      let elseList: ListNode | null = null;
      if (next.type === 'else') {
        if (context === 'if' && this.peek().typ === T.If) {
          this.next();
          elseList = this.newList(next.pos);
          elseList.nodes.push(this.parseControlNode('if'));
        } else if (context === 'with' && this.peek().typ === T.With) {
          this.next();
          elseList = this.newList(next.pos);
          elseList.nodes.push(this.parseControlNode('with'));
        } else {
          [elseList, next] = this.itemList();
          if (next.type !== 'end') this.errorf(`expected end; found ${nodeString(next)}`);
        }
      }
      return [pipe, list, elseList];
    } finally {
      this.vars.length = nvars;
    }
  }

  parseControlNode(context: 'if' | 'range' | 'with'): BranchNode {
    const [pipe, list, elseList] = this.parseControl(context);
    return { type: context, pos: pipe.pos, tr: this.ref, line: pipe.line, pipe, list, elseList };
  }

  endControl(): Node {
    return { type: 'end', pos: this.expect(T.RightDelim, 'end').pos, tr: this.ref };
  }

  elseControl(): Node {
    const peek = this.peekNonSpace();
    if (peek.typ === T.If || peek.typ === T.With) return { type: 'else', pos: peek.pos, tr: this.ref, line: peek.line };
    const token = this.expect(T.RightDelim, 'else');
    return { type: 'else', pos: token.pos, tr: this.ref, line: token.line };
  }

  blockControl(): Node {
    const context = 'block clause';
    const token = this.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    const pipe = this.pipeline(context, T.RightDelim);
    const ref: TreeRef = { name, parseName: this.ref.parseName, text: this.ref.text };
    const block = new Parser(name, ref, this.lex, this.treeSet, this.opts);
    block.token = this.token;
    block.peekCount = this.peekCount;
    const [list, end] = block.itemList();
    block.root = list;
    this.peekCount = block.peekCount;
    if (end.type !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`);
    block.add();
    return { type: 'template', pos: token.pos, tr: this.ref, line: token.line, name, pipe };
  }

  templateControl(): Node {
    const context = 'template clause';
    const token = this.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    let pipe: PipeNode | null = null;
    if (this.nextNonSpace().typ !== T.RightDelim) {
      this.backup();
      pipe = this.pipeline(context, T.RightDelim);
    }
    return { type: 'template', pos: token.pos, tr: this.ref, line: token.line, name, pipe };
  }

  parseTemplateName(token: Item, context: string): string {
    if (token.typ === T.String || token.typ === T.RawString) return this.wrap(() => unquote(token.val));
    this.unexpected(token, context);
  }

  command(): CommandNode {
    const cmd: CommandNode = { type: 'command', pos: this.peekNonSpace().pos, tr: this.ref, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand !== null) cmd.args.push(operand);
      const token = this.next();
      if (token.typ === T.Space) continue;
      if (token.typ === T.RightDelim || token.typ === T.RightParen) this.backup();
      else if (token.typ === T.Pipe) { /* */ } else this.unexpected(token, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  operand(): Node | null {
    let node = this.term();
    if (node === null) return null;
    if (this.peek().typ === T.Field) {
      const chain: ChainNode = { type: 'chain', pos: this.peek().pos, tr: this.ref, node, field: [] };
      while (this.peek().typ === T.Field) chain.field.push(this.next().val.slice(1));
      switch (node.type) {
        case 'field':
          node = { type: 'field', pos: chain.pos, tr: this.ref, ident: nodeString(chain).split('.').slice(1) };
          break;
        case 'variable':
          node = this.newVariable(chain.pos, nodeString(chain));
          break;
        case 'bool': case 'string': case 'number': case 'nil': case 'dot':
          this.errorf(`unexpected . after term ${quote(nodeString(node))}`);
        default:
          node = chain;
      }
    }
    return node;
  }

  term(): Node | null {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case T.Identifier:
        if (!this.opts.hasFunction(token.val)) this.errorf(`function ${quote(token.val)} not defined`);
        return { type: 'identifier', pos: token.pos, tr: this.ref, ident: token.val, fnEnv: null, fn: null };
      case T.Dot: return { type: 'dot', pos: token.pos, tr: this.ref };
      case T.Nil: return { type: 'nil', pos: token.pos, tr: this.ref };
      case T.Variable: return this.useVar(token.pos, token.val);
      case T.Field: return { type: 'field', pos: token.pos, tr: this.ref, ident: token.val.slice(1).split('.') };
      case T.Bool: return { type: 'bool', pos: token.pos, tr: this.ref, value: token.val === 'true' };
      case T.CharConstant: case T.Complex: case T.Number:
        return this.wrap(() => newNumber(this.ref, token.pos, token.val, token.typ));
      case T.LeftParen: {
        if (this.stackDepth >= maxStackDepth) this.errorf('max expression depth exceeded');
        this.stackDepth++;
        try {
          return this.pipeline('parenthesized pipeline', T.RightParen);
        } finally {
          this.stackDepth--;
        }
      }
      case T.String: case T.RawString: {
        const s = this.wrap(() => unquote(token.val));
        return { type: 'string', pos: token.pos, tr: this.ref, quoted: token.val, text: s };
      }
    }
    this.backup();
    return null;
  }

  useVar(pos: number, name: string): Node {
    const v = this.newVariable(pos, name);
    if (this.vars.includes(v.ident[0]!)) return v;
    this.errorf(`undefined variable ${quote(v.ident[0]!)}`);
  }
}

export function isEmptyTree(n: Node | null): boolean {
  if (n === null) return true;
  switch (n.type) {
    case 'comment': return true;
    case 'list': return n.nodes.every(isEmptyTree);
    case 'text': return n.text.trim().length === 0 || /^[\s]*$/.test(n.text.replace(/[\t\n\v\f\r \u0085\u00a0]/g, ''));
    default: return false;
  }
}

// Parse text as template `name`, adding all trees (main + defines/blocks) to treeSet.
export function parse(name: string, text: string, treeSet: TreeSet, opts: ParseOptions): void {
  const ref: TreeRef = { name, parseName: name, text };
  const lex = new Lexer(text, opts.leftDelim ?? '', opts.rightDelim ?? '');
  lex.breakOK = !opts.hasFunction('break');
  lex.continueOK = !opts.hasFunction('continue');
  const p = new Parser(name, ref, lex, treeSet, opts);
  p.parse();
  p.add();
}

export { ParseAbort };
