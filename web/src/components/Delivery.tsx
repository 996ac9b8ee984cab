import { useState } from 'react';
import { useTaskDiff } from '../api/queries';
import type { DeliveryResult, PullRequest, TaskDiff, Verification } from '../api/types';
import { deliveryOf } from '../status/status-vocabulary';
import { ErrorState, Loading, StatusBadge } from './States';

/** "3 files, +40 −2" of a run's changes. */
export function ChangeCounts({ result }: { result: unknown }) {
  const changes = deliveryOf(result)?.changes;
  if (!changes) return <span className="muted">—</span>;
  return (
    <span className="changes">
      {changes.files} file{changes.files === 1 ? '' : 's'} <span className="ins">+{changes.insertions}</span>{' '}
      <span className="del">−{changes.deletions}</span>
    </span>
  );
}

/** The evidence word of a run: plan only, verified, failing or unverified; nothing before it ends. */
export function evidenceStatus(result: unknown): string | null {
  const delivery = deliveryOf(result);
  if (!delivery) return null;
  if (delivery.plan_only) return 'plan_only';
  const v = delivery.verification;
  if (!v) return null;
  if (v.unverified || v.command === null) return 'unverified';
  return v.passed ? 'verified' : 'failing';
}

export function EvidenceBadge({ result }: { result: unknown }) {
  const status = evidenceStatus(result);
  if (!status) return <span className="muted">—</span>;
  const v = deliveryOf(result)?.verification;
  return <StatusBadge status={status} title={v?.unverified ?? v?.command ?? undefined} />;
}

function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** What the verify command proved: the command, its exit, attempts, test counts and output tail. */
export function VerificationEvidence({ verification }: { verification: Verification }) {
  const v = verification;
  if (v.unverified || v.command === null) {
    return (
      <p className="evidence evidence-line">
        <StatusBadge status="unverified" /> {v.unverified ?? 'No verify command was configured or found.'}
      </p>
    );
  }
  return (
    <div className="evidence">
      <p className="evidence-line">
        <StatusBadge status={v.passed ? 'verified' : 'failing'} /> <code className="wrap">{v.command}</code>{' '}
        <span className="muted small">
          exit {v.exit_code ?? '–'}
          {v.timed_out ? ' (timed out)' : ''} · {duration(v.duration_ms)} · attempt
          {v.attempts === 1 ? '' : 's'} {v.attempts}
          {v.tests
            ? ` · ${v.tests.passed} passed, ${v.tests.failed} failed${v.tests.skipped ? `, ${v.tests.skipped} skipped` : ''}`
            : ''}
        </span>
      </p>
      {v.output_tail ? (
        <details open={!v.passed}>
          <summary>Output (last lines)</summary>
          <pre className="output-tail">{v.output_tail}</pre>
        </details>
      ) : null}
    </div>
  );
}

/** A run's delivery at a glance: branch, commit, changes, evidence, and "plan only" when no model ran. */
export function DeliveryFacts({ result, branch }: { result: unknown; branch: string | null }) {
  const delivery: Partial<DeliveryResult> | null = deliveryOf(result);
  const shownBranch = delivery?.branch ?? branch;
  return (
    <dl className="facts delivery">
      {shownBranch ? (
        <div>
          <dt>Branch</dt>
          <dd>
            <code className="wrap">{shownBranch}</code>
            {delivery?.commit ? (
              <>
                {' '}
                @ <code>{delivery.commit.slice(0, 10)}</code>
              </>
            ) : null}
          </dd>
        </div>
      ) : null}
      {delivery?.changes ? (
        <div>
          <dt>Changes</dt>
          <dd>
            <ChangeCounts result={result} />
          </dd>
        </div>
      ) : null}
      {delivery?.plan_only ? (
        <div>
          <dt>Evidence</dt>
          <dd>
            <StatusBadge status="plan_only" /> The offline runtime wrote the plan only; no code was written,
            so this task is not done.
          </dd>
        </div>
      ) : delivery?.verification ? (
        <div>
          <dt>Evidence</dt>
          <dd>
            <VerificationEvidence verification={delivery.verification} />
          </dd>
        </div>
      ) : null}
      {delivery?.merged?.length ? (
        <div>
          <dt>Merged in</dt>
          <dd>
            {delivery.merged.map((m) => (
              <div key={m.branch}>
                <code className="wrap">{m.branch}</code>
                {m.conflicts.length ? (
                  <span className="muted small"> (resolved: {m.conflicts.join(', ')})</span>
                ) : null}
              </div>
            ))}
          </dd>
        </div>
      ) : null}
    </dl>
  );
}

