package io.dalang.protocols.generation;

import io.dalang.protocols.CborSerializable;

/**
 * One chat turn after the edge has flattened OpenAI's content parts into text.
 *
 * @param toolCalls an assistant turn's {@code tool_calls} array as JSON text (validated); null: none
 * @param toolCallId a {@code tool} turn's answer is to this call
 * @param name the author's name, or the tool's for a {@code tool} turn; null: none
 */
public record ChatMessage(String role, String content, String toolCalls, String toolCallId, String name) implements CborSerializable {

  public ChatMessage(String role, String content) {
    this(role, content, null, null, null);
  }
}
