import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '../api/client';
import { useProjects, useTickets } from '../api/queries';
import { ProjectPicker } from '../components/ProjectPicker';
import { errorMessage, ModeBadge, StatusBadge } from '../components/States';
import { WorkflowModeSelector } from '../components/WorkflowModeSelector';
import { Link, navigate } from '../lib/router';

/** The first line of the prompt, shortened: the ticket's title. */
export function titleFromPrompt(prompt: string): string {
  const line = prompt.trim().split('\n')[0]!.trim();
  return line.length > 80 ? `${line.slice(0, 79).trimEnd()}…` : line;
}

function RecentTickets({ projectId }: { projectId: string }) {
  const tickets = useTickets(projectId);
  const recent = (tickets.data ?? []).slice(0, 5);
  if (recent.length === 0) return null;
  return (
    <section className="card" aria-label="Recent tickets">
      <h2>Recent tickets</h2>
      <ul className="recent">
        {recent.map((t) => (
          <li key={t.id}>
            <Link to={`/tickets/${t.id}`}>
              {t.ref ? <code>{t.ref}</code> : null} {t.title}
            </Link>{' '}
            <ModeBadge mode={t.workflow_mode} /> <StatusBadge status={t.status} />
          </li>
        ))}
      </ul>
    </section>
  );
}

export function CommandPage() {
  const [projectId, setProjectId] = useState<string | null>(null);
  const projects = useProjects();
  // Until the project list arrives the picker has not chosen one yet: say so, not "choose one".
  const blockedReason = projectId
    ? null
    : projects.isPending
      ? 'Loading projects…'
      : 'Choose or add a project first.';
  const create = useMutation({
    mutationFn: api.createTicket,
    onSuccess: ({ ticket }) => navigate(`/tickets/${ticket.id}`),
  });
  return (
    <div className="page command">
      <h1>Command Center</h1>
      <section className="card">
        <ProjectPicker value={projectId} onChange={setProjectId} />
      </section>
      <section className="card">
        <WorkflowModeSelector
          busy={create.isPending}
          blockedReason={blockedReason}
          error={create.error ? errorMessage(create.error) : null}
          onSubmit={({ mode, prompt }) => {
            if (!projectId) return;
            create.mutate({
              project_id: projectId,
              title: titleFromPrompt(prompt),
              description: prompt,
              workflow_mode: mode,
            });
          }}
        />
      </section>
      {projectId ? <RecentTickets projectId={projectId} /> : null}
    </div>
  );
}
