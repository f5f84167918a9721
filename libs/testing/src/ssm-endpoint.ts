/**
 * A small SSM-compatible endpoint for tests and benchmarks: THE PROJECT'S ONLY EMULATOR.
 *
 * Everything else Palisade talks to runs for real in the tests (NATS, Postgres, Docker,
 * ClickHouse, the OIDC provider, ...). AWS Systems Manager Parameter Store cannot: it is a
 * hosted service and this machine reaches no network but package registries. So the secrets
 * service's SSM backend is tested with the real `@aws-sdk/client-ssm` (its serializers, SigV4
 * signing, retry strategy and error parsing) against this endpoint, which speaks the same wire
 * protocol (awsJson1_1: `POST /`, `X-Amz-Target: AmazonSSM.<Operation>`) for the operations the
 * backend uses and nothing more:
 *
 *   PutParameter (SecureString with KeyId, Overwrite), GetParameter and GetParameters (up to 10
 *   names; WithDecryption; `name:version` and `name:label` selectors), GetParametersByPath (pages
 *   of at most 10), DeleteParameter, LabelParameterVersion, GetParameterHistory.
 *
 * Errors as SSM sends them (`{"__type": ..., "message": ...}`): ParameterNotFound,
 * ParameterVersionNotFound, ParameterAlreadyExists, ValidationException; and, on request of the
 * test, ThrottlingException, AccessDeniedException and InternalServerError. Requests without a
 * SigV4 `Authorization` header and `X-Amz-Date` are refused (their presence and shape are
 * checked, not the signature: there is no secret key to check it with). Values live in memory.
 * Keep it this small: a behaviour the backend does not use does not belong here.
 */
import http from 'node:http';

/** The errors a test can make the endpoint answer with. */
export type SsmFault = 'ThrottlingException' | 'AccessDeniedException' | 'InternalServerError';

export interface SsmRequestRecord {
  operation: string;
  /** The parameter name or path the request is about (never a value). */
  target?: string;
  /** What the endpoint answered: 'ok' or the error type. */
  outcome: string;
  /** The access key id from the SigV4 credential scope. */
  accessKeyId?: string;
  region?: string;
}

export interface SsmEndpoint {
  url: string;
  /** Every request so far, in order (operation, target, outcome; never a value). */
  readonly requests: readonly SsmRequestRecord[];
  /** The next `times` requests (of `operation`, or any) fail with `fault`. */
  inject(fault: SsmFault, options?: { operation?: string; times?: number }): void;
  /** Requests about names under `prefix` (or whose KMS key is `keyId`) are denied, as an IAM or KMS policy would. */
  deny(rule: { prefix?: string; keyId?: string }): void;
  /** Lifts every deny rule and pending fault. */
  reset(): void;
  /** The stored parameter (for assertions), or undefined. */
  parameter(name: string): { keyId?: string; type: string; versions: number[]; latest?: string } | undefined;
  stop(): Promise<void>;
}

interface Version {
  version: number;
  value: string;
  labels: Set<string>;
  modified: number;
}

interface Parameter {
  type: 'String' | 'StringList' | 'SecureString';
  keyId?: string;
  tier: 'Standard' | 'Advanced';
  /** The next version number (SSM never reuses one while the parameter exists). */
  next: number;
  versions: Version[];
}

class SsmError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const ACCOUNT = '123456789012';
const MAX_VERSIONS = 100;
const STANDARD_MAX = 4096;
const ADVANCED_MAX = 8192;
const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([A-Za-z0-9]+)\/(\d{8})\/([a-z0-9-]+)\/ssm\/aws4_request, ?SignedHeaders=[a-z0-9;-]+, ?Signature=[0-9a-f]{64}$/;

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 1011)
    throw new SsmError('ValidationException', 'Parameter name must be 1..1011 characters.');
  if (!/^[a-zA-Z0-9_.\-/]+$/.test(name) || /\/\//.test(name) || name.endsWith('/'))
    throw new SsmError(
      'ValidationException',
      'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore), / (forward slash).',
    );
  if (name.includes('/') && !name.startsWith('/'))
    throw new SsmError('ValidationException', 'Parameter name must be a fully qualified name.');
  if (/^\/?(aws|ssm)/i.test(name))
    throw new SsmError('ValidationException', 'Parameter name can\'t be prefixed with "aws" or "ssm".');
  if (name.split('/').length - 1 > 15)
    throw new SsmError(
      'HierarchyLevelLimitExceededException',
      'A hierarchy can have a maximum of 15 levels.',
    );
  return name;
}

