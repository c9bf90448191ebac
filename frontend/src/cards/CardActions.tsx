import { Alert, Button, Group, Menu, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { useMutation, useQuery } from 'urql';

import { useUser } from '../auth/session';
import { inMain } from '../layout/AppLayout';
import { graphql } from '../gql';
import type { CardDetailsFragment, CardProcessesQuery } from '../gql/graphql';
import { apiError, conflictOrderId, type ApiError } from '../lib/errors';
import { processTitle, unavailableText } from '../lib/processes';
import { StartProcessDoc } from '../wizard/operations';
import { RevokeCard } from './RevokeCard';

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

/** PENDING_KEY is where this tab remembers the process the person started from a card's menu. */
const PENDING_KEY = 'vscard.cards.started';

/** Started is a process the person started from a card's menu: the Cards page says how it ended. */
export interface Started {
  orderId: string;
  process: string;
  serial: string;
}

/** rememberStarted keeps what the person started for the Cards page to confirm when they come back. */
function rememberStarted(s: Started) {
  try {
    sessionStorage.setItem(PENDING_KEY, JSON.stringify(s));
  } catch {
    // Storage refused (private mode): the wizard's own last page still says what happened.
  }
}

/** takeStarted reads what the person started; forget removes it once it has been confirmed. */
export function readStarted(): Started | undefined {
  try {
    const raw = sessionStorage.getItem(PENDING_KEY);
    const v = raw ? (JSON.parse(raw) as Partial<Started>) : undefined;
    return v?.orderId && v.process && v.serial ? (v as Started) : undefined;
  } catch {
    return undefined;
  }
}

export function forgetStarted() {
  try {
    sessionStorage.removeItem(PENDING_KEY);
  } catch {
    // nothing to forget
  }
}

/**
 * CardActions is one menu per card ("Actions for card 0042"): the processes the server
 * offers for it, and Revoke. Starting a process opens the same wizard as "Get virtual smart
 * card" (/orders/:id): Next, Cancel, the Desktop App, live progress; the tab remembers it,
 * so the Cards page can say how it ended when the person comes back. One menu instead of a
 * row of buttons per card keeps a card readable (and a phone's screen), and keyboard users
 * reach every action from one button (Enter, arrows, Escape).
 */
export function CardActions({ card, onRevoked }: { card: Pick<CardDetailsFragment, 'id' | 'serial' | 'state'>; onRevoked?: () => void }) {
  const { id: cardId, serial } = card;
  const [{ data, error }] = useQuery({ query: CardProcessesDoc, variables: { card: cardId }, requestPolicy: 'cache-and-network' });
  const [starting, setStarting] = useState<string>();
  const [problem, setProblem] = useState<ApiError>();
  const [revoking, setRevoking] = useState(false);
  const [, start] = useMutation(StartProcessDoc);
  const navigate = useNavigate();
  const { t } = useTranslation('cards');
  const user = useUser();
  const loadProblem = apiError(error);
  const actions = shownActions(data?.processes ?? []);
  const revocable = !!onRevoked && (card.state === 'ACTIVE' || card.state === 'LOCKED');
  if (!loadProblem && actions.length === 0 && !revocable) return null;

  const onStart = async (p: Process) => {
    setStarting(p.name);
    setProblem(undefined);
    const res = await start({ name: p.name, card: cardId });
    setStarting(undefined);
    const err = apiError(res.error);
    // An order already running is resumed, not refused: a person has one at a time.
    const id = res.data?.startProcess.id ?? conflictOrderId(err);
    if (id) {
      if (res.data) rememberStarted({ orderId: id, process: p.name, serial });
      navigate(`/orders/${id}`);
    } else setProblem(err);
  };

  const menuId = `actions-${serial}`;
  return (
    <Stack gap="xs" data-testid="card-actions">
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
      <Group justify="flex-end">
        <Menu position="bottom-end" withinPortal portalProps={inMain} shadow="md" width={300} id={menuId} withInitialFocusPlaceholder={false}>
          <Menu.Target>
            <Button size="xs" variant="light" loading={starting !== undefined} rightSection={<span aria-hidden="true">▾</span>}>
              {t('actions.menu', { serial })}
            </Button>
          </Menu.Target>
          <Menu.Dropdown>
            {actions.map((p) => {
              const title = processTitle(p);
              const whyId = `${menuId}-${p.name}-why`;
              if (p.runningOrder)
                return (
                  <Menu.Item key={p.name} component={Link} to={`/orders/${p.runningOrder.id}`}>
                    {t('actions.continue', { title })}
                  </Menu.Item>
                );
              return (
                <Menu.Item key={p.name} disabled={!p.available} aria-describedby={p.available ? undefined : whyId} onClick={() => void onStart(p)}>
                  <Text size="sm">{title}</Text>
                  {!p.available && (
                    <Text size="xs" c="dimmed" id={whyId}>
                      {unavailableText(p.unavailableReason, user.state, p.name)}
                    </Text>
                  )}
                </Menu.Item>
              );
            })}
            {revocable && <Menu.Item onClick={() => setRevoking(true)}>{t('revoke.menu')}…</Menu.Item>}
          </Menu.Dropdown>
        </Menu>
      </Group>
      {revocable && (
        <RevokeCard
          serial={serial}
          opened={revoking}
          onClose={() => setRevoking(false)}
          onRevoked={() => {
            setRevoking(false);
            onRevoked?.();
          }}
        />
      )}
    </Stack>
  );
}
