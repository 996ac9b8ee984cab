// A fast path for the frontmatter people actually write: `key: value`, `key: [a, b]`, block lists
// of scalars and one nested mapping level (`dependencies:`), with plain, single- or double-quoted
// scalars. Validating 1,000 task files spends most of its time in the full YAML library, so this
// reads the common shape directly and returns null for anything else (anchors, block scalars,
// escapes, numbers, repeated keys, odd indentation, …), which then goes through the library.
// A test checks that whenever this returns a value, the library returns the same value and lines.
import type { KeyLines } from './types.js';

export interface FastYaml {
  value: Record<string, unknown>;
  keyLines: KeyLines;
}

const KEY = /^([A-Za-z_][A-Za-z0-9_-]*):(?: +(.*))?$/;
// Plain scalars that the YAML 1.2 core schema reads as numbers: left to the library.
const NUMBER =
  /^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;

/** Thrown inside the fast path to give up; never escapes this module. */
class Unsupported extends Error {}
const fail = (): never => {
  throw new Unsupported();
};

/** Cuts a ` # comment` from the end of a plain value (a `#` after a space starts a comment). */
function stripComment(text: string): string {
  if (text.startsWith('#')) return '';
  const at = text.indexOf(' #');
  return (at >= 0 ? text.slice(0, at) : text).trimEnd();
}

function plainScalar(text: string, flow: boolean): unknown {
  if (text === '') return null;
  if ('[]{}&*!|>%@`#,?:-'.includes(text[0]!) && !(text[0] === '-' && text.length > 1 && text[1] !== ' '))
    fail();
  if (text.includes(': ') || text.endsWith(':') || text.includes('\t')) fail();
  if (flow && /[[\]{},]/.test(text)) fail();
  if (NULL.test(text)) return null;
  if (BOOL.test(text)) return text[0] === 't' || text[0] === 'T';
  if (NUMBER.test(text)) fail();
  return text;
}

/** A whole value: quoted, a one-line flow list, or plain. `text` has no leading spaces. */
function scalarOrFlow(raw: string, flow = false): unknown {
  const quote = raw[0];
  if (quote === '"' || quote === "'") {
    const end = raw.indexOf(quote, 1);
    if (end < 0) fail();
    let inner = raw.slice(1, end);
    let rest = raw.slice(end + 1);
    if (quote === "'") {
      // '' is an escaped quote inside single quotes: take the pairs, then find the real end.
      let at = end;
      while (raw[at + 1] === "'") {
        const next = raw.indexOf("'", at + 2);
        if (next < 0) fail();
        at = next;
      }
      inner = raw.slice(1, at).replace(/''/g, "'");
      rest = raw.slice(at + 1);
    } else if (inner.includes('\\')) fail();
    rest = rest.trim();
    if (rest !== '' && !rest.startsWith('#')) fail();
    return inner;
  }
  if (!flow && raw.startsWith('[')) return flowList(raw);
  return plainScalar(stripComment(raw), flow);
}

function flowList(raw: string): unknown[] {
  const close = raw.lastIndexOf(']');
  if (close < 0) fail();
  const after = raw.slice(close + 1).trim();
  if (after !== '' && !after.startsWith('#')) fail();
  const inner = raw.slice(1, close);
  if (/[[\]{}"'#]/.test(inner)) fail();
  if (inner.trim() === '') return [];
  const parts = inner.split(',').map((p) => p.trim());
  // `[a, b, ]` has an optional trailing comma; an empty item anywhere else is an error.
  if (parts[parts.length - 1] === '') parts.pop();
  if (parts.some((p) => p === '')) fail();
  return parts.map((p) => scalarOrFlow(p, true));
}

interface Line {
  indent: number;
  text: string;
  /** 1-based line in the file. */
  line: number;
}

/**
 * Reads `source` (the frontmatter between the `---` lines; its first line is file line
 * `firstLine`) when it has the common shape; null otherwise.
 */
export function parseFrontmatterFast(source: string, firstLine: number): FastYaml | null {
  const lines: Line[] = [];
  const raw = source.split('\n');
  for (let i = 0; i < raw.length; i++) {
    const text = raw[i]!.replace(/\r$/, '');
    const trimmed = text.trimStart();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    if (text.includes('\t') || text.startsWith('%') || text.startsWith('...')) return null;
    lines.push({ indent: text.length - trimmed.length, text: trimmed.trimEnd(), line: firstLine + i });
  }
  try {
    const keyLines: KeyLines = new Map();
    const value = readMap(lines, 0, 0, '', keyLines, true).value;
    return { value, keyLines };
  } catch (error) {
    if (error instanceof Unsupported) return null;
    throw error;
  }
}

function readMap(
  lines: Line[],
  start: number,
  indent: number,
  prefix: string,
  keyLines: KeyLines,
  top: boolean,
): { value: Record<string, unknown>; next: number } {
  const value: Record<string, unknown> = {};
  let i = start;
  while (i < lines.length && lines[i]!.indent >= indent) {
    const line = lines[i]!;
    if (line.indent !== indent) fail();
    const match = KEY.exec(line.text);
    if (!match) fail();
    const key = match![1]!;
    if (Object.hasOwn(value, key) || key === '__proto__') fail();
    const name = prefix ? `${prefix}.${key}` : key;
    keyLines.set(name, line.line);
    const rest = match![2] ?? '';
    i++;
    const nested = i < lines.length && lines[i]!.indent > indent;
    const inline = stripComment(rest);
    if (inline !== '' || rest.startsWith('"') || rest.startsWith("'")) {
      if (nested) fail(); // a multi-line scalar or a mapping after a value
      const parsed = scalarOrFlow(rest);
      if (Array.isArray(parsed)) {
        for (let k = 0; k < parsed.length; k++) keyLines.set(`${name}#${k}`, line.line);
      }
      value[key] = parsed;
      continue;
    }
    if (!nested) {
      value[key] = null;
      continue;
    }
    const child = lines[i]!;
    if (child.text === '-' || child.text.startsWith('- ')) {
      const items: unknown[] = [];
      while (i < lines.length && lines[i]!.indent >= child.indent) {
        const item = lines[i]!;
        if (item.indent !== child.indent || !item.text.startsWith('- ')) fail();
        const text = item.text.slice(2).trimStart();
        if (text.startsWith('[') || text.startsWith('- ') || text === '-') fail();
        keyLines.set(`${name}#${items.length}`, item.line);
        items.push(scalarOrFlow(text, false));
        i++;
      }
      value[key] = items;
    } else {
      // Only one nested mapping level (`dependencies:`), as the format has.
      if (!top) fail();
      const read = readMap(lines, i, child.indent, name, keyLines, false);
      value[key] = read.value;
      i = read.next;
    }
  }
  return { value, next: i };
}
