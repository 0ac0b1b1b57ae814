import { graphql } from './graphql';

export const AuditEventsQuery = graphql(`
  query AuditEvents($limit: Int, $offset: Int, $action: String) {
    auditEvents(limit: $limit, offset: $offset, action: $action) {
      id
      at
      action
      outcome
      actor
      address
      subjectId
      details
    }
  }
`);
