import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { workspaceReady } from './worker.js';

describe("the worker's workspace gate (OMOI_WORKSPACE_GATE=stdin)", () => {
  it('goes on at the line "ready", however the line arrives', async () => {
    const input = new PassThrough();
    const ready = workspaceReady(input);
    input.write('rea');
    input.write('dy\n');
    expect(await ready).toBe(true);
  });

  it('stops at any other line, or when stdin ends without one', async () => {
    const other = new PassThrough();
    const refused = workspaceReady(other);
    other.write('fail\n');
    expect(await refused).toBe(false);

    const ended = new PassThrough();
    const gone = workspaceReady(ended);
    ended.end();
    expect(await gone).toBe(false);

    const partial = new PassThrough();
    const cut = workspaceReady(partial);
    partial.end('rea');
    expect(await cut).toBe(false);
  });
});
