import { Link } from '../lib/router';

export function NotFoundPage() {
  return (
    <div className="page">
      <h1>Page not found</h1>
      <p>
        Nothing lives at this address. Go to the <Link to="/command">Command Center</Link>.
      </p>
    </div>
  );
}
