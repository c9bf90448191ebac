import { describe, expect, it } from 'vitest';

import i18n, { DEFAULT_NS, LANGUAGES, LAZY_NAMESPACES, namespaces as bundled } from '.';

// Every catalogue, the lazily loaded ones too (the SPA's own map holds only the bundled ones);
// the lazy ones are added to i18n so that the key scan below finds their keys.
const resources: Record<string, Record<string, Record<string, unknown>>> = {};
for (const [path, catalogue] of Object.entries(
  import.meta.glob<Record<string, unknown>>('./locales/*/*.json', { eager: true, import: 'default' }),
)) {
  const [, lng = '', ns = ''] = /\.\/locales\/([^/]+)\/([^/]+)\.json$/.exec(path) ?? [];
  (resources[lng] ??= {})[ns] = catalogue;
  if ((LAZY_NAMESPACES as readonly string[]).includes(ns)) i18n.addResourceBundle(lng, ns, catalogue, true, true);
}
const namespaces = Object.keys(resources.en ?? {});

/** leafKeys lists a catalogue's keys as dotted paths, plural forms folded to their base key. */
function leafKeys(obj: unknown, prefix = ''): string[] {
  if (typeof obj !== 'object' || obj === null) return [prefix];
  return Object.entries(obj).flatMap(([k, v]) => leafKeys(v, prefix ? `${prefix}.${k}` : k));
}

const PLURAL = /_(zero|one|two|few|many|other)$/;

describe('catalogues', () => {
  it('ok/English has the namespaces the SPA uses', () => {
    expect(namespaces).toContain('common');
    expect(namespaces).toContain('errors');
    expect(namespaces).toContain('audit');
  });

  it('ok/the lazily loaded namespaces stay out of the main bundle', () => {
    for (const ns of LAZY_NAMESPACES) expect(bundled).not.toContain(ns);
  });

  // A key in one language only shows the other language's words (or the key) to a person.
  for (const ns of namespaces) {
    for (const lng of LANGUAGES) {
      it(`ok/${lng} has exactly the keys of every other language in ${ns}`, () => {
        const mine = new Set(leafKeys(resources[lng]?.[ns]));
        for (const other of LANGUAGES) {
          if (other === lng) continue;
          const theirs = leafKeys(resources[other]?.[ns]);
          // Plural forms differ by language; the base key must exist in both.
          const base = (keys: Iterable<string>) => new Set([...keys].map((k) => k.replace(PLURAL, '')));
          const missing = [...base(theirs)].filter((k) => !base(mine).has(k));
          expect(missing, `${ns} keys of ${other} missing in ${lng}`).toEqual([]);
        }
      });
    }
  }

  it('ok/every word is non-empty', () => {
    for (const lng of LANGUAGES) {
      for (const ns of namespaces) {
        const flat = leafKeys(resources[lng]?.[ns]).filter((k) => {
          const v = k.split('.').reduce<unknown>((o, p) => (o as Record<string, unknown>)?.[p], resources[lng]?.[ns]);
          return typeof v !== 'string' || v.trim() === '';
        });
        expect(flat, `${lng}/${ns}`).toEqual([]);
      }
    }
  });
});

// Every .ts and .tsx source of the SPA as text (generated code and tests left out).
const sourceFiles = import.meta.glob<string>(['../**/*.{ts,tsx}', '!../gql/**', '!../**/*.test.{ts,tsx}'], {
  query: '?raw',
  import: 'default',
  eager: true,
});

describe('keys used in the source', () => {
  it('ok/every t() key with a literal name is in the English catalogue', () => {
    const missing: string[] = [];
    expect(Object.keys(sourceFiles).length).toBeGreaterThan(20);
    for (const [file, text] of Object.entries(sourceFiles)) {
      // The namespace a file's plain keys belong to is the first one useTranslation names.
      // The Desktop App's PIN page is an app of its own whose default namespace is pinpage.
      let fileNs =
        /useTranslation\(\s*(?:\[\s*)?'([^']+)'/.exec(text)?.[1] ?? (file.includes('/pinpage/') ? 'pinpage' : DEFAULT_NS);
      // A file that works with i18n.getFixedT(lng, 'ns', 'prefix') has its keys below that prefix
      // (getFixedT(lng, 'ns'): in that namespace, with none); the one with a prefix counts first.
      const calls = [...text.matchAll(/getFixedT\(\s*[^,()]+,\s*'([^']+)'(?:,\s*'([^']+)')?\s*\)/g)];
      const fixed = calls.find((c) => c[2]) ?? calls[0];
      let prefix = '';
      if (fixed) [, fileNs = DEFAULT_NS, prefix = ''] = fixed;
      for (const m of text.matchAll(/\bt\(\s*['"`]([^'"`$]+)['"`]/g)) {
        const raw = m[1] ?? '';
        const [ns, key] = raw.includes(':') ? (raw.split(':', 2) as [string, string]) : [fileNs, prefix ? `${prefix}.${raw}` : raw];
        if (!i18n.exists(key, { ns, lng: 'en' }) && !i18n.exists(`${key}_other`, { ns, lng: 'en' })) {
          missing.push(`${file}: ${ns}:${key}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('ok/the scan sees the keys (a key missing from English is found)', () => {
    expect(i18n.exists('nav.start', { ns: 'common', lng: 'en' })).toBe(true);
    expect(i18n.exists('nav.no-such-key', { ns: 'common', lng: 'en' })).toBe(false);
  });
});
