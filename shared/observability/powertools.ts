import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRIC_NAMESPACE } from './metric-names.js';

/** A Lambda job's logger and metrics; metrics warnings go through the logger and its level. */
export function jobObservability(service: string): { logger: Logger; metrics: Metrics } {
  const logger = new Logger({ serviceName: service });
  const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: service, logger });
  return { logger, metrics };
}
