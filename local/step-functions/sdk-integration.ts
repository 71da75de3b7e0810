import * as cloudwatch from '@aws-sdk/client-cloudwatch';
import * as rds from '@aws-sdk/client-rds';
import * as route53 from '@aws-sdk/client-route-53';
import * as sns from '@aws-sdk/client-sns';
import { NormalizedSchema } from '@smithy/core/schema';
import { type ClientConfig, clientIn } from '../../shared/aws/clients.js';

/**
 * One generic adapter for `arn:aws:states:::aws-sdk:<service>:<action>` tasks: the action's
 * command on the service's client, with Step Functions' conventions both ways. Parameters are
 * matched to the API's members case-insensitively (Step Functions writes DbInstanceIdentifier
 * where the API says DBInstanceIdentifier), results come back with Step Functions' names
 * (DbInstances), and errors are named `<Service>.<Error>Exception`, as Step Functions names them.
 */
export type SdkIntegration = (
  service: string,
  action: string,
  parameters: unknown,
) => Promise<unknown>;

interface ServiceEntry {
  /** The service's name in Step Functions error names, e.g. Rds. */
  readonly errorPrefix: string;
  readonly module: Record<string, unknown>;
  readonly Client: new (config: ClientConfig) => { send(command: unknown): Promise<unknown> };
  readonly ServiceException: abstract new (...args: never[]) => Error;
}

const SERVICES: Record<string, ServiceEntry> = {
  rds: {
    errorPrefix: 'Rds',
    module: rds,
    Client: rds.RDSClient,
    ServiceException: rds.RDSServiceException,
  },
  route53: {
    errorPrefix: 'Route53',
    module: route53,
    Client: route53.Route53Client,
    ServiceException: route53.Route53ServiceException,
  },
  sns: {
    errorPrefix: 'Sns',
    module: sns,
    Client: sns.SNSClient,
    ServiceException: sns.SNSServiceException,
  },
  cloudwatch: {
    errorPrefix: 'CloudWatch',
    module: cloudwatch,
    Client: cloudwatch.CloudWatchClient,
    ServiceException: cloudwatch.CloudWatchServiceException,
  },
};

/** A task names a service or action the adapter does not know, or a parameter the API lacks. */
export class SdkIntegrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'States.Runtime';
  }
}

/**
 * Step Functions' (and the Java SDK's) spelling of an API member name: acronyms become words.
 *
 * @example javaName('DBInstanceIdentifier') // 'DbInstanceIdentifier'
 */
export function javaName(name: string): string {
  const words = name.match(/[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+/g) ?? [name];
  return words.map((w) => (w[0] ?? '').toUpperCase() + w.slice(1).toLowerCase()).join('');
}

/** The Step Functions error name of an SDK error. */
export function sfnErrorName(service: ServiceEntry, error: unknown): string {
  if (!(error instanceof service.ServiceException))
    return `${service.errorPrefix}.SdkClientException`;
  if (error.constructor === service.ServiceException) {
    // Not modeled (e.g. Throttling): Step Functions reports the service's base exception.
    return `${service.errorPrefix}.${service.errorPrefix}Exception`;
  }
  return `${service.errorPrefix}.${javaName(error.name.replace(/(Fault|Exception)$/, ''))}Exception`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
  );
}

/** Step Functions parameters to SDK input, following the API's input schema. */
function toSdk(value: unknown, schema: NormalizedSchema, path: string): unknown {
  if (schema.isStructSchema() && isPlainObject(value)) {
    const members = new Map<string, [string, NormalizedSchema]>();
    for (const [name, member] of schema.structIterator())
      members.set(name.toLowerCase(), [name, member]);
    return Object.fromEntries(
      Object.entries(value).map(([key, v]) => {
        const member = members.get(key.toLowerCase());
        if (!member) throw new SdkIntegrationError(`${path}${key} is not a parameter of this API`);
        return [member[0], toSdk(v, member[1], `${path}${member[0]}.`)];
      }),
    );
  }
  if (schema.isListSchema() && Array.isArray(value)) {
    return value.map((v) => toSdk(v, schema.getValueSchema(), path));
  }
  if (schema.isMapSchema() && isPlainObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, toSdk(v, schema.getValueSchema(), path)]),
    );
  }
  if (schema.isTimestampSchema() && typeof value === 'string') return new Date(value);
  return value;
}

/** SDK output to what Step Functions returns: Java-style names, ISO timestamps, no metadata. */
function toSfn(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toSfn);
  if (isPlainObject(value)) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key, v]) => key !== '$metadata' && v !== undefined)
        .map(([key, v]) => [javaName(key), toSfn(v)]),
    );
  }
  return value;
}

/**
 * The adapter against the AWS the environment points to. `regionOf` says where each service's
 * calls go (Route 53 is global).
 */
export function sdkIntegration(regionOf: (service: string) => string): SdkIntegration {
  return async (service, action, parameters) => {
    const entry = SERVICES[service];
    const Command = entry?.module[`${action.charAt(0).toUpperCase()}${action.slice(1)}Command`] as
      | (new (
          input: unknown,
        ) => { schema: unknown[] })
      | undefined;
    if (!entry || !Command)
      throw new SdkIntegrationError(`aws-sdk:${service}:${action} is not supported here`);
    const inputSchema = NormalizedSchema.of(new Command({}).schema[4] as never);
    const input = toSdk(parameters ?? {}, inputSchema, '');
    try {
      return toSfn(await clientIn(entry.Client, regionOf(service)).send(new Command(input)));
    } catch (error) {
      const failure = new Error(error instanceof Error ? error.message : String(error));
      failure.name = sfnErrorName(entry, error);
      throw failure;
    }
  };
}
