package io.dalang.protocols.node;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One model slot as the HTTP API shows it: the fleet ({@code GET /admin/v1/fleet}), a pool's replicas
 * ({@code /admin/v1/pools}), a tenant's capabilities ({@code GET /v1/capabilities}) and a placement's
 * candidates ({@code GET /v1/placements/{run_id}}). Each shows the fields it needs; the others are null
 * and left out; a pool's replicas say why one failed or was lost ({@code detail}). The capabilities name the slot {@code slot} rather than {@code slot_id}, as they always have.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SlotView(
    @JsonProperty("slot_id") String slotId,
    String slot,
    String pool,
    String model,
    String node,
    String device,
    @JsonProperty("device_kind") String deviceKind,
    @JsonProperty("gpu_layers") Integer gpuLayers,
    String state,
    String engine,
    @JsonProperty("engine_version") String engineVersion,
    String quantization,
    @JsonProperty("context_per_sequence") Integer contextPerSequence,
    @JsonProperty("slots_total") Integer slotsTotal,
    @JsonProperty("slots_free") Integer slotsFree,
    Integer queued,
    Integer restarts,
    String detail) {

  /** As the views without a {@code detail} (why a replica failed or was lost) show a slot. */
  public SlotView(String slotId, String slot, String pool, String model, String node, String device, String deviceKind, Integer gpuLayers,
      String state, String engine, String engineVersion, String quantization, Integer contextPerSequence, Integer slotsTotal,
      Integer slotsFree, Integer queued, Integer restarts) {
    this(slotId, slot, pool, model, node, device, deviceKind, gpuLayers, state, engine, engineVersion, quantization, contextPerSequence,
        slotsTotal, slotsFree, queued, restarts, null);
  }
}
