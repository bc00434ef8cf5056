package io.dalang.models;

import java.io.IOException;

/** An incoming blob cannot fit under the store's quota even after evicting every unpinned blob; nothing was evicted. */
public class BlobStoreFullException extends IOException {
  private static final long serialVersionUID = 1L;

  private final long neededBytes;
  private final long freeableBytes;
  private final long quotaBytes;

  public BlobStoreFullException(long neededBytes, long freeableBytes, long quotaBytes) {
    super("the blob store needs " + neededBytes + " bytes freed but only " + freeableBytes
        + " bytes belong to unpinned blobs (quota " + quotaBytes + " bytes)");
    this.neededBytes = neededBytes;
    this.freeableBytes = freeableBytes;
    this.quotaBytes = quotaBytes;
  }

  public long neededBytes() {
    return neededBytes;
  }

  public long freeableBytes() {
    return freeableBytes;
  }

  public long quotaBytes() {
    return quotaBytes;
  }
}
