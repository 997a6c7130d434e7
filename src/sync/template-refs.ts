// What target.template reads besides the provider data: the ConfigMaps and Secrets its
// templateFrom entries name. Apart from the engine (src/sync/template.ts), so that the controller
// can fetch them without loading the template engine, which renders in the compute workers.
import type { ExternalSecret } from '../api/types.generated.ts';

/** The ConfigMaps and Secrets (by name, in the ExternalSecret's namespace) templateFrom reads. */
export interface TemplateSources {
  configMaps?: ReadonlyMap<string, Readonly<Record<string, string>>>;
  secrets?: ReadonlyMap<string, Readonly<Record<string, Uint8Array>>>;
}

export interface TemplateRefs {
  configMaps: string[];
  secrets: string[];
}

/** What the controller must fetch before rendering: templateFrom's ConfigMap and Secret names. */
export function templateRefs(es: ExternalSecret): TemplateRefs {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  for (const from of es.spec.target?.template?.templateFrom ?? []) {
    if (from.configMap) configMaps.add(from.configMap.name);
    if (from.secret) secrets.add(from.secret.name);
  }
  return { configMaps: [...configMaps].sort(), secrets: [...secrets].sort() };
}
