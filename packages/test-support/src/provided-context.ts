// Values the integration globalSetup hands to tests (project.provide / inject).
// The type import makes the augmentation resolve 'vitest' from this package.
import type {} from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}
