import { Alert, Anchor, Button, Group, List, Paper, Select, Skeleton, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useClient, useMutation, useQuery } from 'urql';

import { graphql } from '../gql';
import type { ScriptOptionsFragment } from '../gql/graphql';
import { nodesOf } from '../lib/connection';
import { apiError, scriptProblems, type ApiError, type ScriptProblem } from '../lib/errors';
import { formatDateTime } from '../lib/format';
import { EvaluatedOptions } from './EvaluatedOptions';
import { ScriptCodeEditor } from './ScriptCodeEditor';
import { VersionHistory } from './VersionHistory';

const OptionScriptDoc = graphql(`
  query AdminOptionScript {
    optionScript {
      name
      current {
        version
        source
        author
        comment
        createdAt
      }
      versions {
        version
        source
        author
        comment
        createdAt
      }
    }
    users(first: 100, orderBy: { field: USERNAME, direction: ASC }) {
      edges {
        node {
          id
          username
          displayName
        }
      }
    }
  }
`);

export const ScriptOptionsFragmentDoc = graphql(`
  fragment ScriptOptions on Options {
    pin {
      minLength
      maxLength
      upper
      lower
      digits
      special
      maxRepeated
      maxSequential
      retryCount
      blockList
    }
    certificates {
      template
      slot
      algorithm
    }
    validity {
      years
      days
    }
    properties {
      ...CardProperties
    }
  }
`);

const ValidateDoc = graphql(`
  query ValidateOptionScript($source: String!, $userId: ID) {
    validateOptionScript(source: $source, userId: $userId) {
      ok
      errors {
        line
        column
        message
        path
      }
      options {
        ...ScriptOptions
      }
    }
  }
`);

const UpdateDoc = graphql(`
  mutation UpdateOptionScript($source: String!, $comment: String) {
    updateOptionScript(source: $source, comment: $comment) {
      name
      current {
        version
        source
      }
    }
  }
`);

const RevertDoc = graphql(`
  mutation RevertOptionScript($version: Int!) {
    revertOptionScript(version: $version) {
      name
      current {
        version
        source
      }
    }
  }
`);

type Outcome =
  | { kind: 'valid'; options: ScriptOptionsFragment; userLabel: string }
  | { kind: 'saved'; version: number }
  | { kind: 'problems'; problems: ScriptProblem[]; saving: boolean }
  | { kind: 'error'; error: ApiError };

function ProblemList({ problems, saving }: { problems: ScriptProblem[]; saving: boolean }) {
  const { t } = useTranslation('admin');
  return (
    <Alert color="red" title={saving ? t('script.notSaved') : t('script.problems')} role="alert" data-testid="script-problems">
      <List size="sm" spacing={2}>
        {problems.map((p, i) => (
          <List.Item key={i}>
            {t('script.problemAt', { line: p.line, column: p.column, message: p.message })}
            {p.path ? ` (${p.path})` : ''}
          </List.Item>
        ))}
      </List>
    </Alert>
  );
}

