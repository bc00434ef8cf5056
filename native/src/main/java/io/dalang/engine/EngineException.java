package io.dalang.engine;

import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;

/** An engine could not be started, provisioned or reached. */
public class EngineException extends DalangException {
  private static final long serialVersionUID = 1L;

  public EngineException(String message) {
    super(ErrorCode.ENGINE_UNAVAILABLE, message);
  }

  public EngineException(String message, Throwable cause) {
    super(ErrorCode.ENGINE_UNAVAILABLE, message, cause);
  }
}
