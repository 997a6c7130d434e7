// A declarative flag table: one source for parsing, `--help` text and the README check.
import { isValidDuration } from '../go/duration.ts';

export interface FlagSpec {
  name: string;
  type: 'string' | 'number' | 'boolean' | 'duration';
  default?: string | number | boolean;
  help: string;
  /** Other spellings accepted for compatibility (e.g. ESO's flag names). */
  aliases?: string[];
  /** May be given several times (values collected into an array). */
  multiple?: boolean;
}

export type FlagValues = Record<string, string | number | boolean | string[] | undefined>;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A flag's value: Go's duration syntax (as pflag's Duration), without a sign: no flag means a negative time. */
function isFlagDuration(raw: string): boolean {
  return isValidDuration(raw) && raw[0] !== '-' && raw[0] !== '+';
}

/** One flag's value, checked against its type; a usage error names the flag. */
function flagValue(spec: FlagSpec, name: string, raw: string): string | number {
  if (spec.type === 'number') {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new UsageError(`--${name}: expected a number, got "${raw}"`);
    return n;
  }
  if (spec.type === 'duration' && !isFlagDuration(raw)) {
    throw new UsageError(`--${name}: expected a duration such as 30s, 5m or 1h, got "${raw}"`);
  }
  return raw;
}

/** The spellings Go's strconv.ParseBool accepts, as pflag does (ESO's flags are pflags). */
const trueSpellings = new Set(['true', '1', 't', 'T', 'TRUE', 'True']);
const falseSpellings = new Set(['false', '0', 'f', 'F', 'FALSE', 'False']);

function booleanFlagValue(name: string, raw: string | undefined): boolean {
  if (raw === undefined || trueSpellings.has(raw)) return true;
  if (falseSpellings.has(raw)) return false;
  throw new UsageError(`--${name}: expected true or false, got "${raw}"`);
}

/** Parses argv against the table; unknown flags and bad values are usage errors naming the flag. */
export function parseFlags(specs: FlagSpec[], argv: string[]): { values: FlagValues; positionals: string[] } {
  const byName = new Map<string, FlagSpec>();
  for (const s of specs) {
    byName.set(s.name, s);
    for (const a of s.aliases ?? []) byName.set(a, s);
  }
  const values: FlagValues = {};
  for (const s of specs) if (s.default !== undefined) values[s.name] = s.default;
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`unknown flag --${name}`);
    let raw: string | undefined = eq < 0 ? undefined : body.slice(eq + 1);
    if (spec.type === 'boolean') {
      values[spec.name] = booleanFlagValue(name, raw);
      continue;
    }
    if (raw === undefined) {
      raw = argv[++i];
      if (raw === undefined) throw new UsageError(`--${name} needs a value`);
    }
    const v = flagValue(spec, name, raw);
    if (spec.multiple) {
      const prev = values[spec.name];
      values[spec.name] = [...(Array.isArray(prev) ? prev : []), String(v)];
    } else {
      values[spec.name] = v;
    }
  }
  return { values, positionals };
}

export function formatFlags(specs: FlagSpec[]): string {
  const rows = specs.map((s) => {
    const left = `  --${s.name}${s.type === 'boolean' ? '' : ` ${s.type === 'duration' ? 'duration' : s.type}`}`;
    const def = s.default !== undefined && s.default !== '' ? ` (default ${JSON.stringify(s.default)})` : '';
    const alias = s.aliases?.length ? ` [also: ${s.aliases.map((a) => (a.length === 1 ? '-' : '--') + a).join(', ')}]` : '';
    return [left, `${s.help}${def}${alias}`] as const;
  });
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return rows.map(([l, r]) => l.padEnd(width) + r).join('\n');
}
