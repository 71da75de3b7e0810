import { readFileSync } from 'node:fs';
import { runSimulation, runUnsafeSimulation } from '@cloud-copilot/iam-simulate';
import type { IamRequest } from './iam-requests.js';

// `npm test` packages both stacks (offline) before the tests run.
export const PRIMARY_TEMPLATE = '.serverless-primary/cloudformation-template-update-stack.json';
export const DR_TEMPLATE = '.serverless-dr/cloudformation-template-update-stack.json';
export const VAULT_TEMPLATE = '.serverless-vault/cloudformation-template-update-stack.json';

/** Values the template's intrinsic functions resolve to in the world a test made. */
export interface TemplateValues {
  readonly account: string;
  readonly region: string;
  /** Ref values by logical id (a KMS key's Ref is its key id, a bucket's its name). */
  readonly refs: Readonly<Record<string, string>>;
  /** Fn::GetAtt <id>.Arn values by logical id. */
  readonly arns: Readonly<Record<string, string>>;
}

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** A role's identity policies as deployed, with every intrinsic function resolved. */
export interface RolePolicies {
  readonly role: string;
  readonly policies: { name: string; policy: { Version: string; Statement: Statement[] } }[];
}

/** Reads roles of a packaged template: those named, or all. */
export function templateRoles(
  path: string,
  values: TemplateValues,
  only?: readonly string[],
): Map<string, RolePolicies> {
  const template = JSON.parse(readFileSync(path, 'utf8')) as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  const roles = new Map<string, RolePolicies>();
  // Policies attached as resources of their own (AWS::IAM::RolePolicy), by the role they name.
  const attached = Object.values(template.Resources).filter(
    (r) => r.Type === 'AWS::IAM::RolePolicy',
  );
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Role' || (only && !only.includes(id))) continue;
    const policies = [
      ...((resource.Properties.Policies ?? []) as {
        PolicyName: string;
        PolicyDocument: unknown;
      }[]),
      ...attached
        .filter((r) => (r.Properties.RoleName as { Ref?: string } | undefined)?.Ref === id)
        .map((r) => ({
          PolicyName: String(r.Properties.PolicyName),
          PolicyDocument: r.Properties.PolicyDocument,
        })),
    ];
    roles.set(id, {
      role: id,
      policies: policies.map((p) => ({
        name: p.PolicyName,
        policy: resolve(p.PolicyDocument, values) as RolePolicies['policies'][number]['policy'],
      })),
    });
  }
  return roles;
}

function resolve(value: unknown, values: TemplateValues): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, values));
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  if ('Ref' in object) return ref(String(object.Ref), values);
  if ('Fn::GetAtt' in object) {
    const [id, attribute] = object['Fn::GetAtt'] as [string, string];
    const arn = values.arns[id];
    if (attribute !== 'Arn' || arn === undefined) throw new Error(`unresolved Fn::GetAtt ${id}`);
    return arn;
  }
  if ('Fn::Sub' in object) {
    const sub = object['Fn::Sub'];
    const [text, vars] = Array.isArray(sub)
      ? (sub as [string, Record<string, unknown>])
      : [String(sub), {}];
    return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
      if (name in vars) return String(resolve(vars[name], values));
      if (name.endsWith('.Arn')) {
        const arn = values.arns[name.slice(0, -'.Arn'.length)];
        if (arn === undefined) throw new Error(`unresolved \${${name}}`);
        return arn;
      }
      return ref(name, values);
    });
  }
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, resolve(v, values)]));
}

function ref(name: string, values: TemplateValues): string {
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::Region': values.region,
    'AWS::AccountId': values.account,
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const found = pseudo[name] ?? values.refs[name];
  if (found === undefined) throw new Error(`unresolved Ref ${name}`);
  return found;
}

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

/**
 * The key policy of a KMS key the template creates: KMS authorizes nothing the key policy does
 * not allow, whatever the role says.
 */
export function keyPolicy(path: string, key: string, values: TemplateValues): unknown {
  const template = JSON.parse(readFileSync(path, 'utf8')) as {
    Resources: Record<string, { Properties: { KeyPolicy?: unknown } }>;
  };
  return resolve(template.Resources[key]?.Properties.KeyPolicy, values);
}

/**
 * Evaluates a request against a role's policies with the IAM simulator; a KMS request also
 * against the key's policy.
 */
export async function simulate(
  role: RolePolicies,
  request: Pick<IamRequest, 'action' | 'resource' | 'context'>,
  account: string,
  resourcePolicy?: unknown,
): Promise<Decision> {
  const simulation = {
    identityPolicies: role.policies,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    request: {
      action: request.action,
      principal: `arn:aws:iam::${account}:role/${role.role}`,
      resource: { resource: request.resource, accountId: account },
      contextVariables: request.context,
    },
  };
  // The validating engine drops KMS encryption-context keys (kms:EncryptionContext:<key> has no
  // slash to match its variable by), so requests that carry them go to the engine that takes
  // context keys as given; the key policy goes in pre-validated, carrying its name.
  if (Object.keys(request.context).some((k) => k.startsWith('kms:EncryptionContext:'))) {
    return runUnsafeSimulation(
      {
        ...simulation,
        ...(resourcePolicy
          ? {
              resourcePolicy: {
                __validated: true,
                policyDocument: resourcePolicy,
                metadata: { name: 'key policy' },
                errors: [],
              },
            }
          : {}),
      } as never,
      {},
    ) as Decision;
  }
  const result = await runSimulation({ ...simulation, resourcePolicy } as never, {});
  if (result.resultType === 'error') {
    throw new Error(
      `the simulator refused ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`,
    );
  }
  return result.overallResult as Decision;
}

/** The actions a role's policies grant. */
export function grantedActions(role: RolePolicies): Set<string> {
  return new Set(
    role.policies.flatMap((p) =>
      p.policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) =>
        Array.isArray(s.Action) ? s.Action : [s.Action],
      ),
    ),
  );
}
