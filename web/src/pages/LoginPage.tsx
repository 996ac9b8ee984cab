import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import { api } from '../api/client';
import { errorMessage } from '../components/States';

/**
 * Shown whenever the server answers 401: paste an API key (`omoi key create`), and the server
 * sets an HttpOnly session cookie. The key itself is not stored by the page.
 */
export function LoginPage() {
  const id = useId();
  const client = useQueryClient();
  const [key, setKey] = useState('');
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setPending(true);
    setError(null);
    try {
      await api.login(key.trim());
      setKey('');
      await client.invalidateQueries();
    } catch (failure) {
      setError(failure);
    } finally {
      setPending(false);
    }
  };

  return (
    <section className="card login" aria-labelledby={`${id}-title`}>
      <h1 id={`${id}-title`}>Log in</h1>
      <p>
        This server needs an API key. Create one with <code>omoi key create --role member</code> and paste it
        here; the browser keeps only a session cookie.
      </p>
      <form onSubmit={submit} aria-label="Log in with an API key">
        <div className="field">
          <label htmlFor={`${id}-key`}>API key</label>
          <input
            id={`${id}-key`}
            type="password"
            value={key}
            onChange={(e) => setKey(e.target.value)}
            placeholder="omoi_sk_…"
            autoComplete="off"
            required
          />
        </div>
        <div className="form-actions">
          <button type="submit" className="primary" disabled={key.trim() === '' || pending}>
            {pending ? 'Checking…' : 'Log in'}
          </button>
        </div>
        {error ? (
          <p className="error" role="alert">
            {errorMessage(error)}
          </p>
        ) : null}
      </form>
    </section>
  );
}
