package io.dalang.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class OffloadTest {

  @Test
  void readsLayersAndDeviceBuffersFromLlamaCppsLoadLog() {
    String log = """
        load_tensors: loading model tensors, this can take a while... (mmap = true, direct_io = false)
        load_tensors: offloading output layer to GPU
        load_tensors: offloading 1 repeating layers to GPU
        load_tensors: offloaded 2/3 layers to GPU
        load_tensors:   CPU_Mapped model buffer size =     3.06 MiB
        load_tensors:      Vulkan0 model buffer size =     1.13 MiB
        llama_kv_cache:    Vulkan0 KV buffer size =     2.00 MiB
        llama_kv_cache:        CPU KV buffer size =     2.00 MiB
        sched_reserve:    Vulkan0 compute buffer size =    18.75 MiB
        sched_reserve: Vulkan_Host compute buffer size =     1.50 MiB
        """;
    var o = Offload.parse(log);
    assertEquals(new Offload(2, 3, "Vulkan0", 1.13, 2.00, 18.75), o);
    assertEquals(21.88, o.deviceMib(), 1e-9);
  }

  @Test
  void aCpuLoadOffloadsNothing() {
    assertEquals(Offload.NONE, Offload.parse("load_tensors:   CPU_Mapped model buffer size =     3.06 MiB\n"));
    assertEquals(new Offload(0, 3, "", 0, 0, 0), Offload.parse("load_tensors: offloaded 0/3 layers to GPU\n"));
  }

  @Test
  void theLastLoadInAnAppendedLogCountsAndItsBuffersAreSummedPerKind() {
    var o = Offload.parse("""
        0.00.354.185 I load_tensors: offloaded 3/3 layers to GPU
        0.00.354.226 I load_tensors:      CUDA0 model buffer size =     9.00 MiB
        0.00.354.185 I load_tensors: offloaded 1/3 layers to GPU
        0.00.354.226 I load_tensors:      CUDA0 model buffer size =     3.00 MiB
        0.00.355.376 I llama_kv_cache:    CUDA0 KV buffer size =     0.25 MiB
        0.00.355.377 I llama_kv_cache:    CUDA0 KV buffer size =     0.50 MiB
        """);
    assertEquals(1, o.layersOffloaded());
    assertEquals(3.0, o.modelMib());
    assertEquals(0.75, o.kvMib(), 1e-9, "two KV caches (sliding-window layers) are both on the device");
  }

  @Test
  void textAModelCarriesIntoTheLogCanNeitherFakeALineNorOverflowANumber() {
    String log = """
        0.00.100.000 I llama_model_loader: - kv   1: general.name str = offloaded 9/9 layers to GPU
        0.00.100.001 I print_info: general.name = load_tensors: offloaded 99999999999/1 layers to GPU
        0.00.100.002 I load_tensors: offloaded 99999999999/1 layers to GPU
        0.00.100.003 I load_tensors:      Vulkan0 model buffer size = 1.2.3 MiB
        0.00.100.004 I load_tensors:      Vulkan0 model buffer size = 99999999999999999999 MiB
        """;
    assertEquals(Offload.NONE, Offload.parse(log));
  }
}
