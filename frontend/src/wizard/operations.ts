// The wizard's GraphQL operations. The order comes from the orderUpdated subscription,
// which sends the current order first and then every change, and from the mutations'
// results; both select the same WizardOrder fields.
import { graphql } from '../gql';

// Mutations select the order without its card: their answers stay small, and the card
// comes with the subscription's events (mergeOrder keeps it). Early servers also failed to
// resolve a mutation's nested edges after its transaction had ended.
export const WizardOrderCoreFragmentDoc = graphql(`
  fragment WizardOrderCore on Order {
    id
    process
    state
    version
    createdAt
    updatedAt
    expiresAt
    finishedAt
    verificationCode
    failureReason
    subjectCard {
      id
      serial
    }
    steps {
      state
      at
      note
      undone {
        cardDeleted
        certificatesRevoked
      }
    }
    options {
      certificates {
        template
        slot
        algorithm
      }
      validity {
        years
        days
      }
      pin {
        minLength
        maxLength
        upper
        lower
        digits
        special
      }
      properties {
        ...CardProperties
      }
    }
  }
`);

export const WizardOrderFragmentDoc = graphql(`
  fragment WizardOrder on Order {
    ...WizardOrderCore
    card {
      ...CardDetails
    }
  }
`);

export const OrderUpdatedDoc = graphql(`
  subscription OrderUpdated($id: ID!) {
    orderUpdated(id: $id) {
      ...WizardOrder
    }
  }
`);

export const StartProcessDoc = graphql(`
  mutation StartProcess($name: String!, $card: ID) {
    startProcess(name: $name, card: $card) {
      id
      state
    }
  }
`);

export const NextStepDoc = graphql(`
  mutation NextStep($orderId: ID!, $choices: Map) {
    nextStep(orderId: $orderId, choices: $choices) {
      order {
        ...WizardOrderCore
      }
      handoff {
        url
        expiresAt
        verificationCode
      }
    }
  }
`);

// unblock-pin-offline's step: the response is in this answer only (shown once).
export const AnswerUnblockChallengeDoc = graphql(`
  mutation AnswerUnblockChallenge($orderId: ID!, $challenge: String!) {
    answerUnblockChallenge(orderId: $orderId, challenge: $challenge) {
      response
      order {
        ...WizardOrderCore
      }
    }
  }
`);

export const RenewHandoffDoc = graphql(`
  mutation RenewHandoff($orderId: ID!) {
    renewHandoff(orderId: $orderId) {
      url
      expiresAt
      verificationCode
    }
  }
`);

export const CancelOrderDoc = graphql(`
  mutation CancelOrder($orderId: ID!, $reason: String) {
    cancelOrder(orderId: $orderId, reason: $reason) {
      ...WizardOrderCore
    }
  }
`);
