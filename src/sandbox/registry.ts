// Sandbox providers by name. Only entry points (`omoi start`) choose one; each provider module is
// imported lazily so that choosing `local` never loads a cloud SDK.
import { AppError } from '../base/errors.js';
import type { SandboxProvider } from './provider.js';

/** What an entry point hands every provider factory. */
export interface ProviderContext {
  /** The server's data folder (local workspaces live under it). */
  dataDir: string;
  /** Absolute path of `bin/omoi.js` (the local provider starts `node <omoiBin> worker`). */
  omoiBin: string;
  /** PATH for the worker. */
  path: string;
  /** Keep workspaces of failed runs. */
  keepOnFailure: boolean;
  /** `off` runs local workers without bwrap (they refuse to run without it otherwise). */
  isolation: 'auto' | 'off';
  /**
   * The server's worker surface for local sandboxes' API relays: `<data>/run/worker.sock` (or an
   * http:// URL). Unset: the env contract's OMOIOS_API_URL.
   */
  workerApi?: string;
  /** Provider-specific settings parsed by the entry point (for example src/sandbox/config.ts). */
  settings: Readonly<Record<string, unknown>>;
  /** Provider-level notes for the server log. */
  log: (message: string) => void;
}

export type ProviderFactory = (context: ProviderContext) => SandboxProvider;

/**
 * Name → lazy factory loader. Adding a provider is one entry here and one file beside the port.
 *
 * @example
 * const provider = (await providers.local!())(context);
 */
export const providers: Record<string, () => Promise<ProviderFactory>> = {
  local: async () => {
    const [{ createLocalProvider }, { parseSandboxSettings }] = await Promise.all([
      import('./local.js'),
      import('./config.js'),
    ]);
    return (context) => {
      const settings = parseSandboxSettings(context.settings);
      return createLocalProvider({
        dataDir: context.dataDir,
        omoiBin: context.omoiBin,
        path: context.path,
        keepOnFailure: context.keepOnFailure,
        isolation: context.isolation,
        log: context.log,
        ...(context.workerApi ? { workerApi: context.workerApi } : {}),
        limits: {
          ...(settings.OMOI_SANDBOX_PIDS ? { pids: settings.OMOI_SANDBOX_PIDS } : {}),
          ...(settings.OMOI_SANDBOX_MEMORY_MB ? { memoryMb: settings.OMOI_SANDBOX_MEMORY_MB } : {}),
          ...(settings.OMOI_SANDBOX_TIMEOUT_MS ? { timeoutMs: settings.OMOI_SANDBOX_TIMEOUT_MS } : {}),
          ...(settings.OMOI_SANDBOX_CPUS ? { cpus: settings.OMOI_SANDBOX_CPUS } : {}),
        },
        allowHosts: (settings.OMOI_SANDBOX_ALLOW_HOSTS ?? '')
          .split(',')
          .map((h) => h.trim())
          .filter(Boolean),
      });
    };
  },
  // Remote providers read their settings (keys, image, template, network) from context.settings,
  // parsed with src/sandbox/config.ts; the package root (two up from bin/omoi.js) holds the bundle.
  docker: async () => {
    const [{ dockerProviderFromSettings }, { parseSandboxSettings }] = await Promise.all([
      import('./docker.js'),
      import('./config.js'),
    ]);
    return (context) => dockerProviderFromSettings(parseSandboxSettings(context.settings));
  },
  daytona: async () => {
    const [{ daytonaProviderFromSettings }, { parseSandboxSettings, packageRootOf }] = await Promise.all([
      import('./daytona.js'),
      import('./config.js'),
    ]);
    return (context) =>
      daytonaProviderFromSettings(parseSandboxSettings(context.settings), packageRootOf(context.omoiBin));
  },
  e2b: async () => {
    const [{ e2bProviderFromSettings }, { parseSandboxSettings, packageRootOf }] = await Promise.all([
      import('./e2b.js'),
      import('./config.js'),
    ]);
    return (context) =>
      e2bProviderFromSettings(parseSandboxSettings(context.settings), packageRootOf(context.omoiBin));
  },
  // Benchmarks only: runs nothing. Refused unless OMOI_SANDBOX_NOOP=benchmark says so on purpose.
  noop: async () => {
    const { createNoopProvider, NOOP_ACKNOWLEDGEMENT } = await import('./noop.js');
    if (process.env.OMOI_SANDBOX_NOOP !== NOOP_ACKNOWLEDGEMENT)
      throw new AppError(
        'CONFIG_INVALID',
        `OMOI_SANDBOX=noop runs no agent; it is for benchmarks and needs OMOI_SANDBOX_NOOP=${NOOP_ACKNOWLEDGEMENT}`,
      );
    return () => createNoopProvider();
  },
};

/** Loads and builds a provider by name; an unknown name is CONFIG_INVALID. */
export async function createProvider(name: string, context: ProviderContext): Promise<SandboxProvider> {
  const load = providers[name];
  if (!load) {
    throw new AppError(
      'CONFIG_INVALID',
      `Unknown sandbox provider "${name}"; known: ${Object.keys(providers).join(', ')}`,
    );
  }
  return (await load())(context);
}
