import '@mantine/core/styles.css';

import { MantineProvider } from '@mantine/core';
import { StrictMode, useMemo, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { useTranslation } from 'react-i18next';
import { Provider as UrqlProvider } from 'urql';

import './i18n';
import { App } from './App';
import { createApiClient } from './api/client';
import { SessionProvider } from './auth/session';
import { cssVariablesResolver, themeWithWords } from './theme';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');

/** Themed is Mantine with the theme's words (close buttons' names) in the current language. */
function Themed({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  const theme = useMemo(() => themeWithWords(t('app.close')), [t]);
  return (
    <MantineProvider theme={theme} cssVariablesResolver={cssVariablesResolver} defaultColorScheme="auto">
      {children}
    </MantineProvider>
  );
}

createRoot(root).render(
  <StrictMode>
    <Themed>
      <UrqlProvider value={createApiClient()}>
        <SessionProvider>
          <BrowserRouter>
            <App />
          </BrowserRouter>
        </SessionProvider>
      </UrqlProvider>
    </Themed>
  </StrictMode>,
);
