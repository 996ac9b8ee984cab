import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useSyncExternalStore } from 'react';
import { api, auth } from './api/client';
import { NotificationsToggle } from './components/BrowserNotifications';
import { ErrorBoundary } from './components/ErrorBoundary';
import { InboxMenu } from './components/InboxMenu';
import { Link, matchPath, navigate, useLocation } from './lib/router';
import { BoardPage } from './pages/BoardPage';
import { CommandPage } from './pages/CommandPage';
import { LoginPage } from './pages/LoginPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { ProjectsPage } from './pages/ProjectsPage';
import { TicketPage } from './pages/TicketPage';

const NAV = [
  { to: '/command', label: 'Command Center' },
  { to: '/board', label: 'Board' },
  { to: '/projects', label: 'Projects' },
];

function Page({ pathname }: { pathname: string }) {
  if (pathname === '/command') return <CommandPage />;
  if (pathname === '/board') return <BoardPage />;
  if (pathname === '/projects') return <ProjectsPage />;
  const ticket = matchPath('/tickets/:id', pathname);
  if (ticket?.id) return <TicketPage id={ticket.id} />;
  return <NotFoundPage />;
}

/** "Log out" when the browser acts through a login session (not as the local user). */
function SessionControl() {
  const client = useQueryClient();
  const session = useQuery({ queryKey: ['session'], queryFn: api.session, staleTime: 60_000 });
  if (session.data?.kind !== 'api_key') return null;
  return (
    <span className="session">
      {session.data.name} ({session.data.role}){' '}
      <button
        type="button"
        onClick={async () => {
          await api.logout().catch(() => {});
          client.clear();
        }}
      >
        Log out
      </button>
    </span>
  );
}

export function App() {
  const { pathname } = useLocation();
  const needsLogin = useSyncExternalStore(auth.subscribe, () => auth.needsLogin);
  useEffect(() => {
    if (pathname === '/' || pathname === '') navigate('/command', { replace: true });
  }, [pathname]);
  const section = NAV.find((n) => pathname.startsWith(n.to))?.label;
  useEffect(() => {
    document.title = section ? `${section} · Omoi` : 'Omoi';
  }, [section]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/command" className="brand">
          Omoi
        </Link>
        <nav aria-label="Main">
          {NAV.map((n) => (
            <Link key={n.to} to={n.to} aria-current={pathname.startsWith(n.to) ? 'page' : undefined}>
              {n.label}
            </Link>
          ))}
        </nav>
        {needsLogin ? null : <InboxMenu />}
        {needsLogin ? null : <NotificationsToggle />}
        {needsLogin ? null : <SessionControl />}
      </header>
      <main id="main">
        {needsLogin ? (
          <LoginPage />
        ) : pathname === '/' ? null : (
          <ErrorBoundary resetKey={pathname}>
            <Page pathname={pathname} />
          </ErrorBoundary>
        )}
      </main>
    </>
  );
}
