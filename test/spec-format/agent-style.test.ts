// Issue 14: trees written the way OmoiOS's agents write them validate with only their true defects.
import { describe, expect, it } from 'vitest';
import { buildSpecGraph } from '../../src/spec-format/graph.js';
import { validateSpecFiles } from '../../src/spec-format/validate.js';
import { agentStyleTree, withTrueDefects } from './agent-style.js';
import type { Tree } from './tree.js';

const check = (tree: Tree) =>
  validateSpecFiles(Object.entries(tree).map(([path, content]) => ({ path, content })));
const codes = (tree: Tree) => check(tree).issues.map((i) => `${i.code} ${i.path}`);

describe('agent-style tree: the nine false alarms are gone', () => {
  const report = check(agentStyleTree());

  it('has no error at all, only the warnings that point at a fix', () => {
    expect(report.issues.filter((i) => i.level === 'error')).toEqual([]);
    expect(report.valid).toBe(true);
    expect(new Set(report.issues.map((i) => i.code))).toEqual(new Set(['DEP_TOP_LEVEL', 'DEP_ASYMMETRIC']));
  });

  it('1. <id>-<slug>.md file names are fine; a different id in the name is not', () => {
    expect(codes(agentStyleTree()).filter((c) => c.startsWith('FILENAME'))).toEqual([]);
    const tree = agentStyleTree();
    tree['.omoi_os/tasks/TSK-009-repo-routes.md'] = tree['.omoi_os/tasks/TSK-008-repo-routes.md']!;
    delete tree['.omoi_os/tasks/TSK-008-repo-routes.md'];
    expect(codes(tree)).toContain('FILENAME_MISMATCH .omoi_os/tasks/TSK-009-repo-routes.md');
  });

  it('2. only real templates are skipped, and the report lists them', () => {
    expect(report.skipped).toEqual(['.omoi_os/tasks/TASK_TEMPLATE.md', '.omoi_os/templates/ticket.md']);
    const ids = report.documents.map((d) => d.id);
    expect(ids).toContain('TKT-008');
    expect(ids).toContain('TSK-015');
    expect(codes(agentStyleTree()).filter((c) => c.startsWith('REF_MISSING'))).toEqual([]);
  });

  it('3. #### requirement items are read, with their statements and criteria', () => {
    const req = report.documents.find((d) => d.kind === 'requirements')!;
    expect(req.items!.map((i) => i.id)).toEqual([
      'REQ-CREATE-REPO-FUNC-001',
      'REQ-CREATE-REPO-FUNC-002',
      'REQ-CREATE-REPO-FUNC-003',
    ]);
    expect(req.items!.every((i) => i.criteria.length === 1)).toBe(true);
  });

  it('4. feature words with hyphens and digits are valid ids', () => {
    expect(report.documents.map((d) => d.id)).toEqual(
      expect.arrayContaining(['REQ-CREATE-REPO-001', 'DESIGN-CREATE-REPO-001', 'DESIGN-DEMO-SPEC-001-001']),
    );
    expect(codes(agentStyleTree()).filter((c) => c.startsWith('ID_'))).toEqual([]);
    // Still unambiguous: lower case, a missing number or an empty word are errors.
    for (const bad of ['DESIGN-create-repo-001', 'DESIGN-CREATE-REPO', 'DESIGN-CREATE--REPO-001']) {
      const tree = agentStyleTree();
      tree['.omoi_os/designs/demo-spec-001.md'] = tree['.omoi_os/designs/demo-spec-001.md']!.replace(
        'DESIGN-DEMO-SPEC-001-001',
        bad,
      );
      expect(codes(tree), bad).toContain('ID_FORMAT .omoi_os/designs/demo-spec-001.md');
    }
    // A requirement item may not take the id of a requirements document.
    const clash = agentStyleTree();
    clash['.omoi_os/requirements/create-repo.md'] = clash['.omoi_os/requirements/create-repo.md']!.replace(
      '#### REQ-CREATE-REPO-FUNC-002',
      '#### REQ-CREATE-REPO-001',
    );
    expect(codes(clash)).toContain('ID_DUPLICATE .omoi_os/requirements/create-repo.md');
  });

  it('5. section aliases: Objective/Summary on tickets, Description on tasks, Architecture on designs', () => {
    expect(codes(agentStyleTree()).filter((c) => c.startsWith('SECTION'))).toEqual([]);
    const tree = agentStyleTree();
    tree['.omoi_os/designs/create-repo.md'] = tree['.omoi_os/designs/create-repo.md']!.replace(
      '## Architecture',
      '## Notes',
    );
    expect(codes(tree)).toContain('SECTION_MISSING .omoi_os/designs/create-repo.md');
  });

  it('6. condition/action on requirements and priority on tasks are known fields', () => {
    expect(codes(agentStyleTree()).filter((c) => c.startsWith('FIELD_'))).toEqual([]);
    const tree = agentStyleTree();
    tree['.omoi_os/tasks/TSK-007-repo-service.md'] = tree['.omoi_os/tasks/TSK-007-repo-service.md']!.replace(
      'priority: HIGH',
      'priority: urgent',
    );
    expect(codes(tree)).toContain('ENUM_INVALID .omoi_os/tasks/TSK-007-repo-service.md');
  });

  it('7. hour and day estimates are accepted; nonsense is not', () => {
    expect(codes(agentStyleTree()).filter((c) => c.startsWith('ENUM'))).toEqual([]);
    const tree = agentStyleTree();
    tree['.omoi_os/tickets/TKT-008-template-service.md'] = tree[
      '.omoi_os/tickets/TKT-008-template-service.md'
    ]!.replace('estimate: 1h', 'estimate: soon');
    expect(codes(tree)).toContain('ENUM_INVALID .omoi_os/tickets/TKT-008-template-service.md');
  });

  it('8. top-level depends_on/blocks are dependencies: order and ready follow them', () => {
    const graph = buildSpecGraph(report.documents);
    expect(graph.ready).toEqual(['TSK-007']);
    expect(graph.order).toEqual(['TSK-007', 'TSK-008', 'TSK-015']);
    expect(graph.ticketOrder).toEqual(['TKT-007', 'TKT-008']);
    const top = report.issues.filter((i) => i.code === 'DEP_TOP_LEVEL');
    expect(top.map((i) => i.path)).toEqual([
      '.omoi_os/tasks/TSK-007-repo-service.md',
      '.omoi_os/tasks/TSK-008-repo-routes.md',
      '.omoi_os/tasks/TSK-015-template-service.md',
      '.omoi_os/tickets/TKT-008-template-service.md',
    ]);
    expect(top[0]!.fix).toContain('dependencies:');
    // A reference through a top-level list is checked, at its line.
    const tree = agentStyleTree();
    tree['.omoi_os/tasks/TSK-008-repo-routes.md'] = tree['.omoi_os/tasks/TSK-008-repo-routes.md']!.replace(
      '  - TSK-007\n',
      '  - TSK-007\n  - TSK-404\n',
    );
    const missing = check(tree).issues.find((i) => i.code === 'REF_MISSING')!;
    expect(missing).toMatchObject({ path: '.omoi_os/tasks/TSK-008-repo-routes.md', line: 11 });
  });

  it('9. EARS subject forms: THE SYSTEM, a plural subject, WHEN … THEN … SHALL; none is EARS_MISSING', () => {
    const req = report.documents.find((d) => d.kind === 'requirements')!;
    expect(req.items!.map((i) => i.ears)).toEqual([
      "WHEN a user picks a template THE SYSTEM SHALL create the repository with the template's files.",
      "Repository names SHALL be checked against the host's rules before anything is created.",
      'WHEN the owner creates a repository THEN the repository SHALL be private',
    ]);
    const tree = agentStyleTree();
    tree['.omoi_os/requirements/create-repo.md'] = tree['.omoi_os/requirements/create-repo.md']!.replace(
      'Repository names SHALL be checked',
      'Repository names are checked',
    );
    expect(codes(tree)).toContain('EARS_MISSING .omoi_os/requirements/create-repo.md');
  });
});

