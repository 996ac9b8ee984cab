// `omoi spec validate|show`: the spec tree of a folder. Only node built-ins at the top: the spec
// module is imported inside the actions, so `omoi --help` and the other commands do not load it,
// and `omoi spec validate` loads the spec code and yaml, nothing else.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { formatIssue } from '../../spec-format/issues.js';
import type { SpecValidation, ValidationIssue } from '../../spec-format/types.js';
import { EXIT_FAILURE, EXIT_OK, printJson, usageError } from '../output.js';

const VALIDATE_USAGE = 'omoi spec validate [DIR] [--json] [--strict]';
const SHOW_USAGE = 'omoi spec show [DIR] [--json]';

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
        printJson({ valid: report.valid, summary: report.summary, issues: report.issues });
      } else {
        const lines = report.issues.map((issue) => formatIssue(issue));
        lines.push(summaryLine(report));
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      process.exitCode = report.valid ? EXIT_OK : EXIT_FAILURE;
    });

  spec
    .command('show')
    .description('Tickets with their tasks, the dependency order and the tasks ready to run')
    .argument('[dir]', 'folder holding .omoi_os/ (default: the current folder)')
    .option('--json', 'print one JSON document on stdout')
    .showHelpAfterError(`usage: ${SHOW_USAGE}`)
    .action(async (dir: string | undefined, opts: { json?: boolean }) => {
      const root = await specRoot(dir, SHOW_USAGE);
      if (root === null) return;
      const report = await validate(root, false);
      const { describeSpecTree, renderSpecTree } = await import('../../spec-format/show.js');
      const tree = describeSpecTree(report);
      if (opts.json) printJson(tree);
      else process.stdout.write(renderSpecTree(tree));
      process.exitCode = report.valid ? EXIT_OK : EXIT_FAILURE;
    });
}
