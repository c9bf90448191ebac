import { Alert, Stack, Text } from '@mantine/core';

import { CardDetails } from '../cards/CardDetails';
import type { WizardOrderFragment } from '../gql/graphql';

/** ReviewStep shows the card the Desktop App created, before the user finishes. */
export function ReviewStep({ order }: { order: WizardOrderFragment }) {
  return (
    <Stack>
      <Text>Your card is on this computer. Check its details, then click Next to finish.</Text>
      {order.card ? (
        <CardDetails card={order.card} headingLevel={3} />
      ) : (
        <Alert color="yellow">The card's details are not available yet.</Alert>
      )}
    </Stack>
  );
}
