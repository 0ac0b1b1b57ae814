import { graphql } from './graphql';

export const MeQuery = graphql(`
  query Me {
    me {
      id
      email
      role
    }
  }
`);

export const LoginMutation = graphql(`
  mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) {
      __typename
      ... on MutationLoginSuccess {
        data {
          id
          email
          role
        }
      }
      ... on CodedError {
        code
        message
      }
    }
  }
`);

export const LogoutMutation = graphql(`
  mutation Logout {
    logout
  }
`);
