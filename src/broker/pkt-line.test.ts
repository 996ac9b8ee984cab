import { describe, expect, it } from 'vitest';
import { FLUSH, pkt, readUntilFlush, sideband } from './pkt-line.js';

describe('pkt-line', () => {
  it('frames and reads lines up to the flush', () => {
    const data = Buffer.concat([pkt('a\n'), pkt(Buffer.from([0, 1, 2])), FLUSH, Buffer.from('PACK')]);
    expect(pkt('a\n').toString()).toBe('0006a\n');
    const read = readUntilFlush(data)!;
    expect(read.lines.map((l) => [...l])).toEqual([
      [97, 10],
      [0, 1, 2],
    ]);
    expect(data.subarray(read.end).toString()).toBe('PACK');
  });

  it('waits for more on a cut line or a missing flush, and throws on a bad length', () => {
    expect(readUntilFlush(Buffer.from('0009ab'))).toBeNull();
    expect(readUntilFlush(pkt('x'))).toBeNull();
    expect(() => readUntilFlush(Buffer.from('zzzzab'))).toThrow(/bad pkt-line/);
    expect(() => readUntilFlush(Buffer.from('0001'))).toThrow(/special/);
  });

  it('wraps data in side-band packets of at most 65520 bytes', () => {
    const big = Buffer.alloc(70_000, 1);
    const wrapped = sideband(1, big);
    const first = Number.parseInt(wrapped.subarray(0, 4).toString(), 16);
    expect(first).toBe(65520);
    expect(wrapped[4]).toBe(1);
    expect(wrapped.length).toBe(70_000 + 2 * 5);
  });
});
