import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';

export interface OutputChunk {
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

/**
 * A process the fake services run for a "sandbox": a real child process in a temp folder, so the
 * worker (or the contract suite's script) really runs. It keeps every output chunk so late readers
 * can replay from the start, the way the real services keep a command's log.
 */
export class LocalProcess {
  readonly chunks: OutputChunk[] = [];
  exitCode: number | null = null;
  private readonly child: ChildProcess;
  private readonly listeners = new Set<(chunk: OutputChunk | null) => void>();
  readonly exited: Promise<number>;

  constructor(command: string[], options: { env: Record<string, string>; cwd: string }) {
    const [file, ...args] = command;
    // Its own process group, so removing the "sandbox" kills everything started in it, as tearing
    // down a container or a cloud sandbox does (a shell's children included).
    this.child = spawn(file ?? 'false', args, {
      env: options.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const record = (stream: 'stdout' | 'stderr') => (data: Buffer) => {
      const chunk = { stream, data };
      this.chunks.push(chunk);
      for (const listener of this.listeners) listener(chunk);
    };
    this.child.stdout?.on('data', record('stdout'));
    this.child.stderr?.on('data', record('stderr'));
    this.exited = new Promise((resolve) => {
      this.child.on('error', (error) => {
        this.chunks.push({ stream: 'stderr', data: Buffer.from(`${error.message}\n`) });
      });
      this.child.on('close', (code, signal) => {
        // Containers and sandboxes report a signal death as 128 + the signal number.
        this.exitCode = code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
        for (const listener of this.listeners) listener(null);
        resolve(this.exitCode);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  get running(): boolean {
    return this.exitCode === null;
  }

  /** Calls `listener` for every chunk from the first, then live ones; `null` once at the exit. */
  follow(listener: (chunk: OutputChunk | null) => void): () => void {
    for (const chunk of this.chunks) listener(chunk);
    if (!this.running) {
      listener(null);
      return () => undefined;
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Sends `signal` to the process (SIGTERM reaches only it, as `docker stop` reaches only PID 1);
   * SIGKILL takes its whole process group. With a grace period, SIGKILL follows if it is still there.
   */
  kill(signal: NodeJS.Signals = 'SIGKILL', graceMs?: number): void {
    if (!this.running) return;
    if (signal === 'SIGKILL') this.killGroup();
    else this.child.kill(signal);
    if (graceMs !== undefined) {
      const timer = setTimeout(() => this.killGroup(), graceMs);
      void this.exited.then(() => clearTimeout(timer));
    }
  }

  private killGroup(): void {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** The base environment of a fake sandbox: just enough to find `node`, nothing else of ours. */
export function sandboxBaseEnv(home: string): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home };
}
