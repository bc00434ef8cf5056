package io.dalang.runtime.runs;

import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import java.util.OptionalLong;

/**
 * The start deadline a client may give a run, read the same way on both edges (HTTP's
 * {@code x-dalang-deadline-ms} header, gRPC's {@code deadline_ms} field): absent, the run has none; N
 * (0 to 86,400,000), the run must start within N ms of arriving, else it fails with {@code timeout}. So
 * {@code 0} means "at once": the run is answered {@code timeout} unless a slot takes it right away.
 */
public final class StartDeadline {
  /** What {@link RunLauncher#start} takes for "no deadline". */
  public static final long NONE = 0;
  static final long MAX_MS = 86_400_000L;

  private StartDeadline() {}

  /**
   * The epoch millisecond by which the run must start, or {@link #NONE}.
   *
   * @param name the header or field, as the client's {@code invalid_request} message names it
   * @param param the error's {@code param}; null if none
   */
  public static long of(OptionalLong ms, String name, String param) {
    if (ms.isEmpty()) return NONE;
    if (ms.getAsLong() < 0 || ms.getAsLong() > MAX_MS) throw invalid(name, param);
    return System.currentTimeMillis() + ms.getAsLong();
  }

  /** As {@link #of(OptionalLong, String, String)} for a text value (an HTTP header). */
  public static long parse(java.util.Optional<String> ms, String name, String param) {
    if (ms.isEmpty()) return NONE;
    try {
      return of(OptionalLong.of(Long.parseLong(ms.get().strip())), name, param);
    } catch (NumberFormatException e) {
      throw invalid(name, param);
    }
  }

  private static DalangException invalid(String name, String param) {
    return new DalangException(ErrorCode.INVALID_REQUEST, name + " must be milliseconds between 0 and " + MAX_MS, param, 0);
  }
}
