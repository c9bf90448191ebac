import { Alert, Button, CopyButton, Group, Modal, Stack, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';

import { formatDateTime, formatRemaining } from '../lib/format';
import { useNow } from '../lib/useNow';
import { DesktopAppHelp } from './DesktopAppHelp';
import { DESKTOP_APP_HELP_AFTER_MS } from './orderState';
import type { Handoff } from './useOrderWizard';

interface Props {
  opened: boolean;
  handoff: Handoff | undefined;
  /** lead says what the Desktop App will do, in the process's words. */
  lead: string;
  renewing: boolean;
  onClose: () => void;
  onCancel: () => void;
  onNewLink: () => void;
}

/**
 * HandoffDialog hands the order to the Desktop App: the vscard:// link, the verification
 * code both sides show, and the link's expiry. It closes by itself once the Desktop App
 * has connected (the wizard stops rendering it open).
 */
export function HandoffDialog({ opened, handoff, lead, renewing, onClose, onCancel, onNewLink }: Props) {
  const { t } = useTranslation('wizard');
  const now = useNow(1000, opened);
  const remaining = handoff ? Date.parse(handoff.expiresAt) - now : 0;
  const expired = handoff !== undefined && remaining <= 0;
  const slow = handoff !== undefined && now - handoff.receivedAt > DESKTOP_APP_HELP_AFTER_MS;

  return (
    <Modal opened={opened} onClose={onClose} title={t('dialog.handoffTitle')} size="lg" centered>
      {!handoff ? (
        <Text>{t('dialog.preparing')}</Text>
      ) : (
        <Stack>
          <Text>{lead} {t('dialog.checkCode')}</Text>
          <Text
            ta="center"
            ff="monospace"
            fw={700}
            fz={40}
            style={{ letterSpacing: '0.15em' }}
            aria-label={t('dialog.codeLabel', { code: handoff.verificationCode.split('').join(' ') })}
            data-testid="verification-code"
          >
            {handoff.verificationCode}
          </Text>
          {expired ? (
            <Alert color="orange" title={t('dialog.expiredTitle')}>
              {t('dialog.expiredBody')}
            </Alert>
          ) : (
            <Text size="sm" c="dimmed" ta="center">
              {t('dialog.worksOnce', { until: formatDateTime(handoff.expiresAt), left: formatRemaining(remaining) })}
            </Text>
          )}
          <Group justify="center">
            {expired ? (
              <Button size="lg" onClick={onNewLink} loading={renewing}>
                {t('dialog.newLink')}
              </Button>
            ) : (
              <Button component="a" href={handoff.url} size="lg" data-testid="open-desktop-app">
                {t('dialog.open')}
              </Button>
            )}
            <CopyButton value={handoff.url}>
              {({ copied, copy }) => (
                <Button variant="default" onClick={copy} disabled={expired}>
                  {copied ? t('dialog.copied') : t('dialog.copy')}
                </Button>
              )}
            </CopyButton>
          </Group>
          {slow && !expired && <DesktopAppHelp onNewLink={onNewLink} busy={renewing} />}
          <Group justify="space-between" mt="sm">
            <Button variant="subtle" color="red" onClick={onCancel}>
              {t('dialog.cancelOrder')}
            </Button>
            <Button variant="subtle" onClick={onClose}>
              {t('dialog.hide')}
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}
