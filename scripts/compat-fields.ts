// Lists the fields of the ExternalSecret, SecretStore and ClusterSecretStore APIs, one path a line
// (`spec.data[].remoteRef.key`), so docs/compatibility.md can be kept field by field:
//   node scripts/compat-fields.ts                  Tessera's v1 schema (src/api/schema.ts)
//   node scripts/compat-fields.ts --eso <crd dir>  ESO's v1 CRDs (config/crds/bases of ESO's repo)
//   node scripts/compat-fields.ts --diff <crd dir> fields one side has and the other lacks
// test/unit/api/compatibility-doc.test.ts uses fieldPaths() to check the page against the schema.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { schemaFor } from '../src/api/schema.ts';
import type { Schema } from '../src/api/openapi.ts';

export type CompatKind = 'ExternalSecret' | 'SecretStore' | 'ClusterSecretStore' | 'ClusterExternalSecret';

/**
 * Every field path under spec and status. A field whose schema keeps unknown fields and has no
 * properties (an opaque provider block, a free map) is one path: what is under it is not typed.
 */
export function fieldPaths(schema: Schema | Record<string, unknown>, prefix = ''): string[] {
  const s = schema as { properties?: Record<string, Schema>; items?: Schema; additionalProperties?: unknown };
  const out: string[] = [];
  for (const [name, child] of Object.entries(s.properties ?? {})) {
    const here = prefix ? `${prefix}.${name}` : name;
    out.push(here);
    const c = child as { type?: string; items?: Schema; properties?: unknown };
    if (c.type === 'array' && c.items) out.push(...fieldPaths(c.items, `${here}[]`));
    else if (c.properties) out.push(...fieldPaths(c, here));
  }
  return out;
}

/** Tessera's v1 fields of one kind (spec and status; metadata, apiVersion and kind left out). */
export function tesseraFields(kind: CompatKind): string[] {
  const root = schemaFor(kind, 'v1') as Schema & { properties: Record<string, Schema> };
  return fieldPaths({ properties: { spec: root.properties.spec!, status: root.properties.status! } });
}

const ESO_CRD_FILES: Record<CompatKind, string> = {
  ExternalSecret: 'external-secrets.io_externalsecrets.yaml',
  SecretStore: 'external-secrets.io_secretstores.yaml',
  ClusterExternalSecret: 'external-secrets.io_clusterexternalsecrets.yaml',
  ClusterSecretStore: 'external-secrets.io_clustersecretstores.yaml',
};

/** ESO's v1 fields of one kind, from its CRD bases (a dev-time comparison; ESO is not vendored). */
export async function esoFields(kind: CompatKind, crdDir: string): Promise<string[]> {
  const { parse } = await import('yaml');
  const crd = parse(readFileSync(path.join(crdDir, ESO_CRD_FILES[kind]), 'utf8')) as { spec: { versions: Array<{ name: string; schema: { openAPIV3Schema: { properties: Record<string, unknown> } } }> } };
  const v1 = crd.spec.versions.find((v) => v.name === 'v1')!;
  const p = v1.schema.openAPIV3Schema.properties;
  return fieldPaths({ properties: { spec: p.spec, status: p.status } });
}

async function main(argv: string[]): Promise<void> {
  const kinds: CompatKind[] = ['ExternalSecret', 'SecretStore', 'ClusterSecretStore'];
  const mode = argv[0];
  for (const kind of kinds) {
    const ours = tesseraFields(kind);
    if (mode === '--eso' || mode === '--diff') {
      const theirs = await esoFields(kind, argv[1]!);
      if (mode === '--eso') {
        for (const f of theirs) console.log(`${kind}\t${f}`);
        continue;
      }
      const o = new Set(ours);
      const t = new Set(theirs);
      for (const f of theirs) if (!o.has(f)) console.log(`${kind}\tESO only\t${f}`);
      for (const f of ours) if (!t.has(f)) console.log(`${kind}\tTessera only\t${f}`);
    } else {
      for (const f of ours) console.log(`${kind}\t${f}`);
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main(process.argv.slice(2));
