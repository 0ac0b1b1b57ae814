import { graphql } from './graphql';

export const RecipientFields = graphql(`
  fragment RecipientFields on Recipient @_unmask {
    id
    name
    recipient
    fingerprint
    identityKept
    createdAt
    retiredAt
    backupCount
    dependentBackupIds
  }
`);

export const RecipientsQuery = graphql(
  `
    query Recipients {
      recipients {
        ...RecipientFields
      }
    }
  `,
  [RecipientFields],
);

export const RecoveryKitQuery = graphql(`
  query RecoveryKit($id: ID!) {
    recoveryKit(id: $id) {
      __typename
      ... on QueryRecoveryKitSuccess {
        data
      }
      ... on CodedError {
        code
        message
      }
    }
  }
`);

export const GenerateKeyMutation = graphql(
  `
    mutation GenerateKey($name: String, $keepOnServer: Boolean) {
      generateKey(name: $name, keepOnServer: $keepOnServer) {
        __typename
        ... on MutationGenerateKeySuccess {
          data {
            identity
            recoveryKit
            recipient {
              ...RecipientFields
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
  [RecipientFields],
);

export const AddRecipientMutation = graphql(
  `
    mutation AddRecipient($recipient: String!, $name: String) {
      addRecipient(recipient: $recipient, name: $name) {
        __typename
        ... on MutationAddRecipientSuccess {
          data {
            ...RecipientFields
          }
        }
        ... on CodedError {
          code
          message
        }
      }
    }
  `,
  [RecipientFields],
);

export const RetireRecipientMutation = graphql(
  `
    mutation RetireRecipient($id: ID!, $confirmBackupIds: [ID!]) {
      retireRecipient(id: $id, confirmBackupIds: $confirmBackupIds) {
        __typename
        ... on MutationRetireRecipientSuccess {
          data {
            ...RecipientFields
          }
        }
        ... on CodedError {
          code
          message
        }
      }
    }
  `,
  [RecipientFields],
);

export const SetTargetRecipientsMutation = graphql(`
  mutation SetTargetRecipients($target: ID!, $recipients: [String!]!) {
    setTargetRecipients(target: $target, recipients: $recipients) {
      __typename
      ... on MutationSetTargetRecipientsSuccess {
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
