import { Alert, Button, Code, List, Text } from '@mantine/core';

/** DesktopAppHelp explains how to install and start the Desktop App when it does not answer. */
export function DesktopAppHelp({ onNewLink, busy }: { onNewLink: () => void; busy: boolean }) {
  return (
    <Alert color="yellow" title="The Desktop App has not connected yet" data-testid="desktop-app-help">
      <Text size="sm" mb="xs">
        If nothing happened when you clicked Open Desktop App, the vscard Desktop App is probably not installed or not
        running on this computer:
      </Text>
      <List size="sm" type="ordered" spacing={4}>
        <List.Item>
          Install it once, which also registers the <Code>vscard://</Code> links: <Code>vscard-bridge install</Code>
        </List.Item>
        <List.Item>
          Start it: <Code>vscard-bridge serve</Code>
        </List.Item>
        <List.Item>Get a new link below and click Open Desktop App again.</List.Item>
      </List>
      <Button mt="sm" variant="light" color="yellow" onClick={onNewLink} loading={busy}>
        Get a new link
      </Button>
    </Alert>
  );
}
