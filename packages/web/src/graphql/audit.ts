import { graphql } from './graphql';

export const AuditEventsQuery = graphql(`
  query AuditEvents(
    $limit: Int
    $offset: Int
    $actionPrefix: String
    $actorContains: String
    $since: DateTime
    $before: DateTime
    $targetId: ID
  ) {
    auditEvents(
      limit: $limit
      offset: $offset
      actionPrefix: $actionPrefix
      actorContains: $actorContains
      since: $since
      before: $before
      targetId: $targetId
    ) {
      id
      at
      action
      outcome
      actor
      address
      subjectId
      target {
        name
      }
      details
    }
  }
`);
