import { Alert, Button, Container } from '@mantine/core';

export function ErrorPage({ message }: { message: string }) {
  return (
    <Container size="sm" py="xl">
      <Alert color="red" title="vscard is not available" role="alert">
        {message}
        <Button mt="md" variant="light" color="red" onClick={() => window.location.reload()}>
          Try again
        </Button>
      </Alert>
    </Container>
  );
}
