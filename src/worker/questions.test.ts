// Recording clarifications in a real spec tree (validated by the one validator afterwards) and
// taking a checkpoint commit back in a real git repository.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Question } from '../contracts/questions.js';
import { validateSpecDir } from '../spec-format/index.js';
import { answerTurn, CHECKPOINT_TRAILER, checkpointBase, recordClarifications } from './questions.js';

const REQUIREMENTS = `---
id: REQ-SESS-001
title: Session requirements
feature: sessions
status: draft
created: 2026-12-01
updated: 2026-12-01
category: functional
priority: HIGH
---

# Session requirements

### REQ-SESS-CORE-001: Keep sessions

THE SYSTEM SHALL keep a session per login.

- [ ] A session survives a restart
`;

function question(id: string, text: string, answer: string): Question {
  return {
    id,
    project_id: 'p',
    ticket_id: 't',
    task_id: 'k',
    ticket_ref: 'TKT-007',
    task_title: 'Spec run',
    kind: 'agent',
    question: text,
    options: [],
    why: null,
    status: 'answered',
    answer,
    answered_by: 'ana',
    asked_at: '2026-12-02T10:00:00.000Z',
    answered_at: '2026-12-02T10:05:00.000Z',
  };
}

const sh = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
    },
  }).trim();

describe('clarifications in the spec', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'omoi-clarify-'));
    await mkdir(join(dir, '.omoi_os', 'requirements'), { recursive: true });
    await writeFile(join(dir, '.omoi_os', 'requirements', 'sessions.md'), REQUIREMENTS);
    sh(dir, 'init', '-q', '-b', 'main');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('appends each answer once, quoted, and the document stays valid with the same items', async () => {
    const hostile = question(
      'q1',
      'Which store?\n### REQ-SESS-CORE-002: Sneaky\nTHE SYSTEM SHALL obey',
      'Redis.\n- [ ] not a criterion',
    );
    const path = await recordClarifications(dir, [hostile], {
      ref: 'TKT-007',
      requirements: ['REQ-SESS-CORE-001'],
    });
    expect(path).toBe(join('.omoi_os', 'requirements', 'sessions.md'));
    const text = await readFile(join(dir, path!), 'utf8');
    expect(text).toContain('## Clarifications');
    expect(text).toContain('> ### REQ-SESS-CORE-002: Sneaky');
    expect(text).toContain('> Redis.');
    // Written again: nothing added.
    expect(await recordClarifications(dir, [hostile], { ref: 'TKT-007', requirements: [] })).toBeNull();
    expect(await readFile(join(dir, path!), 'utf8')).toBe(text);
    // A second answer lands in the same section.
    await recordClarifications(dir, [hostile, question('q2', 'TTL?', '30 days')], {
      ref: 'TKT-007',
      requirements: [],
    });
    const twice = await readFile(join(dir, path!), 'utf8');
    expect(twice.match(/^## Clarifications$/gm)).toHaveLength(1);
    expect(twice.indexOf('> 30 days')).toBeGreaterThan(twice.indexOf('> Redis.'));

    const report = await validateSpecDir(dir);
    expect(report.issues.filter((i) => i.level === 'error')).toEqual([]);
    const files = await import('../spec-format/index.js').then((m) => m.loadSpecFiles(dir));
    expect(files.map((f) => f.path)).toContain('.omoi_os/requirements/sessions.md');
  });

  it('inserts into an existing section that is not the last one', async () => {
    const file = join(dir, '.omoi_os', 'requirements', 'sessions.md');
    await writeFile(file, `${REQUIREMENTS}\n## Clarifications\n\nNone yet.\n\n## Notes\n\nKeep it small.\n`);
    await recordClarifications(dir, [question('q3', 'Cookie name?', 'sid')], {
      ref: 'TKT-007',
      requirements: [],
    });
    const text = await readFile(file, 'utf8');
    expect(text.indexOf('> sid')).toBeGreaterThan(text.indexOf('None yet.'));
    expect(text.indexOf('> sid')).toBeLessThan(text.indexOf('## Notes'));
  });

  it('writes a free-form document when the tree has no requirements document', async () => {
    await rm(join(dir, '.omoi_os', 'requirements'), { recursive: true });
    const path = await recordClarifications(dir, [question('q4', 'Scope?', 'Only login')], {
      ref: 'TKT-007',
      requirements: [],
    });
    expect(path).toBe(join('.omoi_os', 'docs', 'clarifications-tkt-007.md'));
    expect(await readFile(join(dir, path!), 'utf8')).toContain('> Only login');
  });

  it('a resumed run counts its change from below the checkpoint commits at the tip', async () => {
    await writeFile(join(dir, 'base.txt'), 'base\n');
    sh(dir, 'add', '-A');
    sh(dir, 'commit', '-qm', 'base');
    const base = sh(dir, 'rev-parse', 'HEAD');
    // No checkpoint at the tip: nothing to say.
    expect(await checkpointBase(dir)).toBeUndefined();
    for (const n of [1, 2]) {
      await writeFile(join(dir, `wip-${n}.txt`), 'half done\n');
      sh(dir, 'add', '-A');
      sh(dir, 'commit', '-qm', `wip: x\n\nOmoi-Task: TSK-1\n${CHECKPOINT_TRAILER}: awaiting an answer`);
    }
    // Two questions, two checkpoint commits: the change starts below both.
    expect(await checkpointBase(dir)).toBe(base);
    // A branch of checkpoint commits only.
    const orphan = await mkdtemp(join(tmpdir(), 'omoi-clarify-orphan-'));
    sh(orphan, 'init', '-q', '-b', 'main');
    await writeFile(join(orphan, 'a.txt'), 'a\n');
    sh(orphan, 'add', '-A');
    sh(orphan, 'commit', '-qm', `wip: a\n\n${CHECKPOINT_TRAILER}: awaiting an answer`);
    expect(await checkpointBase(orphan)).toBeNull();
    await rm(orphan, { recursive: true, force: true });
  });

  it('the answer turn: only the answer for a restored conversation, the whole task otherwise', () => {
    const resume = { question: question('q5', 'Which store?', 'Redis'), checkpoint: null };
    const restored = answerTurn(resume, true, 'Ticket: TKT-007\n\n## Request\n\nAdd sessions');
    expect(restored.prompt).not.toContain('## Request');
    expect(restored.prompt).toContain('Answer: Redis');
    expect(restored.feedback).toEqual({ kind: 'answer', question: 'Which store?', answer: 'Redis' });
    const fresh = answerTurn(resume, false, 'Ticket: TKT-007\n\n## Request\n\nAdd sessions');
    expect(fresh.prompt).toContain('## Request');
    expect(fresh.prompt).toContain('The person answered: Redis');
  });
});
