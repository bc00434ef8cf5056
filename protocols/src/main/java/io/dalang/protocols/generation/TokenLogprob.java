package io.dalang.protocols.generation;

import io.dalang.protocols.CborSerializable;
import java.util.List;

/**
 * The log probability of one generated token, and of the most likely alternatives at its position
 * (as many as the request's {@code top_logprobs}, most likely first).
 */
public record TokenLogprob(String token, double logprob, List<Alternative> top) implements CborSerializable {

  public TokenLogprob {
    top = top == null ? List.of() : List.copyOf(top);
  }

  /** One alternative token at the position, with its log probability. */
  public record Alternative(String token, double logprob) implements CborSerializable {}
}
