package io.dalang.runtime.determinism;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Where two generations first differ: the token, and the byte of the UTF-8 text. */
class StreamDiffTest {

  @Test
  void identicalStreamsHaveNoDivergence() {
    assertNull(StreamDiff.pieces("repeat 2 stream", List.of(" a", " b"), List.of(" a", " b")));
    assertNull(StreamDiff.text("repeat 1 non-stream", List.of(" a", " b"), " a b"));
  }

  @Test
  void aDifferentPieceIsNamedByItsTokenIndexAndTheFirstDifferentByteCountsUtf8Bytes() {
    // "ça" is 3 bytes: the texts differ at byte 3 + 2 (" x" vs " y" differ in their second byte).
    var d = StreamDiff.pieces("repeat 2 stream", List.of("ça", " x", " z"), List.of("ça", " y", " z"));
    assertEquals(1, d.tokenIndex());
    assertEquals(4, d.byteOffset());
    assertEquals(" x", d.expected());
    assertEquals(" y", d.actual());
    assertEquals("repeat 2 stream: stream differs at token 1, byte 4: expected \" x\", got \" y\"", d.describe());
  }

  @Test
  void aStreamThatStopsEarlyDivergesWhereItEnds() {
    var d = StreamDiff.pieces("repeat 2 stream", List.of(" a", " b"), List.of(" a"));
    assertEquals(1, d.tokenIndex());
    assertEquals(2, d.byteOffset());
    assertNull(d.actual());
  }

  @Test
  void theSameTextSplitIntoOtherPiecesIsADivergenceWithoutAByte() {
    var d = StreamDiff.pieces("repeat 2 stream", List.of(" ab", "c"), List.of(" a", "bc"));
    assertEquals(0, d.tokenIndex());
    assertEquals(-1, d.byteOffset());
  }

  @Test
  void aWholeTextIsPlacedInTheReferencePieces() {
    var d = StreamDiff.text("repeat 1 non-stream", List.of(" one", " two", " three"), " one two thre!");
    assertEquals(2, d.tokenIndex(), "byte 13 lies in the third piece");
    assertEquals(13, d.byteOffset());
    assertEquals("e", d.expected());
    assertEquals("!", d.actual());
  }
}
