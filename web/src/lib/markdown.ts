import { Marked, type Tokens } from 'marked';

// Spec bodies are written by agents, so they are untrusted: raw HTML in them is shown as text,
// links keep only harmless schemes and images become their alt text (no requests to elsewhere).
// HTML comments are dropped, as every Markdown viewer hides them (a recorded clarification carries
// one as its marker: `<!-- omoi:clarification <id> -->`).
const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const SAFE_HREF = /^(https?:|mailto:|#|\/(?!\/)|\.{0,2}\/|[\w.-]+(\/|$|#))/i;

const marked = new Marked({
  gfm: true,
  async: false,
  walkTokens(token) {
    if (token.type === 'link') {
      const link = token as Tokens.Link;
      if (!SAFE_HREF.test(link.href.trim())) link.href = '#';
    }
  },
  renderer: {
    html({ text }: Tokens.HTML | Tokens.Tag) {
      const shown = text.replace(/<!--[\s\S]*?-->/g, '');
      return shown.trim() ? escapeHtml(shown) : '';
    },
    image({ text }: Tokens.Image) {
      return escapeHtml(text);
    },
  },
});

/** Markdown to HTML that is safe to put in the page: no raw HTML from the source survives. */
export function renderMarkdown(source: string): string {
  return marked.parse(source, { async: false }) as string;
}
