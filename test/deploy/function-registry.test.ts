import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { lambdaLogicalIdOf, roleOf } from '../../deploy/function-settings.js';
import { allFunctions, functionModules } from '../../functions/registry.js';
import { type FunctionDefinition, moduleNameOf } from '../../shared/jobs/job-definition.js';
import { lambdaTasksOf, loadDefinition } from '../../state-machines/definitions.js';

// `npm test` packages both stacks before the tests run.
const TEMPLATES = {
  primary: '.serverless-primary/cloudformation-template-update-stack.json',
  dr: '.serverless-dr/cloudformation-template-update-stack.json',
};

interface Resource {
  Type: string;
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are free-form JSON
  Properties: Record<string, any>;
}

let definitions: FunctionDefinition[];
const templates: Record<string, Record<string, Resource>> = {};

beforeAll(async () => {
  definitions = await allFunctions();
  for (const [stack, path] of Object.entries(TEMPLATES)) {
    if (!existsSync(path)) throw new Error(`${path} is missing: run npm run package first`);
    templates[stack] = JSON.parse(readFileSync(path, 'utf8')).Resources;
  }
});

describe('one place per function', () => {
  it('names each module after its function', () => {
    // Act
    const named = definitions.map((d) => moduleNameOf(d.name));

    // Assess
    expect(named).toEqual(functionModules());
    expect(definitions.length).toBeGreaterThanOrEqual(14);
  });

  it('deploys every defined function, and nothing else, from its module with its own role', () => {
    for (const resources of Object.values(templates)) {
      // Act
      const deployed = Object.entries(resources).filter(
        ([, r]) => r.Type === 'AWS::Lambda::Function',
      );

      // Assess
      expect(deployed.map(([id]) => id).sort()).toEqual(
        definitions.map((d) => lambdaLogicalIdOf(d.name)).sort(),
      );
      for (const d of definitions) {
        const fn = resources[lambdaLogicalIdOf(d.name)] as Resource;
        expect(fn.Properties.Handler).toBe(`functions/${moduleNameOf(d.name)}.handler`);
        expect(fn.Properties.Role).toEqual({ 'Fn::GetAtt': [roleOf(d.name), 'Arn'] });
        expect(fn.Properties.Description).toBe(d.description);
        if (d.kind === 'task') expect(fn.Properties.Timeout).toBe(d.timeout);
        expect(resources[roleOf(d.name)]?.Type).toBe('AWS::IAM::Role');
      }
    }
  });

  it('keeps no role for a function that does not exist', () => {
    for (const resources of Object.values(templates)) {
      // Act: roles Lambda assumes
      const lambdaRoles = Object.entries(resources)
        .filter(
          ([, r]) =>
            r.Type === 'AWS::IAM::Role' &&
            JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('lambda.amazonaws.com'),
        )
        .map(([id]) => id);

      // Assess
      expect(lambdaRoles.sort()).toEqual(definitions.map((d) => roleOf(d.name)).sort());
    }
  });

  it('calls from each state machine exactly the tasks that say they belong to it', () => {
    for (const machine of ['restore-drill', 'regional-failover'] as const) {
      // Act
      const called = lambdaTasksOf(loadDefinition(machine));

      // Assess
      const tasks = definitions.filter((d) => d.kind === 'task' && d.machine === machine);
      expect(called.sort()).toEqual(tasks.map((t) => t.name).sort());
    }
  });

  it('schedules every job in exactly one of the two stacks', () => {
    // Act
    const schedules = Object.fromEntries(
      Object.entries(templates).map(([stack, resources]) => [
        stack,
        Object.values(resources)
          .filter((r) => r.Type === 'AWS::Scheduler::Schedule')
          .filter((r) => r.Properties.Target.Arn['Fn::GetAtt'])
          .map((r) => ({
            job: r.Properties.Target.Arn['Fn::GetAtt'][0] as string,
            on: r.Properties.State === 'ENABLED',
          })),
      ]),
    );

    // Assess
    for (const d of definitions.filter((f) => f.kind === 'job')) {
      const id = lambdaLogicalIdOf(d.name);
      const on = Object.entries(schedules)
        .filter(([, list]) => list?.some((s) => s.job === id && s.on))
        .map(([stack]) => stack);
      expect({ job: d.name, on }).toEqual({ job: d.name, on: [expect.any(String)] });
    }
  });
});
