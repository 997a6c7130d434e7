// Executor for parsed templates (mirrors text/template/exec.go).

import type { Node, ListNode, PipeNode, CommandNode, FieldNode, ChainNode, VariableNode, IdentifierNode, NumberNode, BranchNode, TemplateNode, Tree, TreeSet } from './parse.ts';
import { TemplateError, errorContext, nodeString } from './parse.ts';
import { quote } from './strconv.ts';
import { INVALID, TypedInt, GoStruct, GoTime, GoBytes, typeName, sortedKeys, mapType, elemType, mkSlice, mkMap, isInt, intValue } from './values.ts';
import type { GoFunc, IntKind } from './values.ts';
import { formatValue } from './fmt.ts';
import { asBudgetError, beginExecution, BudgetExceededError, checkStringLength, endExecution, MAX_STRING_LENGTH, meterAllocation } from './budget.ts';
import { goTimeMethods } from './gotime.ts';

export type MissingKey = 'default' | 'invalid' | 'zero' | 'error';

export const MISSING: unique symbol = Symbol('missing');

// Error returned by a template function (Go's second return value / panic).
export class GoError extends Error {}

class BreakSignal {}
class ContinueSignal {}
const walkBreak = new BreakSignal();
const walkContinue = new ContinueSignal();

export interface ExecEnv {
  trees: TreeSet;
  funcs: Map<string, GoFunc>;
  builtins: Map<string, GoFunc>;
  missingKey: MissingKey;
}

interface Variable {
  name: string;
  value: unknown;
}

// Text accumulates in one string (V8 concatenation is cheaper than collecting and joining
// pieces); raw bytes (non-UTF-8 Go strings) switch to a list of chunks.
export class Output {
  private text = '';
  private chunks: (string | Uint8Array)[] | null = null;
  write(s: string): void {
    this.text += s;
    if (this.text.length > MAX_STRING_LENGTH) checkStringLength(this.text.length, 'the template output');
  }
  writeBytes(b: Uint8Array): void {
    (this.chunks ??= []).push(this.text, b);
    this.text = '';
  }
  toString(): string {
    if (this.chunks === null) return this.text;
    return this.toBuffer().toString('utf8');
  }
  toBuffer(): Buffer {
    if (this.chunks === null) return Buffer.from(this.text, 'utf8');
    return Buffer.concat([...this.chunks, this.text].map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c)));
  }
}

/** A function name resolved against a template's function table (cached on the node). */
interface Resolved {
  fn: GoFunc;
  /** 1 and, 2 or (short-circuit builtins), 3 call, 0 anything else */
  special: number;
}

const maxExecDepth = 100000;

// JS runs out of stack long before Go's depth limit. The check must not call anything that needs
// stack itself (a regexp did, and its SyntaxError became the message): near the limit a handler
// may overflow again, and then the next frame out, with a little more room, handles it.
function isStackOverflow(e: unknown): boolean {
  if (e instanceof RangeError) return e.message === 'Maximum call stack size exceeded';
  // A regexp compiled near the limit fails with a SyntaxError instead.
  return e instanceof SyntaxError && (e.message.endsWith(': Stack overflow') || e.message.endsWith(': Maximum call stack size exceeded'));
}

function canBeNil(typ: string): boolean {
  return typ === 'interface {}' || typ === 'reflect.Value' || typ.startsWith('[]') || typ.startsWith('map[') || typ.startsWith('*');
}

export function zeroOf(typ: string): unknown {
  if (typ === 'interface {}') return null;
  if (typ === 'reflect.Value') return INVALID;
  if (typ.startsWith('[]')) return mkSlice([], typ);
  if (typ.startsWith('map[')) return mkMap(new Map(), typ);
  switch (typ) {
    case 'string': return '';
    case 'bool': return false;
    case 'float64': case 'float32': return 0;
    case 'int': return 0n;
    case 'int8': case 'int16': case 'int32': case 'int64': case 'uint': case 'uint8': case 'uint16': case 'uint32': case 'uint64': case 'uintptr':
      return new TypedInt(typ as IntKind, 0n);
  }
  return null;
}

const intKinds = new Set(['int', 'int8', 'int16', 'int32', 'int64']);
const uintKinds = new Set(['uint', 'uint8', 'uint16', 'uint32', 'uint64', 'uintptr']);

