import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRIC_NAMESPACE } from './metric-names.js';

export function jobLogger(service: string): Logger {
  return new Logger({ serviceName: service });
}

export function jobMetrics(service: string): Metrics {
  return new Metrics({ namespace: METRIC_NAMESPACE, serviceName: service });
}
