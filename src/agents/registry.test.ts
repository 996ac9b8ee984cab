import { describe, expect, it } from 'vitest';
import { chooseRuntimeName } from '../contracts/runtime-env.js';
import { createRuntime } from './registry.js';

describe('agent runtime registry', () => {
  it('chooses per docs/design.md: explicit, then ANTHROPIC_API_KEY, then OpenAI variables, else offline', () => {
    expect(chooseRuntimeName({ explicit: 'offline', env: { ANTHROPIC_API_KEY: 'k' } })).toBe('offline');
    expect(chooseRuntimeName({ env: { ANTHROPIC_API_KEY: 'k', OPENAI_API_KEY: 'o' } })).toBe('claude');
    expect(chooseRuntimeName({ env: { OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' } })).toBe('openai');
    expect(chooseRuntimeName({ env: { OPENAI_API_KEY: 'o' } })).toBe('openai');
    expect(chooseRuntimeName({ env: {} })).toBe('offline');
  });

  it('builds the offline runtime lazily and refuses unknown names clearly', async () => {
    const runtime = await createRuntime('offline', {});
    expect(runtime.label).toBe('offline (no model)');
    await expect(createRuntime('nope', {})).rejects.toMatchObject({ code: 'RUNTIME_UNAVAILABLE' });
    await expect(createRuntime('scripted', {})).rejects.toMatchObject({ code: 'RUNTIME_UNAVAILABLE' });
  });
});
