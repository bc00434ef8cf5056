package io.dalang.protocols.openai;

import com.fasterxml.jackson.annotation.JsonInclude;

/** The {@code tool_calls} of an assistant message as OpenAI writes them: whole, and as stream pieces. */
public final class ToolCalls {
  private ToolCalls() {}

  /** One call in a whole answer. */
  public record Call(String id, String type, Function function) {}

  /** The function called and its arguments as JSON text. */
  public record Function(String name, String arguments) {}

  /** One piece of a call in a stream: the first names {@code id}, {@code type} and the function's name. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Piece(int index, String id, String type, FunctionPiece function) {}

  /** A piece of the function: its name (first piece only) and the next fragment of its arguments. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record FunctionPiece(String name, String arguments) {}
}
