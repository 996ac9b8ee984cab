/**
 * What the Command Center reads from the Omoi HTTP API (DESIGN.md, "HTTP API"). Fields the UI does
 * not need are left out; everything the server may omit is optional, so an older or newer server
 * still renders.
 */

export type WorkflowMode = 'quick' | 'spec_driven';

export const TICKET_STATUSES = ['backlog', 'analyzing', 'building', 'testing', 'done', 'blocked'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

export interface Project {
  id: string;
  name: string;
  repo_url: string;
  default_branch?: string;
  settings?: Record<string, unknown>;
  created_at?: string;
}

export interface Task {
  id: string;
  ticket_id?: string | null;
  title?: string;
  status: string;
  task_type?: string | null;
  execution_mode?: string | null;
  execution_config?: { require_spec_skill?: boolean; selected_skill?: string } | null;
  branch?: string | null;
  /** The spec task (TSK-…) an executable task was made from on approval. */
  spec_task_id?: string | null;
  error?: string | null;
  attempts?: number;
  max_attempts?: number;
  created_at?: string;
}

export interface Ticket {
  id: string;
  ref?: string;
  project_id: string;
  title: string;
  description?: string;
  workflow_mode: WorkflowMode;
  status: TicketStatus | string;
  priority?: string;
  approved_at?: string | null;
  created_at?: string;
  updated_at?: string;
  /** Present on GET /tickets/:id. */
  tasks?: Task[];
  /** Present on GET /tickets/:id (some servers name it `specs`). */
  spec_documents?: SpecDocument[];
  specs?: SpecDocument[];
  /** Counts some list responses carry. */
  spec_count?: number;
  spec_documents_count?: number;
}

export interface RequirementItem {
  id: string;
  title: string;
  line?: number;
  ears: string | null;
  criteria: { text: string; done: boolean }[];
}

export interface SpecDocument {
  id?: string;
  spec_id: string;
  kind: 'prd' | 'requirements' | 'design' | 'ticket' | 'task' | string;
  path: string;
  title?: string | null;
  status?: string | null;
  frontmatter?: Record<string, unknown>;
  body?: string;
  items?: RequirementItem[] | null;
  ticket_id?: string | null;
}

export interface ValidationIssue {
  level: 'error' | 'warning';
  code: string;
  path: string;
  line: number | null;
  message: string;
  fix?: string;
}

/** One stored event, as GET /tickets/:id and the SSE stream carry it. */
export interface OmoiEvent {
  id: number | string;
  type: string;
  ts?: string;
  project_id?: string | null;
  ticket_id?: string | null;
  task_id?: string | null;
  data?: Record<string, unknown> | null;
}
