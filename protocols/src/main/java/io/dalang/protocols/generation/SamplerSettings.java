package io.dalang.protocols.generation;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.dalang.protocols.CborSerializable;
import java.util.List;

/**
 * The sampler settings a generation runs with, complete: what the request set, and the values Dalang
 * sends for what it cannot set. Both engines are given every one of these explicitly (never left to a
 * build's own default), so two run records with equal settings were sampled the same way.
 *
 * @param seed the request's seed; null when it set none and the engine drew a random one (such a run
 *     is not repeatable unless {@code temperature} is 0)
 * @param temperature 0 is greedy: the most probable token every time, whatever the seed
 * @param topK {@link #TOP_K}: no request field sets it
 * @param minP {@link #MIN_P}: no request field sets it
 * @param repeatPenalty {@link #REPEAT_PENALTY} (off): no request field sets it
 * @param stop the request's stop strings as {@link #stopDigest digests} (raw strings in records written
 *     before input limits)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record SamplerSettings(
    Long seed,
    double temperature,
    double topP,
    int topK,
    double minP,
    double repeatPenalty,
    int maxTokens,
    List<String> stop)
    implements CborSerializable {

  /** llama.cpp's own defaults ({@code common_params_sampling}), the same in both engine builds Dalang runs. */
  public static final int TOP_K = 40;

  public static final double MIN_P = 0.05;
  /** 1.0: no repeat penalty. */
  public static final double REPEAT_PENALTY = 1.0;

  /**
   * The settings {@code request} runs with. Stop strings are recorded as {@link #stopDigest digests},
   * never raw: a record stays small whatever a client sent, and equal stops still compare equal.
   */
  public static SamplerSettings of(GenerationRequest request) {
    return new SamplerSettings(request.seed(), request.temperature(), request.topP(), TOP_K, MIN_P, REPEAT_PENALTY,
        request.maxTokens(), request.stop() == null ? List.of() : request.stop().stream().map(SamplerSettings::stopDigest).toList());
  }

  /** {@code sha256:<first 16 hex digits>:<UTF-8 bytes>} of a stop string. */
  public static String stopDigest(String stop) {
    byte[] bytes = stop.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    try {
      byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(bytes);
      return "sha256:" + java.util.HexFormat.of().formatHex(d, 0, 8) + ":" + bytes.length;
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JVM", e);
    }
  }
}
