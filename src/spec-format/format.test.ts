import { describe, expect, it } from 'vitest';
import {
  classifyPath,
  estimateSize,
  fileNameFitsId,
  isTemplateName,
  KINDS,
  REQUIREMENT_ITEM_PATTERN,
} from './format.js';

describe('format rules met by real trees', () => {
  it('estimates: sizes stay, durations map by working time, anything else is null', () => {
    const cases: [unknown, string | null][] = [
      ['M', 'M'],
      ['1h', 'XS'],
      ['2h', 'XS'],
      ['3h', 'S'],
      ['4h', 'S'],
      ['6h', 'M'],
      ['1d', 'M'],
      ['1.5d', 'L'],
      ['2d', 'L'],
      ['3d', 'L'],
      ['5d', 'XL'],
      ['0h', null],
      ['soon', null],
      ['m', null],
      [4, null],
    ];
    for (const [value, size] of cases) expect(estimateSize(value), String(value)).toBe(size);
  });

  it('template names: the word alone or joined to one word; specs about templates are read', () => {
    for (const name of [
      'template.md',
      'templates',
      'TASK_TEMPLATE.md',
      'ticket-template.md',
      'template.task.md',
      '_templates',
    ])
      expect(isTemplateName(name), name).toBe(true);
    for (const name of [
      'TKT-008-template-service.md',
      'TSK-015-template-service.md',
      'templating.md',
      'my-ticket-template-v2.md',
    ])
      expect(isTemplateName(name), name).toBe(false);
    expect(classifyPath('.omoi_os/tickets/TKT-008-template-service.md')).toEqual({
      type: 'spec',
      kind: 'ticket',
    });
    expect(classifyPath('.omoi_os/templates/ticket.md')).toEqual({ type: 'ignored', template: true });
  });

  it('file names: <id>.md or <id>-<slug>.md', () => {
    expect(fileNameFitsId('TSK-007.md', 'TSK-007')).toBe(true);
    expect(fileNameFitsId('TSK-007-slack-formatter.md', 'TSK-007')).toBe(true);
    expect(fileNameFitsId('TSK-007-.md', 'TSK-007')).toBe(false);
    expect(fileNameFitsId('TSK-0071.md', 'TSK-007')).toBe(false);
    expect(fileNameFitsId('TSK-008-slack.md', 'TSK-007')).toBe(false);
  });

  it('ids: feature words with hyphens and digits, always ending in -NNN', () => {
    expect(KINDS.requirements.idPattern.test('REQ-CREATE-REPO-001')).toBe(true);
    expect(KINDS.design.idPattern.test('DESIGN-DEMO-SPEC-001-001')).toBe(true);
    expect(KINDS.task.idPattern.test('TSK-NOTIFY-001')).toBe(true);
    expect(REQUIREMENT_ITEM_PATTERN.test('REQ-CREATE-REPO-FUNC-001')).toBe(true);
    expect(REQUIREMENT_ITEM_PATTERN.test('REQ-AUTH-001')).toBe(false);
    for (const bad of ['REQ-create-001', 'REQ--A-001', 'REQ-A-', 'REQ-1A-001', 'REQ-A-01', 'REQ-A-001-'])
      expect(KINDS.requirements.idPattern.test(bad), bad).toBe(false);
    // Linear on a long near-miss.
    const long = `REQ-${'A1-'.repeat(20_000)}x`;
    const start = performance.now();
    expect(REQUIREMENT_ITEM_PATTERN.test(long)).toBe(false);
    expect(performance.now() - start).toBeLessThan(500);
  });
});
