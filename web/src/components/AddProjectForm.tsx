import { type FormEvent, useId, useState } from 'react';
import { useCreateProject } from '../api/queries';
import type { Project } from '../api/types';
import { errorMessage } from './States';

/** "owner/repo.git" → "repo": a name people recognise when they leave the field empty. */
export function nameFromRepo(repo: string): string {
  const last =
    repo
      .trim()
      .replace(/[\\/]+$/, '')
      .split(/[\\/:]/)
      .pop() ?? '';
  return last.replace(/\.git$/, '') || repo.trim();
}

/** Registers a repository (a local path or a git URL) as a project. */
export function AddProjectForm({
  onCreated,
  onCancel,
}: {
  onCreated?: (project: Project) => void;
  onCancel?: () => void;
}) {
  const id = useId();
  const [repo, setRepo] = useState('');
  const [name, setName] = useState('');
  const [branch, setBranch] = useState('');
  const create = useCreateProject();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (repo.trim() === '' || create.isPending) return;
    create.mutate(
      {
        name: name.trim() || nameFromRepo(repo),
        repo_url: repo.trim(),
        ...(branch.trim() ? { default_branch: branch.trim() } : {}),
      },
      {
        onSuccess: (project) => {
          setRepo('');
          setName('');
          setBranch('');
          onCreated?.(project);
        },
      },
    );
  };

  return (
    <form className="add-project" onSubmit={submit} aria-label="Add a repository">
      <div className="field grow">
        <label htmlFor={`${id}-repo`}>Repository</label>
        <input
          id={`${id}-repo`}
          value={repo}
          onChange={(e) => setRepo(e.target.value)}
          placeholder="/path/to/repo or https://github.com/owner/repo.git"
          required
          autoComplete="off"
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-name`}>Name</label>
        <input
          id={`${id}-name`}
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder={repo ? nameFromRepo(repo) : 'from the repository'}
          autoComplete="off"
        />
      </div>
      <div className="field narrow">
        <label htmlFor={`${id}-branch`}>Default branch</label>
        <input
          id={`${id}-branch`}
          value={branch}
          onChange={(e) => setBranch(e.target.value)}
          placeholder="main"
        />
      </div>
      <div className="form-actions">
        <button type="submit" className="primary" disabled={repo.trim() === '' || create.isPending}>
          {create.isPending ? 'Adding…' : 'Add project'}
        </button>
        {onCancel ? (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
      {create.error ? (
        <p className="error" role="alert">
          {errorMessage(create.error)}
        </p>
      ) : null}
    </form>
  );
}
