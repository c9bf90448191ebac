import { graphql } from '../gql';

/**
 * AuditEventFields is what every list of audit events reads (the audit log, a person's or a
 * card's trail, an order's timeline): the names the server resolved, what a sentence is made
 * of (audit/sentences.ts), and where the request came from. One fragment, so the lists
 * cannot drift apart.
 */
export const AuditEventFields = graphql(`
  fragment AuditEventFields on AuditEvent {
    id
    at
    actorName
    actorID
    actorKind
    action
    objectType
    objectID
    objectLabel
    subjectID
    subjectName
    remoteAddr
    details
  }
`);

/** AuditEventsDoc reads a page of audit events, newest first: first per page, where to filter. */
export const AuditEventsDoc = graphql(`
  query AuditEvents($where: AuditEventWhereInput, $after: Cursor, $first: Int!) {
    auditEvents(first: $first, after: $after, where: $where, orderBy: { field: AT, direction: DESC }) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          ...AuditEventFields
        }
      }
    }
  }
`);
