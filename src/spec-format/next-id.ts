// `omoi spec next-id <kind> [--feature F]`: the next free id of a kind, numbered after the highest
// id of the same shape anywhere in the tree, so two features never both start at TSK-001 again.
import { KINDS, REQUIREMENT_ITEM_PATTERN } from './format.js';
import type { SpecDocument } from './types.js';

export const ID_KINDS = ['prd', 'requirements', 'requirement', 'design', 'ticket', 'task'] as const;
export type IdKind = (typeof ID_KINDS)[number];

const PREFIX: Record<IdKind, string> = {
  prd: 'PRD',
  requirements: 'REQ',
  requirement: 'REQ',
  design: 'DESIGN',
  ticket: 'TKT',
  task: 'TSK',
};

/** `user auth` / `user-auth` -> `USER-AUTH`. */
export function featureToWord(feature: string): string {
  return feature
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * The next id, or an error message (a kind that needs a feature, a feature that makes no valid id).
 * `requirement` (an item) takes the feature and an area (`--feature AUTH --area LOGIN`).
 *
 * @example
 * nextSpecId(documents, 'task');                      // { id: 'TSK-013' }
 * nextSpecId(documents, 'task', { feature: 'auth' }); // { id: 'TSK-AUTH-001' }
 */
export function nextSpecId(
  documents: SpecDocument[],
  kind: IdKind,
  options: { feature?: string; area?: string } = {},
): { id: string } | { error: string } {
  const feature = options.feature ? featureToWord(options.feature) : '';
  const area = options.area ? featureToWord(options.area) : '';
  const needsFeature =
    kind === 'prd' || kind === 'requirements' || kind === 'design' || kind === 'requirement';
  if (needsFeature && !feature) return { error: `${kind} ids name a feature: pass --feature NAME` };
  if (kind === 'requirement' && !area)
    return { error: 'requirement item ids name an area: pass --area NAME' };
  const prefix = [PREFIX[kind], feature, kind === 'requirement' ? area : ''].filter(Boolean).join('-');
  const ids = new Set<string>();
  for (const doc of documents) {
    if (doc.id) ids.add(doc.id);
    for (const item of doc.items ?? []) ids.add(item.id);
    // A file name may carry an id its frontmatter lost (`TSK-009-x.md`).
    const stem = /([A-Z]+-[A-Z0-9-]*\d{3,})/.exec(doc.path.slice(doc.path.lastIndexOf('/') + 1));
    if (stem) ids.add(stem[1]!);
  }
  const shape = new RegExp(`^${prefix}-(\\d{3,})$`);
  let max = 0;
  for (const id of ids) {
    const match = shape.exec(id);
    if (match) max = Math.max(max, Number(match[1]));
  }
  let n = max + 1;
  const make = (k: number) => `${prefix}-${String(k).padStart(3, '0')}`;
  while (ids.has(make(n))) n++;
  const id = make(n);
  const pattern = kind === 'requirement' ? REQUIREMENT_ITEM_PATTERN : KINDS[kind].idPattern;
  if (!pattern.test(id)) return { error: `'${options.feature}' does not make a valid id (${id})` };
  return { id };
}
