package io.dalang.actors.admission;

import io.dalang.protocols.CborSerializable;

/**
 * A pool serving two catalog versions at once (an A/B split): {@code percentNext} of its runs go to the
 * slots of {@code next}, the rest to those of {@code current} ({@code name@version} each, as slots
 * publish them). Which version a run gets is a function of its id, so a run keeps its version across
 * the dispatch attempts of one admission.
 */
public record TrafficSplit(String current, String next, int percentNext) implements CborSerializable {
  /** The version run {@code runId} goes to. */
  public String versionFor(String runId) {
    return Math.floorMod(runId.hashCode() * 0x9E3779B1, 100) < percentNext ? next : current;
  }
}
