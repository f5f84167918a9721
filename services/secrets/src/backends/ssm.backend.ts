import {
  DeleteParameterCommand,
  GetParametersCommand,
  GetParametersByPathCommand,
  LabelParameterVersionCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import type { AnyDatabase } from '@palisade/persistence';
import {
  BackendEntry,
  SecretBackend,
  SecretBackendError,
  SecretKey,
  SecretRef,
  SsmRef,
} from './secret-backend';

export interface SsmBackendOptions {
  region: string;
  /** Another endpoint than AWS's for the region (a VPC endpoint, the test endpoint). */
  endpoint?: string;
  /** Where Palisade's parameters live: `<prefix>/<org>/<workspace>/<NAME>`. */
  prefix: string;
  /** The KMS key of an organization's values; `{org}` is replaced by the organization id. */
  kmsKey: string;
  /** Attempts per call, the first included (the SDK's standard retry strategy). */
  maxAttempts: number;
}

/** The label on the version Palisade serves (it moves to each version Palisade writes). */
export const CURRENT_LABEL = 'palisade-current';
/** Names per GetParameters (SSM's limit). */
const BATCH = 10;

/** An SDK error's name (its AWS error code); the message is never used: AWS may quote the value in it. */
function errorName(error: unknown): string {
  return typeof (error as { name?: unknown })?.name === 'string' ? (error as { name: string }).name : 'Error';
}

/**
 * Values as SecureString parameters in AWS SSM Parameter Store, encrypted with a KMS key per
 * organization, through @aws-sdk/client-ssm (credentials from the SDK's provider chain:
 * environment, profile, web identity, instance or container role). Reads pin the version
 * Palisade recorded (`name:version`), so a value written outside Palisade is never served by
 * surprise; `list` tells it apart.
 */
export class SsmSecretBackend implements SecretBackend {
  readonly kind = 'ssm' as const;
  readonly client: SSMClient;

  constructor(private readonly options: SsmBackendOptions) {
    this.client = new SSMClient({
      region: options.region,
      endpoint: options.endpoint,
      maxAttempts: options.maxAttempts,
    });
  }

  parameterName(key: SecretKey): string {
    return `${this.options.prefix}/${key.orgId}/${key.workspaceId}/${key.name}`;
  }

  kmsKeyId(orgId: string): string {
    return this.options.kmsKey.replaceAll('{org}', orgId);
  }

  async put(_trx: AnyDatabase, key: SecretKey, _version: number, value: string): Promise<SsmRef> {
    const parameter = this.parameterName(key);
    try {
      const put = await this.client.send(
        new PutParameterCommand({
          Name: parameter,
          Value: value,
          Type: 'SecureString',
          KeyId: this.kmsKeyId(key.orgId),
          Overwrite: true,
          Tier: 'Standard',
        }),
      );
      const version = put.Version!;
      await this.client.send(
        new LabelParameterVersionCommand({
          Name: parameter,
          ParameterVersion: version,
          Labels: [CURRENT_LABEL],
        }),
      );
      return { backend: 'ssm', parameter, version };
    } catch (error) {
      throw this.failure(error, 'PutParameter', parameter, key.orgId);
    }
  }

  async getMany(
    _db: AnyDatabase,
    orgId: string,
    _workspaceId: string,
    refs: ReadonlyArray<{ name: string; ref: SecretRef }>,
  ): Promise<Map<string, string>> {
    const byParameter = new Map<string, string>();
    for (const { name, ref } of refs) {
      if (ref.backend !== 'ssm')
        throw new SecretBackendError(
          'not_found',
          `${name} was stored by the ${ref.backend} backend; set it again`,
        );
      byParameter.set(ref.parameter, name);
    }
    const selectors = refs.map(({ ref }) => `${(ref as SsmRef).parameter}:${ref.version}`);
    const values = new Map<string, string>();
    // GetParameters takes 10 names: the batches go in parallel, each pinned to the recorded versions.
    const batches = Array.from({ length: Math.ceil(selectors.length / BATCH) }, (_, i) =>
      selectors.slice(i * BATCH, (i + 1) * BATCH),
    );
    await Promise.all(
      batches.map(async (names) => {
        let got;
        try {
          got = await this.client.send(new GetParametersCommand({ Names: names, WithDecryption: true }));
        } catch (error) {
          throw this.failure(error, 'GetParameters', names.join(', '), orgId);
        }
        if (got.InvalidParameters?.length)
          throw new SecretBackendError('not_found', `SSM has no ${got.InvalidParameters.join(', ')}`);
        for (const parameter of got.Parameters ?? [])
          values.set(byParameter.get(parameter.Name!)!, parameter.Value!);
      }),
    );
    return values;
  }

  async delete(_trx: AnyDatabase, key: SecretKey): Promise<void> {
    const parameter = this.parameterName(key);
    try {
      await this.client.send(new DeleteParameterCommand({ Name: parameter }));
    } catch (error) {
      if (errorName(error) === 'ParameterNotFound') return;
      throw this.failure(error, 'DeleteParameter', parameter, key.orgId);
    }
  }

  async list(_db: AnyDatabase, orgId: string, workspaceId: string): Promise<BackendEntry[]> {
    const path = `${this.options.prefix}/${orgId}/${workspaceId}`;
    const entries: BackendEntry[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new GetParametersByPathCommand({
            Path: path,
            Recursive: false,
            WithDecryption: false,
            MaxResults: 10,
            NextToken: token,
          }),
        );
        for (const p of page.Parameters ?? [])
          entries.push({ name: p.Name!.slice(path.length + 1), version: p.Version! });
        token = page.NextToken;
      } while (token);
    } catch (error) {
      throw this.failure(error, 'GetParametersByPath', path, orgId);
    }
    return entries;
  }

  /** A stable error naming the operation and parameter, never the SDK's message (it may quote a value). */
  private failure(error: unknown, operation: string, parameter: string, orgId: string): SecretBackendError {
    const name = errorName(error);
    switch (name) {
      case 'ParameterNotFound':
      case 'ParameterVersionNotFound':
        return new SecretBackendError('not_found', `SSM has no ${parameter} (${name})`);
      case 'AccessDeniedException':
      case 'KMSAccessDeniedException':
      case 'InvalidKeyId':
      case 'UnrecognizedClientException':
      case 'ExpiredTokenException':
        return new SecretBackendError(
          'access_denied',
          `SSM refused ${operation} on ${parameter} (${name}): check the IAM policy of Palisade's role and the KMS key policy of ${this.kmsKeyId(orgId)}`,
        );
      case 'ThrottlingException':
      case 'TooManyUpdates':
        return new SecretBackendError(
          'throttled',
          `SSM throttled ${operation} on ${parameter} beyond the retries`,
        );
      case 'ValidationException':
        return new SecretBackendError(
          'invalid_value',
          `SSM refused ${operation} on ${parameter} as invalid (${name})`,
        );
      default:
        return new SecretBackendError('unavailable', `SSM ${operation} on ${parameter} failed (${name})`);
    }
  }
}
