import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { QUESTION_LIMITS } from '../../contracts/questions.js';
import type { AgentQuestion } from '../runtime.js';
import { runCommand } from './run-command.js';
import { PathRefusedError, resolveInWorkspace, toWorkspaceRelative } from './workspace-path.js';

/** A tool offered to the model, in the OpenAI chat-completions `tools` shape. */
export interface ToolDefinition {
  type: 'function';
  function: { name: string; description: string; parameters: Record<string, unknown> };
}

export interface ToolOutcome {
  ok: boolean;
  /** What goes back to the model (and, trimmed, into the events). */
  output: string;
  /** Set by `finish`: the agent says it is done. */
  finished?: { summary: string };
  /** Set by `ask_user`: the agent asks a person; the call stays unanswered until the answer comes. */
  asked?: AgentQuestion;
}

export interface WorkspaceToolsOptions {
  /** Per-command timeout (the model may ask for less, never for more). Default 120 s. */
  commandTimeoutMs?: number;
  /** Characters of command output returned to the model. Default 20 000. */
  outputCap?: number;
  /** Environment for run_command; credentials are never passed (see `commandEnv`). */
  env?: Record<string, string | undefined>;
  /** Offer `ask_user` (AgentSessionOptions.canAsk). Without it, a call to it is an unknown tool. */
  canAsk?: boolean;
}

const MAX_READ_CHARS = 200_000;
const MAX_LIST_ENTRIES = 1_000;
const SKIPPED_DIRS = new Set(['.git', 'node_modules']);

const schemas = {
  read_file: z.object({
    path: z.string().describe('Path relative to the workspace root'),
  }),
  write_file: z.object({
    path: z.string().describe('Path relative to the workspace root; parent folders are created'),
    content: z.string().describe('The complete new content of the file'),
  }),
  edit_file: z.object({
    path: z.string().describe('Path relative to the workspace root'),
    old_text: z.string().min(1).describe('Exact text to replace; must occur exactly once unless replace_all'),
    new_text: z.string().describe('Replacement text'),
    replace_all: z.boolean().optional().describe('Replace every occurrence'),
  }),
  list_files: z.object({
    path: z.string().optional().describe('Folder relative to the workspace root (default ".")'),
    recursive: z.boolean().optional().describe('List the whole tree below (default false)'),
  }),
  run_command: z.object({
    command: z.string().min(1).describe('Shell command, run with /bin/sh in the workspace root'),
    timeout_seconds: z.number().positive().optional().describe('Give up after this many seconds'),
  }),
  finish: z.object({
    summary: z.string().describe('What you did, in a few sentences'),
  }),
  // The same limits the server applies to a parked question, so a call that passes here is never refused there.
  ask_user: z.object({
    question: z
      .string()
      .trim()
      .min(1)
      .max(QUESTION_LIMITS.question)
      .describe('The question, complete and specific, as the person will read it'),
    options: z
      .array(z.string().trim().min(1).max(QUESTION_LIMITS.option))
      .max(QUESTION_LIMITS.options)
      .optional()
      .describe('Choices to offer, if there are a few clear ones; the person may still answer freely'),
    why: z
      .string()
      .trim()
      .min(1)
      .max(QUESTION_LIMITS.why)
      .describe('What you would otherwise have to guess, and how the answer changes the result'),
  }),
} as const;

export type ToolName = keyof typeof schemas;

/** The tools every session gets; `ask_user` is added only where a person can answer. */
const WORKSPACE_TOOLS = (Object.keys(schemas) as ToolName[]).filter((name) => name !== 'ask_user');

const descriptions: Record<ToolName, string> = {
  read_file: 'Read a UTF-8 text file from the workspace.',
  write_file: 'Create or overwrite a file in the workspace.',
  edit_file: 'Replace exact text in a file of the workspace.',
  list_files: 'List files and folders of the workspace (.git and node_modules are skipped).',
  run_command: 'Run a shell command in the workspace root. Output is capped; long commands are stopped.',
  finish: 'Call when the work is complete, with a short summary. Nothing after it runs.',
  ask_user:
    'Ask the person who requested this work one question, and stop until they answer (the answer comes back ' +
    'as the result of this call). Ask only when the request is ambiguous in a way that changes the result ' +
    'and no sensible default exists. Never ask what the repository, the code, the specs or a command can ' +
    'tell you: look first. One question per call; gather what you need into it.',
};

