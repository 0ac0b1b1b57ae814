import { graphql } from './graphql';

export const DestinationTestFields = graphql(`
  fragment DestinationTestFields on DestinationTest @_unmask {
    ok
    at
    errorCode
  }
`);

export const DestinationFields = graphql(
  `
    fragment DestinationFields on Destination @_unmask {
      id
      name
      kind
      location
      hasCredentials
      credentialSource
      enabled
      managedBy
      copies
      usedBytes
      lastTest {
        ...DestinationTestFields
      }
    }
  `,
  [DestinationTestFields],
);

export const DestinationsQuery = graphql(
  `
    query Destinations {
      destinations {
        ...DestinationFields
      }
    }
  `,
  [DestinationFields],
);

export const AddDestinationMutation = graphql(
  `
    mutation AddDestination($input: AddDestinationInput!) {
      addDestination(input: $input) {
        __typename
        ... on MutationAddDestinationSuccess {
          data {
            destination {
              ...DestinationFields
            }
            test {
              ...DestinationTestFields
            }
          }
        }
        ... on CodedError {
          code
          message
        }
      }
    }
  `,
  [DestinationFields, DestinationTestFields],
);

export const UpdateDestinationMutation = graphql(
  `
    mutation UpdateDestination($id: ID!, $input: UpdateDestinationInput!) {
      updateDestination(id: $id, input: $input) {
        __typename
        ... on MutationUpdateDestinationSuccess {
          data {
            ...DestinationFields
          }
        }
        ... on CodedError {
          code
          message
        }
      }
    }
  `,
  [DestinationFields],
);

export const TestDestinationMutation = graphql(
  `
    mutation TestDestination($id: ID!) {
      testDestination(id: $id) {
        __typename
        ... on MutationTestDestinationSuccess {
          data {
            ...DestinationTestFields
          }
        }
        ... on CodedError {
          code
          message
        }
      }
    }
  `,
  [DestinationTestFields],
);

export const RemoveDestinationMutation = graphql(`
  mutation RemoveDestination($id: ID!, $confirmation: String!) {
    removeDestination(id: $id, confirmation: $confirmation) {
      __typename
      ... on MutationRemoveDestinationSuccess {
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

export const SetTargetDestinationsMutation = graphql(`
  mutation SetTargetDestinations($target: ID!, $destinations: [String!]!) {
    setTargetDestinations(target: $target, destinations: $destinations) {
      __typename
      ... on MutationSetTargetDestinationsSuccess {
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
  }
`);
