package io.dalang.gguf;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the header of a GGUF file (versions 2 and 3): metadata and the tensor table. Every length and
 * count is checked against the file size before anything is allocated, so a malformed or truncated
 * file fails with a {@link GgufFormatException} naming the problem instead of an out-of-memory error.
 */
public final class GgufReader {
  static final int MAGIC = 0x46554747; // "GGUF" little-endian
  private static final int MAX_DIMS = 4;

  private final DataInputStream in;
  private final long fileSize;
  private long pos;

  private GgufReader(InputStream in, long fileSize) {
    this.in = new DataInputStream(new BufferedInputStream(in, 1 << 16));
    this.fileSize = fileSize;
  }

  public static GgufFile read(Path file) throws IOException {
    long size = Files.size(file);
    try (InputStream is = Files.newInputStream(file)) {
      return new GgufReader(is, size).readHeader(file.getFileName().toString());
    } catch (EOFException e) {
      throw new GgufFormatException(file.getFileName() + ": truncated GGUF header");
    }
  }

  private GgufFile readHeader(String name) throws IOException {
    if (fileSize < 24) throw new GgufFormatException(name + ": too small to be a GGUF file (" + fileSize + " bytes)");
    int magic = i32();
    if (magic != MAGIC) throw new GgufFormatException(name + ": not a GGUF file (bad magic)");
    int version = i32();
    if (version != 2 && version != 3) throw new GgufFormatException(name + ": unsupported GGUF version " + version);
    long tensorCount = i64();
    long kvCount = i64();
    // Each key-value pair takes at least 13 bytes, each tensor entry at least 28: reject absurd counts.
    if (kvCount < 0 || kvCount > fileSize / 13) throw new GgufFormatException(name + ": metadata count " + kvCount + " is impossible for the file size");
    if (tensorCount < 0 || tensorCount > fileSize / 28) throw new GgufFormatException(name + ": tensor count " + tensorCount + " is impossible for the file size");

    Map<String, Object> meta = new LinkedHashMap<>();
    for (long i = 0; i < kvCount; i++) {
      String key = string();
      int type = i32();
      meta.put(key, value(type, key));
    }
    List<TensorInfo> tensors = new ArrayList<>((int) tensorCount);
    for (long i = 0; i < tensorCount; i++) {
      String tname = string();
      int nDims = i32();
      if (nDims < 1 || nDims > MAX_DIMS) throw new GgufFormatException(name + ": tensor " + tname + " has " + nDims + " dimensions");
      long[] dims = new long[nDims];
      for (int d = 0; d < nDims; d++) {
        dims[d] = i64();
        if (dims[d] <= 0) throw new GgufFormatException(name + ": tensor " + tname + " has dimension " + dims[d]);
      }
      int typeId = i32();
      GgmlType type = GgmlType.byId(typeId)
          .orElseThrow(() -> new GgufFormatException(name + ": tensor " + tname + " has unknown type " + typeId));
      tensors.add(new TensorInfo(tname, dims, type, i64()));
    }
    long alignment = meta.get("general.alignment") instanceof Number n ? n.longValue() : 32;
    if (alignment <= 0 || (alignment & (alignment - 1)) != 0) throw new GgufFormatException(name + ": alignment " + alignment + " is not a power of two");
    long dataOffset = (pos + alignment - 1) / alignment * alignment;
    for (TensorInfo t : tensors) {
      if (dataOffset + t.offset() + t.bytes() > fileSize) {
        throw new GgufFormatException(name + ": tensor " + t.name() + " extends past the end of the file");
      }
    }
    return new GgufFile(version, Collections.unmodifiableMap(meta), List.copyOf(tensors), dataOffset);
  }

  private Object value(int type, String key) throws IOException {
    return switch (type) {
      case 0 -> (long) u8();
      case 1 -> (long) (byte) u8();
      case 2 -> (long) Short.toUnsignedInt(i16());
      case 3 -> (long) i16();
      case 4 -> Integer.toUnsignedLong(i32());
      case 5 -> (long) i32();
      case 6 -> Float.intBitsToFloat(i32());
      case 7 -> u8() != 0;
      case 8 -> string();
      case 9 -> array(key);
      case 10, 11 -> i64();
      case 12 -> Double.longBitsToDouble(i64());
      default -> throw new GgufFormatException("metadata " + key + " has unknown value type " + type);
    };
  }

  private List<Object> array(String key) throws IOException {
    int elemType = i32();
    long n = i64();
    if (n < 0 || n > fileSize - pos) throw new GgufFormatException("metadata " + key + ": array length " + n + " is impossible for the file size");
    List<Object> out = new ArrayList<>((int) Math.min(n, 1 << 20));
    for (long i = 0; i < n; i++) out.add(value(elemType, key));
    return out;
  }

  private String string() throws IOException {
    long len = i64();
    if (len < 0 || len > fileSize - pos) throw new GgufFormatException("string length " + len + " at offset " + pos + " runs past the end of the file");
    byte[] b = new byte[(int) len];
    in.readFully(b);
    pos += len;
    return new String(b, StandardCharsets.UTF_8);
  }

  private int u8() throws IOException {
    pos += 1;
    return in.readUnsignedByte();
  }

  private short i16() throws IOException {
    pos += 2;
    return Short.reverseBytes(in.readShort());
  }

  private int i32() throws IOException {
    pos += 4;
    return Integer.reverseBytes(in.readInt());
  }

  private long i64() throws IOException {
    pos += 8;
    return Long.reverseBytes(in.readLong());
  }
}