/** One file's part of a unified patch: from its `diff --git` line to the next one. */
export function patchByFile(patch: string): Map<string, string> {
  const files = new Map<string, string>();
  let current: string | null = null;
  let lines: string[] = [];
  const flush = () => {
    if (current !== null) files.set(current, lines.join('\n'));
  };
  for (const line of patch.split('\n')) {
    const start = /^diff --git a\/(.+?) b\/(.+)$/.exec(line);
    if (start) {
      flush();
      current = start[2]!;
      lines = [];
      continue;
    }
    if (current !== null) lines.push(line);
  }
  flush();
  return files;
}

function lineClass(line: string): string {
  if (line.startsWith('@@')) return 'hunk';
  if (line.startsWith('+++') || line.startsWith('---')) return 'meta';
  if (line.startsWith('+')) return 'add';
  if (line.startsWith('-')) return 'del';
  if (/^(index |new file|deleted file|similarity|rename |old mode|new mode|Binary)/.test(line)) return 'meta';
  return 'ctx';
}

function FilePatch({ source }: { source: string }) {
  // keyed by line number: a patch is shown once, never reordered
  const lines = source.split('\n').map((text, number) => ({ text, number }));
  return (
    <pre className="patch">
      {lines.map(({ text, number }) => (
        <span key={number} className={`patch-line ${lineClass(text)}`}>
          {text || ' '}
          {'\n'}
        </span>
      ))}
    </pre>
  );
}

/** A task's diff, file by file: each file's status and counts, its patch folded open on demand. */
export function DiffFiles({ diff }: { diff: TaskDiff }) {
  const patches = patchByFile(diff.patch);
  if (diff.files.length === 0) return <p className="muted">This branch changed no files.</p>;
  return (
    <div className="diff">
      <p className="muted small">
        <code className="wrap">{diff.base.slice(0, 10)}</code> →{' '}
        <code className="wrap">{diff.head.slice(0, 10)}</code> on <code className="wrap">{diff.branch}</code>
      </p>
      {diff.files.map((file) => (
        <details key={file.path} className="diff-file" open={diff.files.length <= 3}>
          <summary>
            <code className="wrap">{file.path}</code> <span className="muted small">{file.status}</span>{' '}
            <span className="ins">+{file.insertions}</span> <span className="del">−{file.deletions}</span>
          </summary>
          {file.binary ? (
            <p className="muted small">Binary file.</p>
          ) : patches.has(file.path) ? (
            <FilePatch source={patches.get(file.path)!} />
          ) : (
            <p className="muted small">No patch shown for this file.</p>
          )}
        </details>
      ))}
      {diff.truncated ? <p className="muted small">The patch was cut at its size limit.</p> : null}
    </div>
  );
}

/** Fetches a task's diff when asked; says so quietly when the server has none (an older server). */
export function DiffView({ taskId }: { taskId: string }) {
  const [open, setOpen] = useState(false);
  const diff = useTaskDiff(open ? taskId : null);
  if (!open) {
    return (
      <button type="button" onClick={() => setOpen(true)}>
        Show the diff
      </button>
    );
  }
  if (diff.isPending) return <Loading what="the diff" />;
  if (diff.error) return <ErrorState error={diff.error} retry={() => diff.refetch()} />;
  if (!diff.data) return <p className="muted small">No diff to show for this task.</p>;
  return <DiffFiles diff={diff.data} />;
}

/** The ticket's pull request: a link with its state, for the header and the board card. */
export function PullRequestLink({
  pr,
  compact = false,
}: {
  pr: PullRequest | null | undefined;
  compact?: boolean;
}) {
  if (!pr) return null;
  const label = pr.provider === 'gitlab' ? `MR !${pr.number}` : `PR #${pr.number}`;
  return (
    <a className={`badge pr pr-${pr.state}`} href={pr.url} target="_blank" rel="noreferrer noopener">
      {label} {pr.state}
      {compact ? null : <span className="visually-hidden"> (opens the forge)</span>}
    </a>
  );
}
