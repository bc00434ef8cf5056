package io.dalang.runtime.http;

import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;

/**
 * The answer to a request too malformed to reach the routes (a bad request line, headers over the
 * {@code parsing} caps, a bad {@code Content-Length}): Pekko's 4xx status (its 501 and 505 become 405
 * and 400: a parse error is always the client's) with Dalang's typed error body, like every other error ({@code pekko.http.server.parsing.error-handler}). The message names the status only:
 * Pekko's detail may quote the offending header, which may be a credential.
 */
public final class ParsingErrors extends ParsingErrorHandler {
  @Override
  public HttpResponse handle(StatusCode status, ErrorInfo info, LoggingAdapter log, ServerSettings settings) {
    // Pekko answers an unknown method 501 and an unknown HTTP version 505: both are the client's request,
    // and a 5xx would read as the server failing (and count against it in every dashboard).
    if (status.intValue() == 501) {
      return ErrorMapper.response(DalangError.of(ErrorCode.METHOD_NOT_ALLOWED, "request rejected: unknown method"));
    }
    int answer = status.intValue() >= 500 ? 400 : status.intValue();
    return ErrorMapper.response(DalangError.of(ErrorCode.INVALID_REQUEST, "request rejected: " + status.reason())).withStatus(answer);
  }
}
