// `npm run mutate [module...]`: StrykerJS with its vitest runner over the modules whose contracts
// matter most. Each module is mutated on its own, judged only by the test files of its own vitest
// config (mutation/<module>.vitest.config.ts), with per-test coverage so a mutant runs only the
// tests that reach it, one test process at a time (the machine is shared). Prints the score of
// each module; the HTML/JSON reports land in reports/mutation/<module>/.
import { Stryker } from '@stryker-mutator/core';

const modules = {
  queue: ['src/queue/queue.ts'],
  validator: ['src/spec-format/validate.ts'],
  // Auth is two modules, so that each run ends in well under an hour on a loaded machine: who may
  // call what from where (the middleware), and the keys, tokens and sessions it verifies.
  auth: ['src/api/auth.ts'],
  keys: ['src/core/keys.ts'],
  approval: ['src/core/approval.ts'],
  events: ['src/core/events.ts', 'src/api/routes/events.ts'],
};

function usage(message) {
  process.stderr.write(`${message}\nusage: npm run mutate [${Object.keys(modules).join('|')}]...\n`);
  process.exit(2);
}

const chosen = process.argv.slice(2);
for (const name of chosen) if (!(name in modules)) usage(`unknown module: ${name}`);

const scores = {};
for (const name of chosen.length > 0 ? chosen : Object.keys(modules)) {
  const stryker = new Stryker({
    testRunner: 'vitest',
    plugins: ['@stryker-mutator/vitest-runner'],
    vitest: { configFile: `mutation/${name}.vitest.config.ts`, related: false },
    mutate: modules[name],
    coverageAnalysis: 'perTest',
    // OMOI_MUTATE_CONCURRENCY: test processes at once (default one: the machine is shared)
    concurrency: Number(process.env.OMOI_MUTATE_CONCURRENCY ?? 1),
    timeoutMS: 30_000,
    reporters: ['clear-text', 'html', 'json', 'progress'],
    htmlReporter: { fileName: `reports/mutation/${name}/index.html` },
    jsonReporter: { fileName: `reports/mutation/${name}/mutation.json` },
    // One folder per module, so two modules can run side by side.
    tempDirName: `.stryker-tmp/${name}`,
    cleanTempDir: 'always',
    // The sandbox copy needs the sources, the tests, the built worker and examples/ (the API suites
    // sync examples/spec-driven as their spec set); not the web app or the docs. The patterns are
    // gitignore patterns, so each is anchored with `/`: a bare `docs` also dropped the example's
    // `.omoi_os/docs/`, and the suites' sync of it answered 422 only inside the sandbox.
    ignorePatterns: ['/web', '/docs', '/bench', '/deploy', '/reports', '/test-results', '/.omoi'],
    incremental: true,
    incrementalFile: `reports/mutation/${name}/incremental.json`,
  });
  const results = await stryker.runMutationTest();
  const counted = results.filter((r) => r.status !== 'Ignored' && r.status !== 'CompileError');
  const detected = counted.filter((r) => r.status === 'Killed' || r.status === 'Timeout').length;
  const valid = counted.filter((r) => r.status !== 'RuntimeError').length;
  scores[name] = valid === 0 ? null : Math.round((detected / valid) * 1000) / 10;
}
for (const [name, score] of Object.entries(scores))
  process.stdout.write(`mutation score ${name}: ${score === null ? 'no mutants' : `${score}%`}\n`);
