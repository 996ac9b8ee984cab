// Spec Kit: `specs/<NNN-feature>/{spec,plan,tasks}.md`. Each functional requirement line
// (`- **FR-001**: System MUST …`, also NFR-) becomes an item `REQ-<FEATURE>-FR-001` (its MUST read
// as SHALL, the source wording kept as the criterion, with the user stories' acceptance scenarios
// that name it); plan.md becomes the design; tasks.md becomes one ticket per phase (each blocked by
// the phase before) with a task per `T001` line.
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
  taskFile,
  ticketFile,
  today,
} from './common.js';

export interface SpecKitRequirement {
  /** `FR-001`, `NFR-002`. */
  key: string;
  text: string;
}

const REQUIREMENT_LINE = /^\s*[-*+]\s+\*{0,2}((?:N?FR)-\d+)\*{0,2}\s*:?\*{0,2}\s*(.*)$/;

/** The FR-/NFR- lines of a spec.md, and the text without them. */
export function readSpecKitRequirements(text: string): { rest: string; requirements: SpecKitRequirement[] } {
  const requirements: SpecKitRequirement[] = [];
  const rest: string[] = [];
  let fence = false;
  let last: SpecKitRequirement | null = null;
  for (const line of linesOf(text)) {
    if (/^ {0,3}(`{3,}|~{3,})/.test(line)) fence = !fence;
    const match = fence ? null : REQUIREMENT_LINE.exec(line);
    if (match) {
      last = { key: match[1]!, text: plainText(match[2]!) };
      requirements.push(last);
      continue;
    }
    if (last && /^\s{2,}\S/.test(line) && !/^\s*[-*+]\s/.test(line)) {
      last.text += ` ${line.trim()}`;
      continue;
    }
    last = null;
    rest.push(line);
  }
  return { rest: rest.join('\n'), requirements };
}

/** Converts Spec Kit feature folders. */
export function importSpecKit(features: SourceFolder[], options: ImportOptions = {}): ImportResult {
  const date = today(options);
  const result: ImportResult = { files: [], counts: emptyCounts(), notes: [] };
  const taken = new Set<string>();
  for (const feature of features) {
    const word = featureWord(feature.name, taken);
    const slug = slugOf(feature.name.replace(/^\d+-/, '')) || slugOf(feature.name);
    const from = `specs/${feature.name}`;
    result.counts.features++;
    const specText = feature.files['spec.md'];
    const planText = feature.files['plan.md'];
    const tasksText = feature.files['tasks.md'];
    const itemOf = new Map<string, string>();
    let designRef: string | null = null;

    if (specText !== undefined) {
      const { rest, requirements } = readSpecKitRequirements(specText);
      const seen = new Set<string>();
      const items = requirements.map((req, i) => {
        // The FR number is kept in the id when it is unique, so `FR-004` stays findable.
        const n = /\d+$/.exec(req.key)![0];
        const area = req.key.startsWith('NFR') ? 'NFR' : 'FR';
        let id = `REQ-${word}-${area}-${pad(Number(n))}`;
        if (seen.has(id)) id = `REQ-${word}-${area}-${pad(1000 + i)}`;
        seen.add(id);
        itemOf.set(req.key, id);
        result.counts.criteria++;
        return `### ${id}: ${oneLine(req.text, 80)}\n\n${shallStatement(req.text)}\n\n${checkbox(`${req.key}: ${req.text}`)}`;
      });
      result.counts.requirements += requirements.length;
      if (requirements.length === 0) result.notes.push(`${from}/spec.md has no FR-NNN requirement line`);
      const title = firstTitle(specText) ?? `${feature.name} specification`;
      designRef = designRefOf(slug, planText !== undefined, requirements.length);
      result.files.push(
        requirementsFile({
          word,
          slug,
          title,
          heading: title,
          date,
          designRef,
          from: `${from}/spec.md`,
          items,
          rest,
        }),
      );
    }

    if (planText !== undefined) {
      const title = firstTitle(planText) ?? `${feature.name} plan`;
      const body = designBody(title, `${from}/plan.md`, planText);
      result.files.push(
        designFile({ designRef, word, slug, title, date, requirements: [...itemOf.values()], body }),
      );
      if (designRef) result.counts.designs++;
      else result.notes.push(`${from}/plan.md has no requirements to cover; kept as docs/design-${slug}.md`);
    }

    if (tasksText !== undefined) {
      const checklist = readChecklist(tasksText, /^(T\d+)\b\s*/);
      if (checklist.length === 0) continue;
      const phases: string[] = [];
      for (const task of checklist) {
        const phase = task.section ?? 'Tasks';
        if (!phases.includes(phase)) phases.push(phase);
      }
      const ticketIds = phases.map((_, i) => `TKT-${word}-${pad(i + 1)}`);
      const taskIds = checklist.map((_, i) => `TSK-${word}-${pad(i + 1)}`);
      phases.forEach((phase, p) => {
        const mine = checklist.map((t, i) => ({ t, i })).filter(({ t }) => (t.section ?? 'Tasks') === phase);
        for (const { t, i } of mine) {
          const title = t.title.replace(/^(?:\[[^\]]*\]\s*)+/, '').trim() || `Task ${t.number ?? i + 1}`;
          const reqIds = [
            ...new Set([...t.title.matchAll(/\bN?FR-\d+\b/g)].map((m) => itemOf.get(m[0]))),
          ].filter((x): x is string => !!x);
          const tags = [...t.title.matchAll(/\[([^\]]*)\]/g)].map((m) => m[1]!);
          result.counts.tasks++;
          result.files.push(
            taskFile({
              id: taskIds[i]!,
              title,
              done: t.done,
              ticket: ticketIds[p]!,
              date,
              requirements: reqIds.length ? reqIds : null,
              objective: `${title}\n${tags.length ? `\nMarks in the source: ${tags.map((x) => `[${x}]`).join(' ')}${tags.includes('P') ? ' ([P]: can run in parallel)' : ''}.\n` : ''}${t.details.length ? `\n${t.details.join('\n')}\n` : ''}`,
              from: `${from}/tasks.md`,
              number: t.number,
            }),
          );
        }
        result.counts.tickets++;
        result.files.push(
          ticketFile({
            id: ticketIds[p]!,
            title: `${feature.name}: ${phase}`,
            done: mine.every(({ t }) => t.done),
            date,
            slug,
            designRef,
            tasks: mine.map(({ i }) => taskIds[i]!),
            dependencies: {
              blocked_by: p > 0 ? [ticketIds[p - 1]!] : [],
              blocks: p + 1 < phases.length ? [ticketIds[p + 1]!] : [],
            },
            heading: phase,
            description: `${phase} of the Spec Kit feature \`${feature.name}\`, imported from \`${from}/tasks.md\`.`,
            criteria: mine.map(({ t, i }) => checkbox(`${taskIds[i]}: ${oneLine(t.title)}`, t.done)),
          }),
        );
      });
    }
  }
  return result;
}
