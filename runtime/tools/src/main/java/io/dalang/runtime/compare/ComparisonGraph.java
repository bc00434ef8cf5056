package io.dalang.runtime.compare;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.dalang.protocols.sweep.SweepSummary;
import java.util.List;
import java.util.Map;

/**
 * What {@code dalang compare} found across sweeps, as it is exported to JSON (snake_case).
 *
 * @param nodes one per sweep, in the order given
 * @param edges one per ordered pair (earlier, later) of sweeps in that order
 * @param top per later sweep, the largest relative changes from the first sweep
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ComparisonGraph(double tieTolerance, boolean includeInvalid, List<Node> nodes, List<Edge> edges, List<TopDeltas> top) {

  /**
   * One sweep with the provenance stamps that say what it measured.
   *
   * @param modelDigests variant → digest of the model file it loaded
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Node(String sweepId, String createdAt, String reference, String recommendation,
      SweepSummary.Provenance provenance, Map<String, String> modelDigests) {}

  /**
   * The later sweep {@code to} against the earlier {@code from}, over the variants both measured. Outcomes
   * are the later sweep's: a win means it did better.
   *
   * @param tallies metric → wins, losses and ties over the variants
   * @param skipped variants left out, with why (not in both sweeps; no valid runs without --include-invalid)
   * @param provenanceDifferences what makes this comparison unlike with unlike; empty when like with like
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Edge(String from, String to, Map<String, Tally> tallies, List<Cell> cells, Map<String, String> skipped,
      List<Difference> provenanceDifferences) {}

  public record Tally(int wins, int losses, int ties) {}

  /**
   * One variant's metric in two sweeps.
   *
   * @param deltaPct relative change in percent of {@code fromValue}; null where that is 0 and the value moved
   * @param outcome {@code win}, {@code loss} or {@code tie}, for the later sweep
   * @param note set where the variant had no valid runs in a sweep (only with --include-invalid)
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Cell(String from, String to, String variant, String metric, double fromValue, double toValue, Double deltaPct,
      String outcome, String note) {}

  /** A provenance field whose value differs between two sweeps, e.g. {@code preset.prompts_digest}. */
  public record Difference(String field, String from, String to) {}

  /** The largest changes from {@code from} (the first sweep) to {@code to}, largest first. */
  public record TopDeltas(String from, String to, List<Cell> deltas) {}
}
