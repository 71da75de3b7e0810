'use strict';

// Gives every function an alarm on its Errors metric, sent to the alert topic, so a function
// added later cannot be forgotten. Each job throws when any of its targets fails. And orders each
// event source mapping after the policies of its function's role: Lambda checks at creation that
// the role may read the queue.
class ErrorAlarmsPlugin {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'package:compileEvents': () => this.addAlarms(),
      'before:aws:package:finalize:saveServiceState': () => this.orderEventSources(),
    };
  }

  addAlarms() {
    const provider = this.serverless.getProvider('aws');
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    for (const name of this.serverless.service.getAllFunctions()) {
      const functionId = provider.naming.getLambdaLogicalId(name);
      resources[`${functionId}ErrorsAlarm`] = {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmDescription: `Lifeboat ${name} failed: the alert topic has a message naming what failed`,
          Namespace: 'AWS/Lambda',
          MetricName: 'Errors',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId } }],
          Statistic: 'Sum',
          Period: 300,
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
          AlarmActions: [{ Ref: 'AlertTopic' }],
        },
      };
    }
  }
}

ErrorAlarmsPlugin.prototype.orderEventSources = function orderEventSources() {
  const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
  for (const mapping of Object.values(resources)) {
    if (mapping.Type !== 'AWS::Lambda::EventSourceMapping') continue;
    const fn = resources[mapping.Properties.FunctionName?.['Fn::GetAtt']?.[0]];
    const role = fn?.Properties?.Role?.['Fn::GetAtt']?.[0];
    const policies = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::RolePolicy' && r.Properties.RoleName?.Ref === role)
      .map(([id]) => id);
    mapping.DependsOn = [...new Set([...[mapping.DependsOn ?? []].flat(), ...policies])];
  }
};

module.exports = ErrorAlarmsPlugin;
