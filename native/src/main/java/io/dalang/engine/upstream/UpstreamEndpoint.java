package io.dalang.engine.upstream;

import io.dalang.protocols.CborSerializable;

/**
 * One OpenAI-compatible server of an {@code openai-upstream} pool: a vLLM, SGLang, Ollama, TGI or
 * llama-server that Dalang does not start, or a cloud provider. Where it is and the key that
 * authenticates to it are the platform's {@code provider} of that name ({@code /admin/v1/providers}): the
 * address was checked when the provider was made, and its key is sent to that origin only.
 *
 * @param provider the provider's name
 * @param model the model name sent to it (the name it serves the model under)
 * @param maxSequences how many requests Dalang sends it at once: the slot's sequences
 */
public record UpstreamEndpoint(String provider, String model, int maxSequences) implements CborSerializable {
  /** The most sequences one upstream endpoint may be given. */
  public static final int MAX_SEQUENCES = 100_000;
  /** The most endpoints one pool may list. */
  public static final int MAX_ENDPOINTS = 64;
}
