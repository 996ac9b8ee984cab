import { useProjects } from '../api/queries';
import { AddProjectForm } from '../components/AddProjectForm';
import { Empty, ErrorState, Loading } from '../components/States';
import { Link } from '../lib/router';

export function ProjectsPage() {
  const projects = useProjects();
  return (
    <div className="page projects">
      <h1>Projects</h1>
      <section className="card">
        <h2>Add a repository</h2>
        <AddProjectForm />
      </section>
      <section className="card" aria-label="All projects">
        {projects.isPending ? (
          <Loading what="projects" />
        ) : projects.error ? (
          <ErrorState error={projects.error} retry={() => projects.refetch()} />
        ) : projects.data.length === 0 ? (
          <Empty>No projects yet. Add a repository above.</Empty>
        ) : (
          <div className="table-scroll">
            <table className="projects-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Repository</th>
                  <th scope="col">Branch</th>
                  <th scope="col">Tickets</th>
                </tr>
              </thead>
              <tbody>
                {projects.data.map((p) => (
                  <tr key={p.id}>
                    <td>{p.name}</td>
                    <td>
                      <code className="wrap">{p.repo_url}</code>
                    </td>
                    <td>{p.default_branch ?? 'main'}</td>
                    <td>
                      <Link to={`/board?project=${encodeURIComponent(p.id)}`}>Board</Link>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
