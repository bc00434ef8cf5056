package io.dalang.protocols.node;

import io.dalang.protocols.CborSerializable;

/**
 * One compute device of a node, as its probe saw it: a CUDA GPU from nvidia-smi or a CPU device sized
 * from the machine's memory. {@code computeCapability} is empty for CPU devices.
 */
public record Device(
    String id,
    String kind,
    int index,
    String name,
    long memoryTotalMib,
    long memoryFreeMib,
    String computeCapability)
    implements CborSerializable {

  public static final String CPU = "cpu";
  public static final String CUDA = "cuda";
}
