import { Alert, Button, Group, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { useMutation } from 'urql';

import { useUser } from '../auth/session';
import type { DashboardQuery } from '../gql/graphql';
import i18n from '../i18n';
import { apiError, conflictOrderId, type ApiError } from '../lib/errors';
import { unavailableText } from '../lib/processes';
import { StartProcessDoc } from '../wizard/operations';

type Task = DashboardQuery['tasks'][number];

/** expiryText says when a card expires, in words: "expires in 14 days", "expires today". */
export function expiryText(daysLeft: number): string {
  if (daysLeft <= 0) return i18n.t('pages:tasks.expiresToday');
  if (daysLeft === 1) return i18n.t('pages:tasks.expiresTomorrow');
  return i18n.t('pages:tasks.expiresIn', { count: daysLeft });
}

/** taskText is what a task asks of the person. */
export function taskText(task: Pick<Task, 'kind' | 'daysLeft' | 'card'>): string {
  switch (task.kind) {
    case 'RENEW_CARD':
      return i18n.t('pages:tasks.renewCard', { serial: task.card.serial, expiry: expiryText(task.daysLeft) });
    default:
      return i18n.t('pages:tasks.other');
  }
}

function TaskRow({ task }: { task: Task }) {
  const { t } = useTranslation('pages');
  const [, start] = useMutation(StartProcessDoc);
  const [starting, setStarting] = useState(false);
  const [problem, setProblem] = useState<ApiError>();
  const navigate = useNavigate();
  const user = useUser();
  const p = task.process;
  const onRenew = async () => {
    if (!p) return;
    setStarting(true);
    setProblem(undefined);
    const res = await start({ name: p.name, card: task.card.id });
    setStarting(false);
    const err = apiError(res.error);
    // An order already running is resumed, not refused: a person has one at a time.
    const id = res.data?.startProcess.id ?? conflictOrderId(err);
    if (id) navigate(`/orders/${id}`);
    else setProblem(err);
  };
  const text = taskText(task);
  return (
    <Alert color={task.daysLeft <= 7 ? 'red' : 'yellow'} variant="light" data-testid="task">
      <Stack gap="xs">
        <Group justify="space-between" wrap="wrap">
          <Text fw={500}>{text}</Text>
          {p?.runningOrder ? (
            <Button component={Link} to={`/orders/${p.runningOrder.id}`} size="xs">
              {t('tasks.continueRenewal')}
            </Button>
          ) : p?.available ? (
            // The button is there only where this server runs the renewal process.
            <Button size="xs" loading={starting} onClick={() => void onRenew()} aria-label={t('tasks.renewLabel', { serial: task.card.serial })}>
              {t('tasks.renew')}
            </Button>
          ) : null}
        </Group>
        {!p && <Text size="sm">{t('tasks.renewUnavailable')}</Text>}
        {p && !p.available && !p.runningOrder && <Text size="sm">{unavailableText(p.unavailableReason, user.state, p.name)}</Text>}
        {problem && (
          <Text size="sm" c="red" role="alert">
            {problem.message}
          </Text>
        )}
      </Stack>
    </Alert>
  );
}

/** Tasks lists what the server found the person has to do (today: cards due for renewal). */
export function Tasks({ tasks }: { tasks: readonly Task[] }) {
  const { t } = useTranslation('pages');
  if (tasks.length === 0) return null;
  return (
    <Stack gap="xs" component="section" aria-label={t('tasks.label')}>
      {tasks.map((task) => (
        <TaskRow key={task.id} task={task} />
      ))}
    </Stack>
  );
}
