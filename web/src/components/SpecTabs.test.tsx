// @vitest-environment happy-dom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SpecDocument } from '../api/types';
import { SpecTabs } from './SpecTabs';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

/** A stored spec document as the API returns it, with the fields a test does not care about filled. */
const doc = (
  fields: Partial<SpecDocument> & Pick<SpecDocument, 'spec_id' | 'kind' | 'path'>,
): SpecDocument => ({
  id: `doc-${fields.spec_id}`,
  project_id: 'p',
  ticket_id: 't',
  title: null,
  status: null,
  frontmatter: {},
  body: '',
  content_hash: '',
  items: null,
  links: [],
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
  ...fields,
});

const task = (id: string, dependsOn: string[], status = 'pending'): SpecDocument =>
  doc({
    spec_id: id,
    kind: 'task',
    path: `.omoi_os/tasks/${id}.md`,
    title: `Task ${id}`,
    frontmatter: { id, status, estimate: 'S', dependencies: { depends_on: dependsOn, blocks: [] } },
    body: '## Objective\n\nDo it.\n',
  });

const docs: SpecDocument[] = [
  doc({
    spec_id: 'REQ-CSV-001',
    kind: 'requirements',
    path: '.omoi_os/requirements/csv.md',
    title: 'CSV export requirements',
    frontmatter: {},
    body: '',
    items: [
      {
        id: 'REQ-CSV-EXPORT-001',
        title: 'Download a report',
        line: 5,
        ears: 'WHEN a user asks for a report as CSV THE SYSTEM SHALL send a CSV file',
        criteria: [
          { text: 'The file opens in a spreadsheet', done: false },
          { text: 'Filters apply', done: true },
        ],
      },
    ],
  }),
  doc({
    spec_id: 'DESIGN-CSV-001',
    kind: 'design',
    path: '.omoi_os/designs/csv.md',
    title: 'CSV design',
    frontmatter: {},
    body: '## Architecture Overview\n\nStream rows.\n\n<script>window.pwned = true</script>\n\n<img src=x onerror="window.pwned = true">\n',
  }),
  task('TSK-CSV-001', []),
  task('TSK-CSV-002', ['TSK-CSV-001']),
  task('TSK-CSV-003', ['TSK-CSV-001', 'TSK-CSV-002'], 'done'),
];

let root: Root;
let host: HTMLElement;

beforeEach(() => {
  host = document.createElement('div');
  document.body.append(host);
  root = createRoot(host);
  act(() =>
    root.render(<SpecTabs docs={docs} validation={{ passed: true, attempt: 2, issues: [], eventId: 9 }} />),
  );
});

afterEach(() => {
  act(() => root.unmount());
  host.remove();
});

const tab = (name: string) =>
  [...host.querySelectorAll<HTMLButtonElement>('[role="tab"]')].find((t) => t.textContent === name)!;

describe('SpecTabs', () => {
  it('shows each requirement with its EARS statement and criteria first', () => {
    expect(tab('Requirements').getAttribute('aria-selected')).toBe('true');
    const item = host.querySelector('.requirement')!;
    expect(item.querySelector('code')?.textContent).toBe('REQ-CSV-EXPORT-001');
    expect(item.querySelector('.ears')?.textContent).toContain('THE SYSTEM SHALL send a CSV file');
    expect([...item.querySelectorAll('.criteria li')].map((li) => li.textContent)).toEqual([
      '☐ The file opens in a spreadsheet',
      '☑ Filters apply',
    ]);
  });

  it('renders the design as Markdown with raw HTML escaped', () => {
    act(() => tab('Design').click());
    const markdown = host.querySelector('.markdown')!;
    expect(markdown.querySelector('h2')?.textContent).toBe('Architecture Overview');
    expect(markdown.querySelector('script, img')).toBeNull();
    expect(markdown.textContent).toContain('<script>window.pwned = true</script>');
    expect((window as { pwned?: boolean }).pwned).toBeUndefined();
  });

  it('lists tasks with status, estimate and dependencies, and draws the graph', () => {
    act(() => tab('Tasks').click());
    const rows = [...host.querySelectorAll('table.tasks tbody tr')].map((tr) =>
      [...tr.querySelectorAll('td')].map((td) => td.textContent),
    );
    expect(rows).toEqual([
      ['TSK-CSV-001 Task TSK-CSV-001', 'pending', 'S', '—'],
      ['TSK-CSV-002 Task TSK-CSV-002', 'pending', 'S', 'TSK-CSV-001'],
      ['TSK-CSV-003 Task TSK-CSV-003', 'done', 'S', 'TSK-CSV-001, TSK-CSV-002'],
    ]);
    const graph = host.querySelector('svg[role="img"]')!;
    expect(graph.querySelectorAll('.graph-node')).toHaveLength(3);
    expect(graph.querySelectorAll('.graph-edge')).toHaveLength(3);
    expect(graph.querySelector('.graph-node.status-done .graph-id')?.textContent).toBe('TSK-CSV-003');
  });

  it('moves between tabs with the arrow keys', () => {
    act(() => {
      tab('Requirements').dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowLeft', bubbles: true }));
    });
    expect(tab('Validation').getAttribute('aria-selected')).toBe('true');
    expect(host.textContent).toContain('Spec validation PASSED on attempt 2');
  });
});

