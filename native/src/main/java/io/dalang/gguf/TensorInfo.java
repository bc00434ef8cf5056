package io.dalang.gguf;

/** One tensor's header entry: name, dimensions (row length first), type, offset in the data section. */
public record TensorInfo(String name, long[] dims, GgmlType type, long offset) {

  public long elements() {
    long n = 1;
    for (long d : dims) n *= d;
    return n;
  }

  public long bytes() {
    return type.bytesFor(elements());
  }
}
