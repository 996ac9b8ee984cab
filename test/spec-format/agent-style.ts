// Spec trees written the way OmoiOS's agents and markdown generator write them (our own small
// files, reproducing each pattern seen on real trees; see issue 14). `agentStyleTree()` must
// validate with no error; `withTrueDefects()` adds the defects that must still be reported.
import type { Tree } from './tree.js';

const task = (id: string, slug: string, ticket: string, frontDeps: string, extra = ''): [string, string] => [
  `.omoi_os/tasks/${id}-${slug}.md`,
  `---
id: ${id}
title: ${slug.replace(/-/g, ' ')}
status: pending
parent_ticket: ${ticket}
estimate: 4h
priority: HIGH
created: 2026-01-08
${frontDeps}${extra}---

# ${id}: ${slug}

## Description

Build the ${slug.replace(/-/g, ' ')} part.

## Acceptance Criteria

- [ ] Done and tested
`,
];

/** A backend feature (`create-repo`, hyphenated feature words) and a notification feature. */
export function agentStyleTree(): Tree {
  return {
    // The requirements template and the generator put items under `####` headings.
    '.omoi_os/requirements/create-repo.md': `---
id: REQ-CREATE-REPO-001
title: Create repository requirements
feature: create-repo
status: draft
created: 2026-01-08
updated: 2026-01-08
category: functional
priority: HIGH
design_ref: designs/create-repo.md
condition: "WHEN a user asks for a new repository"
action: "THE SYSTEM SHALL create it on the git host"
---

# Create repository requirements

## Functional Requirements

#### REQ-CREATE-REPO-FUNC-001: Create from a template

WHEN a user picks a template THE SYSTEM SHALL create the repository with the template's files.

**Acceptance Criteria:**
- [ ] The files of the template are in the first commit

#### REQ-CREATE-REPO-FUNC-002: Name check

Repository names SHALL be checked against the host's rules before anything is created.

- [ ] An invalid name gives a 400 naming the rule

#### REQ-CREATE-REPO-FUNC-003: Kiro-style criterion

**User Story:** As an owner, I want private repositories by default.

1. WHEN the owner creates a repository THEN the repository SHALL be private

- [ ] The visibility is private unless asked otherwise
`,
    // `## Architecture` (not "Architecture Overview"), a feature word with digits.
    '.omoi_os/designs/create-repo.md': `---
id: DESIGN-CREATE-REPO-001
title: Create repository design
feature: create-repo
status: draft
created: 2026-01-08
updated: 2026-01-08
requirements:
  - REQ-CREATE-REPO-FUNC-001
  - REQ-CREATE-REPO-FUNC-002
---

# Create repository design

## Architecture

A RepositoryService calls the git host and records the result.
`,
    '.omoi_os/designs/demo-spec-001.md': `---
id: DESIGN-DEMO-SPEC-001-001
title: Demo design
feature: demo-spec-001
status: review
created: 2026-01-08
updated: 2026-01-08
requirements: [REQ-CREATE-REPO-001]
---

## Architecture Overview

One page.
`,
    // `## Objective` on a ticket, a top-level `depends_on:`, a day estimate.
    '.omoi_os/tickets/TKT-007-repo-service.md': `---
id: TKT-007
title: Repository service
status: backlog
priority: HIGH
estimate: 2d
created: 2026-01-08
updated: 2026-01-08
feature: create-repo
requirements: [REQ-CREATE-REPO-FUNC-001]
tasks: [TSK-007, TSK-008]
---

# TKT-007: Repository service

## Objective

Create repositories through one service.

## Acceptance Criteria

- [ ] A repository can be created
`,
    // A real ticket about a template service: not a template.
    '.omoi_os/tickets/TKT-008-template-service.md': `---
id: TKT-008
title: Template service
status: backlog
priority: MEDIUM
estimate: 1h
created: 2026-01-08
updated: 2026-01-08
depends_on: [TKT-007]
---

## Summary

Serve repository templates.

- [ ] Templates are listed
`,
    '.omoi_os/tickets/TKT-007-repo-service.md.bak': 'not markdown',
    // A real template folder and a template file: skipped, and said so.
    '.omoi_os/templates/ticket.md': '# {Title}\n',
    '.omoi_os/tasks/TASK_TEMPLATE.md': '---\nid: TSK-XXX\n---\n',
    ...Object.fromEntries([
      task('TSK-007', 'repo-service', 'TKT-007', 'blocks: [TSK-008]\n'),
      task('TSK-008', 'repo-routes', 'TKT-007', 'depends_on:\n  - TSK-007\n'),
      task('TSK-015', 'template-service', 'TKT-008', 'depends_on: [TSK-008]\n'),
    ]),
  };
}

/** The agent-style tree plus the four true defects of the issue. */
export function withTrueDefects(): Tree {
  const tree = agentStyleTree();
  // A second feature numbering its tasks from the same place (TSK-007 again).
  tree['.omoi_os/tasks/TSK-007-notify-slack.md'] = `---
id: TSK-007
title: Slack formatter
status: open
parent_ticket: TKT-007
estimate: 1h
created: 2026-01-08
requirements: [REQ-NOTIFY-FUNC-009]
---

## Objective

Format for Slack.

- [ ] Formatted
`;
  // A design written before frontmatter, with a legacy header.
  tree['.omoi_os/designs/notifications.md'] = `# Notifications design

**Feature**: notifications
**Status**: Draft
**Created**: 2026-01-02

## Architecture

A NotificationService.
`;
  tree['.omoi_os/tickets/TKT-009.md'] = `---
id: TKT-009
title: Notify
status: backlog
priority: LOW
estimate: S
created: 2026-01-08
updated: 2026-01-08
design_ref: designs/notify.md
---

## Description

Notify.

- [ ] Sent
`;
  return tree;
}
