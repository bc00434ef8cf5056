package io.dalang.actors.audit;

/**
 * The audit tables could not be read or written (database unreachable, a statement failed). Says
 * which operation on which database; the writer retries appends, a query or verify reports it.
 */
public final class AuditStoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public AuditStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