/** ScriptEditorPage edits the option script: validate for a user, save with a comment, history and revert. */
export default function ScriptEditorPage() {
  const { t } = useTranslation('admin');
  const client = useClient();
  const noAnswer = (): ApiError => ({ code: undefined, message: t('script.noAnswer'), extensions: {} });
  const [{ data, error }] = useQuery({ query: OptionScriptDoc });
  const [{ fetching: saving }, update] = useMutation(UpdateDoc);
  const [{ fetching: reverting }, revert] = useMutation(RevertDoc);
  const [source, setSource] = useState<string>();
  const [comment, setComment] = useState('');
  const [userId, setUserId] = useState<string | null>(null);
  const [validating, setValidating] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>();

  const script = data?.optionScript;
  const users = nodesOf(data?.users);
  const text = source ?? script?.current.source ?? '';
  const dirty = script !== null && script !== undefined && text !== script.current.source;
  const problems = outcome?.kind === 'problems' ? outcome.problems : [];

  const validate = async () => {
    setValidating(true);
    try {
      const res = await client.query(ValidateDoc, { source: text, userId }, { requestPolicy: 'network-only' }).toPromise();
      const v = res.data?.validateOptionScript;
      if (res.error || !v) setOutcome({ kind: 'error', error: apiError(res.error) ?? noAnswer() });
      else if (!v.ok || !v.options) setOutcome({ kind: 'problems', problems: v.errors, saving: false });
      else {
        const user = users.find((u) => u.id === userId);
        setOutcome({ kind: 'valid', options: v.options, userLabel: user ? user.displayName || user.username : t('script.theSampleUser') });
      }
    } finally {
      setValidating(false);
    }
  };

  const save = async () => {
    const res = await update({ source: text, comment: comment.trim() || null });
    const err = apiError(res.error);
    const saved = res.data?.updateOptionScript.current;
    if (saved) {
      setSource(saved.source);
      setComment('');
      setOutcome({ kind: 'saved', version: saved.version });
    } else if (scriptProblems(err).length > 0) {
      setOutcome({ kind: 'problems', problems: scriptProblems(err), saving: true });
    } else if (err) {
      setOutcome({ kind: 'error', error: err });
    }
  };

  const onRevert = async (version: number) => {
    const res = await revert({ version });
    const current = res.data?.revertOptionScript.current;
    if (current) {
      setSource(current.source);
      setOutcome({ kind: 'saved', version: current.version });
      return true;
    }
    setOutcome({ kind: 'error', error: apiError(res.error) ?? noAnswer() });
    return false;
  };

  const loadError = apiError(error);
  if (loadError) {
    return (
      <Alert color="red" role="alert" title={t('script.loadFailed')}>
        {loadError.message}
      </Alert>
    );
  }
  if (!script) return <Skeleton h={480} />;

  return (
    <Stack maw={1100}>
      <Title order={1}>{t('script.title')}</Title>
      <Text size="sm" c="dimmed">
        <Trans
          t={t}
          i18nKey="script.intro"
          values={{ version: script.current.version, when: formatDateTime(script.current.createdAt), author: script.current.author }}
          components={{ 1: <Anchor component={Link} to="/playground" /> }}
        />
      </Text>
      <Paper withBorder>
        <ScriptCodeEditor value={text} onChange={setSource} problems={problems} label={t('script.source')} />
      </Paper>
      <Text size="xs" c="dimmed" mt={-8}>
        {t('script.editorHint')}
      </Text>
      <Group align="flex-end">
        <Select
          label={t('script.validateFor')}
          placeholder={t('script.sampleUser')}
          data={users.map((u) => ({ value: u.id, label: t('script.userOption', { name: u.displayName || u.username, username: u.username }) }))}
          value={userId}
          onChange={setUserId}
          clearable
          searchable
          w={280}
        />
        <Button variant="light" onClick={() => void validate()} loading={validating}>
          {t('script.validate')}
        </Button>
      </Group>
      <Group align="flex-end">
        <TextInput
          label={t('script.comment')}
          description={t('script.commentHint')}
          value={comment}
          onChange={(e) => setComment(e.currentTarget.value)}
          w={420}
        />
        <Button onClick={() => void save()} loading={saving} disabled={!dirty}>
          {t('script.save')}
        </Button>
        {dirty && (
          <Button variant="subtle" onClick={() => setSource(undefined)}>
            {t('script.discard')}
          </Button>
        )}
      </Group>
      {outcome?.kind === 'problems' && <ProblemList problems={outcome.problems} saving={outcome.saving} />}
      {outcome?.kind === 'error' && (
        <Alert color="red" role="alert">
          {outcome.error.message}
        </Alert>
      )}
      {outcome?.kind === 'saved' && (
        <Alert color="green" role="status" data-testid="script-saved">
          {t('script.saved', { version: outcome.version })}
        </Alert>
      )}
      {outcome?.kind === 'valid' && (
        <Alert color="green" role="status" title={t('script.valid')}>
          <EvaluatedOptions options={outcome.options} userLabel={outcome.userLabel} />
        </Alert>
      )}
      <Title order={2} size="h3">
        {t('script.history')}
      </Title>
      <VersionHistory
        versions={script.versions}
        current={script.current.version}
        reverting={reverting}
        onLoad={(v) => setSource(v.source)}
        onRevert={onRevert}
      />
    </Stack>
  );
}
