// OpenSpec: `openspec/specs/<capability>/spec.md` with `### Requirement: <name>` blocks, each with a
// SHALL/MUST statement and `#### Scenario: <name>` blocks of WHEN/THEN bullets. Each capability
// becomes a requirements document; each requirement an item `REQ-<CAP>-FUNC-NNN` whose criteria
// are its scenarios. Each `openspec/changes/<id>/` (archive excluded) becomes a ticket: the
// proposal is its description, its tasks.md checklist its tasks, and the ADDED/MODIFIED
// requirements of its delta specs the items of `requirements/<change>.md`.
import {
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
  sourceSection,
  taskFile,
  ticketFile,
  today,
  withoutTitle,
} from './common.js';

export interface OpenSpecRequirement {
  name: string;
  statement: string[];
  scenarios: { name: string; steps: string[] }[];
  /** The delta section it came from in a change (`ADDED`, `MODIFIED`, …), or null in a spec. */
  delta: string | null;
}

/** The `### Requirement:` blocks of a spec.md (or a delta spec), and the other text. */
export function readOpenSpecRequirements(text: string): {
  rest: string;
  requirements: OpenSpecRequirement[];
} {
  const requirements: OpenSpecRequirement[] = [];
  const rest: string[] = [];
  let current: OpenSpecRequirement | null = null;
  let scenario: OpenSpecRequirement['scenarios'][number] | null = null;
  let delta: string | null = null;
  let fence = false;
  for (const line of linesOf(text)) {
    if (/^ {0,3}(`{3,}|~{3,})/.test(line)) fence = !fence;
    const heading = fence ? null : /^(#{1,6})\s+(.+?)\s*#*\s*$/.exec(line);
    if (heading) {
      const level = heading[1]!.length;
      const text = heading[2]!;
      const req = /^Requirement\s*:\s*(.+)$/i.exec(text);
      const scen = /^Scenario\s*:\s*(.+)$/i.exec(text);
      if (level <= 2) {
        const d = /^(ADDED|MODIFIED|REMOVED|RENAMED)\s+Requirements/i.exec(text);
        delta = d ? d[1]!.toUpperCase() : null;
        current = null;
        scenario = null;
        rest.push(line);
        continue;
      }
      if (req) {
        current = { name: plainText(req[1]!), statement: [], scenarios: [], delta };
        requirements.push(current);
        scenario = null;
        continue;
      }
      if (scen && current) {
        scenario = { name: plainText(scen[1]!), steps: [] };
        current.scenarios.push(scenario);
        continue;
      }
      if (level <= 3) {
        current = null;
        scenario = null;
      }
    }
    if (!current) {
      rest.push(line);
      continue;
    }
    if (line.trim() === '') continue;
    if (scenario) scenario.steps.push(plainText(line.replace(/^\s*[-*+]\s+/, '')));
    else current.statement.push(line.trim());
  }
  return { rest: rest.join('\n'), requirements };
}

function itemText(id: string, req: OpenSpecRequirement): string {
  const statement = req.statement.join(' ');
  const lines = [`### ${id}: ${oneLine(req.name, 90)}`, ''];
  if (req.delta) lines.push(`(${req.delta} in this change)`, '');
  lines.push(shallStatement(statement || req.name), '');
  for (const s of req.scenarios) lines.push(checkbox(`Scenario: ${s.name}: ${s.steps.join('; ')}`));
  return lines.join('\n');
}

/**
 * Converts OpenSpec capabilities (`specs`: one folder per capability, holding spec.md) and changes
 * (`changes`: one folder per change, holding proposal.md, tasks.md, design.md, specs/…/spec.md).
 */
export function importOpenSpec(
  source: { specs: SourceFolder[]; changes: SourceFolder[] },
  options: ImportOptions = {},
): ImportResult {
  const date = today(options);
  const result: ImportResult = { files: [], counts: emptyCounts(), notes: [] };
  const taken = new Set<string>();
  const requirementsDoc = (
    word: string,
    slug: string,
    title: string,
    from: string,
    requirements: OpenSpecRequirement[],
    rest: string,
    designRef: string | null,
  ): string[] => {
    const ids = requirements.map((_, i) => `REQ-${word}-FUNC-${pad(i + 1)}`);
    result.counts.requirements += requirements.length;
    result.counts.criteria += requirements.reduce((n, r) => n + r.scenarios.length, 0);
    result.files.push(
      requirementsFile({
        word,
        slug,
        title,
        heading: title,
        date,
        designRef,
        from,
        items: requirements.map((r, i) => itemText(ids[i]!, r)),
        rest,
      }),
    );
    return ids;
  };

  for (const spec of source.specs) {
    const text = spec.files['spec.md'];
    if (text === undefined) continue;
    result.counts.features++;
    const word = featureWord(spec.name, taken);
    const { rest, requirements } = readOpenSpecRequirements(text);
    if (requirements.length === 0) {
      result.notes.push(`openspec/specs/${spec.name}/spec.md has no "### Requirement:" block; not imported`);
      continue;
    }
    requirementsDoc(
      word,
      slugOf(spec.name),
      firstTitle(text) ?? `${spec.name} specification`,
      `openspec/specs/${spec.name}/spec.md`,
      requirements,
      rest,
      null,
    );
  }

  for (const change of source.changes) {
    result.counts.features++;
    const word = featureWord(change.name, taken);
    const slug = slugOf(change.name);
    const from = `openspec/changes/${change.name}`;
    const deltas: OpenSpecRequirement[] = [];
    const removed: string[] = [];
    for (const [path, text] of Object.entries(change.files).sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (!/^specs\/.+\/spec\.md$/.test(path)) continue;
      for (const req of readOpenSpecRequirements(text).requirements) {
        if (req.delta === 'REMOVED') removed.push(req.name);
        else deltas.push(req);
      }
    }
    const designText = change.files['design.md'];
    let designRef: string | null = null;
    let itemIds: string[] = [];
    if (deltas.length > 0) {
      designRef = designRefOf(slug, designText !== undefined, deltas.length);
      itemIds = requirementsDoc(
        word,
        slug,
        `${change.name}: requirements`,
        `${from}/specs/`,
        deltas,
        '',
        designRef,
      );
    }
    if (designText !== undefined) {
      const title = firstTitle(designText) ?? `${change.name} design`;
      const body = designBody(title, `${from}/design.md`, designText);
      result.files.push(
        designFile({
          designRef,
          word,
          slug,
          title: `${change.name}: ${title}`,
          date,
          requirements: itemIds,
          body,
        }),
      );
      if (designRef) result.counts.designs++;
    }
    const ticketId = `TKT-${word}-001`;
    const checklist = readChecklist(change.files['tasks.md'] ?? '', /^(\d+(?:\.\d+)*)\.?\s+/);
    const taskIds = checklist.map((_, i) => `TSK-${word}-${pad(i + 1)}`);
    checklist.forEach((task, i) => {
      const title = task.title || `Task ${task.number ?? i + 1}`;
      result.counts.tasks++;
      result.files.push(
        taskFile({
          id: taskIds[i]!,
          title,
          done: task.done,
          ticket: ticketId,
          date,
          objective: `${title}${task.section ? ` (${task.section})` : ''}\n${task.details.length ? `\n${task.details.join('\n')}\n` : ''}`,
          from: `${from}/tasks.md`,
          number: task.number,
        }),
      );
    });
    const proposal = change.files['proposal.md'] ?? '';
    const criteria = checklist.length
      ? checklist.map((t, i) => checkbox(`${taskIds[i]}: ${oneLine(t.title || `Task ${i + 1}`)}`, t.done))
      : [checkbox(`The change ${change.name} is applied`)];
    result.counts.tickets++;
    result.files.push(
      ticketFile({
        id: ticketId,
        title: firstTitle(proposal) ?? `Change ${change.name}`,
        done: checklist.length > 0 && checklist.every((t) => t.done),
        date,
        slug,
        designRef,
        requirements: itemIds.length ? itemIds : null,
        tasks: taskIds.length ? taskIds : null,
        heading: change.name,
        description: `The OpenSpec change \`${change.name}\`, imported from \`${from}/\`.${removed.length ? `\n\nRemoves the requirements: ${removed.join('; ')}.` : ''}`,
        criteria,
        after: sourceSection('Proposal', withoutTitle(proposal)),
      }),
    );
  }
  return result;
}
