// The function map ESO registers: sprig.TxtFuncMap() minus env/expandenv, plus ESO's own functions.

import type { GoFunc } from '../values.ts';
import { sprigFuncs } from './sprig.ts';
import { esoOwnFuncs } from './eso.ts';

export function esoFuncs(): Map<string, GoFunc> {
  const m = sprigFuncs();
  m.delete('env');
  m.delete('expandenv');
  for (const [k, v] of esoOwnFuncs()) m.set(k, v);
  return m;
}

export { sprigFuncs, esoOwnFuncs };
