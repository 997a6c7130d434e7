// How ESO prints a Vault KV v2 custom_metadata value into a Secret: fmt's %v of what the Vault Go
// client decoded (numbers as json.Number keep their literal text). The JSON itself is Go's
// (src/go/json.ts).
import { goJsonMarshal, JsonNumber } from '../../go/json.ts';

/** fmt.Sprintf("%v") of a custom_metadata value (strings as they are). */
export function goPrintValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof JsonNumber) return value.raw;
  if (value === null || value === undefined) return '<nil>';
  return typeof value === 'object' ? goJsonMarshal(value) : String(value);
}
