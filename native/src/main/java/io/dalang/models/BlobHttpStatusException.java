package io.dalang.models;

import java.io.IOException;

/**
 * The server answered something other than the blob: a redirect (never followed, it could point
 * anywhere), an error, anything but 200 or 206. The message names the status code only; the body is
 * never read, so a server cannot put its words (or a reflected token) into Dalang's logs.
 */
public class BlobHttpStatusException extends IOException {
  private static final long serialVersionUID = 1L;

  private final int status;

  public BlobHttpStatusException(int status) {
    super("the server answered HTTP " + status);
    this.status = status;
  }

  public int status() {
    return status;
  }

  /** Whether trying again could help: a server error or a request to slow down, not a 4xx or a redirect. */
  public boolean retriable() {
    return status >= 500 || status == 408 || status == 429;
  }
}
