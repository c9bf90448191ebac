import { useCallback, useEffect, useRef, useState } from 'react';
import { useMutation, useSubscription } from 'urql';

import type { WizardOrderCoreFragment, WizardOrderFragment } from '../gql/graphql';
import { apiError, type ApiError } from '../lib/errors';
import { AnswerUnblockChallengeDoc, CancelOrderDoc, NextStepDoc, OrderUpdatedDoc, RenewHandoffDoc } from './operations';
import { mergeOrder, newerOrder } from './orderState';

export interface Handoff {
  url: string;
  expiresAt: string;
  verificationCode: string;
  /** receivedAt (client clock) starts the wait after which the wizard explains the Desktop App. */
  receivedAt: number;
}

export interface OrderWizard {
  order: WizardOrderFragment | undefined;
  /** loadError: the order could not be followed at all (not found, not yours, offline). */
  loadError: ApiError | undefined;
  /** actionError: the last Next, Cancel or new link failed. */
  actionError: ApiError | undefined;
  handoff: Handoff | undefined;
  busy: 'next' | 'cancel' | 'renew' | undefined;
  /** next takes the person's choices for the step (Flow.choices), by name. */
  next: (choices?: Record<string, boolean>) => Promise<boolean>;
  /** answer is Next of a flow that asks for a challenge (Flow.challenge): unblock-pin-offline's. */
  answer: (challenge: string) => Promise<boolean>;
  /**
   * unblockResponse is the server's answer to the challenge. It lives in this page only:
   * the server keeps it nowhere, so a reload loses it and the person starts again.
   */
  unblockResponse: string | undefined;
  cancel: () => Promise<boolean>;
  renew: () => Promise<boolean>;
}

/**
 * useOrderWizard follows one order live and performs the user's steps on it. The order
 * shown is the freshest of the subscription's events and the mutations' results.
 */
/**
 * cancelVariables are the wizard's Cancel: no reason. A person's own cancel needs none, and
 * the audit log already says who cancelled whose order in the reader's language (a fixed
 * sentence sent from here would reach German-speaking operators in English); an operator's
 * cancel goes on with the reason they started the order with (server/enroll Cancel).
 */
export function cancelVariables(orderId: string): { orderId: string } {
  return { orderId };
}

export function useOrderWizard(orderId: string): OrderWizard {
  const [order, setOrder] = useState<WizardOrderFragment>();
  const [handoff, setHandoff] = useState<Handoff>();
  const [busy, setBusy] = useState<OrderWizard['busy']>();
  const [actionError, setActionError] = useState<ApiError>();
  const [unblockResponse, setUnblockResponse] = useState<string>();

  const [sub] = useSubscription({ query: OrderUpdatedDoc, variables: { id: orderId } });
  const [, nextStep] = useMutation(NextStepDoc);
  const [, renewHandoff] = useMutation(RenewHandoffDoc);
  const [, answerChallenge] = useMutation(AnswerUnblockChallengeDoc);
  const [, cancelOrder] = useMutation(CancelOrderDoc);

  useEffect(() => {
    const o = sub.data?.orderUpdated;
    if (o) setOrder((cur) => newerOrder(cur, o));
  }, [sub.data]);
  const accept = useCallback(
    (core: WizardOrderCoreFragment | undefined) => setOrder((cur) => mergeOrder(cur, core)),
    [],
  );

  const run = useCallback(async <T,>(kind: NonNullable<OrderWizard['busy']>, op: () => Promise<T | undefined>) => {
    setBusy(kind);
    setActionError(undefined);
    try {
      return await op();
    } finally {
      setBusy(undefined);
    }
  }, []);

  const next = useCallback(
    (choices?: Record<string, boolean>) =>
      run('next', async () => {
        const res = await nextStep({ orderId, choices });
        const data = res.data?.nextStep;
        if (data?.handoff) setHandoff({ ...data.handoff, receivedAt: Date.now() });
        accept(data?.order);
        setActionError(apiError(res.error));
        return !res.error;
      }).then(Boolean),
    [run, nextStep, orderId, accept],
  );

  const answer = useCallback(
    (challenge: string) =>
      run('next', async () => {
        const res = await answerChallenge({ orderId, challenge });
        const data = res.data?.answerUnblockChallenge;
        if (data) setUnblockResponse(data.response);
        accept(data?.order);
        setActionError(apiError(res.error));
        return !res.error;
      }).then(Boolean),
    [run, answerChallenge, orderId, accept],
  );

  const renew = useCallback(
    () =>
      run('renew', async () => {
        const res = await renewHandoff({ orderId });
        const h = res.data?.renewHandoff;
        if (h) setHandoff({ ...h, receivedAt: Date.now() });
        setActionError(apiError(res.error));
        return !res.error;
      }).then(Boolean),
    [run, renewHandoff, orderId],
  );

  const cancel = useCallback(
    () =>
      run('cancel', async () => {
        const res = await cancelOrder(cancelVariables(orderId));
        accept(res.data?.cancelOrder);
        setActionError(apiError(res.error));
        return !res.error;
      }).then(Boolean),
    [run, cancelOrder, orderId, accept],
  );

  // The hand-off link is shown only once. After a reload in AWAITING_DESKTOP_APP the
  // wizard asks for a new one (the old one stops working), but not while its own Next is
  // still on the way: its answer carries the link.
  const renewedOnLoad = useRef(false);
  const awaiting = order?.state === 'AWAITING_DESKTOP_APP';
  useEffect(() => {
    if (!awaiting || handoff || busy || renewedOnLoad.current) return;
    renewedOnLoad.current = true;
    void renew();
  }, [awaiting, handoff, busy, renew]);

  return {
    order,
    loadError: order ? undefined : apiError(sub.error),
    actionError,
    handoff,
    busy,
    next,
    answer,
    unblockResponse,
    cancel,
    renew,
  };
}
