import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { AppError } from '../base/errors.js';

const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();
const optionalNumber = z.coerce.number().positive().optional();

/**
 * The sandbox settings, parsed once by an entry point (`omoi start`) and handed to the provider
 * factories. Every variable is in the README's environment table.
 */
export const sandboxSettingsSchema = z.object({
  /** Which provider runs workers: a folder and a child process here, or a remote sandbox. */
  OMOI_SANDBOX: z.enum(['local', 'docker', 'daytona', 'e2b']).default('local'),
  /**
   * The API address a remote sandbox uses (becomes OMOIOS_API_URL). Separate from the bind
   * address: a sandbox in the cloud cannot reach 127.0.0.1, it reaches a TLS terminator.
   */
  OMOI_PUBLIC_URL: z.url().optional(),
  /** `open` lets the worker reach anything; `api-only` allows only OMOI_PUBLIC_URL's host (and the git host). */
  OMOI_SANDBOX_NETWORK: z.enum(['open', 'api-only']).default('open'),
  /** Extra hosts allowed when OMOI_SANDBOX_NETWORK=api-only (comma-separated), e.g. github.com. */
  OMOI_SANDBOX_ALLOW_HOSTS: optionalText,
  /** Default limits per sandbox. */
  OMOI_SANDBOX_CPUS: optionalNumber,
  OMOI_SANDBOX_MEMORY_MB: optionalNumber,
  OMOI_SANDBOX_TIMEOUT_MS: optionalNumber,
  /** Processes one local sandbox may run at once (RLIMIT_NPROC in its user namespace). */
  OMOI_SANDBOX_PIDS: z.coerce.number().int().min(16).optional(),
  /** How often an orchestrator looks for sandboxes no running task owns (left by a crashed process). */
  OMOI_ORPHAN_SWEEP_MS: z.coerce.number().int().min(100).default(60_000),
  /** Folder in a Daytona or E2B sandbox the worker is uploaded to and runs in (its user must own it). */
  OMOI_SANDBOX_WORKDIR: optionalText,

  /** Docker Engine: `unix:///var/run/docker.sock` (default) or `tcp://host:2375`. */
  DOCKER_HOST: optionalText,
  /** The worker image (see deploy/Dockerfile). */
  OMOI_DOCKER_IMAGE: z.string().default('omoi-worker:latest'),
  /** Docker network the worker containers join (a user network that reaches the API). */
  OMOI_DOCKER_NETWORK: optionalText,

  DAYTONA_API_KEY: optionalText,
  DAYTONA_API_URL: optionalText,
  DAYTONA_TARGET: optionalText,
  /** A Daytona snapshot with Node 20 and git (and the Claude Agent SDK for AGENT_RUNTIME=claude). */
  OMOI_DAYTONA_SNAPSHOT: optionalText,

  E2B_API_KEY: optionalText,
  /** E2B domain (self-hosted E2B); the SDK derives the API and sandbox hosts from it. */
  E2B_DOMAIN: optionalText,
  E2B_API_URL: optionalText,
  /** An E2B template with Node 20 and git (see deploy/Dockerfile). */
  OMOI_E2B_TEMPLATE: z.string().default('base'),
});

export type SandboxSettings = z.infer<typeof sandboxSettingsSchema>;

/**
 * Parses the sandbox settings out of an environment object (the entry point passes process.env),
 * or re-checks settings an entry point already parsed. A bad value is CONFIG_INVALID, naming it.
 */
export function parseSandboxSettings(env: Readonly<Record<string, unknown>>): SandboxSettings {
  const result = sandboxSettingsSchema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new AppError('CONFIG_INVALID', `Invalid sandbox settings: ${problems.join('; ')}`);
}

/** The package root (holding dist/ and src/skills/) from the path of its bin/omoi.js. */
export function packageRootOf(omoiBin: string): string {
  return resolve(dirname(omoiBin), '..');
}

/** Hosts the worker must reach under `api-only`: the API's own host plus the configured extras. */
export function allowedHosts(settings: SandboxSettings): string[] {
  const hosts = new Set<string>();
  if (settings.OMOI_PUBLIC_URL) hosts.add(new URL(settings.OMOI_PUBLIC_URL).hostname);
  for (const host of (settings.OMOI_SANDBOX_ALLOW_HOSTS ?? '').split(',')) {
    if (host.trim()) hosts.add(host.trim());
  }
  return [...hosts];
}

/** Every provider's default limits per sandbox (a task's own resources override them). */
export function resourceDefaults(settings: SandboxSettings): {
  cpus?: number;
  memoryMb?: number;
  timeoutMs?: number;
} {
  return {
    cpus: settings.OMOI_SANDBOX_CPUS,
    memoryMb: settings.OMOI_SANDBOX_MEMORY_MB,
    timeoutMs: settings.OMOI_SANDBOX_TIMEOUT_MS,
  };
}
