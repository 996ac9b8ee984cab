/** Characters of a tool's output repeated in a `tool_result` event (the model itself gets all of it). */
export const EVENT_OUTPUT_CHARS = 2_000;

/**
 * Prepares text for an event that is stored and shown to people: known secrets are replaced by
 * `[redacted]` (a model may echo a key it found in the environment) and long output is trimmed.
 *
 * @example
 * eventText('key=sk-123 …', ['sk-123']); // 'key=[redacted] …'
 */
export function eventText(
  text: string,
  secrets: readonly (string | undefined)[] = [],
  limit = Infinity,
): string {
  let out = text;
  for (const secret of secrets) {
    // Short values would redact ordinary words; real keys are long.
    if (secret && secret.length >= 8) out = out.split(secret).join('[redacted]');
  }
  return out.length <= limit ? out : `${out.slice(0, limit)}… [${out.length} characters]`;
}

/**
 * The same for a tool call's input: every string inside is redacted and trimmed (a `write_file`
 * input holds a whole file; the event needs only its start). With `limit` Infinity it only redacts
 * (a question, a checkpoint's transcript).
 *
 * @example
 * eventInput({ path: 'a.md', content: longText }, [key]); // { path: 'a.md', content: 'first 2000 characters… [n characters]' }
 */
export function eventInput(
  input: unknown,
  secrets: readonly (string | undefined)[] = [],
  limit = EVENT_OUTPUT_CHARS,
): unknown {
  if (typeof input === 'string') return eventText(input, secrets, limit);
  if (Array.isArray(input)) return input.map((item) => eventInput(item, secrets, limit));
  if (input && typeof input === 'object') {
    return Object.fromEntries(
      Object.entries(input).map(([key, value]) => [key, eventInput(value, secrets, limit)]),
    );
  }
  return input;
}
