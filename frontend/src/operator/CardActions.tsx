import { Alert, Button, Code, CopyButton, Group, Menu, Modal, Select, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation, type CombinedError } from 'urql';

import type { RevocationReason } from '../gql/graphql';
import { inMain } from '../layout/AppLayout';
import { formatDateTime } from '../lib/format';
import { OpNextStepDoc, OpRevokeCardDoc, OpStartProcessDoc } from './operations';
import { ReasonDialog } from './ReasonDialog';

type Action = 'lock' | 'unlock' | 'resetPin' | 'revoke' | 'delete';

/** processOf is the process each action runs; revoke is a mutation of its own. */
const processOf: Record<Exclude<Action, 'revoke'>, string> = {
  lock: 'lock-virtual-smart-card',
  unlock: 'unlock-virtual-smart-card',
  resetPin: 'reset-pin',
  delete: 'delete-virtual-smart-card',
};

/** actionsFor lists what an operator may do with a card in state. */
export function actionsFor(state: string): Action[] {
  switch (state) {
    case 'ACTIVE':
      return ['lock', 'resetPin', 'revoke', 'delete'];
    case 'LOCKED':
      return ['unlock', 'revoke', 'delete'];
    default:
      return [];
  }
}

const REVOCATION_REASONS: RevocationReason[] = ['LOST_OR_STOLEN', 'REPLACED', 'NO_LONGER_NEEDED'];

interface Handoff {
  url: string;
  expiresAt: string;
  verificationCode: string;
}

interface Props {
  card: { id: string; serial: string; state: string };
  /** owner is the person's name, for the consequence. */
  owner: string;
  onDone?: () => void;
}

/**
 * CardActions is an operator's menu of actions on someone's card. Each goes through a
 * ReasonDialog; Reset PIN ends with the hand-off the person needs on their computer.
 */
export function CardActions({ card, owner, onDone }: Props) {
  const { t } = useTranslation('operator');
  const [action, setAction] = useState<Action>();
  const [revocation, setRevocation] = useState<RevocationReason>('NO_LONGER_NEEDED');
  const [handoff, setHandoff] = useState<Handoff>();
  const [, start] = useMutation(OpStartProcessDoc);
  const [, next] = useMutation(OpNextStepDoc);
  const [, revoke] = useMutation(OpRevokeCardDoc);
  const actions = actionsFor(card.state);
  if (actions.length === 0) return null;

  const run = async (reason: string): Promise<{ error?: CombinedError } | undefined> => {
    if (!action) return undefined;
    if (action === 'revoke') {
      const res = await revoke({ serial: card.serial, reason: revocation, comment: reason });
      if (!res.error) onDone?.();
      return res;
    }
    const started = await start({ name: processOf[action], card: card.id, reason });
    const id = started.data?.startProcess.id;
    if (started.error || !id) return started;
    const res = await next({ id, reason });
    if (res.error) return res;
    if (res.data?.nextStep.handoff) setHandoff(res.data.nextStep.handoff);
    onDone?.();
    return undefined;
  };

  const words = { owner, serial: card.serial };
  return (
    <>
      <Menu position="bottom-end" portalProps={inMain}>
        <Menu.Target>
          <Button variant="light" size="xs" aria-label={t('card.actionsFor', { serial: card.serial })}>
            {t('card.actions')}
          </Button>
        </Menu.Target>
        <Menu.Dropdown>
          {actions.map((a) => (
            <Menu.Item key={a} color={a === 'revoke' || a === 'delete' ? 'red' : undefined} onClick={() => setAction(a)}>
              {t(`card.action.${a}.label`)}
            </Menu.Item>
          ))}
        </Menu.Dropdown>
      </Menu>
      <ReasonDialog
        opened={action !== undefined}
        title={action ? t(`card.action.${action}.title`, words) : ''}
        consequence={action ? t(`card.action.${action}.consequence`, words) : ''}
        confirmLabel={action ? t(`card.action.${action}.confirm`) : ''}
        danger={action === 'revoke' || action === 'delete'}
        onClose={() => setAction(undefined)}
        onConfirm={run}
      >
        {action === 'revoke' && (
          <Select
            label={t('card.revocationReason')}
            data={REVOCATION_REASONS.map((r) => ({ value: r, label: t(`card.revocation.${r}`) }))}
            value={revocation}
            onChange={(v) => v && setRevocation(v as RevocationReason)}
            allowDeselect={false}
          />
        )}
      </ReasonDialog>
      <Modal opened={handoff !== undefined} onClose={() => setHandoff(undefined)} title={t('handoff.title', words)} size="lg"
        closeButtonProps={{ 'aria-label': t('dialog.close') }}>
        {handoff && <HandoffPanel handoff={handoff} owner={owner} onClose={() => setHandoff(undefined)} />}
      </Modal>
    </>
  );
}

/** HandoffPanel shows, once, what the person needs to go on on their computer, and what to tell them. */
function HandoffPanel({ handoff, owner, onClose }: { handoff: Handoff; owner: string; onClose: () => void }) {
  const { t } = useTranslation('operator');
  return (
    <Stack data-testid="handoff">
      <Alert color="yellow">{t('handoff.once')}</Alert>
      <Text>{t('handoff.tell', { owner })}</Text>
      <Code block data-testid="handoff-link" style={{ overflowWrap: 'anywhere', whiteSpace: 'pre-wrap' }}>
        {handoff.url}
      </Code>
      <Group>
        <CopyButton value={handoff.url}>
          {({ copied, copy }) => (
            <Button variant="light" onClick={copy}>
              {copied ? t('handoff.copied') : t('handoff.copy')}
            </Button>
          )}
        </CopyButton>
      </Group>
      <Text>
        {t('handoff.code', { owner })} <Code data-testid="handoff-code">{handoff.verificationCode}</Code>
      </Text>
      <Text size="sm" c="dimmed">
        {t('handoff.expires', { time: formatDateTime(handoff.expiresAt) })}
      </Text>
      <Group justify="flex-end">
        <Button onClick={onClose}>{t('handoff.done')}</Button>
      </Group>
    </Stack>
  );
}
