// Reads the Markdown body of a spec file: headings, checkboxes and paragraphs outside code fences,
// each with its 1-based line in the whole file. Line-based on purpose: the rules only need these
// three things, and a line scanner is linear on any input (a 5 MB file, unbalanced markup).
import { REQUIREMENT_ITEM_PATTERN } from './format.js';
import { issue } from './issues.js';
import type { RequirementItem, ValidationIssue } from './types.js';

export interface Heading {
  level: number;
  text: string;
  line: number;
}
export interface Checkbox {
  text: string;
  done: boolean;
  line: number;
}
export interface Paragraph {
  text: string;
  line: number;
}

export interface BodyOutline {
  headings: Heading[];
  checkboxes: Checkbox[];
  paragraphs: Paragraph[];
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]|$)/;
const CHECKBOX = /^\s*(?:[-*+]|\d+[.)])\s+\[([ xX])\]\s*(.*)$/;
const BULLET = /^\s*(?:[-*+>]|\d+[.)])\s+/;

/** Splits a body (lines as in the file) into headings, checkboxes and paragraphs. */
export function outlineBody(lines: string[], firstLine: number): BodyOutline {
  const outline: BodyOutline = { headings: [], checkboxes: [], paragraphs: [] };
  let fence: string | null = null;
  let paragraph: Paragraph | null = null;
  const endParagraph = () => {
    if (paragraph) outline.paragraphs.push(paragraph);
    paragraph = null;
  };
  lines.forEach((raw, index) => {
    const line = firstLine + index;
    const fenceMatch = FENCE.exec(raw);
    if (fence !== null) {
      // A fence closes with the same character, at least as long as the opener.
      if (fenceMatch && fenceMatch[1]![0] === fence[0] && fenceMatch[1]!.length >= fence.length) fence = null;
      return;
    }
    if (fenceMatch) {
      endParagraph();
      fence = fenceMatch[1]!;
      return;
    }
    const heading = HEADING.exec(raw);
    if (heading) {
      endParagraph();
      outline.headings.push({
        level: heading[1]!.length,
        text: headingText(raw.slice(heading[0].length)),
        line,
      });
      return;
    }
    const checkbox = CHECKBOX.exec(raw);
    if (checkbox) {
      endParagraph();
      outline.checkboxes.push({ text: checkbox[2]!.trim(), done: checkbox[1] !== ' ', line });
      return;
    }
    if (raw.trim() === '') {
      endParagraph();
      return;
    }
    // A bullet or quote line starts its own paragraph; a plain line continues the current one.
    const bullet = BULLET.test(raw);
    const text = raw.replace(BULLET, '').trim();
    if (bullet) endParagraph();
    if (paragraph) paragraph.text += ` ${text}`;
    else paragraph = { text, line };
  });
  endParagraph();
  return outline;
}

/**
 * The text of an ATX heading without its optional closing `#` run. Done by hand rather than with
 * one regex, which backtracks quadratically on a long line of `#` and spaces.
 */
function headingText(rest: string): string {
  const text = rest.trim();
  let end = text.length;
  while (end > 0 && text[end - 1] === '#') end -= 1;
  if (end === 0) return '';
  if (end < text.length && (text[end - 1] === ' ' || text[end - 1] === '\t'))
    return text.slice(0, end).trim();
  return text;
}

/** True when the outline has a heading (any level) named `name`, ignoring case and a trailing colon. */
export function hasSection(outline: BodyOutline, name: string): boolean {
  const wanted = name.toLowerCase();
  return outline.headings.some((h) => h.text.replace(/:$/, '').trim().toLowerCase() === wanted);
}

/**
 * A SHALL statement: the word `shall` (any case) with a subject before it. This takes every form
 * real requirements use: `THE SYSTEM SHALL …`, `Tasks SHALL …`, `WHEN … THE <subject> SHALL …`,
 * Kiro's `WHEN … THEN … SHALL …` and `IF … THEN … SHALL …`. A plain regex test, linear on any
 * paragraph.
 */
export function isShallStatement(text: string): boolean {
  const shall = /\bshall\b/i.exec(text);
  return shall !== null && /\w/.test(text.slice(0, shall.index));
}

