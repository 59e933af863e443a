/**
 * Derivation of a plain-text alternative from an HTML email body, for custom bodies that give
 * only `html`. It keeps the words, line structure and link targets. It is no HTML renderer,
 * so tables become lines, CSS is ignored, and only the common named entities are decoded.
 *
 * The scan works with `indexOf` and no backtracking regular expression over the whole input,
 * so its cost grows linearly with the length of the HTML, even for malformed markup.
 */

/** Elements whose content is not shown as text. */
const HIDDEN_ELEMENTS = new Set(['head', 'script', 'style', 'template', 'title']);
/** Elements that start and end a line. */
const BLOCK_ELEMENTS = new Set([
  'address', 'article', 'aside', 'blockquote', 'dd', 'div', 'dl', 'dt', 'footer', 'form',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'main', 'nav', 'ol', 'p', 'pre',
  'section', 'table', 'tr', 'ul',
]);
const NAMED_ENTITIES = new Map<string, string>([
  ['amp', '&'], ['lt', '<'], ['gt', '>'], ['quot', '"'], ['apos', "'"], ['nbsp', ' '],
  ['copy', '©'], ['reg', '®'], ['trade', '™'], ['hellip', '…'], ['mdash', '—'], ['ndash', '–'],
  ['lsquo', '‘'], ['rsquo', '’'], ['ldquo', '“'], ['rdquo', '”'], ['euro', '€'],
  ['middot', '·'], ['bull', '•'],
]);

/**
 * Converts an HTML body to plain text.
 *
 * - Comments and hidden elements (`head`, `script`, `style`, `template`, `title`) are dropped.
 * - Block elements and `<br>` become line breaks, and list items start with "- ".
 * - A link whose target differs from its text is followed by the target in brackets.
 * - Entities are decoded.
 */
export function htmlToText(html: string): string {
  const lower = html.toLowerCase();
  const output: string[] = [];
  let link: { href: string; textStart: number } | null = null;
  let position = 0;

  while (position < html.length) {
    const tagStart = html.indexOf('<', position);
    if (tagStart < 0) {
      output.push(textOf(html.slice(position)));
      break;
    }
    output.push(textOf(html.slice(position, tagStart)));

    if (lower.startsWith('<!--', tagStart)) {
      const end = lower.indexOf('-->', tagStart + 4);
      position = end < 0 ? html.length : end + 3;
      continue;
    }
    const tagEnd = html.indexOf('>', tagStart + 1);
    if (tagEnd < 0) {
      // A '<' that opens no tag is text, as browsers show it.
      output.push(textOf(html.slice(tagStart)));
      break;
    }
    position = tagEnd + 1;

    const tag = html.slice(tagStart + 1, tagEnd);
    const closing = tag.startsWith('/');
    const name = /^\/?\s*([a-zA-Z][a-zA-Z0-9]*)/.exec(tag)?.[1]?.toLowerCase();
    if (name === undefined) {
      continue;
    }

    if (!closing && HIDDEN_ELEMENTS.has(name)) {
      const close = lower.indexOf(`</${name}`, position);
      const closeEnd = close < 0 ? -1 : lower.indexOf('>', close);
      position = closeEnd < 0 ? html.length : closeEnd + 1;
    } else if (name === 'br') {
      output.push('\n');
    } else if (name === 'li' && !closing) {
      output.push('\n- ');
    } else if (name === 'td' || name === 'th') {
      output.push(' ');
    } else if (BLOCK_ELEMENTS.has(name)) {
      output.push('\n\n');
    } else if (name === 'a' && !closing) {
      const href = hrefOf(tag);
      link = href === null ? null : { href, textStart: output.length };
    } else if (name === 'a' && closing && link !== null) {
      const text = output.slice(link.textStart).join('').trim();
      if (text !== link.href && `mailto:${text}` !== link.href) {
        output.push(` (${link.href})`);
      }
      link = null;
    }
  }

  return tidyLines(output.join(''));
}

/** Collapses source whitespace to single spaces, as HTML rendering does, and decodes entities. */
function textOf(segment: string): string {
  return decodeEntities(segment.replace(/\s+/g, ' '));
}

function hrefOf(tag: string): string | null {
  const match = /\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/i.exec(tag);
  const href = match?.[1] ?? match?.[2] ?? match?.[3];
  if (href === undefined) {
    return null;
  }
  const decoded = decodeEntities(href).trim();
  return decoded === '' || decoded.startsWith('#') ? null : decoded;
}

function decodeEntities(text: string): string {
  return text.replace(/&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,8});/g, (entity, body: string) => {
    if (body.startsWith('#')) {
      const hex = body[1] === 'x' || body[1] === 'X';
      const codePoint = Number.parseInt(body.slice(hex ? 2 : 1), hex ? 16 : 10);
      const valid = codePoint > 0 && codePoint <= 0x10ffff && (codePoint < 0xd800 || codePoint > 0xdfff);
      return valid ? String.fromCodePoint(codePoint) : '\uFFFD';
    }
    return NAMED_ENTITIES.get(body.toLowerCase()) ?? entity;
  });
}

/** Trims every line, keeps at most one blank line in a row, and trims the whole text. */
function tidyLines(text: string): string {
  return text
    .split('\n')
    .map((line) => line.replace(/\u00a0/g, ' ').replace(/ {2,}/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
