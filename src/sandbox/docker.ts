import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import { resourceDefaults, type SandboxSettings } from './config.js';
import { ExitLatch, LogBuffer, sandboxName } from './log-buffer.js';
import type { Sandbox, SandboxCreateOptions, SandboxExit, SandboxProvider } from './provider.js';
import { serviceFailure } from './service-failure.js';

/** Labels that mark a container as ours, so the reaper never touches anyone else's. */
const MANAGED_LABEL = 'omoi.managed';
const TASK_LABEL = 'omoi.task';

export interface DockerProviderOptions {
  /** Where the Docker Engine API is: `unix:///var/run/docker.sock` (default) or `tcp://host:2375`. */
  host?: string;
  /** The worker image; its default command runs `omoi worker` (see deploy/Dockerfile). */
  image: string;
  /** A Docker network for the containers (one that reaches the API); the engine's default otherwise. */
  network?: string;
  /** Replaces the image's command; tests run a tiny script through the same path. */
  command?: string[];
  /** Seconds between SIGTERM and SIGKILL on cancel. */
  stopGraceSeconds?: number;
  /** Limits used when a create call gives none. */
  defaults?: SandboxCreateOptions['resources'];
}

/**
 * Runs each worker in a container from the worker image, through the Docker Engine API
 * (dockerode). The container gets exactly the env contract, the resource limits and the network
 * setting; its combined output is the log; it is removed at the end.
 *
 * @example
 * const provider = createDockerProvider({ image: 'omoi-worker:latest', network: 'omoi' });
 * const sandbox = await provider.create({ taskId, env });
 * const exit = await sandbox.wait();
 * await sandbox.destroy();
 */
export function createDockerProvider(options: DockerProviderOptions): SandboxProvider {
  const docker = new Docker(dockerConnection(options.host));
  const where = options.host ?? 'unix:///var/run/docker.sock';

  return {
    name: 'docker',

    async availability() {
      try {
        await docker.ping();
        return { available: true };
      } catch (error) {
        return {
          available: false,
          reason: serviceFailure('Docker', `reaching the engine at ${where}`, error).message,
        };
      }
    },

    async create(create) {
      const resources = { ...options.defaults, ...create.resources };
      const spec: Docker.ContainerCreateOptions = {
        name: sandboxName(create.taskId),
        Image: options.image,
        Env: Object.entries(create.env).map(([key, value]) => `${key}=${value}`),
        Labels: { [MANAGED_LABEL]: 'true', [TASK_LABEL]: create.taskId },
        HostConfig: {
          ...(resources.cpus ? { NanoCpus: Math.round(resources.cpus * 1e9) } : {}),
          ...(resources.memoryMb ? { Memory: Math.round(resources.memoryMb * 1024 * 1024) } : {}),
          ...(options.network ? { NetworkMode: options.network } : {}),
          // Lets OMOI_PUBLIC_URL name the Docker host (http://host.docker.internal:7878) on Linux too.
          ExtraHosts: ['host.docker.internal:host-gateway'],
        },
        ...(options.command ? { Cmd: options.command } : {}),
      };
      const logs = new LogBuffer();
      let container: Docker.Container;
      try {
        container = await createPullingIfMissing(docker, spec, logs);
      } catch (error) {
        throw serviceFailure('Docker', `creating a container from ${options.image}`, error);
      }
      try {
        await container.start();
      } catch (error) {
        await container.remove({ force: true }).catch(() => undefined);
        throw serviceFailure('Docker', 'starting the worker container', error);
      }
      return watchContainer(container, logs, {
        grace: options.stopGraceSeconds ?? 10,
        timeoutMs: resources.timeoutMs,
        keepOnFailure: create.keepOnFailure ?? false,
      });
    },

    async list() {
      const containers = await docker
        .listContainers({ all: true, filters: { label: [`${MANAGED_LABEL}=true`] } })
        .catch((error: unknown) => {
          throw serviceFailure('Docker', 'listing worker containers', error);
        });
      return containers.map((info) => info.Id);
    },

    async destroyById(id) {
      await removeContainer(docker.getContainer(id));
    },
  };
}

/** The provider as `OMOI_SANDBOX=docker` configures it. */
export function dockerProviderFromSettings(settings: SandboxSettings): SandboxProvider {
  return createDockerProvider({
    host: settings.DOCKER_HOST,
    image: settings.OMOI_DOCKER_IMAGE,
    network: settings.OMOI_DOCKER_NETWORK,
    defaults: resourceDefaults(settings),
  });
}

