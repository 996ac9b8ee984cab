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
