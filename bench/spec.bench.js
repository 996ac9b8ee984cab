// `npm run bench -- spec`: `omoi spec validate --json` as a whole new process on a generated tree of
// 100 tickets, 1,000 tasks, 10 requirements documents and 10 designs, next to `node -e ""` (the cost
// of starting Node at all) in the same run. Prints both medians and their ratio, plus the
// in-process validation time of the same tree. With OPENSPEC_BIN set (the `openspec` binary of
// @fission-ai/openspec, installed anywhere), it also times `openspec validate --all` on an OpenSpec
// tree of 1,120 files and `omoi spec validate` on that same tree after `omoi spec import openspec`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = 5;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const pad = (n) => String(n).padStart(3, '0');
const list = (name, ids, indent = '') =>
  ids.length === 0
    ? `${indent}${name}: []\n`
    : `${indent}${name}:\n${ids.map((id) => `${indent}  - ${id}\n`).join('')}`;

/** Writes the tree; returns the folder holding `.omoi_os/`. */
export function generate() {
  const root = mkdtempSync(join(tmpdir(), 'omoi-bench-spec-'));
  const spec = join(root, '.omoi_os');
  for (const d of ['requirements', 'designs', 'tickets', 'tasks'])
    mkdirSync(join(spec, d), { recursive: true });
  const features = Array.from({ length: 10 }, (_, f) => `F${f}`);
  for (const feature of features) {
    const items = Array.from(
      { length: 5 },
      (_, i) =>
        `### REQ-${feature}-CORE-${pad(i + 1)}: Behaviour ${i + 1}\n\nWHEN a user does thing ${i + 1} THE SYSTEM SHALL respond.\n\n- [ ] It responds\n- [ ] It logs\n`,
    );
    writeFileSync(
      join(spec, 'requirements', `${feature.toLowerCase()}.md`),
      `---\nid: REQ-${feature}-001\ntitle: Requirements ${feature}\nfeature: ${feature.toLowerCase()}\nstatus: approved\ncreated: 2026-11-01\nupdated: 2026-11-02\ncategory: functional\npriority: HIGH\ndesign_ref: designs/${feature.toLowerCase()}.md\n---\n\n# Requirements\n\n${items.join('\n')}`,
    );
    writeFileSync(
      join(spec, 'designs', `${feature.toLowerCase()}.md`),
      `---\nid: DESIGN-${feature}-001\ntitle: Design ${feature}\nfeature: ${feature.toLowerCase()}\nstatus: approved\ncreated: 2026-11-01\nupdated: 2026-11-02\n${list('requirements', [`REQ-${feature}-001`])}components: [Service]\n---\n\n# Design\n\n## Architecture Overview\n\nA service and a table.\n`,
    );
  }
  for (let t = 0; t < 100; t++) {
    const id = `TKT-${pad(t + 1)}`;
    const feature = features[t % 10];
    // Tickets form chains of ten (TKT-001 <- TKT-011 <- …), with the blocks mirror.
    const blockedBy = t >= 10 ? [`TKT-${pad(t - 9)}`] : [];
    const blocks = t + 10 < 100 ? [`TKT-${pad(t + 11)}`] : [];
    const tasks = Array.from({ length: 10 }, (_, k) => `TSK-${pad(t * 10 + k + 1)}`);
    writeFileSync(
      join(spec, 'tickets', `${id}.md`),
      `---\nid: ${id}\ntitle: Ticket ${t + 1}\nstatus: backlog\npriority: MEDIUM\nestimate: M\ncreated: 2026-11-01\nupdated: 2026-11-02\nfeature: ${feature.toLowerCase()}\ndesign_ref: designs/${feature.toLowerCase()}.md\n${list('requirements', [`REQ-${feature}-CORE-001`])}${list('tasks', tasks)}dependencies:\n${list('blocked_by', blockedBy, '  ')}${list('blocks', blocks, '  ')}---\n\n# Ticket ${t + 1}\n\n## Description\n\nWork item ${t + 1}.\n\n## Acceptance Criteria\n\n- [ ] Done\n`,
    );
    tasks.forEach((task, k) => {
      // Inside a ticket: a diamond at the start (2 and 3 on 1, 4 on both), then a chain.
      const deps =
        k === 0 ? [] : k === 1 || k === 2 ? [tasks[0]] : k === 3 ? [tasks[1], tasks[2]] : [tasks[k - 1]];
      const blocked = tasks.filter((_, j) => {
        const d =
          j === 0 ? [] : j === 1 || j === 2 ? [tasks[0]] : j === 3 ? [tasks[1], tasks[2]] : [tasks[j - 1]];
        return d.includes(task);
      });
      writeFileSync(
        join(spec, 'tasks', `${task}.md`),
        `---\nid: ${task}\ntitle: Task ${task}\nstatus: pending\nparent_ticket: ${id}\nestimate: S\ncreated: 2026-11-01\nupdated: 2026-11-02\ntype: implementation\nassignee: null\n${list('requirements', [`REQ-${feature}-CORE-00${(k % 5) + 1}`])}${list('files', [`src/f${k}.ts`])}dependencies:\n${list('depends_on', deps, '  ')}${list('blocks', blocked, '  ')}---\n\n# ${task}\n\n## Objective\n\nImplement part ${k + 1}.\n\n## Acceptance Criteria\n\n- [ ] Implemented\n- [ ] Tested\n`,
      );
    });
  }
  return root;
}

