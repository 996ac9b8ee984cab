import type { RequirementItem } from '../api/types';

/**
 * Pure helpers over a spec document's Markdown body, for the tabs that show it whole: the heading
 * that repeats the document's title, the requirement items within their document, and a task's
 * named sections.
 */

const H1 = /^#\s+(.+?)\s*#*\s*$/;

/** The body without a first `# Heading` that says the title again (the tab already shows it). */
export function withoutTitle(body: string, title: string | null): string {
  const lines = body.split('\n');
  const first = lines.findIndex((line) => line.trim() !== '');
  if (first < 0) return body;
  const heading = H1.exec(lines[first]!.trim());
  if (!heading) return body;
  if (title && heading[1]!.trim().toLowerCase() !== title.trim().toLowerCase()) return body;
  return lines
    .slice(first + 1)
    .join('\n')
    .replace(/^\s*\n/, '');
}

export type BodySegment = { kind: 'markdown'; source: string } | { kind: 'item'; item: RequirementItem };

const HEADING = /^(#{1,6})\s+(.*)$/;

/**
 * A requirements document as the reader sees it: its prose in order, with each requirement item's
 * own lines (its heading, EARS statement and criteria) replaced by the item, so nothing the author
 * wrote around the items (an introduction, a "review before approving" note) is dropped. An item
 * runs from its `### REQ-…` heading to the next heading of its level or above.
 */
export function splitRequirements(body: string, items: RequirementItem[]): BodySegment[] {
  const byId = new Map(items.map((item) => [item.id, item]));
  const segments: BodySegment[] = [];
  const placed = new Set<string>();
  let prose: string[] = [];
  let inItem: number | null = null; // the heading level of the item being skipped
  const flush = () => {
    const source = prose.join('\n').trim();
    if (source) segments.push({ kind: 'markdown', source });
    prose = [];
  };
  for (const line of body.split('\n')) {
    const heading = HEADING.exec(line);
    if (heading) {
      const level = heading[1]!.length;
      if (inItem !== null && level <= inItem) inItem = null;
      const id = /^(REQ-[A-Za-z0-9-]+)/.exec(heading[2]!.trim())?.[1];
      const item = id ? byId.get(id) : undefined;
      if (item && !placed.has(item.id)) {
        flush();
        segments.push({ kind: 'item', item });
        placed.add(item.id);
        inItem = level;
        continue;
      }
    }
    if (inItem === null) prose.push(line);
  }
  flush();
  // items the scan did not meet (an unusual heading) still show, after the prose
  for (const item of items) if (!placed.has(item.id)) segments.push({ kind: 'item', item });
  return segments;
}

/** A body's `## Name` sections, in order, with what comes before the first one as `''`. */
export function sections(body: string): { name: string; source: string }[] {
  const out: { name: string; source: string }[] = [{ name: '', source: '' }];
  for (const line of body.split('\n')) {
    const heading = /^##\s+(.+?)\s*:?\s*$/.exec(line);
    if (heading) out.push({ name: heading[1]!, source: '' });
    else out[out.length - 1]!.source += `${line}\n`;
  }
  return out.map((s) => ({ ...s, source: s.source.trim() })).filter((s) => s.name || s.source);
}
