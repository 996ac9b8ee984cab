// The `omoi` command line. Each command lives in src/cli/commands/<name>.ts and exports
// `register(program)`; command modules import their heavy dependencies (database, server, agent
// SDKs) lazily inside their actions, so `omoi spec validate` loads nothing it does not use.
// Exit codes: 0 ok, 1 failure, 2 usage error.
import { Command, CommanderError } from 'commander';
import { VERSION } from '../base/version.js';
import { registerCommands } from './commands/index.js';
import { EXIT_USAGE, reportFailure } from './output.js';

const program = new Command('omoi')
  .description('Spec-driven development with AI coding agents')
  .version(VERSION, '-V, --version')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and --version exit 0; every other commander error is a usage error.
    process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE;
  } else {
    reportFailure(error);
  }
}
