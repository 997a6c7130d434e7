// The error catalog is API, checked in both directions: every code and reason the catalog defines
// is documented in docs/errors.md (produced ⇒ documented), and every one the page documents is in
// the catalog and produced somewhere in src/ (documented ⇒ produced), so the page cannot list dead
// codes.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ControllerErrorCode, StoreReason } from '../../../src/controllers/errors.ts';
import { ConditionReason, EventMessage, EventReason, ReadyMessage, SyncErrorCode } from '../../../src/sync/errors.ts';

const repo = new URL('../../../', import.meta.url).pathname;
const doc = readFileSync(path.join(repo, 'docs/errors.md'), 'utf8');

/** Each catalog by the name code refers to it with, and the factory object that builds its errors. */
const catalogs: Array<{ name: string; values: Record<string, string>; factories?: { object: string; file: string } }> = [
  { name: 'ConditionReason', values: ConditionReason },
  { name: 'EventReason', values: EventReason },
  { name: 'SyncErrorCode', values: SyncErrorCode, factories: { object: 'syncErrors', file: 'src/sync/errors.ts' } },
  { name: 'ControllerErrorCode', values: ControllerErrorCode, factories: { object: 'controllerErrors', file: 'src/controllers/errors.ts' } },
  { name: 'StoreReason', values: StoreReason },
];

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(repo, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []);
}
const sources = new Map(sourceFiles('src').map((f) => [f, readFileSync(path.join(repo, f), 'utf8')]));

/** The codes the page documents: first cells of its tables, and the reasons listed in its prose. */
function documentedCodes(): string[] {
  const out = new Set<string>();
  for (const m of doc.matchAll(/^\| `(\w+)` \|/gm)) out.add(m[1]!);
  // The events table: `| Normal | `Created` | … |`.
  for (const m of doc.matchAll(/^\| (?:Normal|Warning) \| `(\w+)` \|/gm)) out.add(m[1]!);
  for (const paragraph of doc.split(/\n\s*\n/)) {
    if (!/^(Events use ESO's reasons|Store conditions)/.test(paragraph)) continue;
    for (const m of paragraph.matchAll(/`([A-Z]\w+)`/g)) out.add(m[1]!);
  }
  return [...out];
}

/** The factory (`syncErrors.propertyNotFound`) whose body holds `offset` of the file, if any. */
function factoryAt(file: string, text: string, offset: number, factories: { object: string; file: string } | undefined): string | undefined {
  if (!factories || file !== factories.file) return undefined;
  const start = text.indexOf(`export const ${factories.object} = {`);
  const end = text.indexOf('\n};', start);
  if (start < 0 || offset < start || offset > end) return undefined;
  const keys = [...text.slice(start, offset).matchAll(/^ {2}(\w+): /gm)];
  return keys.length > 0 ? `${factories.object}.${keys.at(-1)![1]}` : undefined;
}

/**
 * Where `Catalog.Key` is used in src/. A use inside a catalog factory counts only when the factory
 * is called somewhere, so a factory nobody calls does not make its code look alive.
 */
function producers(catalog: (typeof catalogs)[number], key: string): string[] {
  const ref = new RegExp(`\\b${catalog.name}\\.${key}\\b`, 'g');
  const out: string[] = [];
  for (const [file, text] of sources) {
    for (const m of text.matchAll(ref)) {
      const factory = factoryAt(file, text, m.index, catalog.factories);
      if (factory === undefined) out.push(file);
      else if ([...sources.values()].some((t) => t.includes(`${factory}(`))) out.push(`${file} (${factory})`);
    }
  }
  return out;
}

it('docs/errors.md documents every condition reason and error code', () => {
  const all = catalogs.flatMap((c) => Object.values(c.values));
  assert.deepEqual(all.filter((c) => !doc.includes(`\`${c}\``)), []);
});

it('docs/errors.md quotes the Ready messages and event texts word for word (ESO 2.9\'s)', () => {
  const texts = [...Object.values(ReadyMessage), EventMessage.Created, EventMessage.Updated, EventMessage.Deleted, 'store validated'];
  assert.deepEqual(texts.filter((t) => !doc.includes(`\`${t}\``) && !doc.includes(`("${t}"`)), []);
  assert.ok(doc.includes(`\`${EventMessage.missingProviderSecret('spec.dataFrom[i]')}\``));
  assert.ok(doc.includes(`using ${EventMessage.missingProviderSecret('spec.data[i]', 'k').split(' using ')[1]}`));
});

it('every code and reason docs/errors.md documents is in the catalog and produced in src/', () => {
  const documented = documentedCodes();
  assert.ok(documented.length >= 40, `the page's tables were read (${documented.length} codes)`);
  const problems: string[] = [];
  for (const code of documented) {
    const defs = catalogs.flatMap((c) => Object.entries(c.values).filter(([, v]) => v === code).map(([key]) => ({ catalog: c, key })));
    if (defs.length === 0) {
      problems.push(`${code}: documented, but in no catalog (src/sync/errors.ts, src/controllers/errors.ts)`);
      continue;
    }
    if (defs.every(({ catalog, key }) => producers(catalog, key).length === 0)) {
      problems.push(`${code}: documented and defined (${defs.map(({ catalog, key }) => `${catalog.name}.${key}`).join(', ')}), but nothing in src/ produces it`);
    }
  }
  assert.deepEqual(problems, []);
});

it('the producer search sees a factory that is never called as dead', () => {
  const catalog = { name: 'SyncErrorCode', values: { Probe: 'Probe' }, factories: { object: 'syncErrors', file: 'src/sync/errors.ts' } };
  const text = sources.get('src/sync/errors.ts')!;
  sources.set('src/sync/errors.ts', text.replace('export const syncErrors = {', 'export const syncErrors = {\n  neverCalledProbe: () => SyncErrorCode.Probe,'));
  try {
    assert.deepEqual(producers(catalog, 'Probe'), []);
    sources.set('src/probe.ts', 'syncErrors.neverCalledProbe();');
    assert.deepEqual(producers(catalog, 'Probe'), ['src/sync/errors.ts (syncErrors.neverCalledProbe)']);
  } finally {
    sources.set('src/sync/errors.ts', text);
    sources.delete('src/probe.ts');
  }
});
