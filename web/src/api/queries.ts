import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';

export const keys = {
  projects: ['projects'] as const,
  tickets: (projectId?: string) => ['tickets', projectId ?? 'all'] as const,
  ticket: (id: string) => ['ticket', id] as const,
  specs: (id: string) => ['ticket', id, 'specs'] as const,
  trace: (id: string) => ['ticket', id, 'trace'] as const,
  diff: (taskId: string) => ['task', taskId, 'diff'] as const,
  health: ['health'] as const,
  /** Every project's open questions: the inbox count, its list and the board's badges share it. */
  openQuestions: ['questions', 'open'] as const,
};

/** The server's health, for the runtime badge before a ticket has run. */
export function useHealth() {
  return useQuery({ queryKey: keys.health, queryFn: api.health, staleTime: 60_000 });
}

export function useProjects() {
  return useQuery({ queryKey: keys.projects, queryFn: api.listProjects });
}

export function useCreateProject() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: api.createProject,
    onSuccess: () => client.invalidateQueries({ queryKey: keys.projects }),
  });
}

export function useTickets(projectId?: string) {
  return useQuery({
    queryKey: keys.tickets(projectId),
    queryFn: () => api.listTickets(projectId ? { project_id: projectId } : {}),
    // the board also follows the event stream; this catches what a dropped stream missed
    refetchInterval: 10_000,
  });
}

export function useTicket(id: string) {
  return useQuery({ queryKey: keys.ticket(id), queryFn: () => api.getTicket(id) });
}

export function useTicketSpecs(id: string) {
  return useQuery({ queryKey: keys.specs(id), queryFn: () => api.ticketSpecs(id) });
}

/** The requirements' trace status; null (nothing shown) while the server has no trace route. */
export function useTicketTrace(id: string) {
  return useQuery({ queryKey: keys.trace(id), queryFn: () => api.ticketTrace(id), retry: false });
}

/** A task's diff, fetched only when someone opens it. */
export function useTaskDiff(taskId: string | null) {
  return useQuery({
    queryKey: keys.diff(taskId ?? ''),
    queryFn: () => api.taskDiff(taskId ?? ''),
    enabled: taskId !== null,
    retry: false,
  });
}

/**
 * The open questions across projects (null while the server has no inbox). Live through the app's
 * event stream (InboxMenu invalidates it); the interval only catches what a dropped stream missed.
 */
export function useOpenQuestions() {
  return useQuery({
    queryKey: keys.openQuestions,
    queryFn: () => api.listQuestions({ status: 'open' }),
    refetchInterval: 30_000,
    retry: false,
  });
}
