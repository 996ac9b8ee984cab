// A provider for benchmarks only (bench/run-scale.bench.js): each "sandbox" reports success at
// once without starting a process, cloning or touching the network, so a benchmark measures the
// orchestrators and the database alone. It is chosen only with OMOI_SANDBOX=noop together with
// OMOI_SANDBOX_NOOP=benchmark (see the registry), never by a default or a typo of another name.
import { formatOutcomeLine } from '../contracts/worker-outcome.js';
import type { Sandbox, SandboxCreateOptions, SandboxLogLine, SandboxProvider } from './provider.js';

export const NOOP_ACKNOWLEDGEMENT = 'benchmark';

function noopSandbox(options: SandboxCreateOptions): Sandbox {
  const line: SandboxLogLine = {
    stream: 'stdout',
    text: formatOutcomeLine({ ok: true, branch: options.env.WORK_BRANCH ?? 'noop', commit: null }).trimEnd(),
    ts: Date.now(),
  };
  return {
    id: `noop-${options.taskId}`,
    provider: 'noop',
    async *logs() {
      yield line;
    },
    wait: async () => ({ exitCode: 0 }),
    cancel: async () => {},
    destroy: async () => {},
  };
}

export function createNoopProvider(): SandboxProvider {
  return {
    name: 'noop',
    availability: async () => ({ available: true }),
    create: async (options) => noopSandbox(options),
  };
}
