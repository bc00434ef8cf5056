package io.dalang.actors.admission;

/** What a full {@link io.dalang.actors.admission.internal.AdmissionQueue} does with one more item. */
public enum OverflowPolicy {
  /** Refuse the incoming item with {@code capacity_exhausted}. */
  REJECT,
  /**
   * Make room by evicting the least recently enqueued item of the lowest priority class present, but only
   * for an incoming item of strictly higher priority than that class. Otherwise the incoming item is refused
   * as under {@link #REJECT}: an admitted item is never dropped for work that is no more urgent than it.
   */
  DROP_LRU
}
