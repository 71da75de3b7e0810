/**
 * The database engines drills can prove, by family: the SQL dialect and wire protocol the smoke
 * checks speak. RDS names engines as in `DescribeDBSnapshots` (`postgres`, `aurora-mysql`, ...).
 */
export const ENGINE_FAMILIES = ['postgres', 'mysql'] as const;

export type EngineFamily = (typeof ENGINE_FAMILIES)[number];

const FAMILY_OF: Readonly<Record<string, EngineFamily>> = {
  postgres: 'postgres',
  'aurora-postgresql': 'postgres',
  mysql: 'mysql',
  mariadb: 'mysql',
  'aurora-mysql': 'mysql',
  // Aurora MySQL 1 (MySQL 5.6), still named so in old snapshots.
  aurora: 'mysql',
};

/** The RDS engines a policy may name for a target or a drill's checks. */
export const RDS_ENGINES = Object.keys(FAMILY_OF).filter((e) => e !== 'aurora');

/** The family of an RDS engine name, or undefined for an engine drills cannot check. */
export function engineFamily(engine: string): EngineFamily | undefined {
  return FAMILY_OF[engine.toLowerCase()];
}

/** Words for an engine in messages: MariaDB checks run on MySQL's protocol. */
export function familyName(family: EngineFamily): string {
  return family === 'postgres' ? 'PostgreSQL' : 'MySQL/MariaDB';
}
