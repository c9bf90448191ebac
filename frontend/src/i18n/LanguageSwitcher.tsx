import { Select } from '@mantine/core';
import { useTranslation } from 'react-i18next';

import { LANGUAGES, languageNames, type Language } from '.';

/** LanguageSwitcher lets a person pick the SPA's language; i18next keeps it in localStorage. */
export function LanguageSwitcher() {
  const { t, i18n } = useTranslation();
  const value = (LANGUAGES as readonly string[]).includes(i18n.resolvedLanguage ?? '') ? i18n.resolvedLanguage : 'en';
  return (
    <Select
      aria-label={t('language.label')}
      data-testid="language-switcher"
      size="xs"
      w={110}
      allowDeselect={false}
      data={LANGUAGES.map((l: Language) => ({ value: l, label: languageNames[l] }))}
      value={value ?? 'en'}
      onChange={(v) => {
        if (v) void i18n.changeLanguage(v);
      }}
    />
  );
}
