package io.dalang.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.InputStream;
import org.junit.jupiter.api.Test;

class EngineLoadTest {

  @Test
  void readsVllmGaugesSummedOverEnginesFromItsDocumentedNames() throws Exception {
    try (InputStream in = EngineLoadTest.class.getResourceAsStream("/metrics/vllm.prom")) {
      var load = EngineLoad.parse(in);
      assertEquals(8, load.running());
      assertEquals(8, load.waiting(), "7 + 0 + 1 (the odd label set with a timestamp)");
    }
  }

  @Test
  void readsLlamaServerSglangAndTgiNames() {
    assertEquals(new EngineLoad(2, 1), EngineLoad.parse("""
        # HELP llamacpp:requests_processing Number of requests processing.
        # TYPE llamacpp:requests_processing gauge
        llamacpp:requests_processing 2
        # TYPE llamacpp:requests_deferred gauge
        llamacpp:requests_deferred 1
        llamacpp:prompt_tokens_total 500
        """));
    assertEquals(new EngineLoad(4, 9), EngineLoad.parse("""
        sglang:num_running_reqs{model_name="m"} 4.0
        sglang:num_queue_reqs{model_name="m"} 9.0
        """));
    assertEquals(new EngineLoad(3, -1), EngineLoad.parse("tgi_batch_current_size 3\n"));
  }

  @Test
  void knowsNothingFromMetricsWithoutThoseGaugesOrWithNonsense() {
    assertFalse(EngineLoad.parse("http_requests_total 5\nprocess_cpu_seconds_total 1.5\n").known());
    assertFalse(EngineLoad.parse("vllm:num_requests_waiting NaN\nvllm:num_requests_running -3\nvllm:num_requests_running{x=\"1\"} banana\n").known());
    assertFalse(EngineLoad.parse("").known());
    assertFalse(EngineLoad.parse("vllm:num_requests_running{unterminated=\"1} 4\n").known());
  }

  @Test
  void metricsLongerThanTheBoundFailTheReadRatherThanGivePartialSums() {
    byte[] big = new byte[(int) EngineLoad.MAX_BYTES + 1];
    java.util.Arrays.fill(big, (byte) '#');
    org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, () -> EngineLoad.parse(new java.io.ByteArrayInputStream(big)));
  }
}
