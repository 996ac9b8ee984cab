// Who may use the brokers: a worker token of a task that is still running. Git sends it as HTTP
// Basic (the token as the password, or as the user name with an empty password) or Bearer; the
// OpenAI client as Bearer; the Claude Code CLI as x-api-key. API keys are refused here: the
// brokers act for one task, never for a person.

import { AppError } from '../base/errors.js';
import { defaultBranch, specBranch } from '../contracts/branches.js';
import type { KeysService } from '../core/keys.js';
import type { Queryable } from '../db/client.js';

export interface TaskGrant {
  taskId: string;
  projectId: string;
  ticketId: string | null;
  /** The token as presented (for scrubbing it from anything the broker lets out). */
  token: string;
  /** Full ref names (`refs/heads/…`) this task may push. */
  pushRefs: Set<string>;
}

/** The statuses in which a task's sandbox is running. */
const LIVE = new Set(['claimed', 'running']);

/** The token a broker request carries, or null. */
export function brokerToken(headers: Headers): string | null {
  const apiKey = headers.get('x-api-key');
  if (apiKey) return apiKey.trim();
  const auth = headers.get('authorization')?.trim();
  if (!auth) return null;
  const bearer = /^Bearer\s+(\S+)$/i.exec(auth);
  if (bearer) return bearer[1]!;
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(auth);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon < 0 ? decoded : decoded.slice(0, colon);
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    return password || user || null;
  }
  return null;
}

/**
 * The grant of a broker request: the task behind its token, if that task is running. Throws
 * UNAUTHORIZED without a valid worker token and FORBIDDEN for a task that is over.
 */
export async function taskGrant(
  headers: Headers,
  deps: { keys: Pick<KeysService, 'verify'>; db: Queryable },
): Promise<TaskGrant> {
  const token = brokerToken(headers);
  if (!token)
    throw new AppError('UNAUTHORIZED', 'send the task token (Authorization: Bearer, Basic or x-api-key)');
  const principal = await deps.keys.verify(token);
  if (!principal) throw new AppError('UNAUTHORIZED', 'the task token is unknown, revoked or expired');
  if (principal.kind !== 'worker')
    throw new AppError('FORBIDDEN', 'only a task token reaches the git and model brokers');
  const rows = await deps.db.query<{
    status: string;
    branch: string | null;
    execution_mode: string;
    ref: string | null;
  }>(
    `SELECT t.status, t.branch, t.execution_mode, k.ref
       FROM tasks t LEFT JOIN tickets k ON k.id = t.ticket_id WHERE t.id = $1`,
    [principal.taskId],
  );
  const task = rows[0];
  if (!task) throw new AppError('UNAUTHORIZED', 'the task of this token no longer exists');
  if (!LIVE.has(task.status))
    throw new AppError('FORBIDDEN', `the task is ${task.status}: its token no longer reaches the brokers`);
  const pushRefs = new Set([
    `refs/heads/${
      task.branch ??
      defaultBranch({
        id: principal.taskId,
        ticketRef: task.ref,
        executionMode: task.execution_mode === 'exploration' ? 'exploration' : 'implementation',
      })
    }`,
  ]);
  // A spec run works on its ticket's spec branch.
  if (task.execution_mode === 'exploration' && task.ref) pushRefs.add(`refs/heads/${specBranch(task.ref)}`);
  return {
    taskId: principal.taskId,
    projectId: principal.projectId,
    ticketId: principal.ticketId,
    token,
    pushRefs,
  };
}
