'use strict';

// Gives every function an alarm on its Errors metric, sent to the alert topic, so a function
// added later cannot be forgotten. Each job throws when any of its targets fails.
class ErrorAlarmsPlugin {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'package:compileEvents': () => this.addAlarms() };
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

module.exports = ErrorAlarmsPlugin;