// Go truthiness (isTrue). Returns [truth, ok].
export function isTrue(v: unknown): [boolean, boolean] {
  if (v === INVALID || v === null || v === undefined) return [false, true];
  switch (typeof v) {
    case 'string': return [v.length > 0, true];
    case 'boolean': return [v, true];
    case 'number': return [v !== 0, true];
    case 'bigint': return [v !== 0n, true];
  }
  if (v instanceof TypedInt) return [v.v !== 0n, true];
  if (Array.isArray(v)) return [v.length > 0, true];
  if (v instanceof Map) return [v.size > 0, true];
  if (v instanceof GoBytes) return [v.b.length > 0, true];
  if (v instanceof Uint8Array) return [v.length > 0, true];
  if (v instanceof GoStruct || v instanceof GoTime) return [true, true];
  if (typeof v === 'function') return [true, true];
  return [false, false];
}

export class State {
  env: ExecEnv;
  tmplName: string;
  out: Output;
  node: Node | null = null;
  vars: Variable[];
  depth: number;

  constructor(env: ExecEnv, tmplName: string, out: Output, vars: Variable[], depth: number) {
    this.env = env;
    this.tmplName = tmplName;
    this.out = out;
    this.vars = vars;
    this.depth = depth;
  }

  errorf(msg: string, func?: string, funcMessage?: string, constantArgs?: boolean): never {
    const name = this.tmplName;
    let prefix: string;
    if (this.node === null) prefix = `template: ${name}: `;
    else {
      const [location, context] = errorContext(this.node);
      prefix = `template: ${location}: executing ${quote(name)} at <${context}>: `;
    }
    throw new TemplateError('exec', prefix + msg, { prefix, func, funcMessage, constantArgs });
  }

  at(n: Node): void {
    this.node = n;
  }