describe('SpecTabs, as a person reviews a spec', () => {
  const requirements = doc({
    spec_id: 'REQ-CSV-001',
    kind: 'requirements',
    path: '.omoi_os/requirements/csv.md',
    title: 'CSV export requirements',
    body: [
      '# CSV export requirements',
      '',
      'Reports leave the product as files people open elsewhere.',
      '',
      '## Functional',
      '',
      '### REQ-CSV-EXPORT-001: Download a report',
      '',
      'WHEN a user asks for a report as CSV THE SYSTEM SHALL send a CSV file',
      '',
      '- [ ] The file opens in a spreadsheet',
      '',
      '### REQ-CSV-STREAM-001: Stream large reports',
      '',
      'THE SYSTEM SHALL stream rows.',
      '',
      '## Review',
      '',
      '> Generated by the offline runtime: review before approving.',
    ].join('\n'),
    items: [
      {
        id: 'REQ-CSV-EXPORT-001',
        title: 'Download a report',
        line: 13,
        ears: 'WHEN a user asks for a report as CSV THE SYSTEM SHALL send a CSV file',
        criteria: [{ text: 'The file opens in a spreadsheet', done: false }],
      },
      {
        id: 'REQ-CSV-STREAM-001',
        title: 'Stream large reports',
        line: 19,
        ears: 'THE SYSTEM SHALL stream rows.',
        criteria: [],
      },
    ],
  });
  const design = doc({
    spec_id: 'DESIGN-CSV-001',
    kind: 'design',
    path: '.omoi_os/designs/csv.md',
    title: 'CSV design',
    body: '# CSV design\n\n## Architecture Overview\n\nStream rows.\n',
  });

  let own: Root;
  let box: HTMLElement;
  const show = (props: Partial<Parameters<typeof SpecTabs>[0]> = {}) => {
    act(() => own.render(<SpecTabs docs={[requirements, design]} validation={null} {...props} />));
  };
  beforeEach(() => {
    box = document.createElement('div');
    document.body.append(box);
    own = createRoot(box);
  });
  afterEach(() => {
    act(() => own.unmount());
    box.remove();
  });
  const tabIn = (name: string) =>
    [...box.querySelectorAll<HTMLButtonElement>('[role="tab"]')].find((t) => t.textContent === name)!;

  it('renders the whole requirements document in order, with the items in place', () => {
    show();
    const panel = box.querySelector('[role="tabpanel"]')!;
    const order = [
      ...panel.querySelectorAll(
        '.markdown > p, .markdown > h2, .markdown > blockquote, .requirement h4 code',
      ),
    ].map((el) => el.textContent?.trim());
    expect(order).toEqual([
      'Reports leave the product as files people open elsewhere.',
      'Functional',
      'REQ-CSV-EXPORT-001',
      'REQ-CSV-STREAM-001',
      'Review',
      'Generated by the offline runtime: review before approving.',
    ]);
    // the title is the section's heading, once; an item's own lines are not repeated as prose
    expect(panel.textContent?.match(/CSV export requirements/g)).toHaveLength(1);
    expect(panel.textContent?.match(/THE SYSTEM SHALL stream rows/g)).toHaveLength(1);
    expect(panel.querySelectorAll('ol.requirements')).toHaveLength(1);
  });

  it("shows each requirement's trace status when the server has the trace", () => {
    show({
      trace: {
        ticket_id: 't',
        ref: 'TKT-001',
        requirements: [
          {
            id: 'REQ-CSV-EXPORT-001',
            title: 'Download a report',
            status: 'verified',
            tasks: [
              {
                task_id: 'a',
                spec_task_id: 'TSK-CSV-001',
                title: 'Task',
                status: 'completed',
                branch: 'omoi/TKT-001-TSK-CSV-001',
                commits: ['abc'],
                verification: null,
              },
            ],
          },
          { id: 'REQ-CSV-STREAM-001', title: 'Stream large reports', status: 'not_started', tasks: [] },
        ],
        integration: null,
        pull_request: null,
      },
    });
    const trace = (id: string) => box.querySelector(`.requirement[data-id="${id}"] .trace`)?.textContent;
    expect(trace('REQ-CSV-EXPORT-001')).toBe('verified covered by TSK-CSV-001');
    expect(trace('REQ-CSV-STREAM-001')).toBe('not started no task covers it');
  });

  it('shows no trace line while the server has none', () => {
    show({ trace: null });
    expect(box.querySelector('.trace')).toBeNull();
    expect(box.querySelectorAll('.requirement')).toHaveLength(2);
  });

  it('does not repeat the design title', () => {
    show();
    act(() => tabIn('Design').click());
    const panel = box.querySelector('[role="tabpanel"]')!;
    expect(panel.querySelector('h3')?.textContent).toContain('CSV design');
    expect(panel.querySelector('.markdown h1')).toBeNull();
    expect(panel.textContent?.match(/CSV design/g)).toHaveLength(1);
  });

  it("links the spec ticket to the platform ticket, and a task's live status replaces its file's", () => {
    const spec = doc({
      spec_id: 'TKT-CSV-001',
      kind: 'ticket',
      path: '.omoi_os/tickets/TKT-CSV-001.md',
      title: 'CSV export',
      frontmatter: { priority: 'HIGH', estimate: 'M' },
    });
    const opened: string[] = [];
    act(() =>
      own.render(
        <SpecTabs
          docs={[spec, task('TSK-CSV-001', []), task('TSK-CSV-002', ['TSK-CSV-001'])]}
          validation={null}
          ticketRef="TKT-001"
          runs={
            [
              { id: 'r1', spec_task_id: 'TSK-CSV-001', status: 'completed', result: null },
              { id: 'r2', spec_task_id: 'TSK-CSV-002', status: 'completed', result: { plan_only: true } },
            ] as unknown as Parameters<typeof SpecTabs>[0]['runs']
          }
          onOpenTask={(id) => opened.push(id)}
          tab="Tasks"
        />,
      ),
    );
    const link = box.querySelector<HTMLAnchorElement>('.spec-ticket a')!;
    expect(link.textContent).toBe('TKT-001');
    expect(link.getAttribute('href')).toBe('/tickets/TKT-001');
    const statuses = [...box.querySelectorAll('table.tasks tbody tr td:nth-child(2)')].map(
      (td) => td.textContent,
    );
    expect(statuses).toEqual(['done', 'plan only (no model)']);
    expect(box.querySelector('.graph-node[data-id="TSK-CSV-002"]')?.getAttribute('class')).toContain(
      'status-plan_only',
    );
    act(() => box.querySelectorAll<HTMLButtonElement>('table.tasks button.link')[1]!.click());
    act(() =>
      box
        .querySelector('.graph-node[data-id="TSK-CSV-001"]')!
        .dispatchEvent(new MouseEvent('click', { bubbles: true })),
    );
    expect(opened).toEqual(['TSK-CSV-002', 'TSK-CSV-001']);
  });

  it('wraps long task titles in the graph and keeps the whole title in its tooltip', () => {
    const long = doc({
      spec_id: 'TSK-CSV-009',
      kind: 'task',
      path: '.omoi_os/tasks/TSK-CSV-009.md',
      title: 'Stream the rows of very large reports to the browser without holding them in memory',
      frontmatter: { status: 'in_progress', dependencies: { depends_on: [], blocks: [] } },
    });
    act(() => own.render(<SpecTabs docs={[long]} validation={null} tab="Tasks" />));
    const node = box.querySelector('.graph-node')!;
    const lines = [...node.querySelectorAll('.graph-title tspan')].map((t) => t.textContent);
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.join(' ')).toMatch(/^Stream the rows of very large reports to the browser/);
    expect(node.querySelector('title')?.textContent).toBe(
      'TSK-CSV-009: Stream the rows of very large reports to the browser without holding them in memory (in progress)',
    );
    expect(node.getAttribute('class')).toContain('st-active');
  });
});
