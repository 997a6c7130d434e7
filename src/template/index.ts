// Public API of the Go text/template + sprig engine used for ESO `target.template`.
//
//   const t = parseTemplate('key', '{{ .password | b64enc }}');
//   t.execute(esoData({ password: 'hunter2' }));        // "aHVudGVyMg=="
//
// Errors are thrown as TemplateError with Go's message text, e.g.
//   template: key:1:3: executing "key" at <.nope>: map has no entry for key "nope"

import { parse, TemplateError } from './parse.ts';
import type { TreeSet } from './parse.ts';
import { executeTree, Output } from './exec.ts';
import type { ExecEnv, MissingKey } from './exec.ts';
import { builtinFuncs } from './builtins.ts';
import { fromJS, mkMap, goStringFromBytes } from './values.ts';
import type { GoFunc } from './values.ts';
import { esoFuncs } from './funcs/index.ts';

export { TemplateError } from './parse.ts';
export type { TemplateErrorParts } from './parse.ts';
export { redactTemplateError, REDACTED } from './redact.ts';
export { GoError } from './exec.ts';
export { BudgetExceededError, asBudgetError, MAX_STRING_LENGTH, MAX_LIST_LENGTH, MAX_RENDER_ALLOCATION } from './budget.ts';
export type { MissingKey } from './exec.ts';
export type { GoFunc } from './values.ts';
export { INVALID, TypedInt, GoBytes, GoTime, fromJS, toJS, mkMap, mkSlice } from './values.ts';

export interface TemplateOptions {
  // Function library: 'eso' = sprig v3 TxtFuncMap minus env/expandenv plus ESO's own functions
  // (default), 'none' = only text/template builtins.
  library?: 'eso' | 'none';
  // Extra functions (override library functions of the same name).
  funcs?: Record<string, GoFunc>;
  // Behaviour for a missing map key. ESO uses Option("missingkey=error"), which is the default here.
  missingKey?: MissingKey;
  leftDelim?: string;
  rightDelim?: string;
}

let esoLibrary: Map<string, GoFunc> | undefined;
const builtins = builtinFuncs();

function library(opts: TemplateOptions): Map<string, GoFunc> {
  const m = new Map<string, GoFunc>();
  if ((opts.library ?? 'eso') === 'eso') {
    esoLibrary ??= esoFuncs();
    for (const [k, v] of esoLibrary) m.set(k, v);
  }
  if (opts.funcs) for (const [k, v] of Object.entries(opts.funcs)) m.set(k, v);
  return m;
}

export class Template {
  readonly name: string;
  private readonly trees: TreeSet = new Map();
  private readonly env: ExecEnv;
  private readonly opts: TemplateOptions;

  constructor(name: string, opts: TemplateOptions = {}) {
    this.name = name;
    this.opts = opts;
    this.env = { trees: this.trees, funcs: library(opts), builtins, missingKey: opts.missingKey ?? 'error' };
  }

  // Parse text as the body of this template (and any {{define}}d templates). Throws TemplateError.
  parse(text: string): this {
    return this.parseNamed(this.name, text);
  }

  // Like template.New(name).Parse(text) on the same template set.
  parseNamed(name: string, text: string): this {
    const funcs = this.env.funcs;
    parse(name, text, this.trees, {
      leftDelim: this.opts.leftDelim,
      rightDelim: this.opts.rightDelim,
      hasFunction: (n) => funcs.has(n) || builtins.has(n),
    });
    return this;
  }

  // Names of all templates in the set.
  definedTemplates(): string[] {
    return [...this.trees.keys()];
  }

  // Execute the template; `data` is plain JS (objects → map[string]interface{}, numbers → float64,
  // bigint → int) or Go values built with mkMap/mkSlice/esoData.
  execute(data: unknown): string {
    return this.run(this.name, data).toString();
  }

  // Like execute but returns the raw bytes (keeps non-UTF-8 output such as b64dec of binary data).
  executeBytes(data: unknown): Buffer {
    return this.run(this.name, data).toBuffer();
  }

  executeTemplate(name: string, data: unknown): string {
    if (!this.trees.has(name)) {
      throw new TemplateError('exec', `template: no template "${name}" associated with template "${this.name}"`);
    }
    return this.run(name, data).toString();
  }

  private run(name: string, data: unknown): Output {
    const out = new Output();
    executeTree(this.env, this.trees.get(name), name, fromJS(data), out);
    return out;
  }
}

// template.New(name).Option(missingkey=error).Funcs(ESO funcs).Parse(text)
export function parseTemplate(name: string, text: string, opts: TemplateOptions = {}): Template {
  return new Template(name, opts).parse(text);
}

// ESO passes secret data as map[string]string (values are the secret bytes as Go strings).
export function esoData(data: Record<string, string | Uint8Array>): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (const [k, v] of Object.entries(data)) m.set(k, typeof v === 'string' ? v : goStringFromBytes(v));
  return mkMap(m, 'map[string]string');
}

// Render like ESO's template engine v2: returns the output bytes for one template key.
export function renderESO(key: string, text: string, data: Record<string, string | Uint8Array>, opts: TemplateOptions = {}): Buffer {
  return parseTemplate(key, text, opts).executeBytes(esoData(data));
}
