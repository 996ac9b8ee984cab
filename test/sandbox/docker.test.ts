import { readFileSync } from 'node:fs';
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { createDockerProvider, dockerConnection, FrameDemuxer } from '../../src/sandbox/docker.js';
import { startFakeDockerEngine } from '../support/fakes/docker-engine.js';
import { CONTRACT_WORKER, contractEnv, describeProviderContract } from './contract.js';

// Always against a fake Engine API on a unix socket (dockerode talks to it for real; a container's
// command runs as a local child process), and also against a real Docker daemon when one answers at
// DOCKER_HOST (or the default socket). No daemon could run where this was written.
const IMAGE = 'omoi-worker:contract';
const LIVE_HOST = process.env.DOCKER_HOST || undefined;
const LIVE_IMAGE = process.env.OMOI_TEST_DOCKER_IMAGE || 'node:20-bookworm-slim';
const live = await createDockerProvider({ host: LIVE_HOST, image: LIVE_IMAGE }).availability();

if (live.available) {
  describeProviderContract(`docker (live engine, ${LIVE_IMAGE})`, async () => {
    const docker = new Docker(dockerConnection(LIVE_HOST));
    return {
      // The script goes in as `node -e`, so any image with Node runs it without a bind mount.
      provider: createDockerProvider({
        host: LIVE_HOST,
        image: LIVE_IMAGE,
        stopGraceSeconds: 5,
        command: ['node', '--input-type=module', '-e', readFileSync(CONTRACT_WORKER, 'utf8')],
      }),
      leftovers: async () =>
        (await docker.listContainers({ all: true, filters: { label: ['omoi.managed=true'] } })).map(
          (c) => c.Id,
        ),
      close: async () => undefined,
    };
  });
} else {
  describe('docker (live engine)', () => {
    it.skip(`not run: no Docker daemon reachable (${live.reason})`, () => undefined);
  });
}

describeProviderContract('docker (fake Docker Engine API)', async () => {
  const engine = await startFakeDockerEngine({ images: { [IMAGE]: ['node', CONTRACT_WORKER] } });
  return {
    provider: createDockerProvider({ host: engine.host, image: IMAGE, stopGraceSeconds: 5 }),
    leftovers: async () => [...engine.containers.keys()],
    refuseNextCreate(kind) {
      engine.http.failNext(
        kind === 'auth'
          ? {
              path: /\/containers\/create$/,
              status: 401,
              body: { message: 'unauthorized: authentication required' },
            }
          : {
              path: /\/containers\/create$/,
              status: 500,
              body: { message: 'insufficient memory to create container' },
            },
      );
      return kind === 'auth' ? /Docker.*auth.*authentication required/ : /Docker.*quota.*insufficient memory/;
    },
    close: () => engine.close(),
  };
});

describe('docker provider specifics', () => {
  it('sends limits, labels, network and the image command to the engine', async () => {
    const engine = await startFakeDockerEngine({ images: { [IMAGE]: ['node', CONTRACT_WORKER] } });
    try {
      const provider = createDockerProvider({ host: engine.host, image: IMAGE, network: 'omoi-net' });
      const sandbox = await provider.create({
        taskId: 'tsk_limits',
        env: contractEnv('succeed', 'tsk_limits'),
        resources: { cpus: 1.5, memoryMb: 256 },
      });
      expect((await sandbox.wait()).exitCode).toBe(0);
      const container = engine.containers.get(sandbox.id);
      expect(container?.hostConfig).toEqual({
        NanoCpus: 1_500_000_000,
        Memory: 256 * 1024 * 1024,
        NetworkMode: 'omoi-net',
        ExtraHosts: ['host.docker.internal:host-gateway'],
      });
      expect(container?.labels).toEqual({ 'omoi.managed': 'true', 'omoi.task': 'tsk_limits' });
      expect(container?.cmd).toEqual(['node', CONTRACT_WORKER]);
      await sandbox.destroy();
    } finally {
      await engine.close();
    }
  });

  it('pulls a missing image once, and names the image when the pull is refused', async () => {
    const engine = await startFakeDockerEngine({ registry: { 'team/worker:1': ['node', CONTRACT_WORKER] } });
    try {
      const pulled = createDockerProvider({ host: engine.host, image: 'team/worker:1' });
      const sandbox = await pulled.create({ taskId: 'tsk_pull', env: contractEnv('succeed', 'tsk_pull') });
      const lines: string[] = [];
      for await (const line of sandbox.logs()) lines.push(`${line.stream}:${line.text}`);
      expect(lines[0]).toBe('system:Pulling image team/worker:1');
      expect((await sandbox.wait()).exitCode).toBe(0);
      await sandbox.destroy();

      const missing = createDockerProvider({ host: engine.host, image: 'team/absent:2' });
      await expect(missing.create({ taskId: 'tsk_absent', env: {} })).rejects.toThrow(
        /Docker: creating a container from team\/absent:2 failed \(not_found.*pull access denied/,
      );
      expect(engine.containers.size).toBe(0);
    } finally {
      await engine.close();
    }
  });

  it('says the engine is unavailable, and why, when nothing listens on DOCKER_HOST', async () => {
    const provider = createDockerProvider({ host: 'unix:///nonexistent/docker.sock', image: IMAGE });
    const availability = await provider.availability();
    expect(availability.available).toBe(false);
    expect(availability.reason).toMatch(
      /Docker: reaching the engine at unix:\/\/\/nonexistent\/docker.sock failed \(unreachable/,
    );
  });

  it('stops a worker that outlives its time limit and says so', async () => {
    const engine = await startFakeDockerEngine({ images: { [IMAGE]: ['node', CONTRACT_WORKER] } });
    try {
      const provider = createDockerProvider({ host: engine.host, image: IMAGE, stopGraceSeconds: 5 });
      const sandbox = await provider.create({
        taskId: 'tsk_slow',
        env: contractEnv('hang', 'tsk_slow'),
        resources: { timeoutMs: 300 },
      });
      const exit = await sandbox.wait();
      expect(exit.exitCode).toBe(143);
      expect(exit.error).toMatch(/ran longer than 300 ms/);
      await sandbox.destroy();
    } finally {
      await engine.close();
    }
  });

  it('reads DOCKER_HOST forms and splits frames cut at any byte', () => {
    expect(dockerConnection(undefined)).toEqual({ socketPath: '/var/run/docker.sock' });
    expect(dockerConnection('unix:///tmp/d.sock')).toEqual({ socketPath: '/tmp/d.sock' });
    expect(dockerConnection('tcp://10.0.0.5:2375')).toEqual({
      protocol: 'http',
      host: '10.0.0.5',
      port: 2375,
    });
    const out: string[] = [];
    const demux = new FrameDemuxer((stream, text) => out.push(`${stream}:${text}`));
    const header = (type: number, size: number) => Buffer.from([type, 0, 0, 0, 0, 0, 0, size]);
    const whole = Buffer.concat([header(1, 3), Buffer.from('abc'), header(2, 2), Buffer.from('de')]);
    for (const byte of whole) demux.write(Buffer.from([byte]));
    expect(out).toEqual(['stdout:abc', 'stderr:de']);
  });
});
