package io.dalang.engine.provision;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * A provisioned engine build, as recorded in its cache directory's {@code engine.json}.
 *
 * @param buildRef what it was built from, e.g. {@code npm:node-llama-cpp@3.22.1 (de3ff81)}
 * @param binarySha256 digest of {@code bin/llama-server}, checked on every cache hit
 * @param backend the {@link Backend} it was built for ({@code cpu} for entries written before backends existed)
 * @param toolchain the version of the GPU toolchain it was built with (glslc and Vulkan headers, nvcc); empty for the CPU
 * @param patches "name sha256" of each patch applied to the source before the build
 */
@com.fasterxml.jackson.annotation.JsonIgnoreProperties(ignoreUnknown = true)
public record EngineEntry(
    @JsonProperty("engine_id") String engineId,
    String version,
    @JsonProperty("build_ref") String buildRef,
    @JsonProperty("source_digest") String sourceDigest,
    @JsonProperty("binary_sha256") String binarySha256,
    List<String> flags,
    @JsonProperty("built_at") String builtAt,
    String backend,
    String toolchain,
    List<String> patches) {

  public EngineEntry {
    backend = backend == null || backend.isBlank() ? Backend.CPU.id() : backend;
    toolchain = toolchain == null ? "" : toolchain;
    patches = patches == null ? List.of() : List.copyOf(patches);
  }

  public Backend backendKind() {
    return Backend.parse(backend);
  }
}
