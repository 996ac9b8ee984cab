import { spawn } from 'node:child_process';

export interface RunCommandOptions {
  /** Working directory (the workspace). */
  cwd: string;
  /** Killed (whole process group) after this long. */
  timeoutMs: number;
  /** Output beyond this many characters is cut in the middle, keeping the head and the tail. */
  outputCap: number;
  /** The complete environment of the command. */
  env: Record<string, string>;
  signal?: AbortSignal;
}

export interface RunCommandResult {
  exitCode: number | null;
  /** stdout and stderr interleaved as they arrived, capped. */
  output: string;
  timedOut: boolean;
  cancelled: boolean;
}

/**
 * Runs a shell command for the agent. It runs in its own process group so a timeout or a cancel
 * kills everything it started (a dev server, a watcher), not only the shell.
 *
 * @example
 * const r = await runCommand('npm test', { cwd: ws, timeoutMs: 60_000, outputCap: 20_000, env });
 */
export function runCommand(command: string, options: RunCommandOptions): Promise<RunCommandResult> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let dropped = 0;
    const keepTail = Math.floor(options.outputCap / 2);
    const append = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      // Keep the head and a rolling tail: errors tend to be at the end, context at the start.
      if (output.length > options.outputCap) {
        const head = output.slice(0, options.outputCap - keepTail);
        const tail = output.slice(output.length - keepTail);
        dropped += output.length - head.length - tail.length;
        output = head + tail;
      }
    };
    child.stdout.on('data', append);
    child.stderr.on('data', append);

    let timedOut = false;
    let cancelled = false;
    const kill = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutMs);
    const onAbort = () => {
      cancelled = true;
      kill();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();

    const finish = (exitCode: number | null) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      let text = output;
      if (dropped > 0) {
        const head = text.slice(0, options.outputCap - keepTail);
        text = `${head}\n… [${dropped} characters of output cut] …\n${text.slice(head.length)}`;
      }
      resolve({ exitCode, output: text, timedOut, cancelled });
    };
    child.on('error', (error) => {
      append(Buffer.from(`${error.message}\n`));
      finish(null);
    });
    child.on('close', (code) => finish(code));
  });
}
