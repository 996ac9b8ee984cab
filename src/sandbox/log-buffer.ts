import type { SandboxExit, SandboxLogLine } from './provider.js';

type Stream = SandboxLogLine['stream'];

/**
 * Collects a remote sandbox's output as whole lines, in arrival order, and replays them to every
 * reader from the start (the port promises `logs()` from the beginning, and the orchestrator may
 * attach after the first lines arrived). Chunks from services arrive cut anywhere, so each stream
 * keeps its own unfinished line until its newline comes.
 *
 * @example
 * const buffer = new LogBuffer();
 * buffer.push('stdout', 'hel'); buffer.push('stdout', 'lo\n');
 * buffer.end();
 * for await (const line of buffer.lines()) console.log(line.text); // "hello"
 */
export class LogBuffer {
  private readonly entries: SandboxLogLine[] = [];
  private readonly partial: Record<Stream, string> = { stdout: '', stderr: '', system: '' };
  private readonly waiters = new Set<() => void>();
  private ended = false;

  /** Adds a chunk of text from one stream; complete lines become visible to readers at once. */
  push(stream: Stream, chunk: string): void {
    if (this.ended) return;
    const text = this.partial[stream] + chunk;
    const parts = text.split('\n');
    this.partial[stream] = parts.pop() ?? '';
    for (const part of parts) this.append(stream, part.replace(/\r$/, ''));
    this.wake();
  }

  /** A line the provider itself reports (pulling an image, uploading the worker, …). */
  system(text: string): void {
    if (this.ended) return;
    this.append('system', text);
    this.wake();
  }

  /** Flushes unfinished lines and ends every reader's iteration. Later pushes are dropped. */
  end(): void {
    if (this.ended) return;
    for (const stream of ['stdout', 'stderr', 'system'] as const) {
      if (this.partial[stream] !== '') this.append(stream, this.partial[stream]);
      this.partial[stream] = '';
    }
    this.ended = true;
    this.wake();
  }

  /** Every line from the first, then live lines until `end()`. */
  async *lines(): AsyncIterable<SandboxLogLine> {
    let index = 0;
    while (true) {
      while (index < this.entries.length) {
        const entry = this.entries[index];
        index += 1;
        if (entry) yield entry;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => this.waiters.add(resolve));
    }
  }

  private append(stream: Stream, text: string): void {
    this.entries.push({ stream, text, ts: Date.now() });
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }
}

/** A once-settable exit, so `wait()` can be called before or after the worker ends, any number of times. */
export class ExitLatch {
  private settled: SandboxExit | undefined;
  private resolveExit!: (exit: SandboxExit) => void;
  readonly promise: Promise<SandboxExit>;

  constructor() {
    this.promise = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
  }

  get done(): boolean {
    return this.settled !== undefined;
  }

  /** The first call wins; later calls (a cancel racing a natural exit) are ignored. */
  settle(exit: SandboxExit): void {
    if (this.settled) return;
    this.settled = exit;
    this.resolveExit(exit);
  }
}

/** Quotes one argument for a POSIX shell, for services whose process API takes a command string. */
export function shellQuote(arg: string): string {
  if (/^[\w@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A sandbox name a service accepts (lowercase letters, digits, dashes), derived from the task id. */
export function sandboxName(taskId: string): string {
  const slug = taskId
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `omoi-${slug || 'task'}-${Math.random().toString(36).slice(2, 8)}`;
}
