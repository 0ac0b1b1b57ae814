import { graphql } from './graphql';

export const JobFields = graphql(`
  fragment JobFields on Job @_unmask {
    id
    kind
    state
    backupId
    attempts {
      attempt
      maxAttempts
      nextRetryAt
    }
    target {
      id
      name
    }
    warnings
    errorCode
    errorMessage
    errorEntry
    requestedBy
    createdAt
    startedAt
    finishedAt
    progress {
      percent
      phase
      currentTable
      tablesDone
      tablesTotal
      bytes
      etaSeconds
    }
  }
`);

export const JobsQuery = graphql(
  `
    query Jobs($limit: Int, $offset: Int, $targetId: ID) {
      jobs(limit: $limit, offset: $offset, targetId: $targetId) {
        ...JobFields
      }
    }
  `,
  [JobFields],
);

export const JobProgressSubscription = graphql(
  `
    subscription JobProgress($jobId: ID!) {
      jobProgress(jobId: $jobId) {
        ...JobFields
      }
    }
  `,
  [JobFields],
);

export const JobEventsSubscription = graphql(`
  subscription JobEvents {
    jobEvents {
      id
      kind
      state
    }
  }
`);

export const CancelJobMutation = graphql(`
  mutation CancelJob($id: ID!) {
    cancelJob(id: $id) {
      id
      state
    }
  }
`);
