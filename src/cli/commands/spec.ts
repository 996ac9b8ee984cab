// `omoi spec validate|show|trace|next-id|fix|import`: the spec tree of a folder. Only node
// built-ins at the top: the spec module is imported inside the actions, so `omoi --help` and the
// other commands do not load it, and `omoi spec validate` loads the spec code and yaml, nothing else.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { formatIssue } from '../../spec-format/issues.js';
import type { SpecValidation, ValidationIssue } from '../../spec-format/types.js';
import { EXIT_FAILURE, EXIT_OK, printJson, usageError } from '../output.js';

const VALIDATE_USAGE = 'omoi spec validate [DIR] [--json] [--strict]';
const SHOW_USAGE =
  'omoi spec show [all|tickets|tasks|requirements|designs|graph|traceability|ready] [DIR] [--json]';
const TRACE_USAGE = 'omoi spec trace [DIR | <ticket ref|id> [--project P]] [--json]';

/** A ticket ref (TKT-001) or id: `spec trace` asks the server for that ticket's delivery trace. */
const TICKET_KEY = /^(tkt-\d{1,9}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;
const NEXT_ID_USAGE =
  'omoi spec next-id <prd|requirements|requirement|design|ticket|task> [DIR] [--feature F] [--area A] [--json]';
const FIX_USAGE = 'omoi spec fix [DIR] [--dry-run] [--json]';
const IMPORT_USAGE = 'omoi spec import <kiro|openspec|speckit> <SOURCE> [--into DIR] [--json]';

/**
 * The folder holding `.omoi_os/` for a DIR argument, or null after reporting a usage error when
 * DIR cannot be read. DIR may also be the `.omoi_os/` folder itself.
 */
async function specRoot(dir: string | undefined, usage: string): Promise<string | null> {
  const root = resolve(dir ?? '.');
  const info = await stat(root).catch(() => null);
  if (!info?.isDirectory()) {
    usageError(`cannot read ${dir ?? '.'}: ${info ? 'not a folder' : 'no such folder'}`, usage);
    return null;
  }
  try {
    await access(root, constants.R_OK | constants.X_OK);
  } catch {
    usageError(`cannot read ${dir ?? '.'}: permission denied`, usage);
    return null;
  }
  if (basename(root) === '.omoi_os' && !(await stat(join(root, '.omoi_os')).catch(() => null)))
    return dirname(root);
  return root;
}

async function validate(root: string, strict: boolean): Promise<SpecValidation> {
  const { validateSpecDir } = await import('../../spec-format/validate.js');
  return validateSpecDir(root, { strict });
}

function summaryLine(report: SpecValidation): string {
  const { files, errors, warnings } = report.summary;
  return `${files} files, ${errors} errors, ${warnings} warnings`;
}

/** `skipped …` lines for the templates a report did not read. */
function skippedLines(report: SpecValidation): string[] {
  return report.skipped.map((path) => `${path}: skipped (a template)`);
}

/** A missing `.omoi_os/` (with the import command, when another tool's layout is there) on stderr. */
function noteMissingDir(report: SpecValidation): void {
  const missing = report.issues.find((i) => i.code === 'DIR_MISSING');
  if (missing) process.stderr.write(`${formatIssue(missing)}\n`);
}

/** With no `.omoi_os/`: where the specs are (omoi/* branches that have one) or how to start one. */
async function noteWhereSpecsAre(report: SpecValidation, root: string): Promise<void> {
  if (!report.issues.some((i) => i.code === 'DIR_MISSING')) return;
  const { specWhereabouts } = await import('../spec-whereabouts.js');
  process.stderr.write(`${await specWhereabouts(root)}\n`);
}

export function register(program: Command): void {
  const spec = program
    .command('spec')
    .description('Validate and inspect the .omoi_os/ spec tree (docs/spec-format.md)');

  spec
    .command('validate')
    .description('Check .omoi_os/ against the spec format; exit 0 valid, 1 invalid, 2 usage error')
    .argument('[dir]', 'folder holding .omoi_os/ (default: the current folder)')
    .option('--json', 'print one JSON report {valid, summary, issues} on stdout')
    .option('--strict', 'treat warnings as errors')
    .showHelpAfterError(`usage: ${VALIDATE_USAGE}`)
    .action(async (dir: string | undefined, opts: { json?: boolean; strict?: boolean }) => {
      const root = await specRoot(dir, VALIDATE_USAGE);
      if (root === null) return;
      const report = await validate(root, opts.strict === true);
      if (opts.json) {
        printJson({
          valid: report.valid,
          summary: report.summary,
          issues: report.issues,
          skipped: report.skipped,
        });
      } else {
        const lines = [...report.issues.map(formatIssue), ...skippedLines(report)];
        lines.push(summaryLine(report));
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      await noteWhereSpecsAre(report, root);
      process.exitCode = report.valid ? EXIT_OK : EXIT_FAILURE;
    });

  spec
    .command('show')
    .description(
      'Show a view of the tree: all (default), tickets, tasks, requirements, designs, graph, traceability, ready',
    )
    .argument('[what]', 'the view, or DIR when it is not a view name')
    .argument('[dir]', 'folder holding .omoi_os/ (default: the current folder)')
    .option('--json', 'print one JSON document on stdout')
    .showHelpAfterError(`usage: ${SHOW_USAGE}`)
    .action(async (what: string | undefined, dir: string | undefined, opts: { json?: boolean }) => {
      const { SHOW_VIEWS, showView } = await import('../../spec-format/views.js');
      let view: (typeof SHOW_VIEWS)[number] = 'all';
      if (what !== undefined && (SHOW_VIEWS as readonly string[]).includes(what)) view = what as typeof view;
      else if (what !== undefined) {
        if (dir !== undefined)
          return usageError(`unknown view '${what}' (one of ${SHOW_VIEWS.join(', ')})`, SHOW_USAGE);
        dir = what;
      }
      const root = await specRoot(dir, SHOW_USAGE);
      if (root === null) return;
      const report = await validate(root, false);
      const shown = showView(report, view);
      if (opts.json) {
        const json = shown.json as Record<string, unknown>;
        printJson(view === 'all' ? json : { valid: report.valid, summary: report.summary, ...json });
      } else {
        noteMissingDir(report);
        process.stdout.write(shown.text);
      }
      await noteWhereSpecsAre(report, root);
      process.exitCode = report.valid ? EXIT_OK : EXIT_FAILURE;
    });

  spec
    .command('trace')
    .description(
      'Requirement -> design -> ticket -> task, and what is not covered; for a ticket (TKT-001 or its id): ' +
        'per requirement, the tasks, commits and verification of its delivery, from the server',
    )
    .argument('[dir]', 'folder holding .omoi_os/ (default: the current folder), or a ticket ref or id')
    .option('--project <id-or-name>', 'with a ticket ref: the project, when the ref repeats across projects')
    .option('--json', 'print one JSON document on stdout')
    .showHelpAfterError(`usage: ${TRACE_USAGE}`)
    .action(async (dir: string | undefined, opts: { json?: boolean; project?: string }) => {
      if (dir && TICKET_KEY.test(dir) && !(await stat(dir).catch(() => null))) return traceTicket(dir, opts);
      if (opts.project) return usageError('--project goes with a ticket ref or id', TRACE_USAGE);
      const root = await specRoot(dir, TRACE_USAGE);
      if (root === null) return;
      const report = await validate(root, false);
      const { traceSpec, renderTrace } = await import('../../spec-format/views.js');
      const trace = traceSpec(report);
      if (opts.json) printJson({ valid: report.valid, summary: report.summary, ...trace });
      else {
        noteMissingDir(report);
        process.stdout.write(renderTrace(trace));
      }
      process.exitCode = report.valid ? EXIT_OK : EXIT_FAILURE;
    });

  spec
    .command('next-id')
    .description('The next free id of a kind, numbered after every id of the same shape in the tree')
    .argument('<kind>', 'prd, requirements, requirement (an item), design, ticket or task')
    .argument('[dir]', 'folder holding .omoi_os/ (default: the current folder)')
    .option('--feature <name>', 'feature word (required for prd, requirements, requirement, design)')
    .option('--area <name>', 'area word of a requirement item (REQ-<FEATURE>-<AREA>-NNN)')
    .option('--json', 'print {id, kind} as JSON')
    .showHelpAfterError(`usage: ${NEXT_ID_USAGE}`)
    .action(
      async (
        kind: string,
        dir: string | undefined,
        opts: { feature?: string; area?: string; json?: boolean },
      ) => {
        const { ID_KINDS, nextSpecId } = await import('../../spec-format/next-id.js');
        if (!(ID_KINDS as readonly string[]).includes(kind))
          return usageError(`unknown kind '${kind}' (one of ${ID_KINDS.join(', ')})`, NEXT_ID_USAGE);
        const root = await specRoot(dir, NEXT_ID_USAGE);
        if (root === null) return;
        const report = await validate(root, false);
        const next = nextSpecId(report.documents, kind as (typeof ID_KINDS)[number], {
          ...(opts.feature ? { feature: opts.feature } : {}),
          ...(opts.area ? { area: opts.area } : {}),
        });
        if ('error' in next) return usageError(next.error, NEXT_ID_USAGE);
        if (opts.json) printJson({ id: next.id, kind });
        else process.stdout.write(`${next.id}\n`);
        process.exitCode = EXIT_OK;
      },
    );

  spec
    .command('fix')
    .description(
      'Mechanical repairs: legacy headers to frontmatter, top-level dependencies nested, missing blocks mirrors, file names',
    )
    .argument('[dir]', 'folder holding .omoi_os/ (default: the current folder)')
    .option('--dry-run', 'list the fixes, change nothing')
    .option('--json', 'print {fixes, valid, summary, issues} as JSON')
    .showHelpAfterError(`usage: ${FIX_USAGE}`)
    .action(async (dir: string | undefined, opts: { dryRun?: boolean; json?: boolean }) => {
      const root = await specRoot(dir, FIX_USAGE);
      if (root === null) return;
      const { loadSpecFiles } = await import('../../spec-format/load.js');
      const { planSpecFixes } = await import('../../spec-format/fix.js');
      const { rename, writeFile } = await import('node:fs/promises');
      const plan = planSpecFixes(await loadSpecFiles(root));
      if (!opts.dryRun) {
        for (const [path, content] of plan.contents) await writeFile(join(root, path), content);
        for (const [from, to] of plan.renames) await rename(join(root, from), join(root, to));
      }
      const report = await validate(root, false);
      if (opts.json) {
        printJson({
          dryRun: opts.dryRun === true,
          fixes: plan.fixes,
          valid: report.valid,
          summary: report.summary,
          issues: report.issues,
        });
      } else {
        const verb = opts.dryRun ? 'would fix' : 'fixed';
        const lines = plan.fixes.map((f) => `${f.path}: ${verb}: ${f.description}`);
        if (plan.fixes.length === 0) lines.push('nothing to fix');
        if (!opts.dryRun) {
          lines.push(...report.issues.map(formatIssue));
          lines.push(summaryLine(report));
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      process.exitCode = report.valid ? EXIT_OK : EXIT_FAILURE;
    });

  spec
    .command('import')
    .description('Convert a Kiro, OpenSpec or Spec Kit spec tree into .omoi_os/')
    .argument('<format>', 'kiro, openspec or speckit')
    .argument('<source>', "the repository root, the format's own folder, or one feature folder")
    .option('--into <dir>', 'folder that will hold .omoi_os/ (default: the current folder)')
    .option('--json', 'print {format, counts, written, notes, valid, summary, issues} as JSON')
    .showHelpAfterError(`usage: ${IMPORT_USAGE}`)
    .action(async (format: string, source: string, opts: { into?: string; json?: boolean }) => {
      const { IMPORT_FORMATS, SOURCE_SHAPES, convertSource, writeImport } = await import(
        '../../spec-format/import/index.js'
      );
      if (!(IMPORT_FORMATS as readonly string[]).includes(format))
        return usageError(`unknown format '${format}' (one of ${IMPORT_FORMATS.join(', ')})`, IMPORT_USAGE);
      const kind = format as (typeof IMPORT_FORMATS)[number];
      const src = await stat(resolve(source)).catch(() => null);
      if (!src?.isDirectory()) return usageError(`cannot read ${source}: no such folder`, IMPORT_USAGE);
      const result = convertSource(kind, resolve(source));
      if (result === null)
        return usageError(
          `${source} is not a ${format} source: expected ${SOURCE_SHAPES[kind]}`,
          IMPORT_USAGE,
        );
      const into = resolve(opts.into ?? '.');
      const { written, conflicts } = writeImport(into, result);
      if (conflicts.length) {
        if (opts.json)
          printJson({ error: { code: 'CONFLICT', message: 'files exist with other content', conflicts } });
        else
          process.stderr.write(
            `omoi: nothing written: these files exist with other content:\n${conflicts.map((c) => `  ${c}`).join('\n')}\n`,
          );
        process.exitCode = EXIT_FAILURE;
        return;
      }
      const report = await validate(into, false);
      if (opts.json) {
        printJson({
          format,
          source,
          into,
          counts: result.counts,
          written,
          notes: result.notes,
          valid: report.valid,
          summary: report.summary,
          issues: report.issues,
        });
      } else {
        const c = result.counts;
        const lines = [
          `imported ${c.features} ${format} features into ${join(into, '.omoi_os')}/: ${c.requirements} requirements (${c.criteria} criteria), ${c.designs} designs, ${c.tickets} tickets, ${c.tasks} tasks`,
          ...result.notes.map((n) => `note: ${n}`),
          ...report.issues.map(formatIssue),
          summaryLine(report),
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      process.exitCode = report.valid ? EXIT_OK : EXIT_FAILURE;
    });
}

/** `omoi spec trace TKT-001`: the delivery trace of a ticket, from the running server. */
async function traceTicket(key: string, opts: { json?: boolean; project?: string }): Promise<void> {
  const { connect, projectIdOf } = await import('./ticket-view.js');
  const { api } = await connect();
  const query = new URLSearchParams();
  if (opts.project) {
    const { projects } = await api.get<{ projects: { id: string; name: string }[] }>('/projects');
    const id = projectIdOf(projects, opts.project);
    if (!id)
      return usageError(`no project with id or name "${opts.project}" (see omoi project list)`, TRACE_USAGE);
    query.set('project_id', id);
  }
  const { renderTicketTrace } = await import('./delivery-view.js');
  const trace = await api.get<import('../../contracts/delivery.js').TicketTrace>(
    `/tickets/${encodeURIComponent(key)}/trace${query.size ? `?${query}` : ''}`,
  );
  if (opts.json) printJson(trace);
  else process.stdout.write(renderTicketTrace(trace));
  process.exitCode = trace.requirements.some((r) => r.status === 'failing') ? EXIT_FAILURE : EXIT_OK;
}
