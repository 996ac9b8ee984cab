// @vitest-environment happy-dom
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeliveryResult, Question, SpecDocument, Task, TaskDiff } from '../api/types';
import { DiffFiles, patchByFile } from './Delivery';
import { TaskPanel } from './TaskPanel';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const specTask: SpecDocument = {
  id: 'doc-2',
  project_id: 'p',
  spec_id: 'TSK-CSV-002',
  kind: 'task',
  path: '.omoi_os/tasks/TSK-CSV-002.md',
  ticket_id: 't',
  title: 'Stream large reports',
  status: 'pending',
  frontmatter: {
    id: 'TSK-CSV-002',
    status: 'pending',
    requirements: ['REQ-CSV-STREAM-001'],
    dependencies: { depends_on: ['TSK-CSV-001'], blocks: ['TSK-CSV-003'] },
  },
  body: [
    '# Stream large reports',
    '',
    '## Objective',
    '',
    'Send rows as they are read, so a large report never sits in memory.',
    '',
    '## Acceptance Criteria',
    '',
    '- [ ] A 1 GB report streams',
    '- [x] Memory stays flat',
    '',
    '## Notes',
    '',
    'Use the existing cursor.',
  ].join('\n'),
  content_hash: '',
  items: null,
  links: [],
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
};

const run = (
  status: Task['status'],
  result: Partial<DeliveryResult> | null,
  error: string | null = null,
): Task =>
  ({
    id: 'run-2',
    project_id: 'p',
    ticket_id: 't',
    title: 'Stream large reports',
    description: '',
    task_type: 'implementation',
    execution_mode: 'implementation',
    execution_config: { require_spec_skill: false },
    status,
    priority: 'MEDIUM',
    branch: 'omoi/TKT-001-TSK-CSV-002',
    spec_task_id: 'TSK-CSV-002',
    claimed_by: null,
    lease_until: null,
    attempts: 1,
    max_attempts: 3,
    run_after: null,
    started_at: null,
    finished_at: null,
    result,
    error,
    depends_on: [],
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
  }) as Task;

const verified: Partial<DeliveryResult> = {
  ok: true,
  branch: 'omoi/TKT-001-TSK-CSV-002',
  commit: '0123456789abcdef',
  changes: { files: 2, insertions: 40, deletions: 3 },
  verification: {
    command: 'npm test',
    source: 'detected',
    exit_code: 0,
    passed: true,
    duration_ms: 2300,
    commit: '0123456789abcdef',
    attempts: 2,
    output_tail: 'Tests 12 passed',
    tests: { passed: 12, failed: 0 },
  },
};

let root: Root;
let host: HTMLElement;
let opened: string[];
let closed: number;

beforeEach(() => {
  host = document.createElement('div');
  document.body.append(host);
  root = createRoot(host);
  opened = [];
  closed = 0;
});
afterEach(() => {
  act(() => root.unmount());
  host.remove();
});

function show(doc: SpecDocument | null, task: Task | null, question: Question | null = null) {
  const client = new QueryClient();
  act(() =>
    root.render(
      <QueryClientProvider client={client}>
        <TaskPanel
          doc={doc}
          run={task}
          requirements={[
            { id: 'REQ-CSV-STREAM-001', title: 'Stream large reports', line: 9, ears: null, criteria: [] },
          ]}
          titleOf={(id) => (id === 'TSK-CSV-001' ? 'Export endpoint' : undefined)}
          question={question}
          onOpen={(id) => opened.push(id)}
          onClose={() => closed++}
        />
      </QueryClientProvider>,
    ),
  );
}

const section = (name: string) => host.querySelector(`section[aria-label="${name}"]`)!;

