package io.dalang.protocols.node;

import io.dalang.protocols.CborSerializable;

/**
 * One compute device of a node, as its probe saw it: a CUDA GPU from nvidia-smi, a Vulkan device from
 * vulkaninfo, or a CPU device sized from the machine's memory. {@code kind} is the backend that drives
 * it ({@code cpu}, {@code cuda}, {@code vulkan}, {@code rocm}); {@code index} its place among that
 * backend's devices on the machine. {@code computeCapability} is empty but for CUDA devices.
 *
 * @param software a device emulated on the CPU (Mesa's lavapipe): a real GPU API, not a GPU. Nodes
 *     register one only when the operator opts in (tests, demos, {@code --backend vulkan})
 * @param memoryMeasured whether {@code memoryFreeMib} is a live reading that already counts what loaded
 *     engines took (nvidia-smi, a Vulkan memory budget); otherwise it is the device's size or a
 *     configured figure, and placement subtracts every slot it put there itself
 */
public record Device(
    String id,
    String kind,
    int index,
    String name,
    long memoryTotalMib,
    long memoryFreeMib,
    String computeCapability,
    boolean software,
    boolean memoryMeasured)
    implements CborSerializable {

  public static final String CPU = "cpu";
  public static final String CUDA = "cuda";
  public static final String VULKAN = "vulkan";
  public static final String ROCM = "rocm";

  public Device(String id, String kind, int index, String name, long memoryTotalMib, long memoryFreeMib, String computeCapability) {
    this(id, kind, index, name, memoryTotalMib, memoryFreeMib, computeCapability, false, false);
  }

  public boolean gpu() {
    return !CPU.equals(kind);
  }

  /** The same device with a new free-memory reading. */
  public Device withFreeMib(long freeMib) {
    return new Device(id, kind, index, name, memoryTotalMib, freeMib, computeCapability, software, memoryMeasured);
  }
}