describe('agent-style tree: the true defects are still reported', () => {
  const report = check(withTrueDefects());
  const errors = report.issues.filter((i) => i.level === 'error');

  it('two features numbering tasks from the same id: ID_DUPLICATE', () => {
    expect(errors).toContainEqual(
      expect.objectContaining({ code: 'ID_DUPLICATE', path: '.omoi_os/tasks/TSK-007-repo-service.md' }),
    );
  });

  it('a design with a legacy **Feature**: header: FRONTMATTER_MISSING with a fix hint', () => {
    const hit = errors.find((i) => i.code === 'FRONTMATTER_MISSING')!;
    expect(hit).toMatchObject({ path: '.omoi_os/designs/notifications.md', line: 1 });
    expect(hit.message).toContain('**Feature**');
    expect(hit.fix).toContain('omoi spec fix');
  });

  it('references to a requirement and a design that do not exist: REF_MISSING', () => {
    const refs = errors.filter((i) => i.code === 'REF_MISSING').map((i) => i.message);
    expect(refs).toEqual(
      expect.arrayContaining([
        expect.stringContaining('REQ-NOTIFY-FUNC-009'),
        expect.stringContaining('designs/notify.md'),
      ]),
    );
  });

  it('a status outside every enum: ENUM_INVALID', () => {
    expect(errors).toContainEqual(
      expect.objectContaining({ code: 'ENUM_INVALID', path: '.omoi_os/tasks/TSK-007-notify-slack.md' }),
    );
    expect(report.valid).toBe(false);
  });
});
