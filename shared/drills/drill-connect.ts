import { type Connect, connectByEngine } from './database-session.js';
import { openMysql } from './mysql-session.js';
import { openPostgres } from './pg-session.js';
import { RDS_CERTIFICATE_AUTHORITIES } from './rds-certificates.js';

/**
 * How a drill opens its session, as deployed: the engine's driver, and for verify-full the RDS
 * certificate authorities (a local run adds its own authority to them).
 */
export function drillConnect(extraAuthorities: readonly string[] = []): Connect {
  return connectByEngine({ postgres: openPostgres, mysql: openMysql }, [
    ...RDS_CERTIFICATE_AUTHORITIES,
    ...extraAuthorities,
  ]);
}
