package io.dalang.protocols.openai;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.GenerationOptions;
import io.dalang.protocols.generation.RunTask;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EmbeddingValidationTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final RequestLimits TIGHT = new RequestLimits(4, 1024, 16, 64, 64, 1 << 20, 128, 8, 128, 3, 2);

  static EmbeddingValidation.Embeddings embeddings(String body, RequestLimits limits) throws Exception {
    return EmbeddingValidation.embeddings(JSON.readValue(body, EmbeddingRequest.class), "run_1", limits);
  }

  static EmbeddingValidation.Rerank rerank(String body, RequestLimits limits) throws Exception {
    return EmbeddingValidation.rerank(JSON.readValue(body, RerankRequest.class), "run_1", limits);
  }

  static DalangException refusedEmbeddings(String body) {
    return assertThrows(DalangException.class, () -> embeddings(body, TIGHT));
  }

  @Test
  void aStringOrAnArrayOfStringsBecomesAnEmbeddingRunThatNeedsAnEmbeddingSlot() throws Exception {
    var one = embeddings("{\"model\": \"e\", \"input\": \"hello\"}", TIGHT);
    assertEquals(List.of("hello"), one.generation().embedding().texts());
    assertEquals(RunTask.EMBED, one.generation().task());
    assertEquals(Set.of(GenerationOptions.EMBEDDINGS), one.generation().extensions());
    assertEquals(false, one.base64());
    var many = embeddings("{\"model\": \"e\", \"input\": [\"a\", \"b\"], \"encoding_format\": \"base64\", \"dimensions\": 8}", TIGHT);
    assertEquals(List.of("a", "b"), many.generation().embedding().texts());
    assertEquals(8, many.generation().embedding().dimensions());
    assertTrue(many.base64());
    assertNull(many.generation().prompt());
  }

  @Test
  void refusesMissingEmptyTokenAndOverCapInputsByName() {
    assertEquals("input", refusedEmbeddings("{\"model\": \"e\"}").toError().param());
    assertEquals("input", refusedEmbeddings("{\"model\": \"e\", \"input\": []}").toError().param());
    assertEquals("input", refusedEmbeddings("{\"model\": \"e\", \"input\": [\"a\", \"\"]}").toError().param());
    var tokens = refusedEmbeddings("{\"model\": \"e\", \"input\": [1, 2, 3]}");
    assertEquals(ErrorCode.UNSUPPORTED_PARAMETER, tokens.toError().code());
    var tooMany = refusedEmbeddings("{\"model\": \"e\", \"input\": [\"a\", \"b\", \"c\", \"d\"]}");
    assertEquals(ErrorCode.INVALID_REQUEST, tooMany.toError().code());
    assertTrue(tooMany.getMessage().contains("embedding-inputs"), tooMany.getMessage());
    var tooLong = refusedEmbeddings("{\"model\": \"e\", \"input\": [\"" + "x".repeat(40) + "\", \"" + "y".repeat(40) + "\"]}");
    assertTrue(tooLong.getMessage().contains("64 bytes"), tooLong.getMessage());
    assertEquals("encoding_format", refusedEmbeddings("{\"model\": \"e\", \"input\": \"a\", \"encoding_format\": \"int8\"}").toError().param());
    assertEquals("dimensions", refusedEmbeddings("{\"model\": \"e\", \"input\": \"a\", \"dimensions\": 0}").toError().param());
    assertEquals("model", refusedEmbeddings("{\"input\": \"a\"}").toError().param());
  }

  @Test
  void rerankTakesAQueryAndDocumentsAndCapsTopN() throws Exception {
    var v = rerank("{\"model\": \"r\", \"query\": \"q\", \"documents\": [\"a\", \"b\"], \"top_n\": 5, \"return_documents\": true}", TIGHT);
    assertEquals("q", v.generation().embedding().query());
    assertEquals(RunTask.RERANK, v.generation().task());
    assertEquals(Set.of(GenerationOptions.RERANK), v.generation().extensions());
    assertEquals(2, v.topN(), "top_n is at most the documents");
    assertTrue(v.returnDocuments());
    assertEquals("query", assertThrows(DalangException.class, () -> rerank("{\"model\": \"r\", \"documents\": [\"a\"]}", TIGHT)).toError().param());
    assertEquals("documents", assertThrows(DalangException.class,
        () -> rerank("{\"model\": \"r\", \"query\": \"q\", \"documents\": [\"a\", \"b\", \"c\"]}", TIGHT)).toError().param());
    assertEquals("top_n", assertThrows(DalangException.class,
        () -> rerank("{\"model\": \"r\", \"query\": \"q\", \"documents\": [\"a\"], \"top_n\": 0}", TIGHT)).toError().param());
  }

  @Test
  void base64IsTheLittleEndianFloat32BytesOpenAiSends() {
    float[] v = {0.5f, -1.25f, 3e-7f};
    var r = EmbeddingResponse.of("e", List.of(v), true, 3);
    var b = ByteBuffer.wrap(Base64.getDecoder().decode((String) r.data().get(0).embedding())).order(ByteOrder.LITTLE_ENDIAN);
    float[] back = new float[3];
    for (int i = 0; i < 3; i++) back[i] = b.getFloat();
    assertArrayEquals(v, back);
    assertEquals(3, r.usage().totalTokens());
  }

  @Test
  void rerankResultsAreRankedAndCutToTopN() {
    var r = RerankResponse.of("r", List.of("a", "b", "c"), List.of(0.1, 0.9, 0.5), 2, false, 7);
    assertEquals(List.of(1, 2), r.results().stream().map(RerankResponse.Result::index).toList());
    assertNull(r.results().get(0).document());
  }
}
