package io.dalang.runtime.determinism;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What {@code dalang determinism check} found, as written to its JSON report: per corpus entry, the
 * reference stream (the first streaming replay), the determinism signals of its runs and every place
 * another replay differed; and, with {@code --against}, how each entry compares with a stored report.
 *
 * @param passed every entry identical across its replays, and none diverged from the stored report
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
record DeterminismReport(int schemaVersion, String createdAt, String engine, int repeats, String corpus, List<EntryResult> entries,
    Against against, boolean passed) {
  static final int SCHEMA_VERSION = 1;

  static final String IDENTICAL = "identical";
  static final String DIVERGED = "diverged";
  static final String FAILED = "failed";
  static final String NOT_COMPARABLE = "not_comparable";

  /**
   * The signals that decide whether two runs must be byte-identical, from a run record
   * ({@code engine}, {@code engine_version}, {@code engine_digest}, {@code model_digest}, {@code sampler}).
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  record Signals(String engine, String engineVersion, String engineDigest, String modelDigest, JsonNode sampler) {

    static Signals of(JsonNode record) {
      return new Signals(text(record, "engine"), text(record, "engine_version"), text(record, "engine_digest"), text(record, "model_digest"),
          record.get("sampler"));
    }

    private static String text(JsonNode n, String field) {
      JsonNode v = n.get(field);
      return v == null || v.isNull() ? null : v.asText();
    }

    /** The signals in which {@code other} differs from these, by their record names. */
    List<String> differences(Signals other) {
      var out = new ArrayList<String>();
      if (!Objects.equals(engine, other.engine)) out.add("engine");
      if (!Objects.equals(engineVersion, other.engineVersion)) out.add("engine_version");
      if (!Objects.equals(engineDigest, other.engineDigest)) out.add("engine_digest");
      if (!Objects.equals(modelDigest, other.modelDigest)) out.add("model_digest");
      if (!Objects.equals(sampler, other.sampler)) out.add("sampler");
      return out;
    }
  }

  /**
   * One corpus entry.
   *
   * @param requestSha256 of the entry's request body (without {@code stream}): a stored report's entry
   *     of another request is not comparable
   * @param runs replays made (streaming and not)
   * @param pieces the reference stream's content pieces; {@code text} their concatenation
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  record EntryResult(String id, String status, String requestSha256, int runs, int tokens, int bytes, String text, List<String> pieces,
      Signals signals, List<Divergence> divergences) {}

  /**
   * Where one replay first differed from the reference.
   *
   * @param run which replay: {@code repeat 2 stream}, {@code repeat 1 non-stream}, or {@code golden}
   * @param kind {@code stream} (content pieces), {@code text} (the whole text), {@code signals}, or
   *     {@code error} (the replay failed)
   * @param tokenIndex the first content piece (token) that differs, counted from 0; for a text, the
   *     reference piece holding the first differing byte; -1 where it does not apply
   * @param byteOffset the first differing byte of the UTF-8 text, from 0; -1 where the texts are equal
   *     (the pieces split it differently) or it does not apply
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  record Divergence(String run, String kind, int tokenIndex, long byteOffset, String expected, String actual) {

    String describe() {
      var sb = new StringBuilder(run).append(": ");
      switch (kind) {
        case "signals" -> sb.append("signals differ (").append(expected).append(")");
        case "error" -> sb.append(actual);
        default -> {
          sb.append(kind).append(" differs");
          if (tokenIndex >= 0) sb.append(" at token ").append(tokenIndex);
          if (byteOffset >= 0) sb.append(tokenIndex >= 0 ? ", byte " : " at byte ").append(byteOffset);
          else if (tokenIndex >= 0) sb.append(" (same text, split into other pieces)");
          sb.append(": expected ").append(quote(expected)).append(", got ").append(quote(actual));
        }
      }
      return sb.toString();
    }

    private static String quote(String s) {
      return s == null ? "nothing" : "\"" + s.replace("\n", "\\n") + "\"";
    }
  }

  /** The comparison with a stored report ({@code --against}). */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  record Against(String file, List<AgainstEntry> entries) {

    long count(String status) {
      return entries.stream().filter(e -> e.status().equals(status)).count();
    }
  }

  /**
   * @param status {@code identical}, {@code diverged} (same signals, other bytes: a failure), or
   *     {@code not_comparable} (other engine, engine or model digest, sampler or request, or not in the
   *     stored report: no verdict)
   * @param reason why it is not comparable, or where it diverged
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  record AgainstEntry(String id, String status, String reason, Divergence divergence) {}
}
