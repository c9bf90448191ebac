import {
  Alert, Button, Code, Container, Group, List, Loader, Paper, PasswordInput, Stack, Table, Text, Title,
} from '@mantine/core';
import { type FormEvent, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';

import { getState, post, type State } from './api';
import { digitsOnly, policyRules, problemText } from './rules';

// useBridgeState follows the bridge's state with its long poll until the run ends, so
// a cancel in the portal shows at once, whatever the page is waiting for.
function useBridgeState(): [State | undefined, (s: State) => void] {
  const [state, setState] = useState<State>();
  useEffect(() => {
    let stop = false;
    void (async () => {
      let version: number | undefined;
      while (!stop) {
        try {
          const s = await getState(version);
          if (stop) return;
          setState(s);
          version = s.version;
          if (s.final) return;
        } catch {
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    })();
    return () => {
      stop = true;
    };
  }, []);
  return [state, setState];
}

export function PinPage() {
  const { t } = useTranslation('pinpage');
  const [state, setState] = useBridgeState();
  return (
    <Container component="main" size="xs" py="xl">
      <Stack>
        <Title order={1} size="h2">{t('title')}</Title>
        {!state ? <Loader aria-label={t('connecting')} /> : <Body state={state} onState={setState} />}
      </Stack>
    </Container>
  );
}

function Body({ state, onState }: { state: State; onState: (s: State) => void }) {
  const { t } = useTranslation('pinpage');
  const cancel = () => void post('cancel', {}).then(onState);
  if (state.trust) {
    const nonce = state.trust.nonce;
    return (
      <Paper withBorder p="lg">
        <Stack>
          <Title order={2} size="h3">{t('trust.heading')}</Title>
          <Text>{t('trust.body', { server: state.trust.server })}</Text>
          <Group>
            <Button onClick={() => void post('trust', { nonce, trust: true }).then(onState)}>{t('trust.yes')}</Button>
            <Button variant="default" onClick={() => void post('trust', { nonce, trust: false }).then(onState)}>{t('trust.no')}</Button>
          </Group>
        </Stack>
      </Paper>
    );
  }
  if (state.final) return <Final state={state} />;
  const m = state.mode;
  return (
    <Stack>
      {state.claim && (
        <Paper withBorder p="lg">
          <Stack gap="xs">
            <Text>{t('claim.for', { user: state.claim.userName, server: state.claim.server })}</Text>
            {(m === 'change' || m === 'verify') && state.claim.cardSerial && (
              <Text>{t('claim.card')} <strong data-testid="card-serial">{state.claim.cardSerial}</strong></Text>
            )}
            <Group gap="xs">
              <Text>{t('claim.code')}:</Text>
              <Code fz="xl" fw={700}>{state.claim.verificationCode}</Code>
            </Group>
            <Text size="sm" c="dimmed">{t('claim.codeHint')}</Text>
          </Stack>
        </Paper>
      )}
      {state.pin ? (
        <PinForm state={state} onState={onState} />
      ) : (
        <Group role="status" aria-live="polite">
          <Loader size="sm" aria-hidden />
          <Text>{state.claim ? t(`mode.${m}.working`) : t('connecting')}</Text>
        </Group>
      )}
      {state.steps.length > 0 && (
        <List aria-label={t('progress')}>
          {state.steps.filter((s) => t(`step.${s}`, { defaultValue: '' }) !== '').map((s) => (
            <List.Item key={s}>{t(`step.${s}`)}</List.Item>
          ))}
        </List>
      )}
      <Group>
        <Button variant="default" onClick={cancel}>{t('cancel')}</Button>
      </Group>
    </Stack>
  );
}

function PinForm({ state, onState }: { state: State; onState: (s: State) => void }) {
  const { t } = useTranslation('pinpage');
  const [current, setCurrent] = useState('');
  const [pin, setPin] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const m = state.mode;
  const policy = state.claim?.policy;
  const digits = policy ? digitsOnly(policy) : false;
  const problems = state.pin?.problems ?? [];
  const tooLong = policy && m !== 'verify' && pin.length > policy.maxLength;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!state.pin || tooLong) return;
    setBusy(true);
    void post('pin', { nonce: state.pin.nonce, current, pin, confirm }).then((s) => {
      setBusy(false);
      onState(s);
    });
  };
  const inputMode = digits ? 'numeric' : undefined;
  return (
    <Paper withBorder p="lg">
      <form onSubmit={submit} data-mode={m}>
        <Stack>
          <Title order={2} size="h3">{t(`mode.${m}.heading`)}</Title>
          {t(`mode.${m}.intro`, { defaultValue: '' }) && <Text>{t(`mode.${m}.intro`)}</Text>}
          {problems.length > 0 && (
            <Alert color="red" role="alert" title={t('problem.heading')}>
              <List>
                {problems.map((p) => (
                  <List.Item key={p.code} data-code={p.code}>{problemText(p.code, p.tries, policy, t)}</List.Item>
                ))}
              </List>
            </Alert>
          )}
          {m !== 'verify' && policy && (
            <div>
              <Text fw={600}>{t('rulesHeading')}</Text>
              <List data-testid="pin-rules">
                {policyRules(policy, t).map((r) => <List.Item key={r}>{r}</List.Item>)}
              </List>
            </div>
          )}
          {m === 'change' && (
            <PasswordInput id="current" label={t('current')} value={current} onChange={(e) => setCurrent(e.currentTarget.value)}
              autoComplete="current-password" required withAsterisk={false} autoFocus inputMode={inputMode} />
          )}
          <PasswordInput id="pin" label={t(`mode.${m}.new`)} value={pin} onChange={(e) => setPin(e.currentTarget.value)}
            autoComplete={m === 'verify' ? 'current-password' : 'new-password'} required withAsterisk={false} autoFocus={m !== 'change'}
            inputMode={m === 'verify' ? undefined : inputMode} minLength={m === 'verify' ? undefined : policy?.minLength}
            error={tooLong ? t('problem.tooLongTyped', { length: pin.length, max: policy.maxLength }) : undefined} />
          {m !== 'verify' && (
            <PasswordInput id="confirm" label={t(`mode.${m}.confirm`)} value={confirm} onChange={(e) => setConfirm(e.currentTarget.value)}
              autoComplete="new-password" required withAsterisk={false} inputMode={inputMode} minLength={policy?.minLength} />
          )}
          {m !== 'verify' && policy && policy.retryCount > 0 && (
            <Text size="sm" c="dimmed">{t('retries', { count: policy.retryCount })}</Text>
          )}
          <Group>
            <Button type="submit" loading={busy}>{t(`mode.${m}.submit`)}</Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}

function Final({ state }: { state: State }) {
  const { t, i18n } = useTranslation('pinpage');
  const f = state.final!;
  const m = state.mode;
  const date = (d: string) => new Intl.DateTimeFormat(i18n.language, { dateStyle: 'long' }).format(new Date(d));
  if (f.step === 'done' && f.result) {
    const r = f.result;
    return (
      <Paper withBorder p="lg" role="status">
        <Stack>
          <Title order={2} size="h3" c="green">{t(`mode.${m}.done`)}</Title>
          <Text>{t(`mode.${m}.doneBody`)}</Text>
          <Text>{t('certs.serial')}: <strong>{r.serial}</strong></Text>
          <Text>{t('certs.validUntil', { date: date(r.validUntil) })}</Text>
          {r.certificates.length > 0 && (
            <Table>
              <Table.Thead>
                <Table.Tr><Table.Th>{t('certs.use')}</Table.Th><Table.Th>{t('certs.subject')}</Table.Th><Table.Th>{t('certs.expires')}</Table.Th></Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {r.certificates.map((c) => (
                  <Table.Tr key={c.subject + c.template}><Table.Td>{t(`certs.template.${c.template}`, { defaultValue: t('certs.template.other') })}</Table.Td><Table.Td>{c.subject}</Table.Td><Table.Td>{date(c.notAfter)}</Table.Td></Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </Stack>
      </Paper>
    );
  }
  const code = f.code || f.serverCode || 'unknown';
  const words = t(`end.${code}`, { defaultValue: t('end.unknown') });
  return (
    <Alert color={f.step === 'cancelled' ? 'yellow' : 'red'} role="alert" data-testid="run-ended" data-code={code}
      title={f.step === 'cancelled' ? t('end.cancelled') : t(`mode.${m}.failed`)}>
      {words}
    </Alert>
  );
}
