import { Alert, Button, Center, Group, Loader, Paper, Stack, Stepper, Text, Title, VisuallyHidden } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';

import type { WizardOrderFragment } from '../gql/graphql';
import { challengeProblem } from '../lib/unblock';
import { CancelDialog } from './CancelDialog';
import { HandoffDialog } from './HandoffDialog';
import { IntroStep } from './IntroStep';
import { flowOf } from './flows';
import { canCancel, canProceed, phaseIndex, phaseOf } from './orderState';
import { ProgressStep } from './ProgressStep';
import { DoneStep, EndedStep } from './ResultSteps';
import { ReviewStep } from './ReviewStep';
import { useOrderWizard, type OrderWizard } from './useOrderWizard';

type Dialog = 'none' | 'handoff' | 'cancel';

/** OrderWizardPage is /orders/:id: the wizard for one order, resumed from the server. */
export function OrderWizardPage() {
  const { id = '' } = useParams();
  // A new id is a new wizard: no state carries over from the previous order.
  return <OrderWizard key={id} orderId={id} />;
}

function OrderWizard({ orderId }: { orderId: string }) {
  const { t } = useTranslation('wizard');
  const wizard = useOrderWizard(orderId);
  const { order, loadError } = wizard;

  if (!order) {
    if (loadError) {
      return (
        <Stack align="flex-start">
          <Alert color="red" title={t('page.cannotShow')} role="alert">
            {loadError.code === 'NOT_FOUND' ? t('page.noSuchOrder') : loadError.message}
          </Alert>
          <Button component={Link} to="/">
            {t('page.back')}
          </Button>
        </Stack>
      );
    }
    // The page's heading is there from the start, as its loader's name: the order's own
    // heading replaces it once the order is in.
    return (
      <Center py="xl">
        <VisuallyHidden component="h1" id="order-loading">
          {t('page.loading')}
        </VisuallyHidden>
        <Loader aria-labelledby="order-loading" />
      </Center>
    );
  }
  return <WizardBody wizard={wizard} order={order} />;
}

function WizardBody({ wizard, order }: { wizard: OrderWizard; order: WizardOrderFragment }) {
  const { t } = useTranslation('wizard');
  const flow = flowOf(order.process);
  const phase = phaseOf(order.state, flow);
  const [dialog, setDialog] = useState<Dialog>('none');
  const [choices, setChoices] = useState<Record<string, boolean>>(() =>
    Object.fromEntries((flow.choices ?? []).map((c) => [c.name, c.default])),
  );
  const [challenge, setChallenge] = useState('');
  const [answered, setAnswered] = useState<string>();
  const heading = useRef<HTMLHeadingElement>(null);
  const asksChallenge = flow.challenge === true && order.state === 'STARTED';
  // A refused challenge is said at the field, in the portal's words for its reason, until
  // the person changes what they typed.
  const refused = asksChallenge ? challengeProblem(wizard.actionError) : undefined;
  const challengeError = refused !== undefined && answered === challenge ? refused : undefined;

  // A new phase replaces the page's content: move focus to its heading so keyboard and
  // screen reader users start reading there.
  const firstPhase = useRef(phase);
  useEffect(() => {
    if (phase !== firstPhase.current) heading.current?.focus();
  }, [phase]);

  // A fresh hand-off link opens the dialog.
  useEffect(() => {
    if (wizard.handoff) setDialog((d) => (d === 'cancel' ? d : 'handoff'));
  }, [wizard.handoff]);

  const onNext = async () => {
    if (asksChallenge) {
      setAnswered(challenge);
      await wizard.answer(challenge);
    } else {
      await wizard.next(flow.choices && order.state === 'STARTED' ? choices : undefined);
    }
  };
  const onConfirmCancel = async () => {
    if (await wizard.cancel()) setDialog('none');
  };

  return (
    <Stack maw={960}>
      <Stepper active={phaseIndex(order.state, flow, flow.phases)} size="sm" allowNextStepsSelect={false} aria-label={t('page.steps')}>
        {flow.phases.map((p) => (
          <Stepper.Step key={p.phase} label={p.label} />
        ))}
      </Stepper>
      <Group justify="space-between" align="baseline">
        <Title order={1} ref={heading} tabIndex={-1} style={{ outline: 'none' }}>
          {flow.headings[phase]}
        </Title>
        {order.verificationCode && phase === 'desktop' && (
          <Text size="sm" c="dimmed">
            {t('page.verificationCode')}{' '}
            <Text span ff="monospace" fw={700} c="var(--mantine-color-text)">
              {order.verificationCode}
            </Text>
          </Text>
        )}
      </Group>
      <VisuallyHidden aria-live="polite" data-testid="order-state">
        {t('page.orderState', { state: t(`common:state.order.${order.state}`) })}
      </VisuallyHidden>
      {wizard.actionError && refused === undefined && (
        <Alert color="red" role="alert" title={t('page.actionFailed')}>
          {wizard.actionError.message}
        </Alert>
      )}
      <Paper withBorder p="lg">
        {phase === 'intro' && (
          <IntroStep
            order={order}
            flow={flow}
            choices={choices}
            onChoice={(name, v) => setChoices((c) => ({ ...c, [name]: v }))}
            challenge={{ value: challenge, onChange: setChallenge, error: challengeError }}
          />
        )}
        {phase === 'desktop' && (
          <ProgressStep
            order={order}
            flow={flow}
            handoff={wizard.handoff}
            renewing={wizard.busy === 'renew'}
            onShowLink={() => setDialog('handoff')}
            onNewLink={() => void wizard.renew()}
          />
        )}
        {phase === 'review' && <ReviewStep order={order} />}
        {phase === 'done' && <DoneStep order={order} flow={flow} response={wizard.unblockResponse} />}
        {phase === 'ended' && <EndedStep order={order} flow={flow} />}
      </Paper>
      {canCancel(order.state) && (
        <Group justify="space-between">
          <Button variant="default" color="red" onClick={() => setDialog('cancel')}>
            {t('page.cancel')}
          </Button>
          <Button
            onClick={() => void onNext()}
            disabled={!canProceed(order.state, flow) || (asksChallenge && challenge.trim() === '')}
            loading={wizard.busy === 'next'}
            title={canProceed(order.state, flow) ? undefined : flow.busy}
          >
            {t('page.next')}
          </Button>
        </Group>
      )}
      <HandoffDialog
        opened={dialog === 'handoff' && order.state === 'AWAITING_DESKTOP_APP'}
        handoff={wizard.handoff}
        lead={flow.handoff}
        renewing={wizard.busy === 'renew'}
        onClose={() => setDialog('none')}
        onCancel={() => setDialog('cancel')}
        onNewLink={() => void wizard.renew()}
      />
      <CancelDialog
        opened={dialog === 'cancel' && canCancel(order.state)}
        busy={wizard.busy === 'cancel'}
        what={flow.cancel}
        onConfirm={() => void onConfirmCancel()}
        onClose={() => setDialog(order.state === 'AWAITING_DESKTOP_APP' ? 'handoff' : 'none')}
      />
    </Stack>
  );
}
