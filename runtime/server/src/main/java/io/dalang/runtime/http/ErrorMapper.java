package io.dalang.runtime.http;

import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorBody;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.error.Refusal;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place an error becomes an HTTP answer: the error code decides the status, the body is
 * OpenAI's error object, and no stack trace or internal detail ever reaches the client. Retriable
 * errors carry {@code Retry-After}.
 */
public final class ErrorMapper {
  private static final Logger log = LoggerFactory.getLogger(ErrorMapper.class);

  private ErrorMapper() {}

  public static HttpResponse response(DalangError e) {
    var r = HttpResponse.create()
        .withStatus(status(e.code().httpStatus()))
        .withEntity(ContentTypes.APPLICATION_JSON, Json.bytes(ErrorBody.of(e)));
    if (e.retryAfter() > 0) r = r.addHeader(RawHeader.create("Retry-After", Long.toString(e.retryAfter())));
    return r;
  }

  /** 499 (client closed the request) is nginx's, not in Pekko's registry. */
  static org.apache.pekko.http.javadsl.model.StatusCode status(int code) {
    if (code == 499) return CLIENT_CLOSED;
    return StatusCodes.get(code);
  }

  private static final org.apache.pekko.http.javadsl.model.StatusCode CLIENT_CLOSED =
      StatusCodes.custom(499, "Client Closed Request", "The client closed the request before the run ended.", false, true);

  /** Any throwable from an edge: typed errors as they are, anything else as a logged internal error. */
  public static DalangError toError(Throwable t) {
    Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    if (c instanceof DalangException d) return d.toError();
    // An entity's refusal (askWithStatus): its message is written for the caller ("tenant x already exists"),
    // its code in the message's prefix (Refusal); one without a code is a conflict.
    if (c instanceof org.apache.pekko.pattern.StatusReply.ErrorMessage m) return Refusal.parse(m.getMessage(), ErrorCode.CONFLICT);
    if (c instanceof TimeoutException || c.getClass().getSimpleName().contains("AskTimeout")) {
      return DalangError.of(ErrorCode.ENGINE_UNAVAILABLE, "the cluster did not answer in time; retry shortly");
    }
    log.error("internal error at the HTTP edge", c);
    return DalangError.of(ErrorCode.INTERNAL, "internal error; see the server log");
  }
}
