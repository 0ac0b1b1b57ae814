import { graphql } from './graphql';
import { JobFields } from './jobs';

// Sent as GraphQL multipart requests by api/multipart-upload.ts, not through urql: only XHR reports upload progress.

export const UploadBackupMutation = graphql(`
  mutation UploadBackup($file: File!, $description: String, $identity: String) {
    uploadBackup(file: $file, description: $description, identity: $identity) {
      __typename
      ... on MutationUploadBackupSuccess {
        data {
          id
          fileName
        }
      }
      ... on CodedError {
        code
        message
      }
    }
  }
`);

export const RestoreFromUploadMutation = graphql(
  `
    mutation RestoreFromUpload($file: File!, $confirmation: String!, $options: RestoreOptions, $identity: String) {
      restoreFromUpload(file: $file, confirmation: $confirmation, options: $options, identity: $identity) {
        __typename
        ... on MutationRestoreFromUploadSuccess {
          data {
            ...JobFields
          }
        }
        ... on CodedError {
          code
          message
        }
      }
    }
  `,
  [JobFields],
);
