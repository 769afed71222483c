// Durations and sizes as written in pipeline files. Shared by the linter (to reject bad
// values with a position) and the compiler (to turn good ones into numbers).

const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** `90s`, `10m`, `1h30m` -> milliseconds; undefined when the text is not such a duration. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match || text.trim() === '') return undefined;
  const [, h = '0', m = '0', s = '0'] = match;
  const ms = ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000;
  return ms > 0 ? ms : undefined;
}

const SIZE = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)$/i;
const SIZE_POWERS: Record<string, number> = { '': 0, k: 1, m: 2, g: 3, t: 4 };

/** `512m`, `1g`, `1.5GiB`, or a bare byte count -> bytes (binary units, as Docker reads them). */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  const match = SIZE.exec(value.trim());
  if (!match) return undefined;
  const [, amount = '', unit = '', suffix = ''] = match;
  if (unit === '' && suffix.toLowerCase().startsWith('i')) return undefined;
  const bytes = Math.round(Number(amount) * 1024 ** (SIZE_POWERS[unit.toLowerCase()] ?? 0));
  return bytes > 0 && Number.isSafeInteger(bytes) ? bytes : undefined;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${Math.round(s % 60)}s`;
  return `${Math.floor(m / 60)}h${m % 60}m`;
}
