// Kiro: `.kiro/specs/<feature>/{requirements,design,tasks}.md`. Each `### Requirement N` becomes a
// requirement item `REQ-<FEATURE>-FUNC-00N` whose criteria are the numbered WHEN/THEN/SHALL lines
// (kept with their Kiro number `N.M`); design.md becomes the design; the task checklist becomes
// one ticket with a task per numbered item, `_Requirements: 1.1_` kept as task -> requirement
// references. A parent task (`2.`) depends on its sub-tasks (`2.1`, `2.2`).
import {
  type ChecklistTask,
  checkbox,
  designBody,
  designFile,
  designRefOf,
  emptyCounts,
  featureWord,
  firstTitle,
  type ImportOptions,
  type ImportResult,
  linesOf,
  oneLine,
  pad,
  plainText,
  readChecklist,
  requirementsFile,
  type SourceFolder,
  shallStatement,
  slugOf,
  taskFile,
  ticketFile,
  today,
} from './common.js';

interface KiroRequirement {
  number: string;
  title: string;
  /** Text before the criteria (the user story), as paragraphs. */
  story: string[];
  criteria: string[];
}

const REQUIREMENT_HEADING = /^#{2,4}\s+Requirement\s+(\d+)\s*[:.\-\u2013\u2014]?\s*(.*?)\s*#*\s*$/i;

