/**
 * The few DOM calls the web chat's markdown.js makes, as plain objects, and the nodes as HTML-like
 * text, so its renderer runs under Node (the browser tests cover the real DOM).
 */
type Child = FakeElement | string;

class FakeElement {
  children: Child[] = [];
  dataset: Record<string, string> = {};
  className = '';
  href = '';
  start?: number;
  rel = '';
  target = '';
  constructor(readonly tag: string) {}
  get childNodes(): Child[] {
    return this.children;
  }
  get lastChild(): Child | undefined {
    return this.children.at(-1);
  }
  set textContent(text: string) {
    this.children = [text];
  }
  append(...nodes: Child[]): void {
    this.children.push(...nodes);
  }
  appendChild(node: FakeElement): FakeElement {
    this.children.push(node);
    return node;
  }
}

/** Install a global `document` that makes FakeElements. */
export function installFakeDocument(): void {
  (globalThis as { document?: unknown }).document = {
    createElement: (tag: string) => new FakeElement(tag),
    createDocumentFragment: () => new FakeElement('#fragment'),
  };
}

/** A node tree as HTML-like text (text escaped; href, class, start and data-lang shown). */
export function html(node: unknown): string {
  if (typeof node === 'string') return node.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const element = node as FakeElement;
  const inner = element.children.map(html).join('');
  if (element.tag === '#fragment') return inner;
  const attributes = [
    element.href && ` href="${element.href}"`,
    element.className && ` class="${element.className}"`,
    element.start !== undefined && ` start="${element.start}"`,
    element.dataset.lang && ` data-lang="${element.dataset.lang}"`,
  ].filter(Boolean);
  return `<${element.tag}${attributes.join('')}>${inner}</${element.tag}>`;
}
