// Dates and numbers go through Intl in the SPA's current language, so that one page never
// mixes formats and a German reader sees German dates.
import i18n, { currentLanguage } from '../i18n';

const cache = new Map<string, Intl.DateTimeFormat | Intl.NumberFormat>();

function dateFormat(lng: string, style: 'dateTime' | 'date'): Intl.DateTimeFormat {
  const key = `d:${lng}:${style}`;
  let f = cache.get(key) as Intl.DateTimeFormat | undefined;
  if (!f) {
    f = new Intl.DateTimeFormat(lng, style === 'dateTime' ? { dateStyle: 'medium', timeStyle: 'short' } : { dateStyle: 'medium' });
    cache.set(key, f);
  }
  return f;
}

function formatIso(iso: string | null | undefined, style: 'dateTime' | 'date', lng: string): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateFormat(lng, style).format(d);
}

/** formatDateTime renders an instant as date and time in the current language. */
export function formatDateTime(iso: string | null | undefined, lng: string = currentLanguage()): string {
  return formatIso(iso, 'dateTime', lng);
}

/** formatDate renders the date of an instant in the current language. */
export function formatDate(iso: string | null | undefined, lng: string = currentLanguage()): string {
  return formatIso(iso, 'date', lng);
}

/** formatNumber renders a number with the current language's separators. */
export function formatNumber(n: number, lng: string = currentLanguage()): string {
  const key = `n:${lng}`;
  let f = cache.get(key) as Intl.NumberFormat | undefined;
  if (!f) {
    f = new Intl.NumberFormat(lng);
    cache.set(key, f);
  }
  return f.format(n);
}

/** formatRemaining renders a countdown such as "9:05" (minutes:seconds), or "expired". */
export function formatRemaining(ms: number): string {
  if (ms <= 0) return i18n.t('common:expired');
  const total = Math.ceil(ms / 1000);
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${m}:${String(s).padStart(2, '0')}`;
}

/** humanize turns an enum value such as ISSUING_CERTIFICATES into "Issuing certificates". */
export function humanize(value: string): string {
  const words = value.toLowerCase().replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