/** The `### Requirement N` blocks of a Kiro requirements.md, and the text before the first. */
export function readKiroRequirements(text: string): { intro: string; requirements: KiroRequirement[] } {
  const requirements: KiroRequirement[] = [];
  const intro: string[] = [];
  let current: KiroRequirement | null = null;
  let level = 0;
  let fence = false;
  let criterion: string | null = null;
  const endCriterion = () => {
    if (current && criterion !== null) current.criteria.push(criterion);
    criterion = null;
  };
  for (const line of linesOf(text)) {
    if (/^ {0,3}(`{3,}|~{3,})/.test(line)) fence = !fence;
    const heading = fence ? null : REQUIREMENT_HEADING.exec(line);
    if (heading) {
      endCriterion();
      level = /^#+/.exec(line)![0].length;
      current = { number: heading[1]!, title: plainText(heading[2] ?? ''), story: [], criteria: [] };
      requirements.push(current);
      continue;
    }
    if (!current) {
      intro.push(line);
      continue;
    }
    const other = fence ? null : /^(#{1,6})\s/.exec(line);
    if (other && other[1]!.length <= level) {
      // A heading at the requirement's level or above that is not a requirement ends the block.
      endCriterion();
      current = null;
      intro.push(line);
      continue;
    }
    const numbered = /^\s*(?:\d+[.)]|[-*+])\s+(?:\[[ xX]\]\s+)?(.*)$/.exec(line);
    if (!fence && numbered && (/^\s*\d+[.)]/.test(line) || /\bshall\b/i.test(line))) {
      endCriterion();
      criterion = numbered[1]!.trim();
    } else if (criterion !== null && /^\s+\S/.test(line)) {
      criterion += ` ${line.trim()}`;
    } else {
      endCriterion();
      if (line.trim() !== '' && !other) current.story.push(line.trim());
    }
  }
  endCriterion();
  return { intro: intro.join('\n'), requirements };
}

/** Requirement numbers a task names: `_Requirements: 1.1, 2.3_` -> ['1', '2']. */
function taskRequirementRefs(task: ChecklistTask): string[] {
  const refs: string[] = [];
  for (const detail of [task.title, ...task.details]) {
    const match = /_?\s*Requirements?\s*:\s*([^_]*)_?/i.exec(detail);
    if (!match) continue;
    for (const token of match[1]!.split(/[,;\s]+/)) {
      const n = /^(\d+)(?:\.\d+)*$/.exec(token.trim());
      if (n) refs.push(token.trim());
    }
  }
  return refs;
}

/**
 * Converts Kiro feature folders (each with requirements.md, design.md and/or tasks.md).
 *
 * @example
 * importKiro([{ name: 'user-auth', files: { 'requirements.md': '…', 'tasks.md': '…' } }]).counts;
 * // { features: 1, requirements: 3, criteria: 9, designs: 0, tickets: 1, tasks: 7 }
 */
export function importKiro(features: SourceFolder[], options: ImportOptions = {}): ImportResult {
  const date = today(options);
  const result: ImportResult = { files: [], counts: emptyCounts(), notes: [] };
  const taken = new Set<string>();
  for (const feature of features) {
    const word = featureWord(feature.name, taken);
    const slug = slugOf(feature.name);
    const source = `.kiro/specs/${feature.name}`;
    result.counts.features++;
    const reqText = feature.files['requirements.md'];
    const designText = feature.files['design.md'];
    const tasksText = feature.files['tasks.md'];
    const itemOf = new Map<string, string>();
    const itemIds: string[] = [];
    let designPath: string | null = null;

    if (reqText !== undefined) {
      const { intro, requirements } = readKiroRequirements(reqText);
      const items: string[] = [];
      requirements.forEach((req, i) => {
        const id = `REQ-${word}-FUNC-${pad(i + 1)}`;
        itemOf.set(req.number, id);
        itemIds.push(id);
        const story = req.story.join(' ');
        const want = plainText(story).replace(/^User Story:\s*/i, '');
        const title =
          req.title ||
          (want ? oneLine(`Requirement ${req.number}: ${want}`, 90) : `Requirement ${req.number}`);
        const hasShall = req.criteria.some((c) => /\bshall\b/i.test(c));
        const lines = [`### ${id}: ${title}`, ''];
        if (story) lines.push(story, '');
        if (!hasShall) lines.push(shallStatement(want || title), '');
        req.criteria.forEach((c, k) => {
          lines.push(checkbox(`${req.number}.${k + 1} ${c}`));
        });
        result.counts.criteria += req.criteria.length;
        items.push(lines.join('\n'));
      });
      result.counts.requirements += requirements.length;
      if (requirements.length === 0)
        result.notes.push(`${source}/requirements.md has no "### Requirement N" heading`);
      const title = firstTitle(reqText) ?? `${feature.name} requirements`;
      result.files.push(
        requirementsFile({
          word,
          slug,
          title: `${feature.name}: ${title}`,
          heading: title,
          date,
          designRef: designRefOf(slug, designText !== undefined, requirements.length),
          from: `${source}/requirements.md`,
          items,
          rest: intro,
        }),
      );
    }

    if (designText !== undefined) {
      const title = firstTitle(designText) ?? `${feature.name} design`;
      const body = designBody(title, `${source}/design.md`, designText);
      designPath = designRefOf(slug, true, itemIds.length);
      result.files.push(
        designFile({
          designRef: designPath,
          word,
          slug,
          title: `${feature.name}: ${title}`,
          date,
          requirements: itemIds,
          body,
        }),
      );
      if (designPath) result.counts.designs++;
      else
        result.notes.push(`${source}/design.md has no requirements to cover; kept as docs/design-${slug}.md`);
    }

    if (tasksText !== undefined) {
      const checklist = readChecklist(tasksText, /^(\d+(?:\.\d+)*)\.?\s+/);
      if (checklist.length === 0) continue;
      const ticketId = `TKT-${word}-001`;
      const ids = checklist.map((_, i) => `TSK-${word}-${pad(i + 1)}`);
      // A sub-task `2.1` belongs to the nearest task numbered `2`, which depends on it.
      const parentOf = new Map<number, number>();
      checklist.forEach((task, i) => {
        const number = task.number;
        if (!number?.includes('.')) return;
        const parentNumber = number.slice(0, number.lastIndexOf('.'));
        for (let j = i - 1; j >= 0; j--) {
          if (checklist[j]!.number === parentNumber) {
            parentOf.set(i, j);
            break;
          }
        }
      });
      const children = new Map<number, number[]>();
      for (const [child, parent] of parentOf) children.set(parent, [...(children.get(parent) ?? []), child]);
      const allRequirements = new Set<string>();
      checklist.forEach((task, i) => {
        const refs = taskRequirementRefs(task);
        const reqIds = [
          ...new Set(refs.map((r) => itemOf.get(r.split('.')[0]!)).filter((x): x is string => !!x)),
        ];
        const unknown = refs.filter((r) => !itemOf.has(r.split('.')[0]!));
        if (unknown.length)
          result.notes.push(
            `${source}/tasks.md task ${task.number ?? i + 1} names requirement ${unknown.join(', ')}, which requirements.md does not have`,
          );
        for (const r of reqIds) allRequirements.add(r);
        const dependsOn = (children.get(i) ?? []).map((c) => ids[c]!);
        const parent = parentOf.get(i);
        const blocks = parent === undefined ? [] : [ids[parent]!];
        const details = task.details.filter((d) => !/Requirements?\s*:/i.test(d));
        const title = task.title || `Task ${task.number ?? i + 1}`;
        result.counts.tasks++;
        result.files.push(
          taskFile({
            id: ids[i]!,
            title,
            done: task.done,
            ticket: ticketId,
            date,
            requirements: reqIds.length ? reqIds : null,
            dependencies: { depends_on: dependsOn, blocks },
            objective:
              `${title}\n${details.length ? `\n${details.map((d) => (/^[-*+]\s/.test(d) ? d : `- ${d}`)).join('\n')}\n` : ''}` +
              `${refs.length ? `\nRequirements in the source: ${refs.join(', ')}.\n` : ''}`,
            from: `${source}/tasks.md`,
            number: task.number,
          }),
        );
      });
      result.counts.tickets++;
      const top = checklist.map((t, i) => ({ t, i })).filter(({ i }) => !parentOf.has(i));
      result.files.push(
        ticketFile({
          id: ticketId,
          title: `${feature.name}: ${firstTitle(tasksText) ?? 'Implementation plan'}`,
          done: checklist.every((t) => t.done),
          date,
          slug,
          designRef: designPath,
          requirements: allRequirements.size ? [...allRequirements] : null,
          tasks: ids,
          heading: feature.name,
          description: `The implementation plan of the Kiro spec \`${feature.name}\`, imported from \`${source}/tasks.md\`.`,
          criteria: top.map(({ t, i }) =>
            checkbox(`${ids[i]}: ${oneLine(t.title || `Task ${i + 1}`)}`, t.done),
          ),
        }),
      );
    }
  }
  return result;
}
