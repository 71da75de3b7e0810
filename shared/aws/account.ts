import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { clientIn } from './clients.js';

/** The account the AWS environment points to (outside Lambda, where no function ARN says it). */
export async function callerAccount(region: string): Promise<string> {
  const out = await clientIn(STSClient, region).send(new GetCallerIdentityCommand({}));
  return out.Account ?? '';
}
