package io.dalang.protocols.generation;

import io.dalang.protocols.CborSerializable;

/** Token counts of one run, as the engine counted them. */
public record Usage(int promptTokens, int completionTokens) implements CborSerializable {
  public int totalTokens() {
    return promptTokens + completionTokens;
  }
}