/** dockerode connection options from a DOCKER_HOST value, read from our settings rather than the env. */
export function dockerConnection(host: string | undefined): Docker.DockerOptions {
  if (!host) return { socketPath: '/var/run/docker.sock' };
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  const url = new URL(host.replace(/^tcp:/, 'http:'));
  return {
    protocol: url.protocol === 'https:' ? 'https' : 'http',
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'https:' ? 2376 : 2375)),
  };
}

async function createPullingIfMissing(
  docker: Docker,
  spec: Docker.ContainerCreateOptions,
  logs: LogBuffer,
): Promise<Docker.Container> {
  try {
    return await docker.createContainer(spec);
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
  }
  // The image is not on this host yet: pull it once, then create again.
  logs.system(`Pulling image ${spec.Image}`);
  const stream = (await docker.pull(spec.Image ?? '')) as Readable;
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (error: Error | null, output: Array<{ error?: string }>) => {
      const failed = output?.find((entry) => entry.error);
      if (error || failed) reject(error ?? new Error(failed?.error));
      else resolve();
    });
  });
  return docker.createContainer(spec);
}

async function removeContainer(container: Docker.Container): Promise<void> {
  try {
    await container.remove({ force: true, v: true });
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    // 404: already gone; 409: removal already in progress. Both mean there is nothing left to do.
    if (status === 404 || status === 409) return;
    throw serviceFailure('Docker', `removing container ${container.id}`, error);
  }
}

function watchContainer(
  container: Docker.Container,
  logs: LogBuffer,
  settings: { grace: number; timeoutMs?: number; keepOnFailure: boolean },
): Sandbox {
  const exit = new ExitLatch();
  let reason: string | undefined;
  let destroyed = false;

  const logsDone = (async () => {
    try {
      const stream = (await container.logs({ follow: true, stdout: true, stderr: true })) as Readable;
      const demux = new FrameDemuxer((stream, text) => logs.push(stream, text));
      for await (const chunk of stream) demux.write(chunk as Buffer);
    } catch (error) {
      logs.system(serviceFailure('Docker', 'reading the container log', error).message);
    }
  })();

  const stop = async () => {
    try {
      await container.stop({ t: settings.grace });
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status !== 304 && status !== 404) throw serviceFailure('Docker', 'stopping the container', error);
    }
  };

  const timer =
    settings.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          reason = `The worker ran longer than ${settings.timeoutMs} ms and was stopped`;
          void stop().catch(() => undefined);
        }, settings.timeoutMs);

  void (async () => {
    let result: SandboxExit;
    try {
      const status = (await container.wait()) as { StatusCode?: number; Error?: { Message?: string } | null };
      result = { exitCode: status.StatusCode ?? null };
      if (status.Error?.Message) reason ??= `Docker: ${status.Error.Message}`;
    } catch (error) {
      result = { exitCode: null };
      reason ??= serviceFailure('Docker', 'waiting for the container', error).message;
    }
    if (timer) clearTimeout(timer);
    await logsDone;
    logs.end();
    exit.settle(reason ? { ...result, error: reason } : result);
  })();

  return {
    id: container.id,
    provider: 'docker',
    logs: () => logs.lines(),
    wait: () => exit.promise,
    async cancel() {
      if (exit.done) return;
      reason ??= 'cancelled';
      await stop();
    },
    async destroy() {
      if (destroyed) return;
      if (exit.done && settings.keepOnFailure) {
        const result = await exit.promise;
        if (result.exitCode !== 0) {
          destroyed = true;
          logs.system(`Kept container ${container.id} after the failed run (keepOnFailure)`);
          return;
        }
      }
      if (!exit.done) await stop().catch(() => undefined);
      await removeContainer(container);
      destroyed = true;
    },
  };
}

/**
 * Splits Docker's multiplexed log stream (8-byte frame header: stream type, 3 zero bytes, a
 * big-endian length) into stdout and stderr text. Frames arrive cut at any byte.
 */
export class FrameDemuxer {
  private pending: Buffer = Buffer.alloc(0);
  private readonly decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };

  constructor(private readonly emit: (stream: 'stdout' | 'stderr', text: string) => void) {}

  write(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) return;
      const stream = this.pending[0] === 2 ? 'stderr' : 'stdout';
      const text = this.decoders[stream].decode(this.pending.subarray(8, 8 + size), { stream: true });
      this.pending = this.pending.subarray(8 + size);
      if (text) this.emit(stream, text);
    }
  }
}
