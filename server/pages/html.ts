// HTML that escapes by default: every value interpolated into an `html` template is escaped
// unless it is itself SafeHtml (another template's output, or `trustedHtml` for markup gbcms
// produced, like ansi-to-html's with escaping on). Attribute values must be double-quoted.

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ENTITIES[c] ?? c);
}

/** Nothing for null, undefined and false; arrays item by item; SafeHtml as is; the rest escaped. */
function render(value: unknown): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

/** Markup gbcms generated itself and already escaped; never user text. */
export function trustedHtml(markup: string): SafeHtml {
  return new SafeHtml(markup);
}
