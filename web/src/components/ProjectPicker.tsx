import { useEffect, useId, useState } from 'react';
import { useProjects } from '../api/queries';
import { AddProjectForm } from './AddProjectForm';
import { ErrorState } from './States';

const STORAGE_KEY = 'omoi.project';

function remembered(): string | null {
  try {
    return window.localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

/** The project the Command Center creates tickets in, with "add a repository" inline. */
export function ProjectPicker({
  value,
  onChange,
}: {
  value: string | null;
  onChange: (id: string | null) => void;
}) {
  const id = useId();
  const projects = useProjects();
  const [adding, setAdding] = useState(false);
  const list = projects.data ?? [];

  // keep the choice valid: the remembered one if it still exists, else the first project
  useEffect(() => {
    if (!projects.data) return;
    if (value && projects.data.some((p) => p.id === value)) return;
    const saved = remembered();
    const next = projects.data.find((p) => p.id === saved) ?? projects.data[0] ?? null;
    onChange(next?.id ?? null);
  }, [projects.data, value, onChange]);

  const choose = (next: string) => {
    onChange(next);
    try {
      window.localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // not remembered; the picker still works
    }
  };

  if (projects.isPending) return <p className="muted">Loading projects…</p>;
  if (projects.error) return <ErrorState error={projects.error} retry={() => projects.refetch()} />;

  return (
    <div className="project-picker">
      <div className="picker-row">
        <label htmlFor={`${id}-project`}>Project</label>
        {list.length > 0 ? (
          <select id={`${id}-project`} value={value ?? ''} onChange={(e) => choose(e.target.value)}>
            {list.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        ) : (
          <span className="muted">No project yet: add a repository to start.</span>
        )}
        {!adding && list.length > 0 ? (
          <button type="button" className="link-button" onClick={() => setAdding(true)}>
            + Add a repository
          </button>
        ) : null}
      </div>
      {adding || list.length === 0 ? (
        <AddProjectForm
          onCreated={(project) => {
            choose(project.id);
            setAdding(false);
          }}
          onCancel={list.length > 0 ? () => setAdding(false) : undefined}
        />
      ) : null}
    </div>
  );
}
