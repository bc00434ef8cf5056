package io.dalang.gguf;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes GGUF v3 files: typed metadata, then F32 or F16 tensors aligned to 32 bytes. Written to a
 * temporary file and renamed, so a reader never sees half a model.
 */
public final class GgufWriter {
  static final int ALIGNMENT = 32;

  private sealed interface Value {}

  private record U32(long v) implements Value {}

  private record F32(float v) implements Value {}

  private record Str(String v) implements Value {}

  private record StrArray(List<String> v) implements Value {}

  private record F32Array(float[] v) implements Value {}

  private record I32Array(int[] v) implements Value {}

  private record Entry(String key, Value value) {}

  private record Tensor(String name, long[] dims, GgmlType type, float[] data) {
    long bytes() {
      return type.bytesFor(data.length);
    }
  }

  private final List<Entry> entries = new ArrayList<>();
  private final List<Tensor> tensors = new ArrayList<>();

  public GgufWriter u32(String key, long v) {
    entries.add(new Entry(key, new U32(v)));
    return this;
  }

  public GgufWriter f32(String key, float v) {
    entries.add(new Entry(key, new F32(v)));
    return this;
  }

  public GgufWriter string(String key, String v) {
    entries.add(new Entry(key, new Str(v)));
    return this;
  }

  public GgufWriter strings(String key, List<String> v) {
    entries.add(new Entry(key, new StrArray(v)));
    return this;
  }

  public GgufWriter floats(String key, float[] v) {
    entries.add(new Entry(key, new F32Array(v)));
    return this;
  }

  public GgufWriter ints(String key, int[] v) {
    entries.add(new Entry(key, new I32Array(v)));
    return this;
  }

  /** Adds a tensor; {@code dims} row length first, as GGUF stores them. Only F32 and F16 are written. */
  public GgufWriter tensor(String name, GgmlType type, float[] data, long... dims) {
    if (type != GgmlType.F32 && type != GgmlType.F16) throw new IllegalArgumentException("only F32 and F16 tensors can be written");
    long n = 1;
    for (long d : dims) n *= d;
    if (n != data.length) throw new IllegalArgumentException(name + ": " + data.length + " values for dims of " + n);
    tensors.add(new Tensor(name, dims, type, data));
    return this;
  }

  public void write(Path target) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, target.getFileName().toString(), ".partial");
    try {
      try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
        var out = new CountingOut(os);
        out.i32(GgufReader.MAGIC);
        out.i32(3);
        out.i64(tensors.size());
        out.i64(entries.size());
        for (Entry e : entries) writeEntry(out, e);
        long offset = 0;
        for (Tensor t : tensors) {
          out.str(t.name());
          out.i32(t.dims().length);
          for (long d : t.dims()) out.i64(d);
          out.i32(t.type().id);
          out.i64(offset);
          offset = align(offset + t.bytes());
        }
        out.pad();
        for (Tensor t : tensors) {
          writeData(out, t);
          out.pad();
        }
      }
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static long align(long v) {
    return (v + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
  }

  private static void writeEntry(CountingOut out, Entry e) throws IOException {
    out.str(e.key());
    Value v = e.value();
    if (v instanceof U32 u) {
      out.i32(4);
      out.i32((int) u.v());
    } else if (v instanceof F32 f) {
      out.i32(6);
      out.i32(Float.floatToIntBits(f.v()));
    } else if (v instanceof Str s) {
      out.i32(8);
      out.str(s.v());
    } else if (v instanceof StrArray a) {
      out.i32(9);
      out.i32(8);
      out.i64(a.v().size());
      for (String s : a.v()) out.str(s);
    } else if (v instanceof F32Array a) {
      out.i32(9);
      out.i32(6);
      out.i64(a.v().length);
      for (float f : a.v()) out.i32(Float.floatToIntBits(f));
    } else if (v instanceof I32Array a) {
      out.i32(9);
      out.i32(5);
      out.i64(a.v().length);
      for (int i : a.v()) out.i32(i);
    }
  }

  private static void writeData(CountingOut out, Tensor t) throws IOException {
    int width = t.type() == GgmlType.F32 ? 4 : 2;
    ByteBuffer buf = ByteBuffer.allocate(t.data().length * width).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : t.data()) {
      if (width == 4) buf.putFloat(f);
      else buf.putShort(toHalf(f));
    }
    out.bytes(buf.array());
  }

  /** IEEE 754 binary16 from binary32, round to nearest even (Float.floatToFloat16 is Java 20+). */
  static short toHalf(float f) {
    int bits = Float.floatToIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int exp = ((bits >>> 23) & 0xff) - 127 + 15;
    int mant = bits & 0x7fffff;
    if (exp >= 31) return (short) (sign | 0x7c00); // overflow to infinity (inputs here are small)
    if (exp <= 0) {
      if (exp < -10) return (short) sign;
      mant |= 0x800000;
      int shift = 14 - exp;
      int half = mant >> shift;
      int rem = mant & ((1 << shift) - 1);
      int mid = 1 << (shift - 1);
      if (rem > mid || (rem == mid && (half & 1) == 1)) half++;
      return (short) (sign | half);
    }
    int half = sign | (exp << 10) | (mant >> 13);
    int rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1) == 1)) half++;
    return (short) half;
  }

  /** Little-endian output that knows its position, for alignment padding. */
  private static final class CountingOut {
    private final OutputStream os;
    private long pos;
    private final byte[] scratch = new byte[8];

    CountingOut(OutputStream os) {
      this.os = os;
    }

    void i32(int v) throws IOException {
      ByteBuffer.wrap(scratch).order(ByteOrder.LITTLE_ENDIAN).putInt(0, v);
      os.write(scratch, 0, 4);
      pos += 4;
    }

    void i64(long v) throws IOException {
      ByteBuffer.wrap(scratch).order(ByteOrder.LITTLE_ENDIAN).putLong(0, v);
      os.write(scratch, 0, 8);
      pos += 8;
    }

    void str(String s) throws IOException {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      i64(b.length);
      bytes(b);
    }

    void bytes(byte[] b) throws IOException {
      os.write(b);
      pos += b.length;
    }

    void pad() throws IOException {
      while (pos % ALIGNMENT != 0) {
        os.write(0);
        pos++;
      }
    }
  }
}
