// `omoi spec import` converters: every source requirement becomes an item with its criteria, and
// the written tree passes the validator.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { convertSource, detectForeignLayout, writeImport } from '../../src/spec-format/import/index.js';
import { validateSpecDir } from '../../src/spec-format/validate.js';
import { KIRO, OPENSPEC, SPECKIT } from './import-fixtures.js';
import type { Tree } from './tree.js';

const scratch = mkdtempSync(join(tmpdir(), 'omoi-import-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;
function writeTree(tree: Tree): string {
  const dir = join(scratch, `src-${++counter}`);
  for (const [path, content] of Object.entries(tree)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

async function importInto(format: 'kiro' | 'openspec' | 'speckit', source: string) {
  const result = convertSource(format, source, { today: '2026-12-01' })!;
  expect(result).not.toBeNull();
  const into = join(scratch, `out-${++counter}`);
  const { conflicts } = writeImport(into, result);
  expect(conflicts).toEqual([]);
  const report = await validateSpecDir(into);
  return { result, into, report };
}

const items = (report: Awaited<ReturnType<typeof validateSpecDir>>) =>
  report.documents.flatMap((d) => d.items ?? []);

describe('import kiro', () => {
  it('keeps every requirement with its criteria and task -> requirement references; the tree is valid', async () => {
    const repo = writeTree(KIRO);
    const { result, report, into } = await importInto('kiro', repo);
    expect(report.issues.filter((i) => i.level === 'error')).toEqual([]);
    expect(result.counts).toEqual({
      features: 2,
      requirements: 4,
      criteria: 6,
      designs: 1,
      tickets: 1,
      tasks: 5,
    });
    const all = items(report);
    expect(all.map((i) => i.id)).toEqual([
      'REQ-AUDIT-LOG-FUNC-001',
      'REQ-USER-AUTH-FUNC-001',
      'REQ-USER-AUTH-FUNC-002',
      'REQ-USER-AUTH-FUNC-003',
    ]);
    const first = all.find((i) => i.id === 'REQ-USER-AUTH-FUNC-001')!;
    expect(first.criteria.map((c) => c.text)).toEqual([
      '1.1 WHEN a visitor submits a correct email and password THEN the system SHALL start a session',
      '1.2 WHEN the password is wrong THEN the system SHALL say so without naming which field was wrong',
      '1.3 IF five attempts fail within a minute THEN the system SHALL lock the account for ten minutes',
    ]);
    expect(all.find((i) => i.id === 'REQ-USER-AUTH-FUNC-003')!.title).toBe('Password rules');
    const task = (n: number) => report.documents.find((d) => d.id === `TSK-USER-AUTH-00${n}`)!;
    expect(task(1).frontmatter.status).toBe('done');
    expect(task(3).refs.requirements).toEqual(['REQ-USER-AUTH-FUNC-001']);
    expect(task(5).refs.requirements).toEqual(['REQ-USER-AUTH-FUNC-002']);
    // 2. depends on its sub-tasks 2.1 and 2.2.
    expect(task(2).refs.dependsOn).toEqual(['TSK-USER-AUTH-003', 'TSK-USER-AUTH-004']);
    expect(result.notes.join('\n')).toContain('9.1');
    expect(readFileSync(join(into, '.omoi_os/designs/user-auth.md'), 'utf8')).toContain('SessionService');
    // The same source from .kiro/specs and from one feature folder.
    expect(convertSource('kiro', join(repo, '.kiro', 'specs'))!.counts.requirements).toBe(4);
    expect(convertSource('kiro', join(repo, '.kiro', 'specs', 'audit-log'))!.counts.requirements).toBe(1);
  });
});

describe('import openspec', () => {
  it('capabilities become requirements documents, scenarios criteria, changes tickets', async () => {
    const repo = writeTree(OPENSPEC);
    const { result, report } = await importInto('openspec', repo);
    expect(report.issues.filter((i) => i.level === 'error')).toEqual([]);
    expect(result.counts).toEqual({
      features: 3,
      requirements: 4,
      criteria: 5,
      designs: 0,
      tickets: 1,
      tasks: 2,
    });
    const all = items(report);
    expect(all.map((i) => `${i.id} ${i.title} ${i.criteria.length}`)).toEqual([
      'REQ-ADD-2FA-FUNC-001 Second factor 1',
      'REQ-AUTH-FUNC-001 Password sign-in 2',
      'REQ-AUTH-FUNC-002 Session expiry 1',
      'REQ-BILLING-INVOICES-FUNC-001 Monthly invoice 1',
    ]);
    expect(all.find((i) => i.id === 'REQ-AUTH-FUNC-002')!.ears).toBe(
      'Sessions SHALL expire after 30 days of inactivity.',
    );
    expect(all[1]!.criteria[0]!.text).toBe(
      'Scenario: Correct password: WHEN a user submits a correct password; THEN a session cookie is set',
    );
    const ticket = report.documents.find((d) => d.kind === 'ticket')!;
    expect(ticket).toMatchObject({ id: 'TKT-ADD-2FA-001', title: 'Add two-factor sign-in' });
    expect(ticket.refs.tasks).toEqual(['TSK-ADD-2FA-001', 'TSK-ADD-2FA-002']);
    expect(ticket.body).toContain('Remember me');
    // The archive is not imported.
    expect(report.documents.some((d) => d.path.includes('old'))).toBe(false);
    expect(convertSource('openspec', join(repo, 'openspec', 'specs', 'auth'))!.counts.requirements).toBe(2);
  });
});

describe('import speckit', () => {
  it('FR lines become items (MUST read as SHALL), plan the design, phases tickets', async () => {
    const repo = writeTree(SPECKIT);
    const { result, report } = await importInto('speckit', repo);
    expect(report.issues.filter((i) => i.level === 'error')).toEqual([]);
    expect(result.counts).toEqual({
      features: 1,
      requirements: 3,
      criteria: 3,
      designs: 1,
      tickets: 2,
      tasks: 4,
    });
    const all = items(report);
    expect(all.map((i) => i.id)).toEqual([
      'REQ-PHOTO-ALBUMS-FR-001',
      'REQ-PHOTO-ALBUMS-FR-002',
      'REQ-PHOTO-ALBUMS-FR-003',
    ]);
    expect(all[0]!.ears).toBe('System SHALL let users create albums from uploaded photos.');
    expect(all[2]!.criteria[0]!.text).toContain('[NEEDS CLARIFICATION: length limit?]');
    const doc = (id: string) => report.documents.find((d) => d.id === id)!;
    expect(doc('TKT-PHOTO-ALBUMS-002').refs.blockedBy).toEqual(['TKT-PHOTO-ALBUMS-001']);
    expect(doc('TSK-PHOTO-ALBUMS-003').refs.requirements).toEqual(['REQ-PHOTO-ALBUMS-FR-001']);
    expect(doc('TSK-PHOTO-ALBUMS-001').frontmatter.status).toBe('done');
  });
});

describe('sources that are none of these', () => {
  it('convertSource returns null; an import never overwrites a different file', () => {
    const empty = writeTree({ 'README.md': '# nothing\n' });
    for (const format of ['kiro', 'openspec', 'speckit'] as const)
      expect(convertSource(format, empty)).toBeNull();
    expect(convertSource('kiro', join(scratch, 'missing'))).toBeNull();
    const repo = writeTree(KIRO);
    const result = convertSource('kiro', repo)!;
    const into = writeTree({ '.omoi_os/requirements/user-auth.md': 'mine\n' });
    expect(writeImport(into, result)).toEqual({
      written: [],
      conflicts: ['.omoi_os/requirements/user-auth.md'],
    });
  });

  it('validate on a folder with a foreign layout and no .omoi_os/ names the import command', async () => {
    for (const [tree, format] of [
      [KIRO, 'kiro'],
      [OPENSPEC, 'openspec'],
      [SPECKIT, 'speckit'],
    ] as const) {
      const repo = writeTree(tree);
      expect(detectForeignLayout(repo)?.format).toBe(format);
      const report = await validateSpecDir(repo);
      expect(report.issues[0]).toMatchObject({ code: 'DIR_MISSING' });
      expect(report.issues[0]!.fix).toContain(`omoi spec import ${format} ${repo}`);
    }
    expect(detectForeignLayout(writeTree({ 'a.md': 'x' }))).toBeNull();
  });
});
