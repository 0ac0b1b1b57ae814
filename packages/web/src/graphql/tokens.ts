import { graphql } from './graphql';

export const ApiTokensQuery = graphql(`
  query ApiTokens {
    apiTokens {
      id
      name
      createdAt
      lastUsedAt
      revokedAt
    }
  }
`);

export const CreateApiTokenMutation = graphql(`
  mutation CreateApiToken($name: String!) {
    createApiToken(name: $name) {
      __typename
      ... on MutationCreateApiTokenSuccess {
        data {
          token
          apiToken {
            id
            name
            createdAt
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

export const RevokeApiTokenMutation = graphql(`
  mutation RevokeApiToken($id: ID!) {
    revokeApiToken(id: $id) {
      __typename
      ... on MutationRevokeApiTokenSuccess {
        data {
          id
          revokedAt
        }
      }
      ... on CodedError {
        code
        message
      }
    }
  }
`);
