package io.dalang.runtime.grpc;

import io.dalang.protocols.error.DalangError;
import io.dalang.runtime.http.ErrorMapper;
import io.grpc.Status;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.grpc.javadsl.MetadataBuilder;

/**
 * The gRPC side of the error taxonomy: the error code decides the status (the same table as HTTP's,
 * {@code ErrorCode.grpcStatus()}), the message is the client-facing one, and the trailers carry
 * {@code dalang-error-code}, {@code dalang-retriable} and, for retriable errors, {@code retry-after}
 * seconds. No stack trace or internal detail reaches the client.
 */
public final class GrpcErrors {
  private GrpcErrors() {}

  public static GrpcServiceException of(DalangError e) {
    var md = new MetadataBuilder().addText("dalang-error-code", e.code().code())
        .addText("dalang-retriable", Boolean.toString(e.code().retriable()));
    if (e.param() != null) md.addText("dalang-error-param", e.param());
    if (e.retryAfter() > 0) md.addText("retry-after", Long.toString(e.retryAfter()));
    Status status = Status.fromCode(Status.Code.valueOf(e.code().grpcStatus())).withDescription(e.message());
    return new GrpcServiceException(status, md.build());
  }

  /** Any throwable from the gRPC edge, typed the same way the HTTP edge types it. */
  public static GrpcServiceException of(Throwable t) {
    if (t instanceof GrpcServiceException g) return g;
    if (t instanceof java.util.concurrent.CompletionException c && c.getCause() instanceof GrpcServiceException g) return g;
    return of(ErrorMapper.toError(t));
  }
}
