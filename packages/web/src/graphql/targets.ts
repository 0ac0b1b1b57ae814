import { graphql } from './graphql';

export const TargetTestFields = graphql(`
  fragment TargetTestFields on TargetTest @_unmask {
    ok
    at
    serverVersion
    clientVersion
    role
    superuser
    owner
    restore
    sizeBytes
    syncedDatabases
    errorCode
  }
`);

export const TargetFields = graphql(
  `
    fragment TargetFields on Target @_unmask {
      id
      name
      kind
      parentId
      url
      database
      hasPassword
      enabled
      managedBy
      excludeDatabases
      keepGlobals
      globalsWithPasswords
      lastTest {
        ...TargetTestFields
      }
    }
  `,
  [TargetTestFields],
);

export const TargetsQuery = graphql(
  `
    query Targets {
      targets {
        ...TargetFields
      }
    }
  `,
  [TargetFields],
);

export const AddTargetMutation = graphql(
  `
    mutation AddTarget($input: AddTargetInput!) {
      addTarget(input: $input) {
        __typename
        ... on MutationAddTargetSuccess {
          data {
            ...TargetFields
          }
        }
        ... on CodedError {
          code
          message
        }
      }
    }
  `,
  [TargetFields],
);

export const UpdateTargetMutation = graphql(
  `
    mutation UpdateTarget($id: ID!, $input: UpdateTargetInput!) {
      updateTarget(id: $id, input: $input) {
        __typename
        ... on MutationUpdateTargetSuccess {
          data {
            ...TargetFields
          }
        }
        ... on CodedError {
          code
          message
        }
      }
    }
  `,
  [TargetFields],
);

export const TestTargetMutation = graphql(
  `
    mutation TestTarget($id: ID!) {
      testTarget(id: $id) {
        __typename
        ... on MutationTestTargetSuccess {
          data {
            ...TargetTestFields
          }
        }
        ... on CodedError {
          code
          message
        }
      }
    }
  `,
  [TargetTestFields],
);

export const RemoveTargetMutation = graphql(`
  mutation RemoveTarget($id: ID!, $confirmation: String!) {
    removeTarget(id: $id, confirmation: $confirmation) {
      __typename
      ... on MutationRemoveTargetSuccess {
        data {
          id
        }
      }
      ... on CodedError {
        code
        message
      }
    }
  }
`);

/** What a target's backups go to and are encrypted to, for the targets table and its editor. */
export const TargetPlacementQuery = graphql(`
  query TargetPlacement($target: ID!) {
    targetDestinations(target: $target) {
      __typename
      ... on QueryTargetDestinationsSuccess {
        data {
          id
          name
          kind
          enabled
        }
      }
      ... on CodedError {
        code
        message
      }
    }
    targetRecipients(target: $target) {
      __typename
      ... on QueryTargetRecipientsSuccess {
        data {
          id
          name
          fingerprint
        }
      }
      ... on CodedError {
        code
        message
      }
    }
  }
`);
