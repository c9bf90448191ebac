import { Alert, Button, CopyButton, Group, Modal, Stack, Text } from '@mantine/core';

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
  const now = useNow(1000, opened);
  const remaining = handoff ? Date.parse(handoff.expiresAt) - now : 0;
  const expired = handoff !== undefined && remaining <= 0;
  const slow = handoff !== undefined && now - handoff.receivedAt > DESKTOP_APP_HELP_AFTER_MS;

  return (
    <Modal opened={opened} onClose={onClose} title="Open the vscard Desktop App" size="lg" centered>
      {!handoff ? (
        <Text>Preparing the link…</Text>
      ) : (
        <Stack>
          <Text>{lead} Check that it shows the same verification code:</Text>
          <Text
            ta="center"
            ff="monospace"
            fw={700}
            fz={40}
            style={{ letterSpacing: '0.15em' }}
            aria-label={`Verification code ${handoff.verificationCode.split('').join(' ')}`}
            data-testid="verification-code"
          >
            {handoff.verificationCode}
          </Text>
          {expired ? (
            <Alert color="orange" title="This link has expired">
              Get a new link to go on.
            </Alert>
          ) : (
            <Text size="sm" c="dimmed" ta="center">
              The link works once, until {formatDateTime(handoff.expiresAt)} ({formatRemaining(remaining)} left).
            </Text>
          )}
          <Group justify="center">
            {expired ? (
              <Button size="lg" onClick={onNewLink} loading={renewing}>
                Get a new link
              </Button>
            ) : (
              <Button component="a" href={handoff.url} size="lg" data-testid="open-desktop-app">
                Open Desktop App
              </Button>
            )}
            <CopyButton value={handoff.url}>
              {({ copied, copy }) => (
                <Button variant="default" onClick={copy} disabled={expired}>
                  {copied ? 'Link copied' : 'Copy link'}
                </Button>
              )}
            </CopyButton>
          </Group>
          {slow && !expired && <DesktopAppHelp onNewLink={onNewLink} busy={renewing} />}
          <Group justify="space-between" mt="sm">
            <Button variant="subtle" color="red" onClick={onCancel}>
              Cancel order
            </Button>
            <Button variant="subtle" onClick={onClose}>
              Hide this dialog
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}
