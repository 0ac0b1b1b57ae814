import { graphql } from './graphql';

export const ScheduleFields = graphql(`
  fragment ScheduleFields on Schedule @_unmask {
    targetId
    targetName
    cron
    timeZone
    missedPolicy
    paused
    retries
    lastSlotAt
    nextRuns
    recentRuns(limit: 10) {
      id
      targetId
      slotAt
      outcome
      jobId
      jobState
      attempt
      retryAt
    }
  }
`);

export const SchedulesQuery = graphql(
  `
    query Schedules {
      schedules(nextRuns: 5) {
        ...ScheduleFields
      }
    }
  `,
  [ScheduleFields],
);

export const SetScheduleMutation = graphql(
  `
    mutation SetSchedule(
      $target: String!
      $cron: String!
      $timeZone: String
      $missedPolicy: MissedPolicy
      $retries: Int
    ) {
      setSchedule(target: $target, cron: $cron, timeZone: $timeZone, missedPolicy: $missedPolicy, retries: $retries) {
        __typename
        ... on MutationSetScheduleSuccess {
          data {
            ...ScheduleFields
          }
        }
        ... on CodedError {
          code
          message
        }
      }
    }
  `,
  [ScheduleFields],
);

export const PauseScheduleMutation = graphql(
  `
    mutation PauseSchedule($target: String!) {
      pauseSchedule(target: $target) {
        __typename
        ... on MutationPauseScheduleSuccess {
          data {
            ...ScheduleFields
          }
        }
        ... on CodedError {
          code
          message
        }
      }
    }
  `,
  [ScheduleFields],
);

export const ResumeScheduleMutation = graphql(
  `
    mutation ResumeSchedule($target: String!) {
      resumeSchedule(target: $target) {
        __typename
        ... on MutationResumeScheduleSuccess {
          data {
            ...ScheduleFields
          }
        }
        ... on CodedError {
          code
          message
        }
      }
    }
  `,
  [ScheduleFields],
);

export const RunScheduleNowMutation = graphql(`
  mutation RunScheduleNow($target: String!) {
    runScheduleNow(target: $target) {
      __typename
      ... on MutationRunScheduleNowSuccess {
        data {
          jobId
          targetId
        }
      }
      ... on CodedError {
        code
        message
      }
    }
  }
`);
