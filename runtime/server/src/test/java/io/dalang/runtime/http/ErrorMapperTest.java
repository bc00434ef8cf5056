package io.dalang.runtime.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorBody;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.error.Refusal;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionException;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.Test;

class ErrorMapperTest {

  private static Throwable refusal(String text) {
    return new CompletionException(StatusReply.error(text).getError());
  }

  @Test
  void anEntitysRefusalIsAnsweredWithItsCodeAndWithoutThePrefix() {
    var e = ErrorMapper.toError(refusal(Refusal.notFound("tenant acme does not exist")));
    assertEquals(DalangError.of(ErrorCode.NOT_FOUND, "tenant acme does not exist"), e);
    assertEquals(ErrorCode.INVALID_REQUEST, ErrorMapper.toError(refusal(Refusal.invalid("'parallel' must be 1 to 256"))).code());
    assertEquals(ErrorCode.CONFLICT, ErrorMapper.toError(refusal(Refusal.conflict("pool p already exists"))).code());
    String body = new String(Json.bytes(ErrorBody.of(e)), StandardCharsets.UTF_8);
    assertEquals("{\"error\":{\"type\":\"not_found_error\",\"code\":\"not_found\",\"message\":\"tenant acme does not exist\",\"param\":null}}", body);
    assertFalse(body.contains("[not_found]"));
    assertEquals(404, ErrorMapper.response(e).status().intValue());
  }

  @Test
  void aRefusalWithoutACodeIsStillAConflict() {
    assertEquals(DalangError.of(ErrorCode.CONFLICT, "key already issued"), ErrorMapper.toError(refusal("key already issued")));
  }
}