function definitionOf(name: ToolName): ToolDefinition {
  const { $schema: _ignored, ...parameters } = z.toJSONSchema(schemas[name]) as Record<string, unknown>;
  return { type: 'function', function: { name, description: descriptions[name], parameters } };
}

/** The tool definitions offered to the model, generated from the same schemas that check the arguments. */
export const toolDefinitions: ToolDefinition[] = WORKSPACE_TOOLS.map(definitionOf);
/** `ask_user`, offered besides `toolDefinitions` when the session may ask. */
export const askUserDefinition: ToolDefinition = definitionOf('ask_user');

/**
 * The file and command tools of the `openai` runtime, confined to one workspace. Every failure
 * (bad arguments, a refused path, a missing file, a failing command) is an outcome with
 * `ok: false` and a message the model can act on; nothing here throws at the caller.
 *
 * @example
 * const tools = createWorkspaceTools('/work/ws');
 * await tools.execute('write_file', '{"path":"a.md","content":"# A"}'); // { ok: true, output: 'Wrote a.md (3 characters)' }
 * await tools.execute('read_file', '{"path":"../x"}');                   // { ok: false, output: 'Refused path "../x": …' }
 */
export function createWorkspaceTools(workspace: string, options: WorkspaceToolsOptions = {}) {
  const commandTimeoutMs = options.commandTimeoutMs ?? 120_000;
  const outputCap = options.outputCap ?? 20_000;
  const env = commandEnv(options.env ?? {});
  const offered: readonly string[] = options.canAsk ? [...WORKSPACE_TOOLS, 'ask_user'] : WORKSPACE_TOOLS;

  const handlers: {
    [K in ToolName]: (args: z.infer<(typeof schemas)[K]>, signal?: AbortSignal) => Promise<ToolOutcome>;
  } = {
    async read_file({ path: requested }) {
      const file = await resolveInWorkspace(workspace, requested);
      const content = await readFile(file, 'utf8');
      if (content.length > MAX_READ_CHARS) {
        return {
          ok: true,
          output: `${content.slice(0, MAX_READ_CHARS)}\n… [file cut at ${MAX_READ_CHARS} characters]`,
        };
      }
      return { ok: true, output: content };
    },
    async write_file({ path: requested, content }) {
      const file = await resolveInWorkspace(workspace, requested);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, content, 'utf8');
      return {
        ok: true,
        output: `Wrote ${toWorkspaceRelative(workspace, file)} (${content.length} characters)`,
      };
    },
    async edit_file({ path: requested, old_text, new_text, replace_all }) {
      const file = await resolveInWorkspace(workspace, requested);
      const content = await readFile(file, 'utf8');
      const count = content.split(old_text).length - 1;
      if (count === 0)
        return { ok: false, output: `old_text was not found in ${requested}; read the file first.` };
      if (count > 1 && !replace_all) {
        return {
          ok: false,
          output: `old_text occurs ${count} times in ${requested}; give more context or set replace_all.`,
        };
      }
      const updated = replace_all
        ? content.split(old_text).join(new_text)
        : content.replace(old_text, () => new_text);
      await writeFile(file, updated, 'utf8');
      return { ok: true, output: `Edited ${requested} (${count} replacement${count === 1 ? '' : 's'})` };
    },
    async list_files({ path: requested = '.', recursive = false }) {
      const root =
        requested === '.' ? path.resolve(workspace) : await resolveInWorkspace(workspace, requested);
      if (!(await stat(root)).isDirectory()) return { ok: false, output: `${requested} is not a folder.` };
      const entries = await listTree(root, recursive);
      const lines = entries
        .slice(0, MAX_LIST_ENTRIES)
        .map((entry) =>
          entry.endsWith('/')
            ? `${toWorkspaceRelative(workspace, entry.slice(0, -1))}/`
            : toWorkspaceRelative(workspace, entry),
        );
      if (entries.length > MAX_LIST_ENTRIES) lines.push(`… ${entries.length - MAX_LIST_ENTRIES} more`);
      return { ok: true, output: lines.length === 0 ? '(empty)' : lines.join('\n') };
    },
    async run_command({ command, timeout_seconds }, signal) {
      const timeoutMs = Math.min(commandTimeoutMs, (timeout_seconds ?? Number.POSITIVE_INFINITY) * 1000);
      const result = await runCommand(command, { cwd: workspace, timeoutMs, outputCap, env, signal });
      const status = result.cancelled
        ? 'cancelled'
        : result.timedOut
          ? `timed out after ${Math.round(timeoutMs / 1000)} s and was stopped`
          : `exit code ${result.exitCode}`;
      return {
        ok: !result.timedOut && !result.cancelled && result.exitCode === 0,
        output: `[${status}]\n${result.output}`,
      };
    },
    async finish({ summary }) {
      return { ok: true, output: 'Finished.', finished: { summary } };
    },
    // Nothing runs: the session parks on the question and answers this call with the person's reply.
    async ask_user({ question, options, why }) {
      return {
        ok: true,
        output: 'Asked; waiting for the answer.',
        asked: { question, ...(options && options.length > 0 ? { options } : {}), why },
      };
    },
  };

  return {
    definitions: options.canAsk ? [...toolDefinitions, askUserDefinition] : toolDefinitions,
    /** Runs one tool call; `rawArguments` is the JSON string the model produced. */
    async execute(name: string, rawArguments: string, signal?: AbortSignal): Promise<ToolOutcome> {
      if (!offered.includes(name)) {
        return { ok: false, output: `Unknown tool "${name}". Available: ${offered.join(', ')}.` };
      }
      const toolName = name as ToolName;
      let parsedJson: unknown;
      try {
        parsedJson = rawArguments.trim() === '' ? {} : JSON.parse(rawArguments);
      } catch (error) {
        return {
          ok: false,
          output: `The arguments for ${name} are not valid JSON (${(error as Error).message}). Send a JSON object.`,
        };
      }
      const parsed = schemas[toolName].safeParse(parsedJson);
      if (!parsed.success) {
        const details = parsed.error.issues.map((i) => `${i.path.join('.') || '(arguments)'}: ${i.message}`);
        return { ok: false, output: `Invalid arguments for ${name}: ${details.join('; ')}` };
      }
      try {
        const handler = handlers[toolName] as (args: unknown, signal?: AbortSignal) => Promise<ToolOutcome>;
        return await handler(parsed.data, signal);
      } catch (error) {
        if (error instanceof PathRefusedError) return { ok: false, output: error.message };
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return { ok: false, output: `${name}: no such file or folder.` };
        if (code === 'EISDIR') return { ok: false, output: `${name}: that is a folder, not a file.` };
        return { ok: false, output: `${name} failed: ${(error as Error).message}` };
      }
    },
  };
}

export type WorkspaceTools = ReturnType<typeof createWorkspaceTools>;

/**
 * The environment a model-issued command gets: the worker's own, minus anything that looks like a
 * credential (the worker's API token, model keys), so a prompt-injected command cannot leak them.
 */
export function commandEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (/KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i.test(key)) continue;
    out[key] = value;
  }
  return out;
}

async function listTree(root: string, recursive: boolean): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (out.length > MAX_LIST_ENTRIES) return;
      if (entry.isDirectory() && SKIPPED_DIRS.has(entry.name)) continue;
      const full = path.join(dir, entry.name);
      out.push(entry.isDirectory() ? `${full}/` : full);
      // Symlinked folders are listed but not entered: they may lead out of the workspace.
      if (recursive && entry.isDirectory()) await walk(full);
    }
  };
  await walk(root);
  return out;
}
