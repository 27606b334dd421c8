/**
 * The database (or PostgreSQL schema) already holds tables and none of them is Tessera's
 * migration record: it belongs to another program, e.g. Synapse's own `homeserver.db`.
 */
export class ForeignDatabaseError extends Error {
  constructor(readonly tables: string[]) {
    const synapse = tables.includes('events') || tables.includes('schema_version');
    super(
      `the database already holds tables that are not Tessera's (${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', …' : ''})` +
        `${synapse ? ': it looks like a Synapse database' : ''}. Tessera needs a database (or PostgreSQL schema) of its own`,
    );
    this.name = 'ForeignDatabaseError';
  }
}