/** A statement that starts with an EARS keyword, preferred as the item's statement when there are several. */
function startsEars(text: string): boolean {
  return /^(?:when|while|if|where|the)\b/i.test(text);
}

/** Drops emphasis markers so `**WHEN** a user …` reads as `WHEN a user …`. */
function plain(text: string): string {
  return text
    .replace(/\*\*|__|[*_`]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The requirement items of a requirements document: every level-3 or level-4 heading starting with
 * `REQ-`, up to the next heading of the same level or higher (so `#### Acceptance Criteria` under
 * a `###` item stays in it, and `####` items under `### Area` headings work too). Reports
 * ID_FORMAT, EARS_MISSING, CRITERIA_MISSING per item and ITEMS_MISSING for the document.
 */
export function readRequirementItems(
  outline: BodyOutline,
  path: string,
): { items: RequirementItem[]; issues: ValidationIssue[] } {
  const items: RequirementItem[] = [];
  const issues: ValidationIssue[] = [];
  const { headings, paragraphs, checkboxes } = outline;
  // One forward walk over the three line-sorted lists, so a file with 100k items stays linear.
  let p = 0;
  let c = 0;
  const isItem = (h: Heading) => (h.level === 3 || h.level === 4) && /^REQ-/i.test(h.text);
  for (let k = 0; k < headings.length; k++) {
    const heading = headings[k]!;
    if (!isItem(heading)) continue;
    let end = Number.POSITIVE_INFINITY;
    for (let j = k + 1; j < headings.length; j++) {
      if (headings[j]!.level <= heading.level || isItem(headings[j]!)) {
        end = headings[j]!.line;
        break;
      }
    }
    while (p < paragraphs.length && paragraphs[p]!.line < heading.line) p++;
    while (c < checkboxes.length && checkboxes[c]!.line < heading.line) c++;
    let statement: string | undefined;
    let preferred = false;
    const consider = (text: string) => {
      if (preferred) return;
      const clean = plain(text);
      if (!isShallStatement(clean)) return;
      if (startsEars(clean)) {
        statement = clean;
        preferred = true;
      } else statement ??= clean;
    };
    for (; p < paragraphs.length && paragraphs[p]!.line < end; p++) consider(paragraphs[p]!.text);
    const criteria: { text: string; done: boolean }[] = [];
    for (; c < checkboxes.length && checkboxes[c]!.line < end; c++) {
      criteria.push({ text: checkboxes[c]!.text, done: checkboxes[c]!.done });
      consider(checkboxes[c]!.text);
    }
    const id = /^[^\s:]+/.exec(heading.text)![0];
    const title = heading.text.slice(id.length).replace(/^\s*[:\u2013\u2014-]?\s*/, '');
    if (!REQUIREMENT_ITEM_PATTERN.test(id)) {
      issues.push(
        issue(
          'ID_FORMAT',
          path,
          heading.line,
          `requirement item id '${id}' does not match REQ-<FEATURE>-<AREA>-NNN`,
          'write the heading as `### REQ-AUTH-LOGIN-001: Title` (upper-case words and hyphens, 3+ digits)',
        ),
      );
    }
    if (!statement) {
      issues.push(
        issue(
          'EARS_MISSING',
          path,
          heading.line,
          `requirement ${id} has no SHALL statement (such as WHEN … THE <SUBJECT> SHALL …)`,
          'add a line such as `WHEN a user submits the form THE SYSTEM SHALL save it`',
        ),
      );
    }
    if (criteria.length === 0) {
      issues.push(
        issue(
          'CRITERIA_MISSING',
          path,
          heading.line,
          `requirement ${id} has no acceptance criterion`,
          'add at least one `- [ ] …` line under the requirement',
        ),
      );
    }
    items.push({ id, title, line: heading.line, ears: statement ?? null, criteria });
  }
  if (items.length === 0) {
    issues.push(
      issue(
        'ITEMS_MISSING',
        path,
        1,
        'requirements document has no requirement item',
        'add a heading `### REQ-<FEATURE>-<AREA>-001: Title` with an EARS statement and criteria',
      ),
    );
  }
  return { items, issues };
}
