import { Button, Stack, Text, Title } from '@mantine/core';
import { Link } from 'react-router';

export function NotFoundPage() {
  return (
    <Stack align="flex-start">
      <Title order={1}>Page not found</Title>
      <Text>This page does not exist, or you may not see it.</Text>
      <Button component={Link} to="/">
        Back to the start page
      </Button>
    </Stack>
  );
}
