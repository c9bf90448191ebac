// The properties a card is personalised with, selected once for every place that shows
// them: a card's details, the wizard's introduction (the order's options) and the option
// script editor's evaluated options. A property added to the schema is added here.
import { graphql } from '../gql';

/** CardPropertiesFragmentDoc is every property of a card, for `...CardProperties`. */
export const CardPropertiesFragmentDoc = graphql(`
  fragment CardProperties on CardProperties {
    userId
    serverName
    profileName
    commonName
    email
    organization
  }
`);
