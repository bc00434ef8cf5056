package io.dalang.actors.admission;

/**
 * How urgently a queued item wants to start. Declaration order is dispatch order: while an item of an
 * earlier class waits, no item of a later class is dispatched. Tenants share by weight only within a class.
 */
public enum Priority {
  /** Someone is waiting for the first token. */
  INTERACTIVE,
  /** Throughput work that can wait behind interactive traffic. */
  BATCH
}
