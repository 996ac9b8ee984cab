import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PathRefusedError, resolveInWorkspace } from '../../src/agents/tools/workspace-path.js';
import { commandEnv, createWorkspaceTools, toolDefinitions } from '../../src/agents/tools/workspace-tools.js';

let base: string;
let workspace: string;
let outside: string;

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'omoi-tools-'));
  workspace = path.join(base, 'ws');
  outside = path.join(base, 'outside');
  await mkdir(path.join(workspace, 'src'), { recursive: true });
  await mkdir(path.join(workspace, '.git'), { recursive: true });
  await mkdir(outside, { recursive: true });
  await writeFile(path.join(outside, 'secret.txt'), 'top secret');
  await writeFile(path.join(workspace, 'src', 'a.txt'), 'alpha beta alpha');
  await symlink(path.join(outside, 'secret.txt'), path.join(workspace, 'link-out.txt'));
  await symlink(outside, path.join(workspace, 'dir-out'));
  await symlink(path.join(workspace, 'src', 'a.txt'), path.join(workspace, 'link-in.txt'));
  await symlink(path.join(outside, 'missing.txt'), path.join(workspace, 'dangling.txt'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

const call = (name: string, args: unknown) =>
  createWorkspaceTools(workspace).execute(name, JSON.stringify(args));

describe('workspace confinement', () => {
  it.each([
    ['../outside/secret.txt', /outside the workspace/],
    ['src/../../outside/secret.txt', /outside the workspace/],
    ['/etc/passwd', /absolute paths/],
    ['~/x', /absolute paths/],
    ['link-out.txt', /symlink out/],
    ['dir-out/secret.txt', /symlink out/],
    ['dir-out/new-file.txt', /symlink out/],
    ['dangling.txt', /dangling symlink|symlink out/],
    ['.git/config', /\.git folder/],
    ['', /a path is required/],
  ])('refuses %j', async (requested, reason) => {
    await expect(resolveInWorkspace(workspace, requested)).rejects.toThrow(PathRefusedError);
    await expect(resolveInWorkspace(workspace, requested)).rejects.toThrow(reason);
  });

  it('allows paths inside, also through a symlink that stays inside, and new files in new folders', async () => {
    expect(await resolveInWorkspace(workspace, 'src/a.txt')).toBe(path.join(workspace, 'src', 'a.txt'));
    expect(await resolveInWorkspace(workspace, './link-in.txt')).toBe(path.join(workspace, 'link-in.txt'));
    expect(await resolveInWorkspace(workspace, '.omoi_os/tasks/TSK-001.md')).toBe(
      path.join(workspace, '.omoi_os', 'tasks', 'TSK-001.md'),
    );
  });

  it('every file tool refuses escapes and leaves the outside untouched', async () => {
    for (const [name, args] of [
      ['read_file', { path: '../outside/secret.txt' }],
      ['read_file', { path: 'link-out.txt' }],
      ['write_file', { path: 'link-out.txt', content: 'pwned' }],
      ['write_file', { path: 'dir-out/x.txt', content: 'pwned' }],
      ['write_file', { path: '/tmp/x.txt', content: 'pwned' }],
      ['edit_file', { path: 'link-out.txt', old_text: 'top', new_text: 'pwned' }],
      ['list_files', { path: 'dir-out' }],
      ['list_files', { path: '..' }],
    ] as const) {
      const outcome = await call(name, args);
      expect(outcome.ok, `${name} ${JSON.stringify(args)}`).toBe(false);
      expect(outcome.output).toMatch(/^Refused path/);
    }
    expect(await readFile(path.join(outside, 'secret.txt'), 'utf8')).toBe('top secret');
  });
});

describe('file tools', () => {
  it('writes (creating folders), reads, edits and lists', async () => {
    expect(await call('write_file', { path: 'docs/new/b.md', content: '# B\n' })).toMatchObject({ ok: true });
    expect(await call('read_file', { path: 'docs/new/b.md' })).toEqual({ ok: true, output: '# B\n' });
    const ambiguous = await call('edit_file', { path: 'src/a.txt', old_text: 'alpha', new_text: 'x' });
    expect(ambiguous).toMatchObject({ ok: false, output: expect.stringMatching(/occurs 2 times/) });
    expect(await call('edit_file', { path: 'src/a.txt', old_text: 'beta', new_text: 'gamma' })).toMatchObject(
      {
        ok: true,
      },
    );
    expect(await call('edit_file', { path: 'src/a.txt', old_text: 'nope', new_text: 'x' })).toMatchObject({
      ok: false,
      output: expect.stringMatching(/not found/),
    });
    expect(await readFile(path.join(workspace, 'src', 'a.txt'), 'utf8')).toBe('alpha gamma alpha');
    const listing = await call('list_files', { recursive: true });
    expect(listing.ok).toBe(true);
    expect(listing.output.split('\n')).toEqual(
      expect.arrayContaining(['docs/', 'docs/new/b.md', 'src/a.txt']),
    );
    expect(listing.output).not.toMatch(/^\.git/m);
    expect(listing.output).not.toContain('secret.txt');
  });

  it('answers bad arguments and unknown tools with a message the model can act on', async () => {
    const tools = createWorkspaceTools(workspace);
    expect(await tools.execute('write_file', '{"path": "x.md", "content": ')).toMatchObject({
      ok: false,
      output: expect.stringMatching(/not valid JSON/),
    });
    expect(await tools.execute('write_file', '{"path": 12}')).toMatchObject({
      ok: false,
      output: expect.stringMatching(/Invalid arguments for write_file: path: .*content:/),
    });
    expect(await tools.execute('delete_everything', '{}')).toMatchObject({
      ok: false,
      output: expect.stringMatching(/Unknown tool/),
    });
    expect(await tools.execute('read_file', '{"path":"nope.txt"}')).toMatchObject({
      ok: false,
      output: expect.stringMatching(/no such file/),
    });
  });

  it('offers JSON-schema definitions generated from the argument schemas', () => {
    const write = toolDefinitions.find((t) => t.function.name === 'write_file');
    expect(write?.function.parameters).toMatchObject({
      type: 'object',
      required: ['path', 'content'],
      properties: { path: { type: 'string' }, content: { type: 'string' } },
    });
    expect(toolDefinitions.map((t) => t.function.name)).toEqual([
      'read_file',
      'write_file',
      'edit_file',
      'list_files',
      'run_command',
      'finish',
    ]);
  });
});

describe('run_command', () => {
  it('runs in the workspace and reports the exit code', async () => {
    const outcome = await call('run_command', { command: 'pwd; ls src; exit 3' });
    expect(outcome.ok).toBe(false);
    expect(outcome.output).toContain('[exit code 3]');
    expect(outcome.output).toContain(workspace);
    expect(outcome.output).toContain('a.txt');
  });

  it('stops a command at its timeout, with everything it started', async () => {
    const tools = createWorkspaceTools(workspace, { commandTimeoutMs: 300 });
    const outcome = await tools.execute(
      'run_command',
      JSON.stringify({ command: 'sleep 30 & sleep 30; echo never' }),
    );
    expect(outcome.ok).toBe(false);
    expect(outcome.output).toMatch(/timed out/);
    expect(outcome.output).not.toContain('never');
  });

  it('caps the output, keeping the head and the tail', async () => {
    const tools = createWorkspaceTools(workspace, { outputCap: 1_000 });
    const outcome = await tools.execute(
      'run_command',
      JSON.stringify({ command: 'echo FIRST; seq 1 20000; echo LAST' }),
    );
    expect(outcome.ok).toBe(true);
    expect(outcome.output.length).toBeLessThan(1_200);
    expect(outcome.output).toContain('FIRST');
    expect(outcome.output).toContain('LAST');
    expect(outcome.output).toMatch(/characters of output cut/);
  });

  it('never hands credentials to a command', async () => {
    const env = {
      PATH: process.env.PATH,
      OMOIOS_API_KEY: 'omoi_tok',
      OPENAI_API_KEY: 'sk-1',
      VISIBLE: 'yes',
    };
    expect(commandEnv(env)).toEqual({ PATH: process.env.PATH, VISIBLE: 'yes' });
    const tools = createWorkspaceTools(workspace, { env });
    const outcome = await tools.execute('run_command', JSON.stringify({ command: 'env' }));
    expect(outcome.output).toContain('VISIBLE=yes');
    expect(outcome.output).not.toContain('omoi_tok');
    expect(outcome.output).not.toContain('sk-1');
  });

  it('is stopped by a cancel', async () => {
    const controller = new AbortController();
    const tools = createWorkspaceTools(workspace);
    const pending = tools.execute('run_command', JSON.stringify({ command: 'sleep 30' }), controller.signal);
    setTimeout(() => controller.abort(), 100);
    const outcome = await pending;
    expect(outcome.ok).toBe(false);
    expect(outcome.output).toContain('[cancelled]');
  });
});
