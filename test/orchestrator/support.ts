// Shared set-up of the orchestrator suites: the configuration of an orchestrator that runs stand-in
// sandboxes (no API is called: the worker is the test's own provider).
import type { OrchestratorConfig } from '../../src/orchestrator/orchestrator.js';

export function testOrchestratorConfig(overrides: Partial<OrchestratorConfig> = {}): OrchestratorConfig {
  return {
    apiUrl: 'http://127.0.0.1:9',
    runtimeName: 'offline',
    runtimeEnv: {},
    maxConcurrency: 2,
    pollMs: 50,
    maxTurns: 3,
    specMaxAttempts: 3,
    tokenTtlMs: 60_000,
    keepOnFailure: false,
    exclusive: false,
    ...overrides,
  };
}
