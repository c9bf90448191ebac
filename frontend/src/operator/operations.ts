import { graphql } from '../gql';

// The operator console's API calls: each action an operator takes for a person carries the
// reason they gave, which the server writes into every audit event of the call.

export const OpStartProcessDoc = graphql(`
  mutation OperatorStartProcess($name: String!, $card: ID!, $reason: String!) {
    startProcess(name: $name, card: $card, reason: $reason) {
      id
      state
    }
  }
`);

export const OpNextStepDoc = graphql(`
  mutation OperatorNextStep($id: ID!, $reason: String!) {
    nextStep(orderId: $id, reason: $reason) {
      order {
        id
        state
      }
      handoff {
        url
        expiresAt
        verificationCode
      }
    }
  }
`);

export const OpRevokeCardDoc = graphql(`
  mutation OperatorRevokeCard($serial: String!, $reason: RevocationReason!, $comment: String!) {
    revokeCard(serial: $serial, reason: $reason, comment: $comment) {
      id
      state
    }
  }
`);

export const OpCancelOrderDoc = graphql(`
  mutation OperatorCancelOrder($id: ID!, $reason: String!) {
    cancelOrder(orderId: $id, reason: $reason) {
      id
      state
    }
  }
`);

export const OpSetUserStateDoc = graphql(`
  mutation OperatorSetUserState($id: ID!, $state: UserState!, $reason: String!) {
    setUserState(userId: $id, state: $state, reason: $reason) {
      id
      state
    }
  }
`);

export const OpEndSessionsDoc = graphql(`
  mutation OperatorEndSessions($id: ID!, $reason: String!) {
    endUserSessions(userId: $id, reason: $reason)
  }
`);
