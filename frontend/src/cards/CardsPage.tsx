import { Alert, Button, Collapse, Group, Skeleton, Stack, Text, Title } from '@mantine/core';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useQuery, useSubscription } from 'urql';

import { graphql } from '../gql';
import type { CardDetailsFragment, CardsRunningOrderSubscription } from '../gql/graphql';
import { nodesOf } from '../lib/connection';
import { apiError } from '../lib/errors';
import { StateBadge } from '../lib/StateBadge';
import { newerOrder } from '../wizard/orderState';
import { pinStateCode, pinStateKey } from './pinState';
import { CardActions } from './CardActions';
import { CardDetails } from './CardDetails';
import { forgetStarted, readStarted } from './CardActions';
import { startedNotice } from './notice';

// The signed-in user's own cards (through `me`, so an administrator also sees only theirs
// here) and the running order, if any, whose progress changes them.
const MyCardsDoc = graphql(`
  query MyCards {
    me {
      id
      cards(first: 50, orderBy: { field: CREATED_AT, direction: DESC }) {
        totalCount
        edges {
          node {
            ...CardDetails
          }
        }
      }
    }
    processes {
      name
      runningOrder {
        id
        state
      }
    }
  }
`);

const RunningOrderDoc = graphql(`
  subscription CardsRunningOrder($id: ID!) {
    orderUpdated(id: $id) {
      id
      state
      version
    }
  }
`);

/**
 * RunningOrderWatcher keeps the list live in the simplest honest way: cards only change
 * while an order of the user runs, so it follows that order's orderUpdated events and
 * reloads the cards on each new version (including the last, when the order ends); an
 * event that repeats or predates the newest one seen changes nothing. Changes made
 * elsewhere while no order runs (an administrator revoking) show on the next visit.
 */
function RunningOrderWatcher({ orderId, onChange }: { orderId: string; onChange: () => void }) {
  const { t } = useTranslation('cards');
  const [{ data }] = useSubscription({ query: RunningOrderDoc, variables: { id: orderId } });
  const [latest, setLatest] = useState<CardsRunningOrderSubscription['orderUpdated']>();
  const event = data?.orderUpdated;
  useEffect(() => {
    if (event) setLatest((cur) => newerOrder(cur, event));
  }, [event]);
  const version = latest?.version;
  useEffect(() => {
    if (version !== undefined) onChange();
  }, [version, onChange]);
  return latest ? (
    <Group gap="xs">
      <Text size="sm">{t('page.running')}</Text>
      <StateBadge kind="card" state={latest.state} />
      <Button component={Link} to={`/orders/${orderId}`} size="xs" variant="light">
        {t('page.continue')}
      </Button>
    </Group>
  ) : null;
}

/**
 * PinStateAlert says when the Desktop App last found the card's PIN blocked: it can be
 * reset (Reset PIN, among the card's actions), unless its PUK is blocked too, when only a
 * new card helps (Replace). The words come from the code (pinState.ts).
 */
export function PinStateAlert({ card }: { card: CardDetailsFragment }) {
  const { t } = useTranslation();
  const code = pinStateCode(card);
  if (!code) return null;
  return (
    <Alert color={code === 'PUK_BLOCKED' ? 'red' : 'orange'} role="status" title={t(pinStateKey(code, 'title'))} data-testid="pin-blocked" data-code={code}>
      {t(pinStateKey(code, 'body'))}
    </Alert>
  );
}

const CardUpdatedDoc = graphql(`
  subscription CardUpdated($serial: String!) {
    cardUpdated(serial: $serial) {
      serial
      state
      remove
      pinState {
        triesLeft
        blocked
        pukBlocked
      }
    }
  }
`);

/**
 * CardWatcher follows the card's cardUpdated events (a revoke or lock by an operator, a
 * PIN the Desktop App found blocked) and reloads the cards when an event says something
 * the page does not show yet.
 */
function CardWatcher({ card, onChange }: { card: CardDetailsFragment; onChange: () => void }) {
  const [{ data }] = useSubscription({ query: CardUpdatedDoc, variables: { serial: card.serial } });
  const ev = data?.cardUpdated;
  const shown = card.pinState;
  const differs =
    !!ev &&
    (ev.state !== card.state ||
      (ev.pinState?.triesLeft ?? null) !== (shown?.triesLeft ?? null) ||
      !!ev.pinState?.blocked !== !!shown?.blocked ||
      !!ev.pinState?.pukBlocked !== !!shown?.pukBlocked);
  useEffect(() => {
    if (differs) onChange();
  }, [differs, onChange]);
  return null;
}

/** ENDED are the states of a card that no longer works: it is kept for the record only. */
const ENDED: readonly string[] = ['INACTIVE', 'REVOKED'];

/** isEnded reports whether a card is one of the ended ones the Cards page folds away. */
export function isEnded(card: { state: string }): boolean {
  return ENDED.includes(card.state);
}

function CardEntry({ card, reload, onDone }: { card: CardDetailsFragment; reload: () => void; onDone?: (notice: string) => void }) {
  const { t } = useTranslation('cards');
  return (
    <Stack gap="xs">
      <CardDetails card={card} />
      {(card.state === 'ACTIVE' || card.state === 'LOCKED') && <CardWatcher card={card} onChange={reload} />}
      <PinStateAlert card={card} />
      <CardActions
        card={card}
        onRevoked={
          onDone &&
          (() => {
            onDone(t('notice.revoked', { serial: card.serial }));
            reload();
          })
        }
      />
    </Stack>
  );
}

