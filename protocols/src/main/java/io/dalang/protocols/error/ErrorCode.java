package io.dalang.protocols.error;

/**
 * Dalang's one error taxonomy. Every failure a client, operator or telemetry record sees carries one
 * of these stable codes; the code decides the HTTP status, the gRPC status and whether retrying the
 * same request can succeed.
 */
public enum ErrorCode {
  MALFORMED_JSON(400, "INVALID_ARGUMENT", "invalid_request_error", false),
  INVALID_REQUEST(400, "INVALID_ARGUMENT", "invalid_request_error", false),
  CONTEXT_LENGTH_EXCEEDED(400, "INVALID_ARGUMENT", "invalid_request_error", false),
  /**
   * A valid parameter that the engine of the model's pool cannot honour (tools on an engine without a
   * chat-template tool parser, {@code n > 1} where only one sequence runs): named, never dropped.
   */
  UNSUPPORTED_PARAMETER(400, "INVALID_ARGUMENT", "invalid_request_error", false),
  /** Slots of the model exist, but none can serve the request as asked (extensions, device, quantization). */
  NO_FEASIBLE_SLOT(400, "FAILED_PRECONDITION", "invalid_request_error", false),
  AUTHENTICATION_FAILED(401, "UNAUTHENTICATED", "authentication_error", false),
  PERMISSION_DENIED(403, "PERMISSION_DENIED", "permission_error", false),
  MODEL_NOT_FOUND(404, "NOT_FOUND", "not_found_error", false),
  NOT_FOUND(404, "NOT_FOUND", "not_found_error", false),
  METHOD_NOT_ALLOWED(405, "UNIMPLEMENTED", "invalid_request_error", false),
  /** The thing to create exists already, or the change conflicts with its state (e.g. a revoked key). */
  CONFLICT(409, "ALREADY_EXISTS", "invalid_request_error", false),
  /** An {@code Idempotency-Key} the tenant already used with a different request (within the key's TTL). */
  IDEMPOTENCY_CONFLICT(409, "FAILED_PRECONDITION", "invalid_request_error", false),
  /**
   * A streaming repeat of a running keyed request whose output is longer than the replay buffer
   * ({@code dalang.jobs.max-replay-tokens}): retrying once the request has finished gets its stored result.
   */
  REPLAY_UNAVAILABLE(409, "FAILED_PRECONDITION", "invalid_request_error", true),
  /** The thing asked for existed but is gone for good, e.g. a dead-lettered job whose request body was dropped ({@code dalang.jobs.body-ttl}). */
  GONE(410, "FAILED_PRECONDITION", "invalid_request_error", false),
  UNSUPPORTED_MEDIA_TYPE(415, "INVALID_ARGUMENT", "invalid_request_error", false),
  CAPACITY_EXHAUSTED(429, "RESOURCE_EXHAUSTED", "rate_limit_error", true),
  /** One of the tenant's quotas is used up; {@code param} names it, {@code Retry-After} says when it resets. */
  QUOTA_EXCEEDED(429, "RESOURCE_EXHAUSTED", "rate_limit_error", true),
  /** The client address failed to authenticate too often; {@code Retry-After} says when it may try again. */
  TOO_MANY_AUTH_FAILURES(429, "RESOURCE_EXHAUSTED", "rate_limit_error", true),
  CANCELLED(499, "CANCELLED", "cancelled", false),
  INTERNAL(500, "INTERNAL", "server_error", true),
  ENGINE_FAILED(502, "UNAVAILABLE", "engine_error", true),
  NO_READY_SLOT(503, "UNAVAILABLE", "overloaded_error", true),
  ENGINE_UNAVAILABLE(503, "UNAVAILABLE", "engine_error", true),
  /**
   * The operation needs a durable audit record (an admin change, a secret read) and the audit ledger
   * cannot take one now (too many entries waiting, or no answer); nothing was done. {@code Retry-After}.
   */
  AUDIT_UNAVAILABLE(503, "UNAVAILABLE", "overloaded_error", true),
  TIMEOUT(504, "DEADLINE_EXCEEDED", "timeout_error", true);

  private final int httpStatus;
  private final String grpcStatus;
  private final String type;
  private final boolean retriable;

  ErrorCode(int httpStatus, String grpcStatus, String type, boolean retriable) {
    this.httpStatus = httpStatus;
    this.grpcStatus = grpcStatus;
    this.type = type;
    this.retriable = retriable;
  }

  /** The HTTP status an edge answers with. */
  public int httpStatus() {
    return httpStatus;
  }

  /** The name of the gRPC status code ({@code io.grpc.Status.Code}) a gRPC edge answers with. */
  public String grpcStatus() {
    return grpcStatus;
  }

  /** OpenAI-style error {@code type}. */
  public String type() {
    return type;
  }

  /** True when the same request may succeed if tried again later. */
  public boolean retriable() {
    return retriable;
  }

  /** The wire form: lower snake case, stable across releases. */
  public String code() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
