// git's pkt-line framing (gitprotocol-common): four hex digits of length (counting themselves), then
// the payload; `0000` is a flush. Enough of it to read the ref updates of a push and to write a
// report-status answer.

export const FLUSH = Buffer.from('0000');

/** One pkt-line holding `payload`. */
export function pkt(payload: string | Buffer): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  if (data.length > 65516) throw new Error('a pkt-line holds at most 65516 bytes');
  return Buffer.concat([Buffer.from((data.length + 4).toString(16).padStart(4, '0')), data]);
}

/**
 * Reads pkt-lines from the start of `buffer` up to and including the first flush. Returns the
 * payloads and where the flush ends, or null when the buffer does not hold a flush yet.
 * Throws on a malformed length.
 */
export function readUntilFlush(buffer: Buffer): { lines: Buffer[]; end: number } | null {
  const lines: Buffer[] = [];
  let at = 0;
  while (at + 4 <= buffer.length) {
    const head = buffer.subarray(at, at + 4).toString('latin1');
    if (!/^[0-9a-f]{4}$/i.test(head)) throw new Error(`bad pkt-line length "${head}"`);
    const length = Number.parseInt(head, 16);
    if (length === 0) return { lines, end: at + 4 };
    if (length < 4) throw new Error(`unexpected special pkt-line ${head}`);
    if (at + length > buffer.length) return null;
    lines.push(buffer.subarray(at + 4, at + length));
    at += length;
  }
  return null;
}

/** Wraps `data` into side-band channel `band` pkt-lines (side-band-64k sizes). */
export function sideband(band: 1 | 2 | 3, data: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += 65515)
    parts.push(pkt(Buffer.concat([Buffer.from([band]), data.subarray(at, at + 65515)])));
  return Buffer.concat(parts);
}