const StartedOrderDoc = graphql(`
  query CardsStartedOrder($id: ID!) {
    order(id: $id) {
      id
      state
      process
    }
  }
`);

/**
 * StartedNotice confirms, in words and to screen readers (role=status), the process the
 * person started from a card's menu in this tab: done ("Card 0042 is locked."), not
 * completed, or still under way with a way back to it. Once the order has ended it is
 * said once and forgotten; runningId changes when the page sees the order end.
 */
function StartedNotice({ runningId }: { runningId?: string }) {
  const { t } = useTranslation('cards');
  const [started] = useState(readStarted);
  const [dismissed, setDismissed] = useState(false);
  const [{ data, error }, refetch] = useQuery({
    query: StartedOrderDoc,
    variables: { id: started?.orderId ?? '' },
    pause: !started,
    requestPolicy: 'network-only',
  });
  useEffect(() => {
    if (started) refetch({ requestPolicy: 'network-only' });
  }, [runningId, started, refetch]);
  const order = data?.order;
  const notice = started && order ? startedNotice(started, order.state) : undefined;
  const gone = !!error;
  useEffect(() => {
    if (notice?.final || gone) forgetStarted();
  }, [notice?.final, gone]);
  if (!notice || dismissed) return null;
  return (
    <Alert
      color={notice.color}
      role="status"
      withCloseButton
      closeButtonLabel={t('notice.dismiss')}
      onClose={() => {
        forgetStarted();
        setDismissed(true);
      }}
      data-testid="card-notice"
    >
      {notice.text}
      {!notice.final && order && (
        <>
          {' '}
          <Button component={Link} to={`/orders/${order.id}`} size="compact-xs" variant="light" ml="xs">
            {t('page.continue')}
          </Button>
        </>
      )}
    </Alert>
  );
}

export function CardsPage() {
  const [{ data, fetching, error }, refetch] = useQuery({ query: MyCardsDoc, requestPolicy: 'cache-and-network' });
  const problem = apiError(error);
  const cards = nodesOf(data?.me.cards);
  const running = data?.processes.find((p) => p.runningOrder)?.runningOrder;
  const reload = useCallback(() => refetch({ requestPolicy: 'network-only' }), [refetch]);
  // Ended cards (deleted, revoked, replaced) are folded away: they are history, and the
  // cards in use are what the person came for. A card that ends while the page is open
  // (revoked here) stays where it was until the next visit, so the person sees what
  // became of it. (The set only grows, so recording into it while rendering is harmless.)
  const seenInUse = useRef(new Set<string>());
  for (const c of cards) if (!isEnded(c)) seenInUse.current.add(c.id);
  const inUse = cards.filter((c) => !isEnded(c) || seenInUse.current.has(c.id));
  const ended = cards.filter((c) => isEnded(c) && !seenInUse.current.has(c.id));
  const [showEnded, setShowEnded] = useState(false);
  // What the person just did, confirmed in words until they dismiss it or leave the page.
  const [notice, setNotice] = useState<string>();
  const { t } = useTranslation('cards');

  return (
    <Stack>
      <Title order={1}>{t('page.title')}</Title>
      {notice && (
        <Alert color="green" role="status" withCloseButton closeButtonLabel={t('notice.dismiss')} onClose={() => setNotice(undefined)} data-testid="card-notice">
          {notice}
        </Alert>
      )}
      <StartedNotice runningId={running?.id} />
      {running && <RunningOrderWatcher key={running.id} orderId={running.id} onChange={reload} />}
      {problem && (
        <Alert color="red" role="alert" title={t('page.loadFailed')}>
          {problem.message}
        </Alert>
      )}
      {fetching && !data ? (
        <Skeleton h={200} />
      ) : cards.length === 0 ? (
        <Alert color="gray" title={t('page.noCards')} data-testid="no-cards">
          <Text size="sm" mb="sm">
            {t('page.noCardsBody')}
          </Text>
          <Button component={Link} to="/" size="xs">
            {t('page.getCard')}
          </Button>
        </Alert>
      ) : (
        <>
          {inUse.map((card) => (
            <CardEntry key={card.id} card={card} reload={reload} onDone={setNotice} />
          ))}
          {inUse.length === 0 && (
            <Alert color="gray" title={t('page.noneInUse')} data-testid="no-cards-in-use">
              <Button component={Link} to="/" size="xs">
                {t('page.getCard')}
              </Button>
            </Alert>
          )}
          {ended.length > 0 && (
            <Stack gap="xs">
              <Button
                variant="subtle"
                size="xs"
                w="fit-content"
                aria-expanded={showEnded}
                aria-controls="ended-cards"
                onClick={() => setShowEnded((v) => !v)}
              >
                {showEnded ? t('page.hideEnded', { count: ended.length }) : t('page.showEnded', { count: ended.length })}
              </Button>
              <Collapse expanded={showEnded} id="ended-cards" data-testid="ended-cards">
                <Stack>
                  {ended.map((card) => (
                    <CardEntry key={card.id} card={card} reload={reload} />
                  ))}
                </Stack>
              </Collapse>
            </Stack>
          )}
        </>
      )}
    </Stack>
  );
}
