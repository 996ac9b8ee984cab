import type { Command } from 'commander';
import * as forecast from './forecast.js';
import * as key from './key.js';
import * as mcp from './mcp.js';
import * as project from './project.js';
import * as questions from './questions.js';
import * as spec from './spec.js';
import * as start from './start.js';
import * as sync from './sync.js';
import * as ticket from './ticket.js';
import * as worker from './worker.js';

// Every command module registers itself here. Keep imports of command modules light: no
// database, server or agent SDK at module top level (see main.ts).
export function registerCommands(program: Command): void {
  start.register(program);
  project.register(program);
  ticket.register(program);
  // after ticket: `ticket forecast` hangs under `ticket`
  forecast.register(program);
  questions.register(program);
  key.register(program);
  spec.register(program);
  // after spec: `spec sync push` hangs under `spec`
  sync.register(program);
  worker.register(program);
  mcp.register(program);
}
