import { Alert, Button, Center, Loader, Stack } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { useMutation } from 'urql';

import { apiError, conflictOrderId, type ApiError } from '../lib/errors';
import { StartProcessDoc } from './operations';

/**
 * StartOrderPage (/get-virtual-smart-card) starts the process and hands over to the
 * wizard at /orders/:id. An order already running is resumed instead of refused.
 */
export function StartOrderPage() {
  const { t } = useTranslation('wizard');
  const [, start] = useMutation(StartProcessDoc);
  const navigate = useNavigate();
  const [problem, setProblem] = useState<ApiError>();
  // Starting twice would only end in CONFLICT, but one request is what the user asked for
  // (StrictMode runs effects twice in development).
  const started = useRef(false);

  useEffect(() => {
    if (started.current) return;
    started.current = true;
    void start({ name: 'get-virtual-smart-card' }).then((res) => {
      const err = apiError(res.error);
      const id = res.data?.startProcess.id ?? conflictOrderId(err);
      if (id) navigate(`/orders/${id}`, { replace: true });
      else setProblem(err);
    });
  }, [start, navigate]);

  if (!problem) {
    return (
      <Center py="xl">
        <Loader aria-label={t('start.loading')} />
      </Center>
    );
  }
  return (
    <Stack align="flex-start">
      <Alert color={problem.code === 'USER_NOT_ACTIVE' ? 'orange' : 'red'} title={t('start.failed')} role="alert">
        {problem.message}
      </Alert>
      <Button component={Link} to="/">
        {t('start.back')}
      </Button>
    </Stack>
  );
}
