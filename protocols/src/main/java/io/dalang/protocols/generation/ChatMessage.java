package io.dalang.protocols.generation;

import io.dalang.protocols.CborSerializable;

/** One chat turn after the edge has flattened OpenAI's content parts into text. */
public record ChatMessage(String role, String content) implements CborSerializable {}
