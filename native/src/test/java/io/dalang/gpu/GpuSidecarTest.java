package io.dalang.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.Test;

/** nvidia-smi output of several drivers and boards, kept as fixtures under gpu-sidecar/. */
class GpuSidecarTest {

  static List<Map<String, Object>> fixture(String name) throws Exception {
    try (var in = Objects.requireNonNull(GpuSidecarTest.class.getResourceAsStream("/gpu-sidecar/" + name), name)) {
      return GpuSidecar.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  @Test
  void driver470WithUnitsInHeaderAndCellsAndAFanlessBoard() throws Exception {
    var gpus = fixture("r470-a100-units.csv");
    assertEquals(2, gpus.size());
    var g = gpus.get(0);
    assertEquals("ok", g.get(GpuSidecar.STATUS), g.toString());
    assertEquals(0, g.get("gpu_index"));
    assertEquals("NVIDIA A100-SXM4-40GB", g.get("gpu_name"));
    assertEquals(87.0, g.get("gpu_util_percent"));
    assertEquals(30211.0, g.get("memory_used_mib"));
    assertEquals(40536.0, g.get("memory_total_mib"));
    assertEquals(312.45, g.get("power_draw_w"));
    assertEquals(400.0, g.get("power_limit_w"));
    assertEquals(61.0, g.get("temperature_c"));
    assertEquals(1410.0, g.get("sm_clock_mhz"));
    assertEquals("P0", g.get("pstate"));
    assertFalse(g.containsKey("fan_speed_percent"));
    assertEquals(List.of("fan_speed_percent: [N/A]"), g.get(GpuSidecar.ERRORS), "noted, but optional");
    assertEquals(33.0, gpus.get(1).get("temperature_c"));
  }

  @Test
  void driver535SpellsPowerAndClocksDifferently() throws Exception {
    var g = fixture("r535-h100-power-instant.csv").get(0);
    assertEquals("ok", g.get(GpuSidecar.STATUS), g.toString());
    assertEquals(641.22, g.get("power_draw_w"), "the average, which comes first");
    assertEquals(1980.0, g.get("sm_clock_mhz"));
    assertEquals(2619.0, g.get("mem_clock_mhz"));
    assertEquals(List.of(), g.get(GpuSidecar.ERRORS));
  }

  @Test
  void headerlessUnitlessOutputFollowsTheQueryOrder() throws Exception {
    var g = fixture("noheader-nounits-rtx3090.csv").get(0);
    assertEquals("ok", g.get(GpuSidecar.STATUS), g.toString());
    assertEquals("NVIDIA GeForce RTX 3090", g.get("gpu_name"));
    assertEquals(34.0, g.get("gpu_util_percent"));
    assertEquals(187.55, g.get("power_draw_w"));
    assertEquals(47.0, g.get("fan_speed_percent"));
  }

  @Test
  void notSupportedRequiredFieldsMakeAPartialSampleThatSaysWhich() throws Exception {
    var g = fixture("r470-legacy-not-supported.csv").get(0);
    assertEquals("partial", g.get(GpuSidecar.STATUS));
    @SuppressWarnings("unchecked")
    var errors = (List<String>) g.get(GpuSidecar.ERRORS);
    assertTrue(errors.contains("gpu_util_percent: [Not Supported]"), errors.toString());
    assertTrue(errors.contains("power_draw_w: [Not Supported]"), errors.toString());
    assertEquals(324.0, g.get("sm_clock_mhz"));
    assertEquals(40.0, g.get("temperature_c"));
  }

  @Test
  void aFailingNvidiaSmiOrNoInputNeverThrows() throws Exception {
    var failed = fixture("driver-not-loaded.txt");
    assertEquals("failed", failed.get(0).get(GpuSidecar.STATUS));
    assertEquals("absent", GpuSidecar.parse("").get(0).get(GpuSidecar.STATUS));
    assertEquals("absent", GpuSidecar.parse(null).get(0).get(GpuSidecar.STATUS));
    var truncated = GpuSidecar.parse("0, NVIDIA L4, 12, 3").get(0);
    assertEquals("partial", truncated.get(GpuSidecar.STATUS), truncated.toString());
    var nonsense = GpuSidecar.parse("a,b\n1,2").get(0);
    assertEquals("failed", nonsense.get(GpuSidecar.STATUS), nonsense.toString());
  }

  @Test
  void computeProcessesThatAreNotThisProcessOrItsChildrenAreForeignEachCountedOnce() {
    var own = java.util.Set.of(100L, 101L);
    assertEquals(0, GpuSidecar.foreignProcesses("", own));
    assertEquals(0, GpuSidecar.foreignProcesses("No running processes found\n", own));
    assertEquals(0, GpuSidecar.foreignProcesses("100\n101\n", own));
    assertEquals(2, GpuSidecar.foreignProcesses("100\n 4242\n4242\n777 \n", own), "4242 on two GPUs is one process");
  }

  @Test
  void aSidecarFileMayCarryItsOwnForeignProcessCount() {
    var g = GpuSidecar.parse("""
        index, name, utilization.gpu [%], memory.used [MiB], power.draw [W], temperature.gpu, clocks.sm [MHz], foreign_processes
        0, NVIDIA L4, 71 %, 10240 MiB, 61.50 W, 55, 2040 MHz, 2
        """).get(0);
    assertEquals("ok", g.get(GpuSidecar.STATUS), g.toString());
    assertEquals(2, g.get(GpuSidecar.FOREIGN_PROCESSES));
  }

  @Test
  void onThisMachineASampleIsAbsentOrParsedButNeverAnException() {
    var samples = GpuSidecar.sample();
    assertFalse(samples.isEmpty());
    for (var s : samples) assertTrue(List.of("ok", "partial", "failed", "absent").contains(s.get(GpuSidecar.STATUS)), s.toString());
  }
}
