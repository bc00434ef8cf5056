package io.dalang.actors.telemetry;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The sidecar's recent sampling rounds, newest last, so that a run is judged by the device as it was
 * from the run's start to its end, not only by the latest sample. Bounded: the oldest rounds go first.
 */
final class SidecarHistory {
  private record Round(long atEpochMs, List<Map<String, Object>> samples) {}

  private final int capacity;
  private final ArrayDeque<Round> rounds = new ArrayDeque<>();

  SidecarHistory(int capacity) {
    this.capacity = capacity;
  }

  void add(long atEpochMs, List<Map<String, Object>> samples) {
    rounds.addLast(new Round(atEpochMs, List.copyOf(samples)));
    while (rounds.size() > capacity) rounds.removeFirst();
  }

  /** The latest round, or {@code none} before the first. */
  List<Map<String, Object>> latest(List<Map<String, Object>> none) {
    return rounds.isEmpty() ? none : rounds.getLast().samples();
  }

  /**
   * The rounds that describe the device during a run received at {@code startEpochMs} and ending now:
   * the last one taken at or before its start (the device as the run found it), and all taken since.
   */
  List<List<Map<String, Object>>> since(long startEpochMs) {
    var out = new ArrayList<List<Map<String, Object>>>();
    for (Iterator<Round> it = rounds.descendingIterator(); it.hasNext(); ) {
      Round r = it.next();
      out.add(r.samples());
      if (r.atEpochMs() <= startEpochMs) break;
    }
    return out;
  }
}
