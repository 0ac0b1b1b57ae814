import type { VariablesOf } from '@/graphql/graphql';
import type { AddDestinationMutation } from '@/graphql/destinations';

type AddDestinationInput = VariablesOf<typeof AddDestinationMutation>['input'];

export interface DestinationForm {
  name: string;
  kind: 'local' | 's3';
  directory: string;
  /** An S3-compatible service's URL; empty: AWS in `region`. */
  endpoint: string;
  region: string;
  bucket: string;
  prefix: string;
  pathStyle: boolean;
  accessKeyId: string;
  secretAccessKey: string;
  /** The service's own credentials (its environment, an instance role) instead of stored ones: an explicit choice. */
  useEnvironmentCredentials: boolean;
}

export const EMPTY_DESTINATION_FORM: DestinationForm = {
  name: '',
  kind: 's3',
  directory: '',
  endpoint: '',
  region: '',
  bucket: '',
  prefix: '',
  pathStyle: true,
  accessKeyId: '',
  secretAccessKey: '',
  useEnvironmentCredentials: false,
};

/** What keeps the form from being sent, in words; null when it can be. */
export function formProblem(form: DestinationForm): string | null {
  if (!form.name.trim()) return 'A name is needed.';
  if (form.kind === 'local') return form.directory.trim().startsWith('/') ? null : 'An absolute directory is needed.';
  if (!form.endpoint.trim() && !form.region.trim()) return 'An endpoint (S3-compatible services) or a region (AWS).';
  if (form.endpoint.trim() && !URL.canParse(form.endpoint.trim())) return 'The endpoint is a URL: https://host[:port].';
  if (form.endpoint.trim() && new URL(form.endpoint.trim()).password) {
    return 'Leave the credentials out of the endpoint and type them in their fields.';
  }
  if (!form.bucket.trim()) return 'A bucket is needed.';
  if (form.useEnvironmentCredentials) return null;
  if (!form.accessKeyId.trim() !== !form.secretAccessKey.trim()) return 'Give both the access key id and the secret.';
  if (!form.accessKeyId.trim())
    return 'Give both the access key id and the secret, or use the service’s own credentials.';
  return null;
}

/** The form as addDestination's input: only the fields of its kind; the credentials, or the choice of the service's own. */
export function addDestinationInput(form: DestinationForm): AddDestinationInput {
  if (form.kind === 'local') return { name: form.name.trim(), kind: 'local', directory: form.directory.trim() };
  return {
    name: form.name.trim(),
    kind: 's3',
    ...(form.endpoint.trim() ? { endpoint: form.endpoint.trim() } : {}),
    ...(form.region.trim() ? { region: form.region.trim() } : {}),
    bucket: form.bucket.trim(),
    prefix: form.prefix.trim(),
    pathStyle: form.pathStyle,
    ...(form.useEnvironmentCredentials
      ? { credentialSource: 'environment' as const }
      : { credentials: { accessKeyId: form.accessKeyId.trim(), secretAccessKey: form.secretAccessKey } }),
  };
}
