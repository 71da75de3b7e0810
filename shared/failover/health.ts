import { GetHealthCheckStatusCommand, type Route53Client } from '@aws-sdk/client-route-53';
import { parseEvent } from '../validation/parse-event.js';
import { type HealthProbeConfig, VerifyInputSchema } from './failover-contract.js';

/** One look at an endpoint's health. */
export interface HealthObservation {
  readonly healthy: boolean;
  readonly detail: string;
}

/** Looks at a URL once. Injected so tests and the demo can point it at local servers. */
export type HttpProbe = (url: string) => Promise<HealthObservation>;

const PROBE_TIMEOUT_MS = 5_000;

/** A GET that must answer 2xx within five seconds; anything else is unhealthy, with the reason. */
export const httpProbe: HttpProbe = async (url) => {
  try {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      redirect: 'manual',
    });
    await response.body?.cancel();
    return {
      healthy: response.status >= 200 && response.status < 300,
      detail: `HTTP ${response.status}`,
    };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    const message = error instanceof Error ? error.message : String(error);
    return { healthy: false, detail: cause ? `${message} (${cause})` : message };
  }
};

/**
 * A Route 53 health check's status: healthy when most of its checkers last saw success, the
 * way Route 53 itself decides. Returns how many checkers failed.
 */
export async function route53Health(
  route53: Route53Client,
  healthCheckId: string,
): Promise<HealthObservation & { readonly failing: number; readonly checkers: number }> {
  const out = await route53.send(new GetHealthCheckStatusCommand({ HealthCheckId: healthCheckId }));
  const observations = out.HealthCheckObservations ?? [];
  const failing = observations.filter(
    (o) => !/^success/i.test(o.StatusReport?.Status ?? ''),
  ).length;
  const checkers = observations.length;
  return {
    healthy: checkers > 0 && failing * 2 < checkers,
    failing,
    checkers,
    detail: `${checkers - failing} of ${checkers} Route 53 checkers report success`,
  };
}

/** Looks at a configured probe once. */
export async function observeHealth(
  deps: { readonly route53: Route53Client; readonly probe: HttpProbe },
  config: HealthProbeConfig,
): Promise<HealthObservation> {
  if ('url' in config) {
    const seen = await deps.probe(config.url);
    return { healthy: seen.healthy, detail: `${config.url}: ${seen.detail}` };
  }
  const seen = await route53Health(deps.route53, config.route53HealthCheckId);
  return {
    healthy: seen.healthy,
    detail: `health check ${config.route53HealthCheckId}: ${seen.detail}`,
  };
}

/** The DR endpoint did not pass its health check (yet): the state machine retries. */
export class FailoverUnhealthyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FailoverUnhealthyError';
  }
}

/**
 * Checks the DR endpoint once: returns when healthy, raises FailoverUnhealthyError (which the
 * state machine retries with backoff) when not.
 */
export async function verifyHealth(
  deps: { readonly route53: Route53Client; readonly probe: HttpProbe },
  event: unknown,
  now: () => Date,
): Promise<{ readonly healthy: true; readonly detail: string; readonly checkedAt: string }> {
  const { verify } = parseEvent(VerifyInputSchema, event);
  const seen = await observeHealth(deps, verify);
  if (!seen.healthy)
    throw new FailoverUnhealthyError(`the DR endpoint is not healthy: ${seen.detail}`);
  return { healthy: true, detail: seen.detail, checkedAt: now().toISOString() };
}
