import { Button, Card, Center, List, Stack, Text, Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { useLocation } from 'react-router';

import { loginUrl } from '../auth/session';

export function LandingPage() {
  const { t } = useTranslation('pages');
  const location = useLocation();
  const returnTo = location.pathname + location.search;
  return (
    <Center py="xl">
      <Card withBorder shadow="sm" padding="xl" maw={520} w="100%">
        <Stack>
          <Title order={1}>{t('landing.title')}</Title>
          <Text>{t('landing.intro')}</Text>
          <List size="sm">
            <List.Item>{t('landing.step1')}</List.Item>
            <List.Item>{t('landing.step2')}</List.Item>
            <List.Item>{t('landing.step3')}</List.Item>
          </List>
          <Button component="a" href={loginUrl(returnTo)} size="md">
            {t('landing.signIn')}
          </Button>
        </Stack>
      </Card>
    </Center>
  );
}
