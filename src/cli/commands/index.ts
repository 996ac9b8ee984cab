import type { Command } from 'commander';

// Every command module registers itself here. Keep imports of command modules light: no
// database, server or agent SDK at module top level (see main.ts).
export function registerCommands(_program: Command): void {}
