// The server's environment is parsed once (src/core/config.ts); OMOI_PUBLIC_URL, the address
// remote workers call, is validated there like every other variable.
import { describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/core/config.js';

describe('OMOI_PUBLIC_URL', () => {
  it('is passed down without a trailing slash, and null when unset', () => {
    expect(loadServerConfig({ OMOI_PUBLIC_URL: 'https://omoi.example.com/' }).publicUrl).toBe(
      'https://omoi.example.com',
    );
    expect(loadServerConfig({ OMOI_PUBLIC_URL: 'http://10.0.0.5:7878' }).publicUrl).toBe(
      'http://10.0.0.5:7878',
    );
    expect(loadServerConfig({}).publicUrl).toBeNull();
  });

  it.each(['omoi.local:80', 'not a url', 'ftp://omoi.example.com'])(
    'refuses %s with CONFIG_INVALID',
    (value) => {
      expect(() => loadServerConfig({ OMOI_PUBLIC_URL: value })).toThrow(
        expect.objectContaining({
          code: 'CONFIG_INVALID',
          message: expect.stringMatching(/^OMOI_PUBLIC_URL: must be an http\(s\) URL/),
        }),
      );
    },
  );
});
