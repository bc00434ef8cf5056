package io.dalang.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.testing.TestModels;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufReaderTest {

  @Test
  void readsTheMetadataAndTensorTableOfTheGeneratedModel() throws Exception {
    GgufFile f = GgufReader.read(TestModels.demoModel());
    assertEquals(3, f.version());
    assertEquals("llama", f.architecture());
    assertEquals(TinyModel.DEMO.contextLength(), f.contextLength());
    assertEquals(TinyModel.DEMO.width(), f.embeddingLength());
    assertEquals(TinyModel.DEMO.layers(), f.blockCount());
    assertEquals(TinyModel.DEMO.heads(), f.headCount());
    assertEquals(TinyModel.DEMO.kvHeads(), f.headCountKv());
    assertEquals(0, f.fileType());
    assertEquals("F32", f.fileTypeName());
    assertEquals(3 + 9 * TinyModel.DEMO.layers(), f.tensors().size());
    long vocab = f.vocabularySize();
    assertTrue(vocab > 259, "control + byte tokens + word pieces");
    var embd = f.tensors().stream().filter(t -> t.name().equals("token_embd.weight")).findFirst().orElseThrow();
    assertArrayEquals(new long[] {TinyModel.DEMO.width(), vocab}, embd.dims());
    assertEquals(4L * TinyModel.DEMO.width() * vocab, embd.bytes());
    assertTrue(f.dataOffset() % 32 == 0);
    assertEquals(Files.size(TestModels.demoModel()), f.dataOffset() + lastTensorEnd(f));
  }

  private static long lastTensorEnd(GgufFile f) {
    var last = f.tensors().get(f.tensors().size() - 1);
    return last.offset() + last.bytes();
  }

  @Test
  void theSameSpecWritesAByteIdenticalFile(@TempDir Path dir) throws Exception {
    Path a = dir.resolve("a.gguf");
    Path b = dir.resolve("b.gguf");
    TinyModel.write(TinyModel.DEMO, a);
    TinyModel.write(TinyModel.DEMO, b);
    assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
  }

  @Test
  void writesF16TensorsThatReadBackWithTheirSizes(@TempDir Path dir) throws Exception {
    var spec = new TinyModel.Spec(7, 1, 32, 2, 1, 64, 256, GgmlType.F16);
    Path p = dir.resolve("f16.gguf");
    TinyModel.write(spec, p);
    GgufFile f = GgufReader.read(p);
    assertEquals(1, f.fileType());
    var q = f.tensors().stream().filter(t -> t.name().equals("blk.0.attn_k.weight")).findFirst().orElseThrow();
    assertEquals(GgmlType.F16, q.type());
    assertEquals("F16", f.fileTypeName());
    assertArrayEquals(new long[] {32, 16}, q.dims(), "kv width = head_dim × kv_heads");
    assertEquals(2L * 32 * 16, q.bytes());
  }

  @Test
  void halfPrecisionConversionRoundsToNearest() {
    assertEquals((short) 0x3c00, GgufWriter.toHalf(1.0f));
    assertEquals((short) 0xc000, GgufWriter.toHalf(-2.0f));
    assertEquals((short) 0x0000, GgufWriter.toHalf(0f));
    assertEquals((short) 0x3555, GgufWriter.toHalf(1f / 3));
    assertEquals((short) 0x0001, GgufWriter.toHalf(5.96e-8f), "smallest subnormal");
  }

  @Test
  void rejectsAFileWithTheWrongMagic(@TempDir Path dir) throws Exception {
    Path p = dir.resolve("bad.gguf");
    Files.write(p, "NOTAGGUFFILE-with-enough-bytes-to-read".getBytes());
    var e = assertThrows(GgufFormatException.class, () -> GgufReader.read(p));
    assertTrue(e.getMessage().contains("bad magic"), e.getMessage());
  }

  @Test
  void rejectsATruncatedFile(@TempDir Path dir) throws Exception {
    byte[] whole = Files.readAllBytes(TestModels.demoModel());
    Path p = dir.resolve("truncated.gguf");
    Files.write(p, Arrays.copyOf(whole, whole.length / 2));
    var e = assertThrows(GgufFormatException.class, () -> GgufReader.read(p));
    assertTrue(e.getMessage().contains("past the end"), e.getMessage());
    Files.write(p, Arrays.copyOf(whole, 200));
    assertThrows(GgufFormatException.class, () -> GgufReader.read(p));
  }

  @Test
  void rejectsImpossibleCountsWithoutAllocatingThem(@TempDir Path dir) throws Exception {
    ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(GgufReader.MAGIC).putInt(3).putLong(1).putLong(Long.MAX_VALUE / 2);
    Path p = dir.resolve("huge.gguf");
    Files.write(p, b.array());
    var e = assertThrows(GgufFormatException.class, () -> GgufReader.read(p));
    assertTrue(e.getMessage().contains("metadata count"), e.getMessage());
  }

  @Test
  void rejectsAnUnsupportedVersion(@TempDir Path dir) throws Exception {
    ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(GgufReader.MAGIC).putInt(99).putLong(0).putLong(0);
    Path p = dir.resolve("v99.gguf");
    Files.write(p, b.array());
    var e = assertThrows(GgufFormatException.class, () -> GgufReader.read(p));
    assertTrue(e.getMessage().contains("version 99"), e.getMessage());
  }
}
