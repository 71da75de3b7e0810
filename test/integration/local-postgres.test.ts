import { describe, expect, it } from 'vitest';
import { postgresBinDir, startLocalPostgres } from '../../local/postgres/local-postgres.js';
import { openPostgres } from '../../shared/drills/pg-session.js';

// The throwaway PostgreSQL behind smoke checks: the machine's server binaries, and PGlite where
// they are missing. A snapshot copy keeps the data as it was; later writes miss it.

const kinds = postgresBinDir() ? (['postgresql', 'pglite'] as const) : (['pglite'] as const);

describe.each(kinds)('local PostgreSQL (%s)', (kind) => {
  it('serves password logins on loopback, and snapshots keep the data as it was', async () => {
    // Arrange
    const local = await startLocalPostgres({ prefer: kind });
    try {
      const db = await local.create('orders');
      await local.query(
        db,
        'create table orders (id serial primary key, created_at timestamptz not null default now())',
      );
      await local.query(db, 'insert into orders default values');

      // Act
      const snapshot = await local.snapshot(db, 'orders_snapshot');
      await local.query(db, 'insert into orders default values');
      const session = await openPostgres(
        {
          engine: 'postgres',
          ...snapshot,
          user: local.user,
          password: local.password,
          tls: 'disable',
        },
        undefined,
      );
      const rows = await session.query('select count(*) from orders');
      await session.end();

      // Assess
      expect(local.kind).toBe(kind);
      expect(snapshot.host).toBe('127.0.0.1');
      expect(rows).toEqual([['1']]);
      expect(await local.query(db, 'select count(*)::int as n from orders')).toEqual([{ n: 2 }]);
    } finally {
      await local.stop();
    }
  });
});

// The server binaries are a prerequisite of the suite (scripts/prerequisites.sh): not skipped.
describe('local PostgreSQL server', () => {
  it('finds the machine’s PostgreSQL server binaries', () => {
    expect(postgresBinDir()).toBeDefined();
  });

  it('refuses a wrong password', async () => {
    const local = await startLocalPostgres({ prefer: 'postgresql' });
    try {
      const db = await local.create('orders');
      await expect(
        openPostgres(
          { engine: 'postgres', ...db, user: local.user, password: 'wrong', tls: 'disable' },
          undefined,
        ),
      ).rejects.toThrow(/password authentication failed/);
    } finally {
      await local.stop();
    }
  });
});
