import type { Command } from 'commander';
import * as spec from './spec.js';
import * as worker from './worker.js';

// Every command module registers itself here. Keep imports of command modules light: no
// database, server or agent SDK at module top level (see main.ts).
export function registerCommands(program: Command): void {
  spec.register(program);
  worker.register(program);
}
