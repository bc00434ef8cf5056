package io.dalang.protocols.error;

import io.dalang.protocols.CborSerializable;

/** A typed error as a value: what actors reply and what edges render. Never holds a stack trace. */
public record DalangError(ErrorCode code, String message) implements CborSerializable {

  public static DalangError of(ErrorCode code, String message) {
    return new DalangError(code, message);
  }

  public DalangException toException() {
    return new DalangException(code, message);
  }
}
