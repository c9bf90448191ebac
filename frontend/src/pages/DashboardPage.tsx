import { Alert, Button, Card, Group, SimpleGrid, Skeleton, Stack, Text, Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useQuery } from 'urql';

import { useUser } from '../auth/session';
import { graphql } from '../gql';
import type { DashboardQuery } from '../gql/graphql';
import { apiError } from '../lib/errors';
import { processDescription, processTitle, unavailableText } from '../lib/processes';
import { StateBadge } from '../lib/StateBadge';
import { Tasks } from './Tasks';

// Everything the start page shows, in one request.
const DashboardQueryDoc = graphql(`
  query Dashboard {
    processes {
      name
      displayName
      description
      available
      unavailableReason
      runningOrder {
        id
        state
        createdAt
      }
    }
    tasks {
      id
      kind
      expiresAt
      daysLeft
      card {
        id
        serial
      }
      process {
        name
        available
        unavailableReason
        runningOrder {
          id
        }
      }
    }
    me {
      id
      # Only cards in use count: a deleted, revoked or replaced card is history.
      cards(first: 1, where: { stateNotIn: [INACTIVE, REVOKED] }) {
        totalCount
      }
    }
  }
`);

type Process = DashboardQuery['processes'][number];

/** startPath is the route that starts a process in this portal, if it has one. */
export function startPath(processName: string): string | undefined {
  return processName === 'get-virtual-smart-card' ? '/get-virtual-smart-card' : undefined;
}

function ProcessTile({ process }: { process: Process }) {
  const { t } = useTranslation('pages');
  const user = useUser();
  const start = startPath(process.name);
  const title = processTitle(process);
  const running = process.runningOrder;
  const headingId = `process-${process.name}`;
  return (
    <Card withBorder shadow="sm" padding="lg" component="section" aria-labelledby={headingId}>
      <Stack gap="sm" h="100%">
        <Title order={2} size="h3" id={headingId}>
          {title}
        </Title>
        <Text size="sm" c="dimmed" style={{ flexGrow: 1 }}>
          {processDescription(process)}
        </Text>
        {running ? (
          <>
            <Group gap="xs">
              <Text size="sm">{t('dashboard.inProgress')}</Text>
              <StateBadge kind="order" state={running.state} />
            </Group>
            <Button component={Link} to={`/orders/${running.id}`}>
              {t('dashboard.continue')}
            </Button>
          </>
        ) : process.available && start ? (
          <Button component={Link} to={start}>
            {title}
          </Button>
        ) : (
          <>
            <Button disabled aria-describedby={`${headingId}-why`}>
              {title}
            </Button>
            <Alert color="orange" variant="light" id={`${headingId}-why`}>
              {process.available ? unavailableText(null) : unavailableText(process.unavailableReason, user.state)}
            </Alert>
          </>
        )}
      </Stack>
    </Card>
  );
}

export function DashboardPage() {
  const { t } = useTranslation('pages');
  const user = useUser();
  const [{ data, fetching, error }] = useQuery({ query: DashboardQueryDoc, requestPolicy: 'cache-and-network' });
  const problem = apiError(error);
  const cardCount = data?.me.cards.totalCount ?? 0;
  return (
    <Stack>
      <Title order={1}>{t('dashboard.welcome', { name: user.displayName || user.username })}</Title>
      {problem && (
        <Alert color="red" title={t('dashboard.loadFailed')} role="alert">
          {problem.message}
        </Alert>
      )}
      {data && <Tasks tasks={data.tasks} />}
      {fetching && !data ? (
        <Skeleton h={180} />
      ) : (
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
          {data?.processes.map((p) => <ProcessTile key={p.name} process={p} />)}
          <Card withBorder shadow="sm" padding="lg" component="section" aria-labelledby="tile-cards">
            <Stack gap="sm" h="100%">
              <Title order={2} size="h3" id="tile-cards">
                {t('dashboard.cards')}
              </Title>
              <Text size="sm" c="dimmed" style={{ flexGrow: 1 }}>
                {cardCount === 0 ? t('dashboard.noCards') : t('dashboard.cardCount', { count: cardCount })}
              </Text>
              <Button component={Link} to="/cards" variant="light">
                {t('dashboard.showCards')}
              </Button>
            </Stack>
          </Card>
        </SimpleGrid>
      )}
    </Stack>
  );
}
