// metav1.LabelSelector matching, as apimachinery's LabelSelectorAsSelector.

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** True when the labels satisfy every matchLabels entry and every expression. An empty selector matches everything. */
export function labelSelectorMatches(selector: LabelSelector, labels: Record<string, string> = {}): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const vals = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !vals.includes(labels[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && vals.includes(labels[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        throw new Error(`invalid label selector operator "${e.operator}"`);
    }
  }
  return true;
}

// A label key (optional DNS prefix, then a name) and a label value as the apiserver accepts them;
// anything else could not be written into a selector string safely (commas, parentheses, "!").
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/**
 * The part of a LabelSelector that the apiserver can apply for us, as a `labelSelector` query
 * string, so that a list returns only candidates rather than a whole namespace. Requirements
 * that cannot be written safely (a tenant's odd key or value) are left out: the result selects a
 * superset, and callers still filter with labelSelectorMatches. Undefined when nothing narrows.
 */
export function serverLabelSelector(selector: LabelSelector): string | undefined {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (LABEL_KEY.test(k) && LABEL_VALUE.test(v)) parts.push(`${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    if (!LABEL_KEY.test(e.key)) continue;
    const vals = e.values ?? [];
    const setOk = vals.length > 0 && vals.every((v) => LABEL_VALUE.test(v));
    if (e.operator === 'In' && setOk) parts.push(`${e.key} in (${vals.join(',')})`);
    else if (e.operator === 'NotIn' && setOk) parts.push(`${e.key} notin (${vals.join(',')})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.length ? parts.join(',') : undefined;
}
