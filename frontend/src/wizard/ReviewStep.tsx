import { Alert, Stack, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';

import { CardDetails } from '../cards/CardDetails';
import type { WizardOrderFragment } from '../gql/graphql';

/** ReviewStep shows the card the Desktop App created, before the user finishes. */
export function ReviewStep({ order }: { order: WizardOrderFragment }) {
  const { t } = useTranslation('wizard');
  return (
    <Stack>
      <Text>{t('review.lead')}</Text>
      {order.card ? (
        <CardDetails card={order.card} />
      ) : (
        <Alert color="yellow">{t('review.notYet')}</Alert>
      )}
    </Stack>
  );
}
