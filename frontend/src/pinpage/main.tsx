// The Desktop App's PIN page: a second entry of the portal's build, served by the
// desktop bridge on 127.0.0.1 (desktop-bridge/pinpage).
import '@mantine/core/styles.css';

import { MantineProvider } from '@mantine/core';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { I18nextProvider } from 'react-i18next';

import { cssVariablesResolver, themeWithWords } from '../theme';
import { createI18n, pickLanguage } from './i18n';
import { PinPage } from './PinPage';

const root = document.getElementById('root');
if (!root) throw new Error('pinpage.html has no #root element');
const i18n = createI18n(pickLanguage(navigator.languages));
document.documentElement.lang = i18n.language;
document.title = i18n.t('title');

createRoot(root).render(
  <StrictMode>
    <MantineProvider theme={themeWithWords(i18n.t('close'))} cssVariablesResolver={cssVariablesResolver} defaultColorScheme="auto">
      <I18nextProvider i18n={i18n}>
        <PinPage />
      </I18nextProvider>
    </MantineProvider>
  </StrictMode>,
);