/** An OpenSpec tree of 1,120 files: 120 capabilities, 100 changes of 10 files each. */
function generateOpenSpec() {
  const root = mkdtempSync(join(tmpdir(), 'omoi-bench-openspec-'));
  const write = (path, content) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  };
  const requirement = (name) =>
    `### Requirement: ${name}\nThe system SHALL do ${name}.\n\n#### Scenario: ${name} works\n- **WHEN** a user does ${name}\n- **THEN** it responds\n`;
  for (let s = 0; s < 120; s++)
    write(
      `openspec/specs/cap-${s}/spec.md`,
      `# cap-${s} Specification\n\n## Purpose\nCapability ${s}.\n\n## Requirements\n${[1, 2, 3, 4, 5].map((i) => requirement(`Behaviour ${s}-${i}`)).join('\n')}`,
    );
  for (let c = 0; c < 100; c++) {
    const dir = `openspec/changes/change-${c}`;
    write(
      `${dir}/proposal.md`,
      `# Change ${c}\n\n## Why\nNeeded.\n\n## What Changes\n- Adds behaviour ${c}\n`,
    );
    write(
      `${dir}/tasks.md`,
      `## 1. Implementation\n${Array.from({ length: 10 }, (_, k) => `- [ ] 1.${k + 1} Task ${k + 1} of change ${c}`).join('\n')}\n`,
    );
    write(`${dir}/design.md`, `## Context\nDesign of change ${c}.\n`);
    for (let d = 0; d < 7; d++)
      write(`${dir}/specs/delta-${c}-${d}/spec.md`, `## ADDED Requirements\n${requirement(`New ${c}-${d}`)}`);
  }
  return root;
}

async function compareWithOpenSpec(bin, f) {
  const source = generateOpenSpec();
  const into = mkdtempSync(join(tmpdir(), 'omoi-bench-imported-'));
  try {
    const imported = spawnSync(
      process.execPath,
      [join(repo, 'bin', 'omoi.js'), 'spec', 'import', 'openspec', source, '--into', into, '--json'],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    const result = JSON.parse(imported.stdout);
    if (!result.valid)
      throw new Error(`the imported tree should be valid: ${JSON.stringify(result.summary)}`);
    const theirs = measure(
      'openspec validate --all --json',
      [bin, 'validate', '--all', '--json', '--no-interactive'],
      source,
    );
    const ours = measure(
      'omoi spec validate --json',
      [join(repo, 'bin', 'omoi.js'), 'spec', 'validate', '--json'],
      into,
    );
    process.stdout.write(
      `openspec tree: 1120 files (${result.counts.requirements} requirements) -> imported ${result.summary.files} files\n` +
        `${'openspec validate --all --json'.padEnd(34)} median of ${RUNS}: ${f(theirs.ms)}\n` +
        `${'omoi spec validate (imported)'.padEnd(34)} median of ${RUNS}: ${f(ours.ms)}\n` +
        `${'openspec / omoi'.padEnd(34)} ${(theirs.ms / ours.ms).toFixed(2)}x\n`,
    );
  } finally {
    rmSync(source, { recursive: true, force: true });
    rmSync(into, { recursive: true, force: true });
  }
}

function time(args, cwd) {
  const start = performance.now();
  const result = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - start;
  return { ms, result };
}

function measure(label, args, cwd) {
  time(args, cwd); // warm-up (file cache, Node's compile cache)
  const runs = Array.from({ length: RUNS }, () => time(args, cwd));
  const ms = median(runs.map((r) => r.ms));
  return { label, ms, last: runs[runs.length - 1].result };
}

function measureInterleaved(sides, cwd) {
  for (const [, args] of sides) time(args, cwd); // warm-up (file cache, Node's compile cache)
  const runs = sides.map(() => []);
  for (let i = 0; i < RUNS; i++) {
    for (const [k, [, args]] of sides.entries()) runs[k].push(time(args, cwd));
  }
  return sides.map(([label], k) => ({
    label,
    ms: median(runs[k].map((r) => r.ms)),
    last: runs[k][runs[k].length - 1].result,
  }));
}

export default async function () {
  const root = generate();
  try {
    // Interleaved: one of each per round, so a neighbour's load falls on both alike.
    const [cli, node] = measureInterleaved(
      [
        ['omoi spec validate --json', [join(repo, 'bin', 'omoi.js'), 'spec', 'validate', '--json']],
        ['node -e ""', ['-e', '']],
      ],
      root,
    );
    const report = JSON.parse(cli.last.stdout);
    if (!report.valid || report.summary.files !== 1120) {
      throw new Error(
        `the generated tree should be valid with 1120 files: ${JSON.stringify(report.summary)}`,
      );
    }

    const { validateSpecDir } = await import(join(repo, 'dist', 'spec-format', 'validate.js'));
    await validateSpecDir(root);
    const inProcess = [];
    for (let i = 0; i < RUNS; i++) {
      const start = performance.now();
      await validateSpecDir(root);
      inProcess.push(performance.now() - start);
    }

    const f = (ms) => `${ms.toFixed(0).padStart(5)} ms`;
    process.stdout.write(
      `tree: 100 tickets, 1000 tasks, 10 requirements (50 items), 10 designs = ${report.summary.files} files\n` +
        `${'omoi spec validate --json'.padEnd(34)} median of ${RUNS}: ${f(cli.ms)}\n` +
        `${'node -e ""'.padEnd(34)} median of ${RUNS}: ${f(node.ms)}\n` +
        `${'ratio (validate / bare node)'.padEnd(34)} ${(cli.ms / node.ms).toFixed(2)}x\n` +
        `${'validate over bare node'.padEnd(34)} ${f(cli.ms - node.ms)}\n` +
        `${'validateSpecDir in-process'.padEnd(34)} median of ${RUNS}: ${f(median(inProcess))}\n`,
    );
    if (process.env.OPENSPEC_BIN) await compareWithOpenSpec(process.env.OPENSPEC_BIN, f);
    return { cliMs: cli.ms, nodeMs: node.ms, ratio: cli.ms / node.ms };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
