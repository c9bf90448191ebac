import { Alert, Button, Group, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { useMutation, useQuery } from 'urql';

import { useUser } from '../auth/session';
import { graphql } from '../gql';
import type { CardProcessesQuery } from '../gql/graphql';
import { apiError, conflictOrderId, type ApiError } from '../lib/errors';
import { processDescription, processTitle, unavailableText } from '../lib/processes';
import { StartProcessDoc } from '../wizard/operations';

// The server decides what can be done to a card, for whom and why not (processes(card:)):
// the portal only lists it. A process the server adds shows here without a change.
const CardProcessesDoc = graphql(`
  query CardProcesses($card: ID!) {
    processes(card: $card) {
      name
      displayName
      description
      available
      unavailableReason
      runningOrder {
        id
      }
    }
  }
`);

type Process = CardProcessesQuery['processes'][number];

/**
 * shownActions are the processes worth listing for a card. One the card's state rules out
 * (unlock on an active card, lock on a locked one) is hidden: it is the opposite of one
 * that is shown, and listing it disabled on every card would only be noise; so is one the
 * option script has not enabled (hiddenUnlessEnabled). One that the
 * person could start but not now (an order is running, their account is not active, they
 * may not) is shown disabled with the reason, so they learn it exists and what stands in
 * the way.
 */
export function shownActions<P extends Pick<Process, 'name' | 'available' | 'unavailableReason' | 'runningOrder'>>(
  processes: readonly P[],
): P[] {
  return processes.filter(
    (p) => p.available || p.runningOrder || (p.unavailableReason !== 'CARD_NOT_IN_REQUIRED_STATE' && !hiddenUnlessEnabled(p)),
  );
}

/**
 * hiddenUnlessEnabled: unblock-pin-offline is off unless the option script enables it;
 * where it is off, a disabled button would only advertise what nobody here may use.
 */
function hiddenUnlessEnabled(p: Pick<Process, 'name' | 'unavailableReason'>): boolean {
  return p.name === 'unblock-pin-offline' && p.unavailableReason === 'NOT_PERMITTED';
}

/**
 * CardActions lists a card's possible actions. Starting one opens the same wizard as
 * "Get virtual smart card" (/orders/:id): Next, Cancel, the Desktop App, live progress.
 */
export function CardActions({ cardId, serial }: { cardId: string; serial: string }) {
  const [{ data, error }] = useQuery({ query: CardProcessesDoc, variables: { card: cardId }, requestPolicy: 'cache-and-network' });
  const [starting, setStarting] = useState<string>();
  const [problem, setProblem] = useState<ApiError>();
  const [, start] = useMutation(StartProcessDoc);
  const navigate = useNavigate();
  const { t } = useTranslation('cards');
  const user = useUser();
  const loadProblem = apiError(error);
  const actions = shownActions(data?.processes ?? []);
  if (!loadProblem && actions.length === 0) return null;

  const onStart = async (p: Process) => {
    setStarting(p.name);
    setProblem(undefined);
    const res = await start({ name: p.name, card: cardId });
    setStarting(undefined);
    const err = apiError(res.error);
    // An order already running is resumed, not refused: a person has one at a time.
    const id = res.data?.startProcess.id ?? conflictOrderId(err);
    if (id) navigate(`/orders/${id}`);
    else setProblem(err);
  };

  const headingId = `actions-${serial}`;
  return (
    <Stack gap="xs" component="section" aria-labelledby={headingId} data-testid="card-actions">
      <Title order={3} size="h5" id={headingId}>
        {t('actions.heading')}
      </Title>
      {loadProblem && (
        <Alert color="red" role="alert">
          {loadProblem.message}
        </Alert>
      )}
      {problem && (
        <Alert color="red" role="alert" title={t('actions.startFailed')}>
          {problem.message}
        </Alert>
      )}
      {actions.map((p) => {
        const title = processTitle(p);
        const whyId = `${headingId}-${p.name}-why`;
        return (
          <Group key={p.name} gap="sm" wrap="wrap">
            {p.runningOrder ? (
              <Button component={Link} to={`/orders/${p.runningOrder.id}`} size="xs" variant="light">
                {t('actions.continue', { title })}
              </Button>
            ) : (
              <Button
                size="xs"
                variant="light"
                disabled={!p.available}
                loading={starting === p.name}
                aria-describedby={p.available ? undefined : whyId}
                aria-label={t('actions.label', { title, serial })}
                onClick={() => void onStart(p)}
              >
                {title}
              </Button>
            )}
            <Text size="sm" c="dimmed" id={whyId}>
              {p.available || p.runningOrder ? processDescription(p) : unavailableText(p.unavailableReason, user.state, p.name)}
            </Text>
          </Group>
        );
      })}
    </Stack>
  );
}
