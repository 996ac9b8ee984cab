// A small valid spec tree for tests, as path -> content, that each test changes in one place.
import type { SpecFile, SpecValidation, ValidationIssue } from '../../src/spec-format/types.js';

export type Tree = Record<string, string>;

const task = (id: string, deps: string[], blocks: string[], extra = '') => `---
id: ${id}
title: Task ${id}
status: pending
parent_ticket: TKT-001
estimate: S
created: 2026-11-01
updated: 2026-11-02
type: implementation
assignee: null
requirements:
  - REQ-AUTH-LOGIN-001
files:
  - src/auth.ts
dependencies:
  depends_on: [${deps.join(', ')}]
  blocks: [${blocks.join(', ')}]
${extra}---

# Task ${id}

## Objective

Do the ${id} part of login.

## Acceptance Criteria

- [ ] It works
- [x] It is tested
`;

/** A valid tree: a PRD, requirements with two items, a design, two tickets, three tasks. */
export function validTree(): Tree {
  return {
    '.omoi_os/docs/prd-auth.md': `---
id: PRD-AUTH-001
title: Sign-in
feature: auth
status: approved
created: 2026-11-01
updated: 2026-11-01
author: Ann
---

# Sign-in

People need to sign in.
`,
    '.omoi_os/docs/notes.md': '# Free-form notes, not validated\n',
    '.omoi_os/requirements/auth.md': `---
id: REQ-AUTH-001
title: Sign-in requirements
feature: auth
status: review
created: 2026-11-01
updated: 2026-11-02
category: functional
priority: HIGH
prd_ref: docs/prd-auth.md
design_ref: designs/auth.md
---

# Sign-in requirements

### REQ-AUTH-LOGIN-001: Log in with a password

WHEN a user submits a correct email and password THE SYSTEM SHALL start a session.

- [ ] A session cookie is set
- [x] A wrong password gives a clear error

### REQ-AUTH-LOGIN-002: Log out

THE SYSTEM SHALL end the session when the user logs out.

- [ ] The cookie is cleared
`,
    '.omoi_os/designs/auth.md': `---
id: DESIGN-AUTH-001
title: Sign-in design
feature: auth
status: draft
created: 2026-11-01
updated: 2026-11-02
requirements:
  - REQ-AUTH-LOGIN-001
  - REQ-AUTH-LOGIN-002
components: [SessionService]
api_endpoints: [POST /login]
data_models: [sessions]
prd_ref: docs/prd-auth.md
---

# Sign-in design

## Architecture Overview

A session table and a cookie.
`,
    '.omoi_os/tickets/TKT-001.md': `---
id: TKT-001
title: Password login
status: building
priority: HIGH
estimate: M
created: 2026-11-01
updated: 2026-11-02
feature: auth
design_ref: designs/auth.md
requirements:
  - REQ-AUTH-LOGIN-001
tasks:
  - TSK-001
  - TSK-002
  - TSK-003
dependencies:
  blocked_by: []
  blocks:
    - TKT-002
  related: []
description: Log in with email and password.
---

# Password login

## Description

Log in with email and password.

## Acceptance Criteria

- [ ] Users can log in
`,
    '.omoi_os/tickets/TKT-002.md': `---
id: TKT-002
title: Log out
status: backlog
priority: LOW
estimate: S
created: 2026-11-01
updated: 2026-11-01
requirements: [REQ-AUTH-001]
tasks: []
dependencies:
  blocked_by:
    - TKT-001
  blocks: []
  related: [TKT-001]
---

# Log out

## Description

Log out.

- [ ] Users can log out
`,
    '.omoi_os/tasks/TSK-001.md': task('TSK-001', [], ['TSK-002', 'TSK-003']),
    '.omoi_os/tasks/TSK-002.md': task('TSK-002', ['TSK-001'], []),
    '.omoi_os/tasks/TSK-003.md': task('TSK-003', ['TSK-001'], []),
    '.omoi_os/tasks/task-template.md': '# a template, ignored\n',
    '.omoi_os/tasks/diagram.png': '\u0089PNG not markdown',
  };
}

export function toFiles(tree: Tree): SpecFile[] {
  return Object.entries(tree).map(([path, content]) => ({ path, content }));
}

/** Replaces `from` by `to` in one file, failing loudly if `from` is not there (a stale test). */
export function edit(tree: Tree, path: string, from: string | RegExp, to: string): Tree {
  const before = tree[path];
  if (before === undefined) throw new Error(`no file ${path} in the tree`);
  const after = before.replace(from, to);
  if (after === before) throw new Error(`${String(from)} not found in ${path}`);
  return { ...tree, [path]: after };
}

/** 1-based line of the first line of `content` that contains `needle`. */
export function lineOf(content: string, needle: string, from = 1): number {
  const index = content.split('\n').findIndex((line, i) => i + 1 >= from && line.includes(needle));
  if (index < 0) throw new Error(`${needle} not found`);
  return index + 1;
}

export function codes(report: SpecValidation): string[] {
  return report.issues.map((i) => i.code);
}

export function find(report: SpecValidation, code: string): ValidationIssue[] {
  return report.issues.filter((i) => i.code === code);
}

/**
 * A generated valid tree: `tickets` tickets chained by blocked_by, each with `perTicket` tasks
 * (a diamond, then a chain), all mirrors in place.
 */
export function largeTree(tickets: number, perTicket: number): Tree {
  const tree = validTree();
  const pad = (n: number) => String(n).padStart(3, '0');
  for (let t = 1; t <= tickets; t++) {
    const id = `TKT-BIG-${pad(t)}`;
    const tasks = Array.from({ length: perTicket }, (_, k) => `TSK-BIG-${pad((t - 1) * perTicket + k + 1)}`);
    const depsOf = (k: number) =>
      k === 0 ? [] : k <= 2 ? [tasks[0]!] : k === 3 ? [tasks[1]!, tasks[2]!] : [tasks[k - 1]!];
    tree[`.omoi_os/tickets/${id}.md`] = [
      '---',
      `id: ${id}`,
      `title: Big ticket ${t}`,
      'status: backlog',
      'priority: MEDIUM',
      'estimate: L',
      'created: 2026-11-01',
      'updated: 2026-11-01',
      `tasks: [${tasks.join(', ')}]`,
      'dependencies:',
      `  blocked_by: [${t > 1 ? `TKT-BIG-${pad(t - 1)}` : ''}]`,
      `  blocks: [${t < tickets ? `TKT-BIG-${pad(t + 1)}` : ''}]`,
      '---',
      '',
      '## Description',
      '',
      `Part ${t}.`,
      '',
      '- [ ] Done',
      '',
    ].join('\n');
    tasks.forEach((task, k) => {
      const blocks = tasks.filter((_, j) => depsOf(j).includes(task));
      tree[`.omoi_os/tasks/${task}.md`] = [
        '---',
        `id: ${task}`,
        `title: ${task}`,
        k % 3 === 0 ? 'status: done' : 'status: pending',
        `parent_ticket: ${id}`,
        'estimate: S',
        'created: 2026-11-01',
        'requirements: [REQ-AUTH-LOGIN-002]',
        'dependencies:',
        '  depends_on:',
        ...depsOf(k).map((d) => `    - ${d}`),
        `  blocks: [${blocks.join(', ')}]`,
        '---',
        '',
        '## Objective',
        '',
        `Step ${k + 1}.`,
        '',
        '- [ ] Works',
        '',
      ].join('\n');
    });
  }
  return tree;
}

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
export function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