  push(name: string, value: unknown): void {
    this.vars.push({ name, value });
  }
  mark(): number {
    return this.vars.length;
  }
  pop(mark: number): void {
    this.vars.length = mark;
  }
  setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }
  setTopVar(n: number, value: unknown): void {
    this.vars[this.vars.length - n]!.value = value;
  }
  varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) return this.vars[i]!.value;
    }
    this.errorf(`undefined variable: ${name}`);
  }

  walk(dot: unknown, node: Node): void {
    this.at(node);
    switch (node.type) {
      case 'action': {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return;
      }
      case 'break': throw walkBreak;
      case 'comment': return;
      case 'continue': throw walkContinue;
      case 'if': case 'with':
        this.walkIfOrWith(node, dot);
        return;
      case 'list': {
        const nodes = node.nodes;
        for (let i = 0; i < nodes.length; i++) this.walk(dot, nodes[i]!);
        return;
      }
      case 'range':
        this.walkRange(dot, node);
        return;
      case 'template':
        this.walkTemplate(dot, node);
        return;
      case 'text':
        this.out.write(node.text);
        return;
    }
    this.errorf(`unknown node: ${nodeString(node)}`);
  }

  walkIfOrWith(node: BranchNode, dot: unknown): void {
    const mark = this.mark();
    try {
      const val = this.evalPipeline(dot, node.pipe);
      const [truth, ok] = isTrue(val);
      if (!ok) this.errorf(`if/with can't use ${formatValue(val)}`);
      if (truth) {
        if (node.type === 'with') this.walk(val, node.list);
        else this.walk(dot, node.list);
      } else if (node.elseList) this.walk(dot, node.elseList);
    } finally {
      this.pop(mark);
    }
  }

  walkRange(dot: unknown, r: BranchNode): void {
    this.at(r);
    const outerMark = this.mark();
    try {
      const val = this.evalPipeline(dot, r.pipe);
      const mark = this.mark();
      const decl = r.pipe.decl;
      const oneIteration = (index: unknown, elem: unknown): void => {
        if (decl.length > 0) {
          if (r.pipe.isAssign) {
            if (decl.length > 1) this.setVar(decl[0]!.ident[0]!, index);
            else this.setVar(decl[0]!.ident[0]!, elem);
          } else this.setTopVar(1, elem);
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.setVar(decl[1]!.ident[0]!, elem);
          else this.setTopVar(2, index);
        }
        try {
          this.walk(elem, r.list);
        } catch (e) {
          if (e !== walkContinue) throw e;
        } finally {
          this.pop(mark);
        }
      };
      let ran = false;
      if (typeof val === 'bigint' || val instanceof TypedInt) {
        if (decl.length > 1) this.errorf(`can't use ${formatValue(val)} to iterate over more than one variable`);
        const n = intValue(val);
        for (let i = 0n; i < n; i++) {
          ran = true;
          oneIteration(INVALID, typeof val === 'bigint' ? i : new TypedInt(val.kind, i));
        }
      } else if (Array.isArray(val)) {
        for (let i = 0; i < val.length; i++) {
          ran = true;
          oneIteration(BigInt(i), val[i]);
        }
      } else if (val instanceof Map) {
        for (const k of sortedKeys(val)) {
          ran = true;
          oneIteration(k, val.get(k));
        }
      } else if (val === INVALID || val === null) {
        // acts like an empty map
      } else {
        this.errorf(`range can't iterate over ${formatValue(val)}`);
      }
      if (!ran && r.elseList) this.walk(dot, r.elseList);
    } catch (e) {
      if (e !== walkBreak) throw e;
    } finally {
      this.pop(outerMark);
    }
  }

  walkTemplate(dot: unknown, t: TemplateNode): void {
    this.at(t);
    const tree = this.env.trees.get(t.name);
    if (tree === undefined) this.errorf(`template ${quote(t.name)} not defined`);
    if (this.depth >= maxExecDepth) this.errorf(`exceeded maximum template depth (${maxExecDepth})`);
    dot = this.evalPipeline(dot, t.pipe);
    const ns = new State(this.env, tree.name, this.out, [{ name: '$', value: dot }], this.depth + 1);
    try {
      ns.walk(dot, tree.root);
    } catch (e) {
      if (isStackOverflow(e)) {
        this.at(t); // Go reports the {{template}} node that went too deep
        this.errorf(`exceeded maximum template depth (${maxExecDepth})`);
      }
      throw e;
    }
  }

  evalPipeline(dot: unknown, pipe: PipeNode | null): unknown {
    if (pipe === null) return INVALID;
    this.at(pipe);
    let value: unknown = MISSING;
    const cmds = pipe.cmds;
    for (let i = 0; i < cmds.length; i++) {
      value = this.evalCommand(dot, cmds[i]!, value);
      if (value === null || value === undefined) value = INVALID;
    }
    const decl = pipe.decl;
    for (let i = 0; i < decl.length; i++) {
      if (pipe.isAssign) this.setVar(decl[i]!.ident[0]!, value);
      else this.push(decl[i]!.ident[0]!, value);
    }
    return value;
  }

  notAFunction(args: Node[], final: unknown): void {
    if (args.length > 1 || final !== MISSING) this.errorf(`can't give argument to non-function ${nodeString(args[0]!)}`);
  }

  evalCommand(dot: unknown, cmd: CommandNode, final: unknown): unknown {
    const first = cmd.args[0]!;
    switch (first.type) {
      case 'field': return this.evalFieldNode(dot, first, cmd.args, final);
      case 'chain': return this.evalChainNode(dot, first, cmd.args, final);
      case 'identifier': return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable': return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool': return first.value;
      case 'dot': return dot;
      case 'nil': this.errorf('nil is not a command');
      case 'number': return this.idealConstant(first);
      case 'string': return first.text;
    }
    this.errorf(`can't evaluate command ${quote(nodeString(first))}`);
  }

  idealConstant(c: NumberNode): unknown {
    this.at(c);
    if (c.ideal !== undefined) return c.ideal;
    if (c.isComplex) this.errorf(`complex constants are not supported: ${c.text}`);
    const isHexInt = c.text.length > 2 && c.text[0] === '0' && (c.text[1] === 'x' || c.text[1] === 'X') && !/[pP]/.test(c.text);
    const isRuneInt = c.text[0] === "'";
    let v: unknown;
    if (c.isFloat && !isHexInt && !isRuneInt && /[.eEpP]/.test(c.text)) v = c.float64;
    else if (c.isInt) v = c.int64;
    else if (c.isUint) this.errorf(`${c.text} overflows int`);
    else v = INVALID;
    c.ideal = v;
    return v;
  }

  evalFieldNode(dot: unknown, field: FieldNode, args: Node[] | null, final: unknown): unknown {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  evalChainNode(dot: unknown, chain: ChainNode, args: Node[] | null, final: unknown): unknown {
    this.at(chain);
    if (chain.field.length === 0) this.errorf('internal error: no fields in evalChainNode');
    if (chain.node.type === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const pipe = this.evalArg(dot, undefined, chain.node);
    return this.evalFieldChain(dot, pipe, chain, chain.field, args, final);
  }

  evalVariableNode(dot: unknown, variable: VariableNode, args: Node[] | null, final: unknown): unknown {
    this.at(variable);
    const value = this.varValue(variable.ident[0]!);
    if (variable.ident.length === 1) {
      this.notAFunction(args ?? [variable], final);
      return value;
    }
    return this.evalFieldChain(dot, value, variable, variable.ident.slice(1), args, final);
  }

  evalFieldChain(dot: unknown, receiver: unknown, node: Node, ident: string[], args: Node[] | null, final: unknown): unknown {
    const n = ident.length;
    let iface = false;
    for (let i = 0; i < n - 1; i++) {
      const m = receiver;
      receiver = this.evalField(dot, ident[i]!, node, null, MISSING, receiver, iface);
      iface = m instanceof Map && elemType(mapType(m)) === 'interface {}';
    }
    return this.evalField(dot, ident[n - 1]!, node, args, final, receiver, iface);
  }

  evalFunction(dot: unknown, node: IdentifierNode, cmd: Node, args: Node[] | null, final: unknown): unknown {
    this.at(node);
    let r: Resolved;
    if (node.fnEnv === this.env) r = node.fn as Resolved;
    else {
      const name = node.ident;
      let fn = this.env.funcs.get(name);
      let special = 0;
      if (fn === undefined) {
        fn = this.env.builtins.get(name);
        special = name === 'and' ? 1 : name === 'or' ? 2 : name === 'call' ? 3 : 0;
      }
      if (fn === undefined) this.errorf(`${quote(name)} is not a defined function`);
      r = { fn, special };
      node.fn = r;
      node.fnEnv = this.env;
    }
    return this.evalCall(dot, r.fn, r.special, cmd, node.ident, args, final);
  }

  evalField(dot: unknown, fieldName: string, node: Node, args: Node[] | null, final: unknown, receiver: unknown, iface = false): unknown {
    if (receiver === INVALID || receiver === undefined) {
      if (this.env.missingKey === 'error') this.errorf(`nil data; no entry for key ${quote(fieldName)}`);
      return INVALID;
    }
    if (receiver === null) this.errorf(`nil pointer evaluating interface {}.${fieldName}`);
    const hasArgs = (args !== null && args.length > 1) || final !== MISSING;
    if (receiver instanceof Map) {
      if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
      const result = receiver.get(fieldName);
      if (result === undefined && !receiver.has(fieldName)) {
        switch (this.env.missingKey) {
          case 'error': this.errorf(`map has no entry for key ${quote(fieldName)}`);
          case 'zero': return zeroOf(elemType(mapType(receiver)));
          default: return INVALID;
        }
      }
      return result;
    }
    if (receiver instanceof GoStruct) {
      const m = receiver.methods.get(fieldName);
      if (m) return this.evalCall(dot, m, 0, node, fieldName, args, final);
      if (receiver.fields.has(fieldName)) {
        if (hasArgs) this.errorf(`${fieldName} has arguments but cannot be invoked as function`);
        return receiver.fields.get(fieldName);
      }
    } else if (receiver instanceof GoTime) {
      const m = goTimeMethods(receiver).get(fieldName);
      if (m) return this.evalCall(dot, m, 0, node, fieldName, args, final);
    }
    this.errorf(`can't evaluate field ${fieldName} in type ${iface ? 'interface {}' : typeName(receiver)}`);
  }

  // argNodes[0] is the function (or field) node itself; the arguments follow it.
  evalCall(dot: unknown, fn: GoFunc, special: number, node: Node, name: string, argNodes: Node[] | null, final: unknown): unknown {
    const nArgs = argNodes !== null ? argNodes.length - 1 : 0;
    const params = fn.params;
    const hasFinal = final !== MISSING;
    const numIn = hasFinal ? nArgs + 1 : nArgs;
    let numFixed = nArgs;
    if (fn.variadic) {
      numFixed = params.length - 1;
      if (numIn < numFixed) this.errorf(`wrong number of args for ${name}: want at least ${params.length - 1} got ${nArgs}`);
    } else if (numIn !== params.length) {
      this.errorf(`wrong number of args for ${name}: want ${params.length} got ${numIn}`);
    }
    if (special === 1 || special === 2) {
      // and / or: evaluate arguments lazily, stop at the first false / true one
      let v: unknown = INVALID;
      for (let i = 1; i <= nArgs; i++) {
        v = this.evalArg(dot, 'reflect.Value', argNodes![i]!);
        if (isTrue(v)[0] === (special === 2)) return v;
      }
      if (hasFinal) v = this.validateType(final, 'reflect.Value');
      return v;
    }
    const argv: unknown[] = new Array(numIn);
    let i = 0;
    for (; i < numFixed && i < nArgs; i++) argv[i] = this.evalArg(dot, params[i], argNodes![i + 1]!);
    if (fn.variadic) {
      const argType = params[params.length - 1];
      for (; i < nArgs; i++) argv[i] = this.evalArg(dot, argType, argNodes![i + 1]!);
    }
    if (hasFinal) {
      let t = params[params.length - 1]!;
      if (fn.variadic && numIn - 1 < numFixed) t = params[numIn - 1]!;
      argv[i] = this.validateType(final, t);
    }
    if (special === 3) {
      const calleeName = nArgs === 0 ? formatValue(final) : nodeString(argNodes![1]!);
      argv.unshift(calleeName);
    }
    try {
      const f = fn.fn;
      let result: unknown;
      switch (argv.length) {
        case 0: result = f(); break;
        case 1: result = f(argv[0]); break;
        case 2: result = f(argv[0], argv[1]); break;
        case 3: result = f(argv[0], argv[1], argv[2]); break;
        default: result = f(...argv);
      }
      if (typeof result === 'string') meterAllocation(result.length);
      else if (result instanceof GoBytes) meterAllocation(result.b.length);
      return result;
    } catch (e) {
      if (e instanceof TemplateError) throw e;
      // Deep in a recursive template the overflow is the template's (Go's depth message); near
      // the top it is the function's own, on data too large for it.
      if (isStackOverflow(e)) throw this.depth > 100 ? e : new BudgetExceededError(`${name} ran out of stack`);
      if (e === walkBreak || e === walkContinue) throw e;
      const budget = asBudgetError(e);
      if (budget) throw budget;
      this.at(node);
      const msg = e instanceof Error ? e.message : String(e);
      // Literal arguments come from the template text (Git); anything else may derive from data.
      let constantArgs = !hasFinal;
      for (let j = 1; constantArgs && j <= nArgs; j++) {
        const t = argNodes![j]!.type;
        constantArgs = t === 'string' || t === 'number' || t === 'bool' || t === 'nil';
      }
      this.errorf(`error calling ${name}: ${msg}`, name, msg, constantArgs);
    }
  }

  validateType(value: unknown, typ: string | undefined): unknown {
    // fast paths: the common exact matches
    if (typeof value === 'string') {
      if (typ === 'string' || typ === undefined || typ === 'interface {}' || typ === 'reflect.Value') return value;
    } else if (typeof value === 'bigint' && typ === 'int') return value;
    if (value === INVALID || value === undefined) {
      if (typ === undefined) return INVALID;
      if (canBeNil(typ)) return zeroOf(typ);
      this.errorf(`invalid value; expected ${typ}`);
    }
    if (typ === undefined || typ === 'interface {}' || typ === 'reflect.Value') return value;
    if (value === null) this.errorf(`wrong type for value; expected ${typ}; got interface {}`);
    const vt = typeName(value);
    if (vt === typ) return value;
    if (value instanceof GoBytes && typ === 'string') return value;
    this.errorf(`wrong type for value; expected ${typ}; got ${vt}`);
  }

  evalArg(dot: unknown, typ: string | undefined, n: Node): unknown {
    this.at(n);
    switch (n.type) {
      case 'dot': return this.validateType(dot, typ);
      case 'nil':
        if (typ === undefined) this.errorf('cannot assign nil to <nil>');
        if (canBeNil(typ)) return zeroOf(typ);
        this.errorf(`cannot assign nil to ${typ}`);
      case 'field': return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), typ);
      case 'variable': return this.validateType(this.evalVariableNode(dot, n, null, MISSING), typ);
      case 'pipe': return this.validateType(this.evalPipeline(dot, n), typ);
      case 'identifier': return this.validateType(this.evalFunction(dot, n, n, null, MISSING), typ);
      case 'chain': return this.validateType(this.evalChainNode(dot, n, null, MISSING), typ);
    }
    if (typ === undefined) return this.evalEmptyInterface(dot, n);
    switch (typ) {
      case 'bool':
        if (n.type === 'bool') return n.value;
        this.errorf(`expected bool; found ${nodeString(n)}`);
      case 'float64': case 'float32':
        if (n.type === 'number' && n.isFloat) return n.float64;
        this.errorf(`expected float; found ${nodeString(n)}`);
      case 'interface {}': case 'reflect.Value':
        return this.evalEmptyInterface(dot, n);
      case 'string':
        if (n.type === 'string') return n.text;
        this.errorf(`expected string; found ${nodeString(n)}`);
    }
    if (intKinds.has(typ)) {
      if (n.type === 'number' && n.isInt) {
        if (typ === 'int') return n.int64;
        return new TypedInt(typ as IntKind, BigInt.asIntN(Number(typ.slice(3)) || 64, n.int64));
      }
      this.errorf(`expected integer; found ${nodeString(n)}`);
    }
    if (uintKinds.has(typ)) {
      if (n.type === 'number' && n.isUint) {
        const bits = typ === 'uint' || typ === 'uintptr' ? 64 : Number(typ.slice(4));
        return new TypedInt(typ as IntKind, BigInt.asUintN(bits, n.uint64));
      }
      this.errorf(`expected unsigned integer; found ${nodeString(n)}`);
    }
    this.errorf(`can't handle ${nodeString(n)} for arg of type ${typ}`);
  }

  evalEmptyInterface(dot: unknown, n: Node): unknown {
    this.at(n);
    switch (n.type) {
      case 'bool': return n.value;
      case 'dot': return dot;
      case 'field': return this.evalFieldNode(dot, n, null, MISSING);
      case 'identifier': return this.evalFunction(dot, n, n, null, MISSING);
      case 'nil': this.errorf("evalEmptyInterface: nil (can't happen)");
      case 'number': return this.idealConstant(n);
      case 'string': return n.text;
      case 'variable': return this.evalVariableNode(dot, n, null, MISSING);
      case 'pipe': return this.evalPipeline(dot, n);
    }
    this.errorf(`can't handle assignment of ${nodeString(n)} to empty interface argument`);
  }

  printValue(n: Node, v: unknown): void {
    this.at(n);
    if (v === INVALID || v === undefined) {
      this.out.write('<no value>');
      return;
    }
    if (typeof v === 'string') {
      this.out.write(v);
      return;
    }
    if (typeof v === 'bigint') {
      this.out.write(v.toString());
      return;
    }
    if (v instanceof TypedInt) {
      this.out.write(v.v.toString()); // %v of any integer kind is its decimal value
      return;
    }
    if (v instanceof GoBytes) {
      this.out.writeBytes(v.b);
      return;
    }
    if (typeof v === 'function') this.errorf(`can't print ${nodeString(n)} of type ${typeName(v)}`);
    this.out.write(formatValue(v));
  }
}

export function executeTree(env: ExecEnv, tree: Tree | undefined, name: string, data: unknown, out: Output): void {
  const dot = data === null || data === undefined ? INVALID : data;
  const s: State = new State(env, name, out, [{ name: '$', value: dot }], 0);
  if (tree === undefined) s.errorf(`${quote(name)} is an incomplete or empty template`);
  const root = tree.root;
  beginExecution();
  try {
    s.walk(dot, root);
  } catch (e) {
    if (isStackOverflow(e)) s.errorf(`exceeded maximum template depth (${maxExecDepth})`);
    throw e;
  } finally {
    endExecution();
  }
}

export { isInt, intValue };
export type { ListNode };
