import { graphql } from './graphql';

export const ServerInfoQuery = graphql(`
  query ServerInfo {
    serverInfo {
      target
      targetDatabase
      serverVersion
      clientVersion
      clientDirectory
      storageLocation
      storageFreeBytes
      maxUploadBytes
      jobTimeoutSeconds
      connectionRole {
        role
        superuser
        owner
        ownerRisks
      }
      versionProblem {
        code
        message
      }
    }
  }
`);
