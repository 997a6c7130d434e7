// Regenerates vectors.json: Go's answers (main.go) for the cases in cases.ts.
//   node_modules/.bin/node test/eso-hash-ref/generate.ts
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HASH_CASES } from './cases.ts';
import { goHashes, refDir } from './run.ts';

const hashes = goHashes(HASH_CASES);
const vectors = HASH_CASES.map((c, i) => ({ name: c.name, hash: hashes[i] }));
writeFileSync(join(refDir, 'vectors.json'), `${JSON.stringify(vectors, null, 2)}\n`);
console.log(`wrote ${vectors.length} vectors`);
