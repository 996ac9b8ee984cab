import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { validateSpecFiles } from '../spec-format/index.js';
import {
  createOfflineRuntime,
  draftSpecSet,
  ears,
  featureName,
  parseRequest,
  pathsInFeedback,
} from './offline.js';
import type { AgentEvent } from './runtime.js';

const PROMPT = `Ticket: TKT-007 — Rate limit logins

## Request
Limit login attempts to five per minute per account.
Show a clear message when the limit is hit.
- Record every refused attempt
`;

function frontmatter(content: string): Record<string, unknown> {
  const match = /^---\n([\s\S]*?)\n---\n/.exec(content);
  if (!match) throw new Error('no frontmatter');
  return parseYaml(match[1]!) as Record<string, unknown>;
}

async function collect(events: AsyncIterable<AgentEvent>): Promise<AgentEvent[]> {
  const out: AgentEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('offline runtime', () => {
  it('reads the ticket ref, title and request from the worker prompt', () => {
    const request = parseRequest(PROMPT);
    expect(request.ticketRef).toBe('TKT-007');
    expect(request.title).toBe('Rate limit logins');
    expect(request.description).toContain('five per minute');
    expect(featureName(request)).toBe('RATE007');
  });

  it('drafts a valid spec set with 3-6 tasks and mirrored dependencies', () => {
    const files = draftSpecSet(parseRequest(PROMPT), '2026-01-15');
    const report = validateSpecFiles(files, { strict: true });
    expect(report.issues).toEqual([]);
    expect(report.valid).toBe(true);

    const tasks = files.filter((f) => f.path.startsWith('.omoi_os/tasks/'));
    expect(tasks.length).toBeGreaterThanOrEqual(3);
    expect(tasks.length).toBeLessThanOrEqual(6);
    const meta = new Map(
      tasks.map((t) => {
        const fm = frontmatter(t.content);
        return [fm.id as string, fm];
      }),
    );
    for (const [id, fm] of meta) {
      expect(`.omoi_os/tasks/${id}.md`).toBe(tasks.find((t) => t.content.includes(`id: ${id}\n`))?.path);
      const deps = fm.dependencies as { depends_on: string[]; blocks: string[] };
      for (const dep of deps.depends_on) {
        const other = meta.get(dep)?.dependencies as { blocks: string[] };
        expect(other.blocks).toContain(id);
      }
      expect(fm.parent_ticket).toBe('TKT-RATE007-001');
    }
    const requirements = files.find((f) => f.path === '.omoi_os/requirements/rate007.md')!;
    expect(requirements.content).toMatch(/### REQ-RATE007-FUNC-001: .*\n\n.*SHALL/);
    expect(requirements.content).toContain('- [ ] Limit login attempts to five per minute per account');
  });

  it('never reuses ids across two tickets of one project', () => {
    const a = draftSpecSet(parseRequest(PROMPT), '2026-01-15');
    const b = draftSpecSet(parseRequest(PROMPT.replace('TKT-007', 'TKT-008')), '2026-01-15');
    const paths = new Set(a.map((f) => f.path));
    expect(b.some((f) => paths.has(f.path))).toBe(false);
    expect(validateSpecFiles([...a, ...b], { strict: true }).valid).toBe(true);
  });

  it('writes the files, then repairs exactly the files a report names', async () => {
    const workspace = await mkdtemp(join(tmpdir(), 'omoi-offline-'));
    dirs.push(workspace);
    const session = createOfflineRuntime().start({
      workspace,
      systemPrompt: 'skill',
      maxTurns: 5,
      mode: 'exploration',
      // The offline runtime never asks and keeps no conversation to resume: both are ignored.
      canAsk: true,
      resume: { runtime: 'openai', data: { version: 1, messages: [], pending_call_id: null } },
    });
    const first = await collect(session.send(PROMPT));
    expect(first.at(-1)).toMatchObject({ type: 'result', ok: true });
    expect(first.some((e) => e.type === 'question')).toBe(false);
    expect(session.checkpoint).toBeUndefined();
    const writes = first.filter((e) => e.type === 'tool_use');
    expect(writes.length).toBeGreaterThanOrEqual(6);

    const broken = join(workspace, '.omoi_os/tasks/TSK-RATE007-002.md');
    const good = await readFile(broken, 'utf8');
    await writeFile(broken, 'garbage');
    const feedback =
      'Spec validation FAILED\n- .omoi_os/tasks/TSK-RATE007-002.md:1: error FRONTMATTER_MISSING no';
    expect(pathsInFeedback(feedback)).toEqual(['.omoi_os/tasks/TSK-RATE007-002.md']);
    const second = await collect(session.send(feedback));
    expect(second.filter((e) => e.type === 'tool_use')).toHaveLength(1);
    expect(await readFile(broken, 'utf8')).toBe(good);
    await session.close();
  });

  it('writes a plan and says it cannot write code in implementation mode', async () => {
    const workspace = await mkdtemp(join(tmpdir(), 'omoi-offline-'));
    dirs.push(workspace);
    const session = createOfflineRuntime().start({
      workspace,
      systemPrompt: '',
      maxTurns: 5,
      mode: 'implementation',
    });
    const events = await collect(session.send('Task: TSK-1\n\n## Request\nAdd a button.'));
    expect(events.some((e) => e.type === 'message' && e.text.includes('cannot write code'))).toBe(true);
    expect(await readFile(join(workspace, 'OMOI_PLAN.md'), 'utf8')).toContain('Add a button');
  });
});

describe('offline EARS phrasing', () => {
  it('keeps the trigger and the actor of a request sentence', () => {
    expect(ears('When a report is empty, show a clear error')).toBe(
      'WHEN a report is empty, THE SYSTEM SHALL show a clear error.',
    );
    expect(ears('If the password is wrong five times, lock the account')).toBe(
      'IF the password is wrong five times, THEN THE SYSTEM SHALL lock the account.',
    );
    expect(ears('Users can export their reports as CSV files')).toBe(
      'THE SYSTEM SHALL let users export their reports as CSV files.',
    );
    expect(ears('Add a dark mode toggle')).toBe('THE SYSTEM SHALL add a dark mode toggle.');
    expect(ears('Dark mode everywhere')).toMatch(/^WHEN .* SHALL /);
  });
});

describe('offline drafts for varied requests', () => {
  const prompts = [
    'Ticket: TKT-010 — Dark mode\n\n## Request\nWhen the OS is in dark mode, use dark colours. Users can switch it off.',
    'Ticket: TKT-011 — x\n\n## Request\n- a\n- b: c; d\n# heading\n```\ncode\n```',
    'Task: t\n\nno structure at all, just words: and colons: everywhere "quoted" \'single\'',
    'Ticket: TKT-012 — Ünïcode ✓ 日本語\n\n## Request\nIf the input is empty, then reject it. Admins may delete reports.',
  ];
  it.each(prompts)('is valid in strict mode: %#', (prompt) => {
    const report = validateSpecFiles(draftSpecSet(parseRequest(prompt), '2026-01-15'), { strict: true });
    expect(report.issues).toEqual([]);
  });
});
