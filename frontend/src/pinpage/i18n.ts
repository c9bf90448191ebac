// The PIN page's words: i18next with the catalogues of namespace "pinpage", the
// language from the browser (English when it has none of ours).
import i18next, { type i18n } from 'i18next';
import { initReactI18next } from 'react-i18next';

import de from '../i18n/locales/de/pinpage.json';
import en from '../i18n/locales/en/pinpage.json';

export const resources = { en: { pinpage: en }, de: { pinpage: de } } as const;
export const languages = Object.keys(resources) as (keyof typeof resources)[];

export function pickLanguage(wanted: readonly string[]): string {
  for (const w of wanted) {
    const base = w.toLowerCase().split('-')[0] ?? '';
    if ((languages as string[]).includes(base)) return base;
  }
  return 'en';
}

export function createI18n(lng: string): i18n {
  const inst = i18next.createInstance();
  void inst.use(initReactI18next).init({
    lng,
    fallbackLng: false,
    ns: ['pinpage'],
    defaultNS: 'pinpage',
    resources,
    initAsync: false,
    interpolation: { escapeValue: false },
  });
  return inst;
}
