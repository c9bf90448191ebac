import { Alert, Button, Container } from '@mantine/core';
import { useTranslation } from 'react-i18next';

export function ErrorPage({ message }: { message: string }) {
  const { t } = useTranslation('pages');
  return (
    <Container size="sm" py="xl">
      <Alert color="red" title={t('error.title')} role="alert">
        {message}
        <Button mt="md" variant="light" color="red" onClick={() => window.location.reload()}>
          {t('error.retry')}
        </Button>
      </Alert>
    </Container>
  );
}
