import { Alert, Button, Code, List, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';

/** DesktopAppHelp explains how to install and start the Desktop App when it does not answer. */
export function DesktopAppHelp({ onNewLink, busy }: { onNewLink: () => void; busy: boolean }) {
  const { t } = useTranslation('wizard');
  // The commands are typed as they are, in every language.
  return (
    <Alert color="yellow" title={t('help.title')} data-testid="desktop-app-help">
      <Text size="sm" mb="xs">
        {t('help.lead')}
      </Text>
      <List size="sm" type="ordered" spacing={4}>
        <List.Item>
          {t('help.install')} <Code>vscard-bridge install</Code>
        </List.Item>
        <List.Item>
          {t('help.start')} <Code>vscard-bridge serve</Code>
        </List.Item>
        <List.Item>{t('help.again')}</List.Item>
      </List>
      <Button mt="sm" variant="light" color="yellow" onClick={onNewLink} loading={busy}>
        {t('dialog.newLink')}
      </Button>
    </Alert>
  );
}
