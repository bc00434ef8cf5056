package io.dalang.actors.audit;

import java.util.Arrays;
import java.util.stream.Collectors;

/** How an audited operation ended; {@link #wire()} is what events, filters and exports hold. */
public enum AuditOutcome {
  /** Done as asked. */
  OK("ok"),
  /** Refused: the caller lacked a credential or a permission. */
  DENIED("denied"),
  /** Allowed but not done (invalid input, conflict, storage error); the reason says which. */
  FAILED("failed");

  private final String wire;

  AuditOutcome(String wire) {
    this.wire = wire;
  }

  public String wire() {
    return wire;
  }

  /** {@code ok}, {@code denied} or {@code failed} (any case). */
  public static AuditOutcome parse(String s) {
    for (AuditOutcome o : values()) {
      if (o.wire.equalsIgnoreCase(s)) return o;
    }
    throw new IllegalArgumentException("unknown audit outcome '" + s + "'; expected one of "
        + Arrays.stream(values()).map(AuditOutcome::wire).collect(Collectors.joining(", ")));
  }

  @Override
  public String toString() {
    return wire;
  }
}
