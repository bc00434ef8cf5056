package io.dalang.runtime.http;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import io.dalang.actors.placement.PlacementDecision;
import io.dalang.protocols.node.SlotView;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/** The JSON body of {@code GET /v1/placements/{run_id}}: a decision told for people and tools. */
final class PlacementNarration {
  private PlacementNarration() {}

  /** A candidate: the slot as placement saw it, then what placement made of it. */
  record Candidate(@JsonUnwrapped SlotView slot, boolean feasible, Double score, List<String> rejections, boolean chosen) {}

  static Map<String, Object> of(PlacementDecision d) {
    var job = new LinkedHashMap<String, Object>();
    job.put("model", d.spec().modelId());
    job.put("pools", new TreeSet<>(d.spec().pools()));
    job.put("prompt_tokens_at_least", d.spec().promptTokens());
    job.put("max_tokens", d.spec().maxTokens());
    job.put("context_tokens", d.spec().contextTokens());
    job.put("extensions", new TreeSet<>(d.spec().extensions()));
    job.put("min_compute_capability", d.spec().minComputeCapability());
    job.put("quantizations", new TreeSet<>(d.spec().quantizations()));

    var candidates = new ArrayList<Candidate>();
    var sorted = new ArrayList<>(d.candidates());
    sorted.sort(Comparator.comparing(c -> c.slot().slotId()));
    for (var c : sorted) {
      candidates.add(new Candidate(SlotViews.candidate(c.slot()), c.feasible(), Double.isNaN(c.score()) ? null : c.score(),
          c.reasons(d.spec()), c.slot().slotId().equals(d.chosen())));
    }

    var body = new LinkedHashMap<String, Object>();
    body.put("run_id", d.runId());
    body.put("decided_at", Instant.ofEpochMilli(d.decidedAtEpochMs()).toString());
    body.put("policy", d.policy().wireName());
    body.put("job", job);
    body.put("job_spec_hash", d.specHash());
    body.put("snapshot_version", d.snapshotVersion());
    body.put("cache_hit", d.cacheHit());
    body.put("decision_us", d.decisionNanos() / 1000.0);
    body.put("chosen", d.chosen());
    body.put("error", d.error() == null ? null : Map.of("code", d.error().code().code(), "message", d.error().message()));
    body.put("candidates", candidates);
    return body;
  }
}
