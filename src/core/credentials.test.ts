import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadKeyFile, parseSecretKey, seal, splitRepoUrl, unseal } from './credentials.js';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';

describe('sealing', () => {
  const key = randomBytes(32);

  it('opens what it sealed, for the same project only, and never holds the plain text', () => {
    const sealed = seal(key, A, '{"secret":"ghp_abc123"}');
    expect(Buffer.from(sealed, 'base64').toString('latin1')).not.toContain('ghp_abc123');
    expect(unseal(key, A, sealed)).toBe('{"secret":"ghp_abc123"}');
    expect(() => unseal(key, B, sealed)).toThrow(/cannot be opened/);
    expect(() => unseal(randomBytes(32), A, sealed)).toThrow(/cannot be opened/);
    expect(seal(key, A, 'x')).not.toBe(seal(key, A, 'x')); // a fresh IV each time
  });

  it('takes OMOI_SECRET_KEY as hex, base64 or a long passphrase', () => {
    const bytes = randomBytes(32);
    expect(parseSecretKey(bytes.toString('hex'))).toEqual(bytes);
    expect(parseSecretKey(bytes.toString('base64'))).toEqual(bytes);
    expect(parseSecretKey('a passphrase that is long enough!!')).toHaveLength(32);
    expect(() => parseSecretKey('short')).toThrow(/OMOI_SECRET_KEY/);
  });

  it('makes the key file with mode 0600 once, and refuses one others can read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'omoi-key-'));
    const first = loadKeyFile(dir);
    expect(statSync(join(dir, 'secret.key')).mode & 0o777).toBe(0o600);
    expect(loadKeyFile(dir)).toEqual(first);
    expect(readFileSync(join(dir, 'secret.key'), 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
    chmodSync(join(dir, 'secret.key'), 0o644);
    expect(() => loadKeyFile(dir)).toThrow(/readable by other users/);
  });
});

describe('splitRepoUrl', () => {
  it('takes the credential out of an https URL', () => {
    expect(splitRepoUrl('https://bob:ghp_x%2Fy@github.com/o/r.git')).toEqual({
      url: 'https://github.com/o/r.git',
      credential: { kind: 'https_token', username: 'bob', secret: 'ghp_x/y' },
    });
    expect(splitRepoUrl('https://ghp_tok@github.com/o/r.git')).toEqual({
      url: 'https://github.com/o/r.git',
      credential: { kind: 'https_token', secret: 'ghp_tok' },
    });
  });

  it('leaves URLs without one, ssh URLs and paths alone', () => {
    for (const url of [
      'https://github.com/o/r.git',
      'git@github.com:o/r.git',
      'ssh://git@host/r.git',
      '/srv/r.git',
    ])
      expect(splitRepoUrl(url)).toEqual({ url, credential: null });
  });
});
