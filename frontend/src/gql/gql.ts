/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query AdminAuditEvents($after: Cursor, $where: AuditEventWhereInput) {\n    auditEvents(first: 50, after: $after, where: $where, orderBy: { field: AT, direction: DESC }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          at\n          actor\n          actorKind\n          action\n          objectType\n          objectID\n          remoteAddr\n          details\n        }\n      }\n    }\n  }\n": typeof types.AdminAuditEventsDocument,
    "\n  query AdminOrders($after: Cursor, $where: OrderWhereInput) {\n    orders(first: 25, after: $after, where: $where, orderBy: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          process\n          state\n          createdAt\n          updatedAt\n          failureReason\n          user {\n            id\n            username\n          }\n          card {\n            id\n            serial\n          }\n        }\n      }\n    }\n  }\n": typeof types.AdminOrdersDocument,
    "\n  query AdminOptionScript {\n    optionScript {\n      name\n      current {\n        version\n        source\n        author\n        comment\n        createdAt\n      }\n      versions {\n        version\n        source\n        author\n        comment\n        createdAt\n      }\n    }\n    users(first: 100, orderBy: { field: USERNAME, direction: ASC }) {\n      edges {\n        node {\n          id\n          username\n          displayName\n        }\n      }\n    }\n  }\n": typeof types.AdminOptionScriptDocument,
    "\n  fragment ScriptOptions on Options {\n    pin {\n      minLength\n      maxLength\n      upper\n      lower\n      digits\n      special\n      maxRepeated\n      maxSequential\n      retryCount\n      blockList\n    }\n    certificates {\n      template\n      slot\n      algorithm\n    }\n    validity {\n      years\n      days\n    }\n    properties {\n      ...CardProperties\n    }\n  }\n": typeof types.ScriptOptionsFragmentDoc,
    "\n  query ValidateOptionScript($source: String!, $userId: ID) {\n    validateOptionScript(source: $source, userId: $userId) {\n      ok\n      errors {\n        line\n        column\n        message\n        path\n      }\n      options {\n        ...ScriptOptions\n      }\n    }\n  }\n": typeof types.ValidateOptionScriptDocument,
    "\n  mutation UpdateOptionScript($source: String!, $comment: String) {\n    updateOptionScript(source: $source, comment: $comment) {\n      name\n      current {\n        version\n        source\n      }\n    }\n  }\n": typeof types.UpdateOptionScriptDocument,
    "\n  mutation RevertOptionScript($version: Int!) {\n    revertOptionScript(version: $version) {\n      name\n      current {\n        version\n        source\n      }\n    }\n  }\n": typeof types.RevertOptionScriptDocument,
    "\n  query AdminUsers($after: Cursor) {\n    users(first: 50, after: $after, orderBy: { field: USERNAME, direction: ASC }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          username\n          displayName\n          email\n          state\n          roles\n          lastLoginAt\n          cards(first: 20, orderBy: { field: CREATED_AT, direction: DESC }) {\n            edges {\n              node {\n                id\n                serial\n                state\n              }\n            }\n          }\n        }\n      }\n    }\n  }\n": typeof types.AdminUsersDocument,
    "\n  mutation SetUserState($userId: ID!, $state: UserState!, $reason: String) {\n    setUserState(userId: $userId, state: $state, reason: $reason) {\n      id\n      state\n    }\n  }\n": typeof types.SetUserStateDocument,
    "\n  mutation EndUserSessions($userId: ID!) {\n    endUserSessions(userId: $userId)\n  }\n": typeof types.EndUserSessionsDocument,
    "\n  mutation PurgeCard($serial: String!) {\n    purgeCard(serial: $serial)\n  }\n": typeof types.PurgeCardDocument,
    "\n  query CardProcesses($card: ID!) {\n    processes(card: $card) {\n      name\n      displayName\n      description\n      available\n      unavailableReason\n      runningOrder {\n        id\n      }\n    }\n  }\n": typeof types.CardProcessesDocument,
    "\n  fragment CardDetails on Card {\n    id\n    serial\n    kind\n    state\n    createdAt\n    validFrom\n    validUntil\n    properties {\n      ...CardProperties\n    }\n    device {\n      reader\n      host\n    }\n    replacedBy {\n      serial\n    }\n    pinState {\n      triesLeft\n      blocked\n      pukBlocked\n      reportedAt\n    }\n    certificates(first: 10, orderBy: { field: CREATED_AT, direction: DESC }) {\n      edges {\n        node {\n          id\n          serial\n          slot\n          template\n          keyAlgorithm\n          subject\n          notBefore\n          notAfter\n          state\n          revokedAt\n          revocationReason\n          pem\n        }\n      }\n    }\n  }\n": typeof types.CardDetailsFragmentDoc,
    "\n  query MyCards {\n    me {\n      id\n      cards(first: 50, orderBy: { field: CREATED_AT, direction: DESC }) {\n        totalCount\n        edges {\n          node {\n            ...CardDetails\n          }\n        }\n      }\n    }\n    processes {\n      name\n      runningOrder {\n        id\n        state\n      }\n    }\n  }\n": typeof types.MyCardsDocument,
    "\n  subscription CardsRunningOrder($id: ID!) {\n    orderUpdated(id: $id) {\n      id\n      state\n      version\n    }\n  }\n": typeof types.CardsRunningOrderDocument,
    "\n  subscription CardUpdated($serial: String!) {\n    cardUpdated(serial: $serial) {\n      serial\n      state\n      remove\n      pinState {\n        triesLeft\n        blocked\n        pukBlocked\n      }\n    }\n  }\n": typeof types.CardUpdatedDocument,
    "\n  mutation RevokeCard($serial: String!, $reason: RevocationReason!, $comment: String) {\n    revokeCard(serial: $serial, reason: $reason, comment: $comment) {\n      id\n      ...CardDetails\n    }\n  }\n": typeof types.RevokeCardDocument,
    "\n  fragment CardProperties on CardProperties {\n    userId\n    serverName\n    profileName\n    commonName\n    email\n    organization\n  }\n": typeof types.CardPropertiesFragmentDoc,
    "\n  mutation SignOutEverywhere {\n    signOutEverywhere\n  }\n": typeof types.SignOutEverywhereDocument,
    "\n  query ErrorCodes {\n    errorCodes\n  }\n": typeof types.ErrorCodesDocument,
    "\n  query OperatorPeople($query: String!, $after: Cursor) {\n    people(query: $query, first: 50, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          username\n          displayName\n          email\n          state\n          lastLoginAt\n        }\n      }\n    }\n  }\n": typeof types.OperatorPeopleDocument,
    "\n  query Dashboard {\n    processes {\n      name\n      displayName\n      description\n      available\n      unavailableReason\n      runningOrder {\n        id\n        state\n        createdAt\n      }\n    }\n    tasks {\n      id\n      kind\n      expiresAt\n      daysLeft\n      card {\n        id\n        serial\n      }\n      process {\n        name\n        available\n        unavailableReason\n        runningOrder {\n          id\n        }\n      }\n    }\n    me {\n      id\n      # Only cards in use count: a deleted, revoked or replaced card is history.\n      cards(first: 1, where: { stateNotIn: [INACTIVE, REVOKED] }) {\n        totalCount\n      }\n    }\n  }\n": typeof types.DashboardDocument,
    "\n  fragment WizardOrderCore on Order {\n    id\n    process\n    state\n    version\n    createdAt\n    updatedAt\n    expiresAt\n    finishedAt\n    verificationCode\n    failureReason\n    subjectCard {\n      id\n      serial\n    }\n    steps {\n      state\n      at\n      note\n    }\n    options {\n      certificates {\n        template\n        slot\n        algorithm\n      }\n      validity {\n        years\n        days\n      }\n      pin {\n        minLength\n        maxLength\n        upper\n        lower\n        digits\n        special\n      }\n      properties {\n        ...CardProperties\n      }\n    }\n  }\n": typeof types.WizardOrderCoreFragmentDoc,
    "\n  fragment WizardOrder on Order {\n    ...WizardOrderCore\n    card {\n      ...CardDetails\n    }\n  }\n": typeof types.WizardOrderFragmentDoc,
    "\n  subscription OrderUpdated($id: ID!) {\n    orderUpdated(id: $id) {\n      ...WizardOrder\n    }\n  }\n": typeof types.OrderUpdatedDocument,
    "\n  mutation StartProcess($name: String!, $card: ID) {\n    startProcess(name: $name, card: $card) {\n      id\n      state\n    }\n  }\n": typeof types.StartProcessDocument,
    "\n  mutation NextStep($orderId: ID!, $choices: Map) {\n    nextStep(orderId: $orderId, choices: $choices) {\n      order {\n        ...WizardOrderCore\n      }\n      handoff {\n        url\n        expiresAt\n        verificationCode\n      }\n    }\n  }\n": typeof types.NextStepDocument,
    "\n  mutation AnswerUnblockChallenge($orderId: ID!, $challenge: String!) {\n    answerUnblockChallenge(orderId: $orderId, challenge: $challenge) {\n      response\n      order {\n        ...WizardOrderCore\n      }\n    }\n  }\n": typeof types.AnswerUnblockChallengeDocument,
    "\n  mutation RenewHandoff($orderId: ID!) {\n    renewHandoff(orderId: $orderId) {\n      url\n      expiresAt\n      verificationCode\n    }\n  }\n": typeof types.RenewHandoffDocument,
    "\n  mutation CancelOrder($orderId: ID!, $reason: String) {\n    cancelOrder(orderId: $orderId, reason: $reason) {\n      ...WizardOrderCore\n    }\n  }\n": typeof types.CancelOrderDocument,
};
const documents: Documents = {
    "\n  query AdminAuditEvents($after: Cursor, $where: AuditEventWhereInput) {\n    auditEvents(first: 50, after: $after, where: $where, orderBy: { field: AT, direction: DESC }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          at\n          actor\n          actorKind\n          action\n          objectType\n          objectID\n          remoteAddr\n          details\n        }\n      }\n    }\n  }\n": types.AdminAuditEventsDocument,
    "\n  query AdminOrders($after: Cursor, $where: OrderWhereInput) {\n    orders(first: 25, after: $after, where: $where, orderBy: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          process\n          state\n          createdAt\n          updatedAt\n          failureReason\n          user {\n            id\n            username\n          }\n          card {\n            id\n            serial\n          }\n        }\n      }\n    }\n  }\n": types.AdminOrdersDocument,
    "\n  query AdminOptionScript {\n    optionScript {\n      name\n      current {\n        version\n        source\n        author\n        comment\n        createdAt\n      }\n      versions {\n        version\n        source\n        author\n        comment\n        createdAt\n      }\n    }\n    users(first: 100, orderBy: { field: USERNAME, direction: ASC }) {\n      edges {\n        node {\n          id\n          username\n          displayName\n        }\n      }\n    }\n  }\n": types.AdminOptionScriptDocument,
    "\n  fragment ScriptOptions on Options {\n    pin {\n      minLength\n      maxLength\n      upper\n      lower\n      digits\n      special\n      maxRepeated\n      maxSequential\n      retryCount\n      blockList\n    }\n    certificates {\n      template\n      slot\n      algorithm\n    }\n    validity {\n      years\n      days\n    }\n    properties {\n      ...CardProperties\n    }\n  }\n": types.ScriptOptionsFragmentDoc,
    "\n  query ValidateOptionScript($source: String!, $userId: ID) {\n    validateOptionScript(source: $source, userId: $userId) {\n      ok\n      errors {\n        line\n        column\n        message\n        path\n      }\n      options {\n        ...ScriptOptions\n      }\n    }\n  }\n": types.ValidateOptionScriptDocument,
    "\n  mutation UpdateOptionScript($source: String!, $comment: String) {\n    updateOptionScript(source: $source, comment: $comment) {\n      name\n      current {\n        version\n        source\n      }\n    }\n  }\n": types.UpdateOptionScriptDocument,
    "\n  mutation RevertOptionScript($version: Int!) {\n    revertOptionScript(version: $version) {\n      name\n      current {\n        version\n        source\n      }\n    }\n  }\n": types.RevertOptionScriptDocument,
    "\n  query AdminUsers($after: Cursor) {\n    users(first: 50, after: $after, orderBy: { field: USERNAME, direction: ASC }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          username\n          displayName\n          email\n          state\n          roles\n          lastLoginAt\n          cards(first: 20, orderBy: { field: CREATED_AT, direction: DESC }) {\n            edges {\n              node {\n                id\n                serial\n                state\n              }\n            }\n          }\n        }\n      }\n    }\n  }\n": types.AdminUsersDocument,
    "\n  mutation SetUserState($userId: ID!, $state: UserState!, $reason: String) {\n    setUserState(userId: $userId, state: $state, reason: $reason) {\n      id\n      state\n    }\n  }\n": types.SetUserStateDocument,
    "\n  mutation EndUserSessions($userId: ID!) {\n    endUserSessions(userId: $userId)\n  }\n": types.EndUserSessionsDocument,
    "\n  mutation PurgeCard($serial: String!) {\n    purgeCard(serial: $serial)\n  }\n": types.PurgeCardDocument,
    "\n  query CardProcesses($card: ID!) {\n    processes(card: $card) {\n      name\n      displayName\n      description\n      available\n      unavailableReason\n      runningOrder {\n        id\n      }\n    }\n  }\n": types.CardProcessesDocument,
    "\n  fragment CardDetails on Card {\n    id\n    serial\n    kind\n    state\n    createdAt\n    validFrom\n    validUntil\n    properties {\n      ...CardProperties\n    }\n    device {\n      reader\n      host\n    }\n    replacedBy {\n      serial\n    }\n    pinState {\n      triesLeft\n      blocked\n      pukBlocked\n      reportedAt\n    }\n    certificates(first: 10, orderBy: { field: CREATED_AT, direction: DESC }) {\n      edges {\n        node {\n          id\n          serial\n          slot\n          template\n          keyAlgorithm\n          subject\n          notBefore\n          notAfter\n          state\n          revokedAt\n          revocationReason\n          pem\n        }\n      }\n    }\n  }\n": types.CardDetailsFragmentDoc,
    "\n  query MyCards {\n    me {\n      id\n      cards(first: 50, orderBy: { field: CREATED_AT, direction: DESC }) {\n        totalCount\n        edges {\n          node {\n            ...CardDetails\n          }\n        }\n      }\n    }\n    processes {\n      name\n      runningOrder {\n        id\n        state\n      }\n    }\n  }\n": types.MyCardsDocument,
    "\n  subscription CardsRunningOrder($id: ID!) {\n    orderUpdated(id: $id) {\n      id\n      state\n      version\n    }\n  }\n": types.CardsRunningOrderDocument,
    "\n  subscription CardUpdated($serial: String!) {\n    cardUpdated(serial: $serial) {\n      serial\n      state\n      remove\n      pinState {\n        triesLeft\n        blocked\n        pukBlocked\n      }\n    }\n  }\n": types.CardUpdatedDocument,
    "\n  mutation RevokeCard($serial: String!, $reason: RevocationReason!, $comment: String) {\n    revokeCard(serial: $serial, reason: $reason, comment: $comment) {\n      id\n      ...CardDetails\n    }\n  }\n": types.RevokeCardDocument,
    "\n  fragment CardProperties on CardProperties {\n    userId\n    serverName\n    profileName\n    commonName\n    email\n    organization\n  }\n": types.CardPropertiesFragmentDoc,
    "\n  mutation SignOutEverywhere {\n    signOutEverywhere\n  }\n": types.SignOutEverywhereDocument,
    "\n  query ErrorCodes {\n    errorCodes\n  }\n": types.ErrorCodesDocument,
    "\n  query OperatorPeople($query: String!, $after: Cursor) {\n    people(query: $query, first: 50, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          username\n          displayName\n          email\n          state\n          lastLoginAt\n        }\n      }\n    }\n  }\n": types.OperatorPeopleDocument,
    "\n  query Dashboard {\n    processes {\n      name\n      displayName\n      description\n      available\n      unavailableReason\n      runningOrder {\n        id\n        state\n        createdAt\n      }\n    }\n    tasks {\n      id\n      kind\n      expiresAt\n      daysLeft\n      card {\n        id\n        serial\n      }\n      process {\n        name\n        available\n        unavailableReason\n        runningOrder {\n          id\n        }\n      }\n    }\n    me {\n      id\n      # Only cards in use count: a deleted, revoked or replaced card is history.\n      cards(first: 1, where: { stateNotIn: [INACTIVE, REVOKED] }) {\n        totalCount\n      }\n    }\n  }\n": types.DashboardDocument,
    "\n  fragment WizardOrderCore on Order {\n    id\n    process\n    state\n    version\n    createdAt\n    updatedAt\n    expiresAt\n    finishedAt\n    verificationCode\n    failureReason\n    subjectCard {\n      id\n      serial\n    }\n    steps {\n      state\n      at\n      note\n    }\n    options {\n      certificates {\n        template\n        slot\n        algorithm\n      }\n      validity {\n        years\n        days\n      }\n      pin {\n        minLength\n        maxLength\n        upper\n        lower\n        digits\n        special\n      }\n      properties {\n        ...CardProperties\n      }\n    }\n  }\n": types.WizardOrderCoreFragmentDoc,
    "\n  fragment WizardOrder on Order {\n    ...WizardOrderCore\n    card {\n      ...CardDetails\n    }\n  }\n": types.WizardOrderFragmentDoc,
    "\n  subscription OrderUpdated($id: ID!) {\n    orderUpdated(id: $id) {\n      ...WizardOrder\n    }\n  }\n": types.OrderUpdatedDocument,
    "\n  mutation StartProcess($name: String!, $card: ID) {\n    startProcess(name: $name, card: $card) {\n      id\n      state\n    }\n  }\n": types.StartProcessDocument,
    "\n  mutation NextStep($orderId: ID!, $choices: Map) {\n    nextStep(orderId: $orderId, choices: $choices) {\n      order {\n        ...WizardOrderCore\n      }\n      handoff {\n        url\n        expiresAt\n        verificationCode\n      }\n    }\n  }\n": types.NextStepDocument,
    "\n  mutation AnswerUnblockChallenge($orderId: ID!, $challenge: String!) {\n    answerUnblockChallenge(orderId: $orderId, challenge: $challenge) {\n      response\n      order {\n        ...WizardOrderCore\n      }\n    }\n  }\n": types.AnswerUnblockChallengeDocument,
    "\n  mutation RenewHandoff($orderId: ID!) {\n    renewHandoff(orderId: $orderId) {\n      url\n      expiresAt\n      verificationCode\n    }\n  }\n": types.RenewHandoffDocument,
    "\n  mutation CancelOrder($orderId: ID!, $reason: String) {\n    cancelOrder(orderId: $orderId, reason: $reason) {\n      ...WizardOrderCore\n    }\n  }\n": types.CancelOrderDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminAuditEvents($after: Cursor, $where: AuditEventWhereInput) {\n    auditEvents(first: 50, after: $after, where: $where, orderBy: { field: AT, direction: DESC }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          at\n          actor\n          actorKind\n          action\n          objectType\n          objectID\n          remoteAddr\n          details\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query AdminAuditEvents($after: Cursor, $where: AuditEventWhereInput) {\n    auditEvents(first: 50, after: $after, where: $where, orderBy: { field: AT, direction: DESC }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          at\n          actor\n          actorKind\n          action\n          objectType\n          objectID\n          remoteAddr\n          details\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminOrders($after: Cursor, $where: OrderWhereInput) {\n    orders(first: 25, after: $after, where: $where, orderBy: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          process\n          state\n          createdAt\n          updatedAt\n          failureReason\n          user {\n            id\n            username\n          }\n          card {\n            id\n            serial\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query AdminOrders($after: Cursor, $where: OrderWhereInput) {\n    orders(first: 25, after: $after, where: $where, orderBy: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          process\n          state\n          createdAt\n          updatedAt\n          failureReason\n          user {\n            id\n            username\n          }\n          card {\n            id\n            serial\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminOptionScript {\n    optionScript {\n      name\n      current {\n        version\n        source\n        author\n        comment\n        createdAt\n      }\n      versions {\n        version\n        source\n        author\n        comment\n        createdAt\n      }\n    }\n    users(first: 100, orderBy: { field: USERNAME, direction: ASC }) {\n      edges {\n        node {\n          id\n          username\n          displayName\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query AdminOptionScript {\n    optionScript {\n      name\n      current {\n        version\n        source\n        author\n        comment\n        createdAt\n      }\n      versions {\n        version\n        source\n        author\n        comment\n        createdAt\n      }\n    }\n    users(first: 100, orderBy: { field: USERNAME, direction: ASC }) {\n      edges {\n        node {\n          id\n          username\n          displayName\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ScriptOptions on Options {\n    pin {\n      minLength\n      maxLength\n      upper\n      lower\n      digits\n      special\n      maxRepeated\n      maxSequential\n      retryCount\n      blockList\n    }\n    certificates {\n      template\n      slot\n      algorithm\n    }\n    validity {\n      years\n      days\n    }\n    properties {\n      ...CardProperties\n    }\n  }\n"): (typeof documents)["\n  fragment ScriptOptions on Options {\n    pin {\n      minLength\n      maxLength\n      upper\n      lower\n      digits\n      special\n      maxRepeated\n      maxSequential\n      retryCount\n      blockList\n    }\n    certificates {\n      template\n      slot\n      algorithm\n    }\n    validity {\n      years\n      days\n    }\n    properties {\n      ...CardProperties\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ValidateOptionScript($source: String!, $userId: ID) {\n    validateOptionScript(source: $source, userId: $userId) {\n      ok\n      errors {\n        line\n        column\n        message\n        path\n      }\n      options {\n        ...ScriptOptions\n      }\n    }\n  }\n"): (typeof documents)["\n  query ValidateOptionScript($source: String!, $userId: ID) {\n    validateOptionScript(source: $source, userId: $userId) {\n      ok\n      errors {\n        line\n        column\n        message\n        path\n      }\n      options {\n        ...ScriptOptions\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateOptionScript($source: String!, $comment: String) {\n    updateOptionScript(source: $source, comment: $comment) {\n      name\n      current {\n        version\n        source\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateOptionScript($source: String!, $comment: String) {\n    updateOptionScript(source: $source, comment: $comment) {\n      name\n      current {\n        version\n        source\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevertOptionScript($version: Int!) {\n    revertOptionScript(version: $version) {\n      name\n      current {\n        version\n        source\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation RevertOptionScript($version: Int!) {\n    revertOptionScript(version: $version) {\n      name\n      current {\n        version\n        source\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminUsers($after: Cursor) {\n    users(first: 50, after: $after, orderBy: { field: USERNAME, direction: ASC }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          username\n          displayName\n          email\n          state\n          roles\n          lastLoginAt\n          cards(first: 20, orderBy: { field: CREATED_AT, direction: DESC }) {\n            edges {\n              node {\n                id\n                serial\n                state\n              }\n            }\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query AdminUsers($after: Cursor) {\n    users(first: 50, after: $after, orderBy: { field: USERNAME, direction: ASC }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          username\n          displayName\n          email\n          state\n          roles\n          lastLoginAt\n          cards(first: 20, orderBy: { field: CREATED_AT, direction: DESC }) {\n            edges {\n              node {\n                id\n                serial\n                state\n              }\n            }\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetUserState($userId: ID!, $state: UserState!, $reason: String) {\n    setUserState(userId: $userId, state: $state, reason: $reason) {\n      id\n      state\n    }\n  }\n"): (typeof documents)["\n  mutation SetUserState($userId: ID!, $state: UserState!, $reason: String) {\n    setUserState(userId: $userId, state: $state, reason: $reason) {\n      id\n      state\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation EndUserSessions($userId: ID!) {\n    endUserSessions(userId: $userId)\n  }\n"): (typeof documents)["\n  mutation EndUserSessions($userId: ID!) {\n    endUserSessions(userId: $userId)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PurgeCard($serial: String!) {\n    purgeCard(serial: $serial)\n  }\n"): (typeof documents)["\n  mutation PurgeCard($serial: String!) {\n    purgeCard(serial: $serial)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CardProcesses($card: ID!) {\n    processes(card: $card) {\n      name\n      displayName\n      description\n      available\n      unavailableReason\n      runningOrder {\n        id\n      }\n    }\n  }\n"): (typeof documents)["\n  query CardProcesses($card: ID!) {\n    processes(card: $card) {\n      name\n      displayName\n      description\n      available\n      unavailableReason\n      runningOrder {\n        id\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment CardDetails on Card {\n    id\n    serial\n    kind\n    state\n    createdAt\n    validFrom\n    validUntil\n    properties {\n      ...CardProperties\n    }\n    device {\n      reader\n      host\n    }\n    replacedBy {\n      serial\n    }\n    pinState {\n      triesLeft\n      blocked\n      pukBlocked\n      reportedAt\n    }\n    certificates(first: 10, orderBy: { field: CREATED_AT, direction: DESC }) {\n      edges {\n        node {\n          id\n          serial\n          slot\n          template\n          keyAlgorithm\n          subject\n          notBefore\n          notAfter\n          state\n          revokedAt\n          revocationReason\n          pem\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  fragment CardDetails on Card {\n    id\n    serial\n    kind\n    state\n    createdAt\n    validFrom\n    validUntil\n    properties {\n      ...CardProperties\n    }\n    device {\n      reader\n      host\n    }\n    replacedBy {\n      serial\n    }\n    pinState {\n      triesLeft\n      blocked\n      pukBlocked\n      reportedAt\n    }\n    certificates(first: 10, orderBy: { field: CREATED_AT, direction: DESC }) {\n      edges {\n        node {\n          id\n          serial\n          slot\n          template\n          keyAlgorithm\n          subject\n          notBefore\n          notAfter\n          state\n          revokedAt\n          revocationReason\n          pem\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MyCards {\n    me {\n      id\n      cards(first: 50, orderBy: { field: CREATED_AT, direction: DESC }) {\n        totalCount\n        edges {\n          node {\n            ...CardDetails\n          }\n        }\n      }\n    }\n    processes {\n      name\n      runningOrder {\n        id\n        state\n      }\n    }\n  }\n"): (typeof documents)["\n  query MyCards {\n    me {\n      id\n      cards(first: 50, orderBy: { field: CREATED_AT, direction: DESC }) {\n        totalCount\n        edges {\n          node {\n            ...CardDetails\n          }\n        }\n      }\n    }\n    processes {\n      name\n      runningOrder {\n        id\n        state\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription CardsRunningOrder($id: ID!) {\n    orderUpdated(id: $id) {\n      id\n      state\n      version\n    }\n  }\n"): (typeof documents)["\n  subscription CardsRunningOrder($id: ID!) {\n    orderUpdated(id: $id) {\n      id\n      state\n      version\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription CardUpdated($serial: String!) {\n    cardUpdated(serial: $serial) {\n      serial\n      state\n      remove\n      pinState {\n        triesLeft\n        blocked\n        pukBlocked\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription CardUpdated($serial: String!) {\n    cardUpdated(serial: $serial) {\n      serial\n      state\n      remove\n      pinState {\n        triesLeft\n        blocked\n        pukBlocked\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeCard($serial: String!, $reason: RevocationReason!, $comment: String) {\n    revokeCard(serial: $serial, reason: $reason, comment: $comment) {\n      id\n      ...CardDetails\n    }\n  }\n"): (typeof documents)["\n  mutation RevokeCard($serial: String!, $reason: RevocationReason!, $comment: String) {\n    revokeCard(serial: $serial, reason: $reason, comment: $comment) {\n      id\n      ...CardDetails\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment CardProperties on CardProperties {\n    userId\n    serverName\n    profileName\n    commonName\n    email\n    organization\n  }\n"): (typeof documents)["\n  fragment CardProperties on CardProperties {\n    userId\n    serverName\n    profileName\n    commonName\n    email\n    organization\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SignOutEverywhere {\n    signOutEverywhere\n  }\n"): (typeof documents)["\n  mutation SignOutEverywhere {\n    signOutEverywhere\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ErrorCodes {\n    errorCodes\n  }\n"): (typeof documents)["\n  query ErrorCodes {\n    errorCodes\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query OperatorPeople($query: String!, $after: Cursor) {\n    people(query: $query, first: 50, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          username\n          displayName\n          email\n          state\n          lastLoginAt\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query OperatorPeople($query: String!, $after: Cursor) {\n    people(query: $query, first: 50, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          username\n          displayName\n          email\n          state\n          lastLoginAt\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Dashboard {\n    processes {\n      name\n      displayName\n      description\n      available\n      unavailableReason\n      runningOrder {\n        id\n        state\n        createdAt\n      }\n    }\n    tasks {\n      id\n      kind\n      expiresAt\n      daysLeft\n      card {\n        id\n        serial\n      }\n      process {\n        name\n        available\n        unavailableReason\n        runningOrder {\n          id\n        }\n      }\n    }\n    me {\n      id\n      # Only cards in use count: a deleted, revoked or replaced card is history.\n      cards(first: 1, where: { stateNotIn: [INACTIVE, REVOKED] }) {\n        totalCount\n      }\n    }\n  }\n"): (typeof documents)["\n  query Dashboard {\n    processes {\n      name\n      displayName\n      description\n      available\n      unavailableReason\n      runningOrder {\n        id\n        state\n        createdAt\n      }\n    }\n    tasks {\n      id\n      kind\n      expiresAt\n      daysLeft\n      card {\n        id\n        serial\n      }\n      process {\n        name\n        available\n        unavailableReason\n        runningOrder {\n          id\n        }\n      }\n    }\n    me {\n      id\n      # Only cards in use count: a deleted, revoked or replaced card is history.\n      cards(first: 1, where: { stateNotIn: [INACTIVE, REVOKED] }) {\n        totalCount\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment WizardOrderCore on Order {\n    id\n    process\n    state\n    version\n    createdAt\n    updatedAt\n    expiresAt\n    finishedAt\n    verificationCode\n    failureReason\n    subjectCard {\n      id\n      serial\n    }\n    steps {\n      state\n      at\n      note\n    }\n    options {\n      certificates {\n        template\n        slot\n        algorithm\n      }\n      validity {\n        years\n        days\n      }\n      pin {\n        minLength\n        maxLength\n        upper\n        lower\n        digits\n        special\n      }\n      properties {\n        ...CardProperties\n      }\n    }\n  }\n"): (typeof documents)["\n  fragment WizardOrderCore on Order {\n    id\n    process\n    state\n    version\n    createdAt\n    updatedAt\n    expiresAt\n    finishedAt\n    verificationCode\n    failureReason\n    subjectCard {\n      id\n      serial\n    }\n    steps {\n      state\n      at\n      note\n    }\n    options {\n      certificates {\n        template\n        slot\n        algorithm\n      }\n      validity {\n        years\n        days\n      }\n      pin {\n        minLength\n        maxLength\n        upper\n        lower\n        digits\n        special\n      }\n      properties {\n        ...CardProperties\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment WizardOrder on Order {\n    ...WizardOrderCore\n    card {\n      ...CardDetails\n    }\n  }\n"): (typeof documents)["\n  fragment WizardOrder on Order {\n    ...WizardOrderCore\n    card {\n      ...CardDetails\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription OrderUpdated($id: ID!) {\n    orderUpdated(id: $id) {\n      ...WizardOrder\n    }\n  }\n"): (typeof documents)["\n  subscription OrderUpdated($id: ID!) {\n    orderUpdated(id: $id) {\n      ...WizardOrder\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation StartProcess($name: String!, $card: ID) {\n    startProcess(name: $name, card: $card) {\n      id\n      state\n    }\n  }\n"): (typeof documents)["\n  mutation StartProcess($name: String!, $card: ID) {\n    startProcess(name: $name, card: $card) {\n      id\n      state\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation NextStep($orderId: ID!, $choices: Map) {\n    nextStep(orderId: $orderId, choices: $choices) {\n      order {\n        ...WizardOrderCore\n      }\n      handoff {\n        url\n        expiresAt\n        verificationCode\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation NextStep($orderId: ID!, $choices: Map) {\n    nextStep(orderId: $orderId, choices: $choices) {\n      order {\n        ...WizardOrderCore\n      }\n      handoff {\n        url\n        expiresAt\n        verificationCode\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AnswerUnblockChallenge($orderId: ID!, $challenge: String!) {\n    answerUnblockChallenge(orderId: $orderId, challenge: $challenge) {\n      response\n      order {\n        ...WizardOrderCore\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation AnswerUnblockChallenge($orderId: ID!, $challenge: String!) {\n    answerUnblockChallenge(orderId: $orderId, challenge: $challenge) {\n      response\n      order {\n        ...WizardOrderCore\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RenewHandoff($orderId: ID!) {\n    renewHandoff(orderId: $orderId) {\n      url\n      expiresAt\n      verificationCode\n    }\n  }\n"): (typeof documents)["\n  mutation RenewHandoff($orderId: ID!) {\n    renewHandoff(orderId: $orderId) {\n      url\n      expiresAt\n      verificationCode\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelOrder($orderId: ID!, $reason: String) {\n    cancelOrder(orderId: $orderId, reason: $reason) {\n      ...WizardOrderCore\n    }\n  }\n"): (typeof documents)["\n  mutation CancelOrder($orderId: ID!, $reason: String) {\n    cancelOrder(orderId: $orderId, reason: $reason) {\n      ...WizardOrderCore\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;