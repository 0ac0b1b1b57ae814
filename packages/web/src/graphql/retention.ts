import { graphql } from './graphql';

export const RetentionPolicyFields = graphql(`
  fragment RetentionPolicyFields on RetentionPolicy @_unmask {
    keepLast
    keepHourly
    keepDaily
    keepWeekly
    keepMonthly
    keepYearly
    keepWithinDays
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

export const DestinationRetentionFields = graphql(`
  fragment DestinationRetentionFields on DestinationRetentionPolicy @_unmask {
    destination
    keepLast
    keepHourly
    keepDaily
    keepWeekly
    keepMonthly
    keepYearly
    keepWithinDays
  }
`);

/** The destinations a target's retention covers (from the saved policies' preview) and their own rules. */
export const DestinationRetentionQuery = graphql(
  `
    query DestinationRetention($target: String!) {
      previewRetention(target: $target) {
        __typename
        ... on QueryPreviewRetentionSuccess {
          data {
            destinations {
              destinationId
              destinationName
              source
              rules
            }
          }
        }
        ... on CodedError {
          code
          message
        }
      }
      destinationRetentionPolicies(target: $target) {
        __typename
        ... on QueryDestinationRetentionPoliciesSuccess {
          data {
            ...DestinationRetentionFields
          }
        }
        ... on CodedError {
          code
          message
        }
      }
    }
  `,
  [DestinationRetentionFields],
);

export const SetDestinationRetentionPolicyMutation = graphql(`
  mutation SetDestinationRetentionPolicy(
    $target: String!
    $destination: String!
    $policy: DestinationRetentionPolicyInput!
  ) {
    setDestinationRetentionPolicy(target: $target, destination: $destination, policy: $policy) {
      __typename
      ... on MutationSetDestinationRetentionPolicySuccess {
        data {
          destination
        }
      }
      ... on CodedError {
        code
        message
      }
    }
  }
`);

export const ClearDestinationRetentionPolicyMutation = graphql(`
  mutation ClearDestinationRetentionPolicy($target: String!, $destination: String!) {
    clearDestinationRetentionPolicy(target: $target, destination: $destination) {
      __typename
      ... on MutationClearDestinationRetentionPolicySuccess {
        data
      }
      ... on CodedError {
        code
        message
      }
    }
  }
`);
