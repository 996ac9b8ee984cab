import { describe, expect, it } from 'vitest';
import { renderMarkdown } from './markdown';

describe('renderMarkdown', () => {
  it('renders ordinary Markdown', () => {
    const html = renderMarkdown('## Architecture Overview\n\nA **bold** plan:\n\n- one\n- two\n');
    expect(html).toContain('<h2');
    expect(html).toContain('<strong>bold</strong>');
    expect(html).toContain('<li>two</li>');
  });

  it('escapes raw HTML blocks and inline tags', () => {
    const html = renderMarkdown('<script>alert(1)</script>\n\ntext <img src=x onerror="alert(2)"> more\n');
    expect(html).not.toMatch(/<script|<img/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(2)&quot;&gt;');
  });

  it('hides HTML comments, as Markdown viewers do, and still shows the raw HTML around them as text', () => {
    const html = renderMarkdown(
      '## Clarifications\n\n<!-- omoi:clarification q1 -->\n**Q** (answered by alice):\n\n> CSV or TSV?\n\nx <!-- inline --> y <b>z</b>\n',
    );
    expect(html).not.toContain('omoi:clarification');
    expect(html).not.toContain('inline');
    expect(html).toContain('<strong>Q</strong>');
    expect(html).toContain('CSV or TSV?');
    expect(html).toContain('&lt;b&gt;z');
    expect(renderMarkdown('<!-- a\nmulti-line comment -->\n\ntext')).toBe('<p>text</p>\n');
  });

  it('neutralises script links and drops images', () => {
    const html = renderMarkdown(
      '[click](javascript:alert(1)) [ok](https://example.org/a) ![pic](http://x/y.png)',
    );
    expect(html).not.toContain('javascript:');
    expect(html).toContain('href="#"');
    expect(html).toContain('href="https://example.org/a"');
    expect(html).not.toContain('<img');
    expect(html).toContain('pic');
  });
});
