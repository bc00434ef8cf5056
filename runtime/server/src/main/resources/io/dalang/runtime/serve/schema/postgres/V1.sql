-- Version 1: the tables of pekko-persistence-jdbc 1.1.1 (its schema/postgres/postgres-create-schema.sql)
-- and the audit ledger's (AuditStore). Every statement is IF NOT EXISTS, so a database that an earlier
-- Dalang created with persistence-jdbc's SchemaUtils is adopted as it is. The shipped script builds the
-- durable-state indexes CONCURRENTLY, which PostgreSQL refuses inside a transaction; on the empty table of
-- a first start a plain CREATE INDEX is as quick. No ';' inside a statement: the runner splits on it.
CREATE TABLE IF NOT EXISTS public.event_journal(
  ordering BIGSERIAL,
  persistence_id VARCHAR(255) NOT NULL,
  sequence_number BIGINT NOT NULL,
  deleted BOOLEAN DEFAULT FALSE NOT NULL,

  writer VARCHAR(255) NOT NULL,
  write_timestamp BIGINT,
  adapter_manifest VARCHAR(255),

  event_ser_id INTEGER NOT NULL,
  event_ser_manifest VARCHAR(255) NOT NULL,
  event_payload BYTEA NOT NULL,

  meta_ser_id INTEGER,
  meta_ser_manifest VARCHAR(255),
  meta_payload BYTEA,

  PRIMARY KEY(persistence_id, sequence_number)
);

CREATE UNIQUE INDEX IF NOT EXISTS event_journal_ordering_idx ON public.event_journal(ordering);

CREATE TABLE IF NOT EXISTS public.event_tag(
    event_id BIGINT,
    tag VARCHAR(256),
    PRIMARY KEY(event_id, tag),
    CONSTRAINT fk_event_journal
      FOREIGN KEY(event_id)
      REFERENCES event_journal(ordering)
      ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS public.snapshot (
  persistence_id VARCHAR(255) NOT NULL,
  sequence_number BIGINT NOT NULL,
  created BIGINT NOT NULL,

  snapshot_ser_id INTEGER NOT NULL,
  snapshot_ser_manifest VARCHAR(255) NOT NULL,
  snapshot_payload BYTEA NOT NULL,

  meta_ser_id INTEGER,
  meta_ser_manifest VARCHAR(255),
  meta_payload BYTEA,

  PRIMARY KEY(persistence_id, sequence_number)
);

CREATE TABLE IF NOT EXISTS public.durable_state (
    global_offset BIGSERIAL,
    persistence_id VARCHAR(255) NOT NULL,
    revision BIGINT NOT NULL,
    state_payload BYTEA NOT NULL,
    state_serial_id INTEGER NOT NULL,
    state_serial_manifest VARCHAR(255),
    tag VARCHAR,
    state_timestamp BIGINT NOT NULL,
    PRIMARY KEY(persistence_id)
);
CREATE INDEX IF NOT EXISTS state_tag_idx ON public.durable_state (tag);
CREATE INDEX IF NOT EXISTS state_global_offset_idx ON public.durable_state (global_offset);

CREATE TABLE IF NOT EXISTS dalang_audit_event (
    seq BIGINT NOT NULL PRIMARY KEY,
    time_epoch_ms BIGINT NOT NULL,
    tenant VARCHAR NOT NULL,
    actor VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    target VARCHAR NOT NULL,
    outcome VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    details_json VARCHAR NOT NULL,
    canonical_json VARCHAR NOT NULL,
    prev_hash VARCHAR(64) NOT NULL,
    hash VARCHAR(64) NOT NULL
);
CREATE INDEX IF NOT EXISTS dalang_audit_event_tenant_idx ON dalang_audit_event (tenant, seq);
CREATE INDEX IF NOT EXISTS dalang_audit_event_time_idx ON dalang_audit_event (time_epoch_ms);

CREATE TABLE IF NOT EXISTS dalang_audit_root (
    block_no BIGINT NOT NULL PRIMARY KEY,
    first_seq BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    root VARCHAR(64) NOT NULL
);

CREATE TABLE IF NOT EXISTS dalang_audit_prune (
    through_seq BIGINT NOT NULL PRIMARY KEY,
    through_hash VARCHAR(64) NOT NULL,
    pruned_at_epoch_ms BIGINT NOT NULL
);
