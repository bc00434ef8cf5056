package io.dalang.actors.admission;

/** What a full {@link AdmissionQueue} does with one more job. */
public enum OverflowPolicy {
  /** Refuse the incoming job with {@code capacity_exhausted}. */
  REJECT,
  /**
   * Make room by evicting the least recently enqueued job of the lowest priority class present, but only
   * for an incoming job of strictly higher priority than that class. Otherwise the incoming job is refused
   * as under {@link #REJECT}: an admitted job is never dropped for work that is no more urgent than it.
   */
  DROP_LRU
}
