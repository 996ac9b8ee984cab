import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/agents/registry.js';
import { checkRuntimeConfig, chooseRuntimeName, runtimeEnv } from '../../src/contracts/runtime-env.js';

const everything = {
  ANTHROPIC_API_KEY: 'sk-ant-1',
  ANTHROPIC_BASE_URL: 'http://127.0.0.1:9/anthropic',
  OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1',
  OPENAI_API_KEY: 'sk-oa-1',
  OMOI_MODEL: 'some-model',
  OMOI_TEST_RUNTIME_SCRIPT: '/tmp/script.json',
};

describe('runtime selection', () => {
  it('takes an explicit choice first, then the keys present, then offline', () => {
    expect(chooseRuntimeName({ explicit: 'openai', env: everything })).toBe('openai');
    expect(chooseRuntimeName({ env: everything })).toBe('claude');
    expect(chooseRuntimeName({ env: { OPENAI_BASE_URL: everything.OPENAI_BASE_URL } })).toBe('openai');
    expect(chooseRuntimeName({ env: { OPENAI_API_KEY: 'sk' } })).toBe('openai');
    expect(chooseRuntimeName({ env: {} })).toBe('offline');
  });

  it('builds the claude and openai runtimes through the registry', async () => {
    const claude = await createRuntime('claude', { ANTHROPIC_API_KEY: 'k', OMOI_MODEL: 'claude-x' });
    expect([claude.name, claude.label]).toEqual(['claude', 'claude (claude-x)']);
    const openai = await createRuntime('openai', {
      OPENAI_BASE_URL: everything.OPENAI_BASE_URL,
      OMOI_MODEL: 'q',
    });
    expect([openai.name, openai.label]).toEqual(['openai', 'openai (q)']);
  });
});

describe('runtimeEnv', () => {
  it('passes each runtime only its own variables', () => {
    expect(runtimeEnv('claude', everything)).toEqual({
      ANTHROPIC_API_KEY: 'sk-ant-1',
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:9/anthropic',
      OMOI_MODEL: 'some-model',
    });
    expect(runtimeEnv('openai', everything)).toEqual({
      OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1',
      OPENAI_API_KEY: 'sk-oa-1',
      OMOI_MODEL: 'some-model',
    });
    expect(runtimeEnv('offline', everything)).toEqual({});
    expect(runtimeEnv('claude', { OPENAI_API_KEY: 'x' })).toEqual({});
    expect(runtimeEnv('no-such-runtime', everything)).toEqual({});
  });
});

describe('checkRuntimeConfig', () => {
  it('accepts a runtime that has what it needs', () => {
    expect(checkRuntimeConfig('claude', { ANTHROPIC_API_KEY: 'k' })).toBeUndefined();
    expect(checkRuntimeConfig('openai', { OPENAI_API_KEY: 'k' })).toBeUndefined();
    expect(
      checkRuntimeConfig('openai', { OPENAI_BASE_URL: 'https://api.openai.com/v1', OPENAI_API_KEY: 'k' }),
    ).toBe(undefined);
    expect(
      checkRuntimeConfig('openai', { OPENAI_BASE_URL: 'http://127.0.0.1:8000/v1', OMOI_MODEL: 'm' }),
    ).toBe(undefined);
    expect(checkRuntimeConfig('offline', {})).toBeUndefined();
  });

  it.each([
    ['claude', {}, /AGENT_RUNTIME=claude needs ANTHROPIC_API_KEY/],
    ['openai', {}, /needs OPENAI_API_KEY .* or OPENAI_BASE_URL/],
    ['openai', { OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' }, /needs OMOI_MODEL/],
    ['scripted', {}, /OMOI_TEST_RUNTIME_SCRIPT/],
    ['gpt', {}, /Unknown agent runtime "gpt"; use one of: claude, openai, offline/],
  ])('refuses %s with %j clearly (422)', (name, env, message) => {
    const problem = checkRuntimeConfig(name, env);
    expect(problem).toMatchObject({ code: 'RUNTIME_UNAVAILABLE', status: 422 });
    expect(problem?.message).toMatch(message);
  });
});