/** `name`, `name:3` or `name:label` → the name and the selector. */
function splitSelector(raw: unknown): { name: string; selector?: string } {
  if (typeof raw !== 'string') throw new SsmError('ValidationException', 'Name is required.');
  const at = raw.lastIndexOf(':');
  if (at < 0) return { name: checkName(raw) };
  return { name: checkName(raw.slice(0, at)), selector: raw.slice(at + 1) };
}

function arn(region: string, name: string): string {
  return `arn:aws:ssm:${region}:${ACCOUNT}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
}

/** Starts the endpoint on 127.0.0.1 (`port` 0: any free port). */
export async function startSsmEndpoint(options: { port?: number } = {}): Promise<SsmEndpoint> {
  const parameters = new Map<string, Parameter>();
  const requests: SsmRequestRecord[] = [];
  let faults: Array<{ fault: SsmFault; operation?: string; left: number }> = [];
  let denials: Array<{ prefix?: string; keyId?: string }> = [];

  const denied = (operation: string, name: string, region: string, keyId?: string) => {
    const rule = denials.find(
      (d) =>
        (d.prefix !== undefined && name.startsWith(d.prefix)) ||
        (d.keyId !== undefined && keyId !== undefined && d.keyId === keyId),
    );
    if (!rule) return;
    if (rule.keyId !== undefined && rule.prefix === undefined)
      throw new SsmError(
        'AccessDeniedException',
        `User: arn:aws:iam::${ACCOUNT}:user/palisade is not authorized to perform: kms:${operation === 'PutParameter' ? 'Encrypt' : 'Decrypt'} on resource: ${keyId} because no identity-based policy allows the action`,
      );
    throw new SsmError(
      'AccessDeniedException',
      `User: arn:aws:iam::${ACCOUNT}:user/palisade is not authorized to perform: ssm:${operation} on resource: ${arn(region, name)} because no identity-based policy allows the ssm:${operation} action`,
    );
  };

  const find = (name: string): Parameter => {
    const parameter = parameters.get(name);
    if (!parameter) throw new SsmError('ParameterNotFound', '');
    return parameter;
  };

  const select = (name: string, parameter: Parameter, selector?: string): Version => {
    const latest = parameter.versions[parameter.versions.length - 1];
    if (selector === undefined) return latest;
    const found = /^\d+$/.test(selector)
      ? parameter.versions.find((v) => v.version === Number(selector))
      : parameter.versions.find((v) => v.labels.has(selector));
    if (!found)
      throw new SsmError(
        'ParameterVersionNotFound',
        `Systems Manager could not find version ${selector} of ${name}. Verify the version and try again.`,
      );
    return found;
  };

  const describe = (
    name: string,
    parameter: Parameter,
    version: Version,
    region: string,
    decrypt: boolean,
  ) => ({
    Name: name,
    Type: parameter.type,
    Value:
      parameter.type === 'SecureString' && !decrypt
        ? Buffer.from(`encrypted:${parameter.keyId}:${version.version}`).toString('base64')
        : version.value,
    Version: version.version,
    LastModifiedDate: version.modified / 1000,
    ARN: arn(region, name),
    DataType: 'text',
  });

  const operations: Record<string, (body: Record<string, unknown>, region: string) => unknown> = {
    PutParameter(body, region) {
      const name = checkName(body.Name);
      const value = body.Value;
      if (typeof value !== 'string' || value.length === 0)
        throw new SsmError('ValidationException', 'Parameter value must not be empty.');
      const existing = parameters.get(name);
      const type = (body.Type ?? existing?.type ?? 'String') as Parameter['type'];
      if (!['String', 'StringList', 'SecureString'].includes(type))
        throw new SsmError('ValidationException', 'Type must be String, StringList or SecureString.');
      const keyId =
        type === 'SecureString'
          ? ((body.KeyId as string | undefined) ?? existing?.keyId ?? 'alias/aws/ssm')
          : undefined;
      denied('PutParameter', name, region, keyId);
      const tier = body.Tier === 'Advanced' ? 'Advanced' : (existing?.tier ?? 'Standard');
      const max = tier === 'Advanced' ? ADVANCED_MAX : STANDARD_MAX;
      if (Buffer.byteLength(value, 'utf8') > max)
        throw new SsmError(
          'ValidationException',
          `${tier} tier parameters support a maximum parameter value of ${max} characters.`,
        );
      if (existing && body.Overwrite !== true)
        throw new SsmError(
          'ParameterAlreadyExists',
          'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
        );
      const parameter: Parameter = existing ?? { type, keyId, tier, next: 1, versions: [] };
      parameter.type = type;
      parameter.keyId = keyId;
      parameter.tier = tier;
      const version = parameter.next++;
      parameter.versions.push({ version, value, labels: new Set(), modified: Date.now() });
      if (parameter.versions.length > MAX_VERSIONS) parameter.versions.shift();
      parameters.set(name, parameter);
      return { Version: version, Tier: tier };
    },
    GetParameter(body, region) {
      const { name, selector } = splitSelector(body.Name);
      const parameter = find(name);
      denied('GetParameter', name, region, body.WithDecryption === true ? parameter.keyId : undefined);
      const version = select(name, parameter, selector);
      return {
        Parameter: {
          ...describe(name, parameter, version, region, body.WithDecryption === true),
          ...(selector === undefined ? {} : { Selector: `:${selector}` }),
        },
      };
    },
    GetParameters(body, region) {
      const names = body.Names;
      if (!Array.isArray(names) || names.length < 1 || names.length > 10)
        throw new SsmError('ValidationException', 'Names must hold 1 to 10 parameter names.');
      const decrypt = body.WithDecryption === true;
      const found: unknown[] = [];
      const invalid: string[] = [];
      for (const raw of names) {
        const { name, selector } = splitSelector(raw);
        const parameter = parameters.get(name);
        denied('GetParameters', name, region, decrypt ? parameter?.keyId : undefined);
        try {
          if (!parameter) throw new SsmError('ParameterNotFound', '');
          const version = select(name, parameter, selector);
          found.push({
            ...describe(name, parameter, version, region, decrypt),
            ...(selector === undefined ? {} : { Selector: `:${selector}` }),
          });
        } catch (error) {
          if (!(error instanceof SsmError) || !error.type.startsWith('Parameter')) throw error;
          invalid.push(raw as string);
        }
      }
      return { Parameters: found, InvalidParameters: invalid };
    },
    GetParametersByPath(body, region) {
      const path = body.Path;
      if (typeof path !== 'string' || !path.startsWith('/'))
        throw new SsmError('ValidationException', 'The parameter path must begin with a forward slash (/).');
      const prefix = path.endsWith('/') ? path : `${path}/`;
      const max = body.MaxResults === undefined ? 10 : Number(body.MaxResults);
      if (!Number.isInteger(max) || max < 1 || max > 10)
        throw new SsmError('ValidationException', 'MaxResults must be between 1 and 10.');
      denied('GetParametersByPath', prefix, region);
      const names = [...parameters.keys()]
        .filter(
          (n) => n.startsWith(prefix) && (body.Recursive === true || !n.slice(prefix.length).includes('/')),
        )
        .sort();
      const start =
        typeof body.NextToken === 'string' ? Number(Buffer.from(body.NextToken, 'base64').toString()) : 0;
      if (!Number.isInteger(start) || start < 0)
        throw new SsmError('ValidationException', 'The NextToken is not valid.');
      const page = names.slice(start, start + max);
      const decrypt = body.WithDecryption === true;
      for (const name of page)
        denied('GetParametersByPath', name, region, decrypt ? parameters.get(name)!.keyId : undefined);
      return {
        Parameters: page.map((name) => {
          const parameter = parameters.get(name)!;
          return describe(
            name,
            parameter,
            parameter.versions[parameter.versions.length - 1],
            region,
            decrypt,
          );
        }),
        ...(start + max < names.length
          ? { NextToken: Buffer.from(String(start + max)).toString('base64') }
          : {}),
      };
    },
    DeleteParameter(body, region) {
      const name = checkName(body.Name);
      denied('DeleteParameter', name, region);
      find(name);
      parameters.delete(name);
      return {};
    },
    LabelParameterVersion(body, region) {
      const name = checkName(body.Name);
      denied('LabelParameterVersion', name, region);
      const parameter = find(name);
      const version = select(
        name,
        parameter,
        body.ParameterVersion === undefined ? undefined : String(body.ParameterVersion),
      );
      const labels = Array.isArray(body.Labels) ? (body.Labels as unknown[]) : [];
      const invalid = labels.filter(
        (l) => typeof l !== 'string' || !/^[a-zA-Z_.-][a-zA-Z0-9_.-]{0,99}$/.test(l) || /^(aws|ssm)/i.test(l),
      );
      for (const label of labels) {
        if (invalid.includes(label)) continue;
        // A label is on one version at a time: it moves.
        for (const v of parameter.versions) v.labels.delete(label as string);
        version.labels.add(label as string);
      }
      return { InvalidLabels: invalid, ParameterVersion: version.version };
    },
    GetParameterHistory(body, region) {
      const name = checkName(body.Name);
      const parameter = find(name);
      const decrypt = body.WithDecryption === true;
      denied('GetParameterHistory', name, region, decrypt ? parameter.keyId : undefined);
      return {
        Parameters: parameter.versions.map((version) => ({
          ...describe(name, parameter, version, region, decrypt),
          KeyId: parameter.keyId,
          Labels: [...version.labels],
          Tier: parameter.tier,
        })),
      };
    },
  };

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= 1024 * 1024) chunks.push(chunk);
    });
    request.on('end', () => {
      const record: SsmRequestRecord = { operation: 'unknown', outcome: 'ok' };
      const reply = (status: number, body: unknown) => {
        response.writeHead(status, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-requestid': `req-${requests.length}`,
        });
        response.end(JSON.stringify(body));
      };
      try {
        const target = String(request.headers['x-amz-target'] ?? '');
        if (request.method !== 'POST' || !target.startsWith('AmazonSSM.'))
          throw new SsmError(
            'UnknownOperationException',
            'Send POST / with X-Amz-Target: AmazonSSM.<Operation>.',
          );
        record.operation = target.slice('AmazonSSM.'.length);
        const authorization = request.headers.authorization;
        const date = request.headers['x-amz-date'];
        if (authorization === undefined || date === undefined)
          throw new SsmError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
        const credential = AUTHORIZATION.exec(String(authorization));
        if (!credential || !/^\d{8}T\d{6}Z$/.test(String(date)))
          throw new SsmError(
            'IncompleteSignatureException',
            'The request signature does not conform to AWS standards.',
          );
        record.accessKeyId = credential[1];
        record.region = credential[3];
        if (!String(request.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1'))
          throw new SsmError('ValidationException', 'Content-Type must be application/x-amz-json-1.1.');
        if (size > 1024 * 1024) throw new SsmError('ValidationException', 'The request is too large.', 413);
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
        } catch {
          throw new SsmError('SerializationException', 'The request body is not JSON.');
        }
        record.target =
          typeof body.Name === 'string' ? body.Name : typeof body.Path === 'string' ? body.Path : undefined;
        const operation = operations[record.operation];
        if (!operation)
          throw new SsmError('UnknownOperationException', `${record.operation} is not supported here.`);
        const fault = faults.find(
          (f) => f.left > 0 && (f.operation === undefined || f.operation === record.operation),
        );
        if (fault) {
          fault.left--;
          faults = faults.filter((f) => f.left > 0);
          throw fault.fault === 'InternalServerError'
            ? new SsmError('InternalServerError', 'An internal error occurred.', 500)
            : fault.fault === 'ThrottlingException'
              ? new SsmError('ThrottlingException', 'Rate exceeded')
              : new SsmError(
                  'AccessDeniedException',
                  `User: arn:aws:iam::${ACCOUNT}:user/palisade is not authorized to perform: ssm:${record.operation}`,
                );
        }
        reply(200, operation(body, record.region));
      } catch (error) {
        const failure =
          error instanceof SsmError
            ? error
            : new SsmError('InternalServerError', 'An internal error occurred.', 500);
        record.outcome = failure.type;
        reply(failure.status, { __type: failure.type, message: failure.message });
      } finally {
        requests.push(record);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    inject(fault, { operation, times = 1 } = {}) {
      faults.push({ fault, operation, left: times });
    },
    deny(rule) {
      denials.push(rule);
    },
    reset() {
      faults = [];
      denials = [];
    },
    parameter(name) {
      const parameter = parameters.get(name);
      if (!parameter) return undefined;
      return {
        keyId: parameter.keyId,
        type: parameter.type,
        versions: parameter.versions.map((v) => v.version),
        latest: parameter.versions[parameter.versions.length - 1]?.value,
      };
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
