package io.dalang.protocols.error;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class RefusalTest {

  @Test
  void aRefusalsTextCarriesItsCodeAndGivesBackTheMessage() {
    var e = Refusal.parse(Refusal.notFound("tenant acme does not exist"), ErrorCode.CONFLICT);
    assertEquals(ErrorCode.NOT_FOUND, e.code());
    assertEquals("tenant acme does not exist", e.message());
    assertEquals(ErrorCode.CONFLICT, Refusal.parse(Refusal.conflict("x"), ErrorCode.INTERNAL).code());
    assertEquals(ErrorCode.INVALID_REQUEST, Refusal.parse(Refusal.invalid("x"), ErrorCode.INTERNAL).code());
    assertEquals(ErrorCode.IDEMPOTENCY_CONFLICT, Refusal.parse(Refusal.text(ErrorCode.IDEMPOTENCY_CONFLICT, "x"), ErrorCode.INTERNAL).code());
  }

  @Test
  void textWithoutAKnownCodeIsTheDefaultWithTheWholeText() {
    assertEquals(DalangError.of(ErrorCode.CONFLICT, "key already issued"), Refusal.parse("key already issued", ErrorCode.CONFLICT));
    assertEquals(DalangError.of(ErrorCode.CONFLICT, "[no_such_code] x"), Refusal.parse("[no_such_code] x", ErrorCode.CONFLICT));
    assertEquals(DalangError.of(ErrorCode.CONFLICT, ""), Refusal.parse(null, ErrorCode.CONFLICT));
  }
}
