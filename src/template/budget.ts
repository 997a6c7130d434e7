// Caps on what one template may build, checked where they are cheap (a length known before the
// work is done). Templates are tenant input: `{{ repeat 100000000 "a" }}` or `{{ seq 1 100000000 }}`
// would otherwise allocate until the process dies. The compute pool's memory and time limits
// (src/compute) are the backstop for everything these caps do not see.

/** Longest string a template function or a template's output may build (16 Mi characters). */
export const MAX_STRING_LENGTH = 16 * 1024 * 1024;
/** Most elements a list function (seq, until, untilStep) may build. */
export const MAX_LIST_LENGTH = 1_000_000;

/**
 * Characters all template functions of one execution may return in total. Large strings made
 * from buffers (base64, random bytes, decoded data) live outside the V8 heap, where a worker's
 * heap limit does not see them: `{{ range }}{{ $_ := set $d (print $i) (randBytes 16000000) }}`
 * grew a worker past 4 GiB. Counting what functions return bounds that memory too; a template
 * that builds a Secret (1 MiB at most) stays far below.
 */
export const MAX_RENDER_ALLOCATION = 64 * 1024 * 1024;

let allocated = 0;
let executions = 0;

/** An execution starts (nested executions share the outermost one's meter). */
export function beginExecution(): void {
  if (executions++ === 0) allocated = 0;
}

export function endExecution(): void {
  executions--;
}

export function meterAllocation(length: number): void {
  allocated += length;
  if (allocated > MAX_RENDER_ALLOCATION) {
    throw new BudgetExceededError(`template functions returned more than ${MAX_RENDER_ALLOCATION} characters in all`);
  }
}

/**
 * A render went over a budget. The message names the budget and its size, never data; it is
 * not a Go error (Go has no such limits), so the executor passes it through unwrapped.
 */
export class BudgetExceededError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BudgetExceededError';
  }
}

export function checkStringLength(length: number, what: string): void {
  if (length > MAX_STRING_LENGTH) {
    throw new BudgetExceededError(`${what} would build a string of ${length} characters (limit ${MAX_STRING_LENGTH})`);
  }
}

export function checkListLength(length: number | bigint, what: string): void {
  if (length > MAX_LIST_LENGTH) {
    throw new BudgetExceededError(`${what} would build a list of ${length} elements (limit ${MAX_LIST_LENGTH})`);
  }
}

/** V8 refuses strings and arrays past its own limits with a RangeError: that is a budget too. */
export function asBudgetError(e: unknown): BudgetExceededError | undefined {
  if (e instanceof BudgetExceededError) return e;
  if (e instanceof RangeError && (e.message === 'Invalid string length' || e.message === 'Invalid array length'
    || e.message.startsWith('Array buffer allocation failed'))) {
    return new BudgetExceededError('a string or list grew past the JavaScript engine\'s limit');
  }
  return undefined;
}
