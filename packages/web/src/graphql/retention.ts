import { graphql } from './graphql';

export const RetentionPolicyFields = graphql(`
  fragment RetentionPolicyFields on RetentionPolicy @_unmask {
    keepLast
    keepHourly
    keepDaily
    keepWeekly
    keepMonthly
    keepYearly
    snapshotKeepDays
    uploadKeepDays
    failedRunsGuard
  }
`);

export const RetentionPolicyQuery = graphql(
  `
    query RetentionPolicy($target: String!) {
      retentionPolicy(target: $target) {
        __typename
        ... on QueryRetentionPolicySuccess {
          data {
            ...RetentionPolicyFields
          }
        }
        ... on CodedError {
          code
          message
        }
      }
    }
  `,
  [RetentionPolicyFields],
);

export const PreviewRetentionQuery = graphql(`
  query PreviewRetention($target: String!, $policy: RetentionPolicyInput) {
    previewRetention(target: $target, policy: $policy) {
      __typename
      ... on QueryPreviewRetentionSuccess {
        data {
          hasPolicy
          timeZone
          freedBytes
          guard {
            blocked
            failedRuns
            threshold
          }
          decisions {
            backupId
            action
            reasons
            rule
            backup {
              id
              fileName
              createdAt
              sizeBytes
              origin
            }
          }
        }
      }
      ... on CodedError {
        code
        message
      }
    }
  }
`);

export const SetRetentionPolicyMutation = graphql(
  `
    mutation SetRetentionPolicy($target: String!, $policy: RetentionPolicyInput!) {
      setRetentionPolicy(target: $target, policy: $policy) {
        __typename
        ... on MutationSetRetentionPolicySuccess {
          data {
            ...RetentionPolicyFields
          }
        }
        ... on CodedError {
          code
          message
        }
      }
    }
  `,
  [RetentionPolicyFields],
);
