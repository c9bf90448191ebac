/**
 * Package i18n sets up the SPA's languages: i18next with react-i18next, the language taken
 * from the browser (navigator) unless the person picked one in the header, which is kept in
 * localStorage under "vscard.language". <html lang> follows the current language so that
 * screen readers and hyphenation use the right one.
 *
 * Catalogues are JSON files in locales/<language>/<namespace>.json, picked up by the glob
 * below: to add a namespace (say "pinpage"), add locales/en/pinpage.json and
 * locales/de/pinpage.json with the same keys, and use it through useTranslation with that
 * namespace, or with keys prefixed "pinpage:". Nothing else needs registering; catalogues.test.ts fails when a key is in
 * one language and not the other, and when a key used in the source is missing in English.
 * To add a language, add its folder with every namespace and list it in LANGUAGES.
 *
 * Namespaces listed in LAZY_NAMESPACES (the audit log's sentences, the operator console's and the administration's words) are left out of the main
 * bundle: i18next loads them through resources-to-backend when a component first asks for
 * them (useTranslation suspends until then), in each language as it is picked.
 */
import i18n from 'i18next';
import LanguageDetector from 'i18next-browser-languagedetector';
import resourcesToBackend from 'i18next-resources-to-backend';
import { initReactI18next } from 'react-i18next';

export const LANGUAGES = ['en', 'de'] as const;
export type Language = (typeof LANGUAGES)[number];

/** languageNames are shown in the switcher, each in its own language. */
export const languageNames: Record<Language, string> = { en: 'English', de: 'Deutsch' };

export const DEFAULT_NS = 'common';
export const STORAGE_KEY = 'vscard.language';

type Catalogue = Record<string, unknown>;

/** LAZY_NAMESPACES are loaded on demand, each its own chunk per language. */
export const LAZY_NAMESPACES = ['audit', 'operator', 'admin'] as const;

const files = import.meta.glob<Catalogue>(['./locales/*/*.json', '!./locales/*/audit.json', '!./locales/*/operator.json', '!./locales/*/admin.json'], {
  eager: true,
  import: 'default',
});
const lazyFiles = import.meta.glob<Catalogue>(['./locales/*/audit.json', './locales/*/operator.json', './locales/*/admin.json'], {
  import: 'default',
});

/** loadLazy fetches one lazily loaded catalogue (resources-to-backend calls it). */
export function loadLazy(lng: string, ns: string): Promise<Catalogue> {
  const load = lazyFiles[`./locales/${lng}/${ns}.json`];
  return load ? load() : Promise.reject(new Error(`no catalogue ${lng}/${ns}`));
}

/** resources is every catalogue by language and namespace, read from locales/. */
export const resources: Record<string, Record<string, Catalogue>> = {};
for (const [path, catalogue] of Object.entries(files)) {
  const m = /\.\/locales\/([^/]+)\/([^/]+)\.json$/.exec(path);
  if (!m) continue;
  const [, lng, ns] = m as unknown as [string, string, string];
  (resources[lng] ??= {})[ns] = catalogue;
}

export const namespaces = Object.keys(resources.en ?? {});

function setHtmlLang(lng: string) {
  if (typeof document !== 'undefined') document.documentElement.lang = lng;
}

i18n.on('languageChanged', setHtmlLang);

void i18n
  .use(LanguageDetector)
  .use(initReactI18next)
  .use(resourcesToBackend(loadLazy))
  .init({
    resources,
    // The bundled catalogues are there at once; the lazy namespaces come through the backend.
    partialBundledLanguages: true,
    ns: [...namespaces], // a copy: i18next adds the namespaces it loads later to this list
    defaultNS: DEFAULT_NS,
    fallbackLng: 'en',
    supportedLngs: [...LANGUAGES],
    // "de-DE" from the browser becomes "de".
    nonExplicitSupportedLngs: true,
    load: 'languageOnly',
    interpolation: { escapeValue: false }, // React escapes already
    detection: {
      order: ['localStorage', 'navigator'],
      lookupLocalStorage: STORAGE_KEY,
      caches: ['localStorage'],
    },
    returnNull: false,
  });

setHtmlLang(i18n.resolvedLanguage ?? 'en');

/** currentLanguage is the language the SPA speaks now (one of LANGUAGES). */
export function currentLanguage(): Language {
  const l = i18n.resolvedLanguage ?? i18n.language ?? 'en';
  return (LANGUAGES as readonly string[]).includes(l) ? (l as Language) : 'en';
}

export default i18n;
