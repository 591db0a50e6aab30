/** The database and owner role of one consuming service. */
export interface ConsumerDatabase {
  /** Graph id of the consumer. */
  readonly consumer: string;
  /** Namespace of the consumer (where its copy of the credentials lives). */
  readonly consumerNamespace: string;
  /** Database name (the consumer id in snake case). */
  readonly database: string;
  /** Owner and login role (same as the database). */
  readonly role: string;
}

/** A PostgreSQL identifier for a graph id: `order-history` -> `order_history`. */
export function sqlName(id: string): string {
  const name = id.toLowerCase().replace(/[^a-z0-9_]+/g, "_");
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`'${id}' does not make a PostgreSQL identifier (got '${name}')`);
  return name;
}

/** A double-quoted identifier, so that reserved words such as `order` or `user` are fine as names. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * SQL that creates each consumer's owner role (without login; the operator's managed roles add login and password
 * from the referenced Secret) and its database, closed to other roles. Runs once, as superuser, after initdb.
 */
export function databaseBootstrapSql(databases: ReadonlyArray<ConsumerDatabase>): string[] {
  return databases.flatMap((d) => [
    `CREATE ROLE ${quoteIdent(d.role)} NOLOGIN`,
    `CREATE DATABASE ${quoteIdent(d.database)} OWNER ${quoteIdent(d.role)}`,
    `REVOKE ALL ON DATABASE ${quoteIdent(d.database)} FROM PUBLIC`,
  ]);
}
