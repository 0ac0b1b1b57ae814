import { graphql } from './graphql';
import { JobFields } from './jobs';

export const BackupsQuery = graphql(`
  query Backups(
    $limit: Int
    $offset: Int
    $search: String
    $origin: String
    $createdAfter: DateTime
    $createdBefore: DateTime
    $targetId: ID
  ) {
    backups(
      limit: $limit
      offset: $offset
      search: $search
      origin: $origin
      createdAfter: $createdAfter
      createdBefore: $createdBefore
      targetId: $targetId
    ) {
      total
      items {
        id
        createdAt
        fileName
        description
        sizeBytes
        format
        sha256
        verifyStatus
        verifiedAt
        origin
        createdBy
        pinned
        copiesComplete
        copiesTotal
        recipientFingerprints
        recipients {
          name
          identityKept
        }
        target {
          id
          name
          database
          removed
        }
      }
    }
  }
`);

export const BackupQuery = graphql(
  `
    query Backup($id: ID!) {
      backup(id: $id) {
        id
        createdAt
        fileName
        description
        sizeBytes
        format
        sha256
        verifyStatus
        verifiedAt
        origin
        createdBy
        pinned
        databaseName
        globalsFileName
        recipientFingerprints
        recipients {
          name
          fingerprint
        }
        copies {
          destination {
            id
            name
            kind
          }
          state
          sizeBytes
          attempts
          errorCode
          errorMessage
          completedAt
        }
        target {
          id
          name
          database
          removed
        }
        serverVersion
        clientVersion
        durationMs
        tableCount
        tables {
          schema
          name
          bytes
          rows
        }
        contents {
          schemas
          tables
          pgDumpVersion
          sourceServerVersion
        }
        job {
          ...JobFields
        }
      }
    }
  `,
  [JobFields],
);

export const CreateBackupMutation = graphql(
  `
    mutation CreateBackup($description: String) {
      createBackup(description: $description) {
        __typename
        ... on MutationCreateBackupSuccess {
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

export const ReencryptBackupMutation = graphql(
  `
    mutation ReencryptBackup($id: ID!, $identity: String) {
      reencryptBackup(id: $id, identity: $identity) {
        __typename
        ... on MutationReencryptBackupSuccess {
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

export const VerifyBackupMutation = graphql(
  `
    mutation VerifyBackup($id: ID!) {
      verifyBackup(id: $id) {
        __typename
        ... on MutationVerifyBackupSuccess {
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

export const DeleteBackupMutation = graphql(`
  mutation DeleteBackup($id: ID!, $confirmation: String!) {
    deleteBackup(id: $id, confirmation: $confirmation) {
      __typename
      ... on MutationDeleteBackupSuccess {
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

export const RestoreBackupMutation = graphql(
  `
    mutation RestoreBackup(
      $id: ID!
      $targetId: ID
      $confirmation: String!
      $options: RestoreOptions
      $identity: String
    ) {
      restoreBackup(id: $id, targetId: $targetId, confirmation: $confirmation, options: $options, identity: $identity) {
        __typename
        ... on MutationRestoreBackupSuccess {
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

export const RestoreCheckQuery = graphql(`
  query RestoreCheck($id: ID!, $targetId: ID, $noOwner: Boolean, $identity: String) {
    restoreCheck(id: $id, targetId: $targetId, noOwner: $noOwner, identity: $identity) {
      mode
      targetName
      role {
        owner
      }
      sourceDatabase
      targetDatabase
      sourceMismatch
      unrestorable {
        where
        kind
        name
        reason
        skippable
      }
    }
  }
`);

export const CreateDownloadUrlMutation = graphql(`
  mutation CreateDownloadUrl($id: ID!) {
    createDownloadUrl(id: $id) {
      __typename
      ... on MutationCreateDownloadUrlSuccess {
        data {
          url
        }
      }
      ... on CodedError {
        code
        message
      }
    }
  }
`);

export const PinBackupMutation = graphql(`
  mutation PinBackup($id: ID!, $pinned: Boolean!) {
    pinBackup(id: $id, pinned: $pinned) {
      __typename
      ... on MutationPinBackupSuccess {
        data {
          id
          pinned
        }
      }
      ... on CodedError {
        code
        message
      }
    }
  }
`);

/** A backup named in a list (e.g. the backups only one key opens). */
export const BackupLabelQuery = graphql(`
  query BackupLabel($id: ID!) {
    backup(id: $id) {
      id
      fileName
      createdAt
    }
  }
`);
