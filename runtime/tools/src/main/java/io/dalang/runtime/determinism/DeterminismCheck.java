package io.dalang.runtime.determinism;

import io.dalang.runtime.determinism.DeterminismReport.Against;
import io.dalang.runtime.determinism.DeterminismReport.AgainstEntry;
import io.dalang.runtime.determinism.DeterminismReport.Divergence;
import io.dalang.runtime.determinism.DeterminismReport.EntryResult;
import io.dalang.runtime.determinism.DeterminismReport.Signals;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The verdicts of a determinism check, from what the replays got: within one entry every replay must
 * match the first streaming one byte for byte (pieces for a stream, the whole text otherwise) and carry
 * the same determinism signals; against a stored report, entries with the same signals must match it,
 * and the others are not comparable.
 */
final class DeterminismCheck {
  private DeterminismCheck() {}

  /** One entry's verdict from its replays, the first a streaming one (the reference). */
  static EntryResult entry(Corpus.Entry e, String requestSha256, List<Replayer.Replay> replays) {
    var divergences = new ArrayList<Divergence>();
    Replayer.Replay ref = replays.get(0);
    Signals refSignals = ref.record() == null ? null : Signals.of(ref.record());
    for (int i = 0; i < replays.size(); i++) {
      Replayer.Replay r = replays.get(i);
      String run = "repeat " + (i / 2 + 1) + (r.stream() ? " stream" : " non-stream");
      String failure = failure(r);
      if (failure != null) {
        divergences.add(new Divergence(run, "error", -1, -1, null, failure));
        continue;
      }
      if (i > 0) {
        Divergence d = r.stream() ? StreamDiff.pieces(run, ref.pieces(), r.pieces()) : StreamDiff.text(run, ref.pieces(), r.text());
        if (d != null) divergences.add(d);
        if (refSignals != null) {
          List<String> differ = refSignals.differences(Signals.of(r.record()));
          if (!differ.isEmpty()) divergences.add(new Divergence(run, "signals", -1, -1, String.join(", ", differ), null));
        }
      }
    }
    boolean failed = divergences.stream().anyMatch(d -> d.kind().equals("error"));
    String status = failed ? DeterminismReport.FAILED : divergences.isEmpty() ? DeterminismReport.IDENTICAL : DeterminismReport.DIVERGED;
    String text = ref.text();
    return new EntryResult(e.id(), status, requestSha256, replays.size(), ref.pieces().size(), text.getBytes(StandardCharsets.UTF_8).length,
        text, ref.pieces(), refSignals, List.copyOf(divergences));
  }

  /** Why a replay cannot be compared: it failed, its run did not end {@code ok}, or it left no record. */
  private static String failure(Replayer.Replay r) {
    if (r.error() != null) return r.error();
    if (r.record() == null) return "no run record for " + r.runId();
    String outcome = r.record().path("outcome").asText();
    return outcome.equals("ok") ? null : "run " + r.runId() + " ended " + outcome;
  }

  /** How each entry of {@code current} compares with the stored report {@code golden}. */
  static Against against(DeterminismReport current, DeterminismReport golden, String file) {
    Map<String, EntryResult> stored = golden.entries().stream().collect(Collectors.toMap(EntryResult::id, Function.identity(), (a, b) -> a));
    var out = new ArrayList<AgainstEntry>();
    for (EntryResult now : current.entries()) {
      EntryResult then = stored.get(now.id());
      out.add(compare(now, then));
    }
    return new Against(file, List.copyOf(out));
  }

  private static AgainstEntry compare(EntryResult now, EntryResult then) {
    String id = now.id();
    if (then == null) return new AgainstEntry(id, DeterminismReport.NOT_COMPARABLE, "not in the stored report", null);
    if (now.signals() == null || then.signals() == null || now.signals().engineDigest() == null || then.signals().engineDigest() == null
        || now.signals().modelDigest() == null || then.signals().modelDigest() == null) {
      return new AgainstEntry(id, DeterminismReport.NOT_COMPARABLE, "no engine or model digest recorded", null);
    }
    if (!now.requestSha256().equals(then.requestSha256())) {
      return new AgainstEntry(id, DeterminismReport.NOT_COMPARABLE, "the entry's request changed", null);
    }
    List<String> differ = then.signals().differences(now.signals());
    differ.remove("engine_version"); // the digests decide; a version string may be spelt otherwise for the same build
    if (!differ.isEmpty()) {
      // No verdict, but worth knowing: another engine build may well choose the same tokens.
      String bytes = now.pieces().equals(then.pieces()) ? "the streams are identical all the same" : "the streams differ";
      return new AgainstEntry(id, DeterminismReport.NOT_COMPARABLE, String.join(", ", differ) + " differ; " + bytes, null);
    }
    Divergence d = StreamDiff.pieces("golden", then.pieces(), now.pieces());
    return d == null ? new AgainstEntry(id, DeterminismReport.IDENTICAL, null, null)
        : new AgainstEntry(id, DeterminismReport.DIVERGED, d.describe(), d);
  }
}
