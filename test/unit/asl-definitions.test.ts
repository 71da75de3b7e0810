import validator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { FAILOVER_STEPS } from '../../shared/failover/failover-steps.js';
import type { StateMachineName } from '../../shared/naming/stack.js';
import { type AslDefinition, loadDefinition } from '../../state-machines/definitions.js';

const MACHINES: StateMachineName[] = ['restore-drill', 'regional-failover'];

/** Every state name reachable from StartAt through Next, Default, Choices and Catch. */
function reachable(definition: AslDefinition): Set<string> {
  const seen = new Set<string>();
  const visit = (name: string | undefined) => {
    if (!name || seen.has(name)) return;
    seen.add(name);
    const state = definition.States[name] as Record<string, unknown>;
    visit(state.Next as string | undefined);
    visit(state.Default as string | undefined);
    for (const c of (state.Choices as { Next: string }[] | undefined) ?? []) visit(c.Next);
    for (const c of (state.Catch as { Next: string }[] | undefined) ?? []) visit(c.Next);
  };
  visit(definition.StartAt);
  return seen;
}

describe.each(MACHINES)('state-machines/%s.asl.yml', (name) => {
  const definition = loadDefinition(name);

  it('is valid Amazon States Language', () => {
    // Act
    const result = validator(definition, { checkPaths: true, checkArn: true });

    // Assess
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('reaches every state', () => {
    expect([...reachable(definition)].sort()).toEqual(Object.keys(definition.States).sort());
  });

  it('uses only what the local engine runs: JSONPath, no Assign, Map or callbacks', () => {
    const text = JSON.stringify(definition);
    expect(text).not.toMatch(/JSONata|"Assign"|waitForTaskToken|"ItemReader"/);
    expect(Object.values(definition.States).map((s) => s.Type)).not.toContain('Map');
  });

  it('calls Lambda tasks by serverless function name and everything else as an SDK integration', () => {
    for (const state of Object.values(definition.States).filter((s) => s.Type === 'Task')) {
      const resource = state.Resource as string | { 'Fn::GetAtt': [string, string] };
      if (typeof resource === 'string')
        expect(resource).toMatch(/^arn:aws:states:::aws-sdk:(rds|route53|sns):[a-zA-Z]+$/);
      else expect(resource['Fn::GetAtt'][1]).toBe('Arn');
    }
  });
});

describe('restore-drill definition', () => {
  it('sends every failure after planning to Teardown or, from teardown, to the alert', () => {
    // Arrange
    const definition = loadDefinition('restore-drill');
    const beforeTeardown = [
      'RestoreInstance',
      'RestoreCluster',
      'CreateClusterInstance',
      'PollRestore',
      'SmokeChecks',
    ];

    // Assess
    for (const name of beforeTeardown) {
      const catches = definition.States[name]?.Catch as { ErrorEquals: string[]; Next: string }[];
      expect(catches, name).toEqual([
        expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'Teardown' }),
      ]);
    }
    expect(definition.States.Teardown?.Catch).toEqual([
      expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'AlertTeardownFailed' }),
    ]);
  });

  it('waits at least 30 seconds between polls: the wait comes from the plan, which the policy bounds', () => {
    const definition = loadDefinition('restore-drill');
    expect(definition.States.WaitForRestore).toMatchObject({
      Type: 'Wait',
      SecondsPath: '$.plan.pollSeconds',
    });
  });
});

describe('the failover steps, described once', () => {
  it('cover every state of the regional-failover machine, each in exactly one step', () => {
    // Act
    const described = FAILOVER_STEPS.flatMap((s) => s.states);

    // Assess
    expect([...described].sort()).toEqual(
      Object.keys(loadDefinition('regional-failover').States).sort(),
    );
    expect(new Set(described).size).toBe(described.length);
  });
});