describe('TaskPanel', () => {
  it('says a parked run needs an answer, and leads to the question card', () => {
    // the card sits on the page under the panel
    const card = document.createElement('section');
    card.dataset.question = 'q1';
    card.innerHTML = '<button type="button">CSV</button><textarea></textarea>';
    document.body.append(card);
    const question = {
      id: 'q1',
      task_id: 'run-2',
      status: 'open',
      question: 'Stream with a cursor or pages?',
    } as Question;
    show(specTask, run('awaiting_input', null), question);
    expect(host.querySelector('.task-panel-head .badge.status')?.textContent).toBe('needs your answer');
    expect(section('Question waiting').textContent).toContain('Stream with a cursor or pages?');
    act(() => section('Question waiting').querySelector('button')!.click());
    expect(closed).toBe(1);
    expect(document.activeElement).toBe(card.querySelector('textarea'));
    card.remove();
  });

  it('opens a spec task with its objective, criteria, requirements and dependencies, before it runs', () => {
    show(specTask, null);
    const panel = host.querySelector('[role="dialog"]')!;
    expect(panel.getAttribute('aria-label')).toBe('Task TSK-CSV-002 Stream large reports');
    expect(panel.querySelector('h2')?.textContent).toBe('Stream large reports');
    expect(panel.querySelector('.badge.status')?.textContent).toBe('pending');
    expect(section('Objective').textContent).toContain('never sits in memory');
    expect(section('Objective').textContent).not.toContain('Stream large reports');
    expect(
      [...section('Acceptance criteria').querySelectorAll('li')].map((li) => li.textContent?.trim()),
    ).toEqual(['A 1 GB report streams', 'Memory stays flat']);
    expect(section('Requirements covered').textContent).toBe(
      'Requirements coveredREQ-CSV-STREAM-001 Stream large reports',
    );
    expect(section('Dependencies').textContent).toContain('TSK-CSV-001 Export endpoint');
    expect(host.querySelector('details.doc summary')?.textContent).toBe('Notes');
    expect(section('Delivery').textContent).toContain('Not started');
    // a dependency opens that task; the close button and Escape close the panel
    act(() => section('Dependencies').querySelector<HTMLButtonElement>('button.link')!.click());
    expect(opened).toEqual(['TSK-CSV-001']);
    act(() => host.querySelector<HTMLButtonElement>('button[aria-label="Close the task"]')!.click());
    act(() => panel.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true })));
    expect(closed).toBe(2);
  });

  it('shows a finished run’s branch, changes and passing evidence, and offers its diff', () => {
    show(specTask, run('completed', verified));
    const delivery = section('Delivery');
    expect(host.querySelector('.task-panel-head .badge.status')?.textContent).toBe('done');
    expect(delivery.textContent).toContain('omoi/TKT-001-TSK-CSV-002 @ 0123456789');
    expect(delivery.querySelector('.changes')?.textContent).toBe('2 files +40 −3');
    expect(delivery.querySelector('.evidence .badge.status')?.textContent).toBe('verified');
    expect(delivery.textContent).toContain('npm test');
    expect(delivery.textContent).toContain('exit 0 · 2.3 s · attempts 2 · 12 passed, 0 failed');
    // a passing run's output is folded
    expect(delivery.querySelector<HTMLDetailsElement>('.evidence details')?.open).toBe(false);
    expect([...delivery.querySelectorAll('button')].map((b) => b.textContent)).toContain('Show the diff');
  });

  it('shows a failing verification with its output open', () => {
    show(specTask, {
      ...run('failed', {
        ...verified,
        verification: {
          ...verified.verification!,
          passed: false,
          exit_code: 1,
          output_tail: 'FAIL stream.test.ts',
        },
      }),
    });
    const evidence = section('Delivery').querySelector('.evidence')!;
    expect(evidence.querySelector('.badge.status')?.textContent).toBe('failing');
    expect(evidence.querySelector<HTMLDetailsElement>('details')?.open).toBe(true);
    expect(evidence.querySelector('pre')?.textContent).toBe('FAIL stream.test.ts');
  });

  it('says unverified when no verify command ran, and plan only (not a failure) for the offline runtime', () => {
    show(
      specTask,
      run('completed', {
        ...verified,
        verification: {
          ...verified.verification!,
          command: null,
          exit_code: null,
          unverified: 'no test command found',
        },
      }),
    );
    expect(section('Delivery').querySelector('.evidence')?.textContent).toBe(
      'unverified no test command found',
    );

    show(
      specTask,
      run('completed', { ok: true, branch: 'omoi/TKT-001-TSK-CSV-002', commit: 'abc', plan_only: true }),
    );
    const head = host.querySelector('.task-panel-head .badge.status')!;
    expect(head.textContent).toBe('plan only (no model)');
    expect(head.className).not.toContain('st-bad');
    expect(section('Delivery').textContent).toContain('no code was written, so this task is not done');
  });
});

describe('the diff view', () => {
  const diff: TaskDiff = {
    task_id: 'run-2',
    branch: 'omoi/TKT-001-TSK-CSV-002',
    base: 'aaaaaaaaaaaa',
    head: 'bbbbbbbbbbbb',
    files: [
      { path: 'src/stream.ts', status: 'added', insertions: 2, deletions: 0, binary: false },
      { path: 'src/report.ts', status: 'modified', insertions: 1, deletions: 1, binary: false },
      { path: 'logo.png', status: 'added', insertions: 0, deletions: 0, binary: true },
    ],
    patch: [
      'diff --git a/src/stream.ts b/src/stream.ts',
      'new file mode 100644',
      '--- /dev/null',
      '+++ b/src/stream.ts',
      '@@ -0,0 +1,2 @@',
      '+export function stream() {}',
      '+// rows',
      'diff --git a/src/report.ts b/src/report.ts',
      '--- a/src/report.ts',
      '+++ b/src/report.ts',
      '@@ -1 +1 @@',
      '-const rows = all();',
      '+const rows = stream();',
    ].join('\n'),
    truncated: true,
  };

  it('splits a unified patch file by file', () => {
    const files = patchByFile(diff.patch);
    expect([...files.keys()]).toEqual(['src/stream.ts', 'src/report.ts']);
    expect(files.get('src/report.ts')).toContain('+const rows = stream();');
    expect(files.get('src/report.ts')).not.toContain('export function stream');
  });

  it('shows each file with its counts and its lines marked added or removed', () => {
    act(() => root.render(<DiffFiles diff={diff} />));
    const files = [...host.querySelectorAll('.diff-file')];
    expect(files.map((f) => f.querySelector('summary')?.textContent)).toEqual([
      'src/stream.ts added +2 −0',
      'src/report.ts modified +1 −1',
      'logo.png added +0 −0',
    ]);
    const report = files[1]!;
    expect([...report.querySelectorAll('.patch-line.add')].map((l) => l.textContent?.trim())).toEqual([
      '+const rows = stream();',
    ]);
    expect([...report.querySelectorAll('.patch-line.del')].map((l) => l.textContent?.trim())).toEqual([
      '-const rows = all();',
    ]);
    expect(files[2]!.textContent).toContain('Binary file.');
    expect(host.textContent).toContain('The patch was cut at its size limit.');
  });
});
