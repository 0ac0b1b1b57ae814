import { graphql } from './graphql';

export const DashboardQuery = graphql(`
  query Dashboard {
    dashboard {
      targetId
      name
      kind
      enabled
      managedBy
      lastSuccessAt
      lastSuccessSizeBytes
      nextRunAt
      schedulePaused
      failures {
        count
        lastAt
        lastCode
      }
      pruningPaused
      failedRunsInARow
      failedRunsGuard
      sizeTrend
    }
  }
`);
