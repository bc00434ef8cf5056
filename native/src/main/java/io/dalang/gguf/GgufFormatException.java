package io.dalang.gguf;

import java.io.IOException;

/** The file is not a GGUF file Dalang can read; the message says what is wrong and where. */
public class GgufFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  public GgufFormatException(String message) {
    super(message);
  }
}
