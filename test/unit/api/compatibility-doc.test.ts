// docs/compatibility.md lists ESO 2.9's API field by field. This keeps it true of Tessera's schema
// in both directions: every schema field is covered by a row, and no row that says a field is
// accepted names a field the schema lacks (nor does a `refused` row name a field it has). A schema
// change (a field added for issue 11, say) fails here until the page says what it does.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tesseraFields } from '../../../scripts/compat-fields.ts';

const doc = readFileSync(new URL('../../../docs/compatibility.md', import.meta.url), 'utf8');
const STATUSES = ['supported', 'accepted, not acted on', 'accepted, store not Ready', 'refused'] as const;

interface Row { path: string; subtree: boolean; status: string }

/** The rows of the table under `## <heading>`. */
function rowsOf(heading: string): Row[] {
  const start = doc.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `section "${heading}"`);
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^\| `([^`]+)` \| ([^|]+?) \|/gm)].map((m) => {
    const subtree = m[1]!.endsWith('.*');
    return { path: subtree ? m[1]!.slice(0, -2) : m[1]!, subtree, status: m[2]! };
  });
}

/** Problems of one section against one kind's fields; empty when the page is true. */
export function compare(rows: Row[], fields: string[]): string[] {
  const schema = new Set(fields);
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    if (seen.has(r.path)) problems.push(`${r.path}: listed twice`);
    seen.add(r.path);
    if (!(STATUSES as readonly string[]).includes(r.status)) problems.push(`${r.path}: unknown status "${r.status}"`);
    // Keys directly under spec.provider are kept as written even when the schema does not name them.
    const keptAsWritten = /^spec\.provider\.[A-Za-z0-9]+$/.test(r.path);
    if (r.status === 'refused' && schema.has(r.path)) problems.push(`${r.path}: says refused, but the schema has it`);
    if (r.status !== 'refused' && !schema.has(r.path) && !keptAsWritten) problems.push(`${r.path}: says ${r.status}, but the schema lacks it`);
  }
  const accepted = rows.filter((r) => r.status !== 'refused');
  for (const f of fields) {
    const covered = accepted.some((r) => r.path === f || (r.subtree && (f.startsWith(`${r.path}.`) || f.startsWith(`${r.path}[]`))));
    if (!covered) problems.push(`${f}: in the schema, but no row covers it`);
  }
  return problems;
}

describe('docs/compatibility.md against src/api/schema.ts', () => {
  it('ExternalSecret: every field covered, none invented', () => {
    const rows = rowsOf('ExternalSecret');
    assert.ok(rows.length > 50, `the table was read (${rows.length} rows)`);
    assert.deepEqual(compare(rows, tesseraFields('ExternalSecret')), []);
  });

  it('SecretStore and ClusterSecretStore: every field covered, none invented, one shape', () => {
    const rows = rowsOf('SecretStore and ClusterSecretStore');
    assert.ok(rows.length > 50, `the table was read (${rows.length} rows)`);
    assert.deepEqual(compare(rows, tesseraFields('SecretStore')), []);
    assert.deepEqual(tesseraFields('ClusterSecretStore'), tesseraFields('SecretStore'));
  });

  it('ClusterExternalSecret: every field covered, none invented', () => {
    const rows = rowsOf('ClusterExternalSecret');
    assert.ok(rows.length > 20, `the table was read (${rows.length} rows)`);
    assert.deepEqual(compare(rows, tesseraFields('ClusterExternalSecret')), []);
  });

  it('the check fails on a missing row, an invented field and a refused field the schema has', () => {
    const fields = ['spec', 'spec.a', 'spec.a.b', 'spec.c'];
    const rows: Row[] = [
      { path: 'spec', subtree: false, status: 'supported' },
      { path: 'spec.a', subtree: true, status: 'supported' },
      { path: 'spec.invented', subtree: false, status: 'supported' },
      { path: 'spec.c', subtree: false, status: 'refused' },
    ];
    assert.deepEqual(compare(rows, fields), [
      'spec.invented: says supported, but the schema lacks it',
      'spec.c: says refused, but the schema has it',
      'spec.c: in the schema, but no row covers it',
    ]);
  });
});
