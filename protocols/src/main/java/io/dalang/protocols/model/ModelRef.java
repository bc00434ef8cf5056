package io.dalang.protocols.model;

import java.util.regex.Pattern;

/**
 * A reference to a catalog model: {@code NAME} (its latest version) or {@code NAME@VERSION}.
 *
 * @param version the version asked for; null means the latest
 */
public record ModelRef(String name, String version) {
  /** A catalog name: what clients send as {@code model}, so the same characters as a pool's model id, without '@'. */
  public static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}");
  /** A version: {@code v1}, {@code v2}, ... as the catalog assigns them, or an operator's own tag. */
  public static final Pattern VERSION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  public ModelRef {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("a model name is 1 to 128 of A-Z a-z 0-9 . _ : / - and starts with a letter or digit");
    }
    if (version != null && !VERSION.matcher(version).matches()) {
      throw new IllegalArgumentException("a model version is 1 to 64 of A-Z a-z 0-9 . _ - and starts with a letter or digit");
    }
  }

  /** {@code NAME} or {@code NAME@VERSION}; IllegalArgumentException with a message for the user otherwise. */
  public static ModelRef parse(String text) {
    if (text == null || text.isBlank()) throw new IllegalArgumentException("a model reference is NAME or NAME@VERSION");
    int at = text.indexOf('@');
    if (at < 0) return new ModelRef(text, null);
    if (text.indexOf('@', at + 1) >= 0) throw new IllegalArgumentException("a model reference has at most one '@'");
    return new ModelRef(text.substring(0, at), text.substring(at + 1));
  }

  public boolean latest() {
    return version == null;
  }

  @Override
  public String toString() {
    return version == null ? name : name + "@" + version;
  }
}
