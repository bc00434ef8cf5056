package io.dalang.runtime.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dalang.actors.placement.SlotStatus;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Each endpoint shows the one slot view with its own fields, in the order it always had. */
class SlotViewsTest {
  static final SlotStatus SLOT = new SlotStatus("p-0", "p", "m", "n1", "cuda0", "Ready", "llama-server", "b1234", "cuda", "8.9", "Q8_0",
      Set.of(), 4096, 4, 3, 1, 2, -1, "", null, 0, 33);

  static String json(Object o) {
    return new String(Json.bytes(o), StandardCharsets.UTF_8);
  }

  @Test
  void theFleetShowsWhereASlotRunsItsStateAndItsLoad() {
    assertEquals("{\"slot_id\":\"p-0\",\"pool\":\"p\",\"model\":\"m\",\"node\":\"n1\",\"device\":\"cuda0\",\"device_kind\":\"cuda\","
        + "\"gpu_layers\":33,\"state\":\"Ready\",\"engine\":\"llama-server\",\"slots_total\":4,\"slots_free\":3,\"queued\":1,\"restarts\":2}",
        json(SlotViews.fleet(SLOT)));
  }

  @Test
  void aPoolShowsWhereEachReplicaIsAndItsState() {
    assertEquals("{\"slot_id\":\"p-0\",\"node\":\"n1\",\"device\":\"cuda0\",\"gpu_layers\":33,\"state\":\"unknown\"}",
        json(SlotViews.replica("p-0", "n1", "cuda0", 33, "unknown")));
  }

  @Test
  void capabilitiesNameTheSlotSlot() {
    assertEquals("{\"slot\":\"p-0\",\"node\":\"n1\",\"device\":\"cuda0\",\"state\":\"Ready\",\"engine\":\"llama-server\","
        + "\"engine_version\":\"b1234\",\"slots_total\":4,\"slots_free\":3}", json(SlotViews.capability(SLOT)));
  }

  @Test
  void aPlacementCandidateIsTheSlotThenWhatPlacementMadeOfIt() {
    var c = new PlacementNarration.Candidate(SlotViews.candidate(SLOT), false, null, List.of("no grammar"), false);
    assertEquals("{\"slot_id\":\"p-0\",\"pool\":\"p\",\"node\":\"n1\",\"device\":\"cuda0\",\"device_kind\":\"cuda\",\"state\":\"Ready\","
        + "\"engine\":\"llama-server\",\"quantization\":\"Q8_0\",\"context_per_sequence\":4096,\"slots_total\":4,\"slots_free\":3,"
        + "\"queued\":1,\"feasible\":false,\"score\":null,\"rejections\":[\"no grammar\"],\"chosen\":false}", json(c));
  }
}
