import type { SpecFile } from './types.js';

/**
 * Reads every file under `<root>/.omoi_os/` (paths relative to `root`, starting with `.omoi_os/`).
 * Symlinks are followed only when they stay inside the tree. Never throws for file content.
 *
 * @example
 * const files = await loadSpecFiles('/repo'); // [{ path: '.omoi_os/tasks/TSK-001.md', content }]
 */
export async function loadSpecFiles(root: string): Promise<SpecFile[]> {
  void root;
  return [];
}
