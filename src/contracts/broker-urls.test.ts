import { describe, expect, it } from 'vitest';
import { brokeredModelEnv, brokerRepoUrl, rebaseBrokerUrls } from './broker-urls.js';

describe('sandbox env of the brokers', () => {
  it('names the broker URLs on the API the sandbox uses, with the token as the only key', () => {
    expect(brokerRepoUrl('http://127.0.0.1:7878/', 'p1')).toBe('http://127.0.0.1:7878/api/v1/git/p1.git');
    expect(brokerRepoUrl('https://omoi.example.com/api/v1', 'p1')).toBe(
      'https://omoi.example.com/api/v1/git/p1.git',
    );
    expect(brokeredModelEnv('claude', 'http://h:1', 't')).toEqual({
      ANTHROPIC_BASE_URL: 'http://h:1/api/v1/model/anthropic',
      ANTHROPIC_API_KEY: 't',
    });
    expect(brokeredModelEnv('openai', 'http://h:1', 't')).toEqual({
      OPENAI_BASE_URL: 'http://h:1/api/v1/model/openai',
      OPENAI_API_KEY: 't',
    });
    expect(brokeredModelEnv('offline', 'http://h:1', 't')).toEqual({});
  });

  it('moves every broker URL to another API address together', () => {
    const env = {
      OMOIOS_API_URL: 'http://127.0.0.1:7878',
      REPO_URL: 'http://127.0.0.1:7878/api/v1/git/p1.git',
      OPENAI_BASE_URL: 'http://127.0.0.1:7878/api/v1/model/openai',
      OTHER: 'http://127.0.0.1:7878/x',
    };
    expect(rebaseBrokerUrls(env, 'http://127.0.0.1:7878', 'http://127.0.0.1:41000')).toEqual({
      OMOIOS_API_URL: 'http://127.0.0.1:41000',
      REPO_URL: 'http://127.0.0.1:41000/api/v1/git/p1.git',
      OPENAI_BASE_URL: 'http://127.0.0.1:41000/api/v1/model/openai',
      OTHER: 'http://127.0.0.1:7878/x',
    });
  });
});
