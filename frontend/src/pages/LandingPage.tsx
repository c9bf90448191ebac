import { Button, Card, Center, List, Stack, Text, Title } from '@mantine/core';
import { useLocation } from 'react-router';

import { loginUrl } from '../auth/session';

export function LandingPage() {
  const location = useLocation();
  const returnTo = location.pathname + location.search;
  return (
    <Center py="xl">
      <Card withBorder shadow="sm" padding="xl" maw={520} w="100%">
        <Stack>
          <Title order={1}>vscard Self-Service</Title>
          <Text>
            Get a virtual smart card for this computer: a PIV card protected by a PIN you choose, with certificates from
            your organisation.
          </Text>
          <List size="sm">
            <List.Item>Sign in with your organisation account.</List.Item>
            <List.Item>Start “Get virtual smart card”; the vscard Desktop App creates the card.</List.Item>
            <List.Item>Follow every step here while it happens.</List.Item>
          </List>
          <Button component="a" href={loginUrl(returnTo)} size="md">
            Sign in
          </Button>
        </Stack>
      </Card>
    </Center>
  );
}
