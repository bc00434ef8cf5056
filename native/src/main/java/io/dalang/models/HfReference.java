package io.dalang.models;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * A Hugging Face–style model reference: {@code hf://ORG/REPO/PATH/TO/FILE.gguf} or
 * {@code hf://ORG/REPO@REVISION/FILE.gguf} (revision {@code main} when absent). It names a file, not a
 * URL, so it is checked strictly: an admin's typo should fail here with a clear message, not turn into a
 * request for some other path ({@code ..}, a query, a backslash) on the hub.
 */
public record HfReference(String org, String repo, String revision, String file) {
  private static final String PREFIX = "hf://";
  private static final String DEFAULT_REVISION = "main";
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,96}");
  private static final Pattern REVISION = Pattern.compile("[A-Za-z0-9._-]{1,128}");
  private static final Pattern FILE_SEGMENT = Pattern.compile("[A-Za-z0-9._+=,@~()-]{1,255}");

  public HfReference {
    org = checkName("org", org);
    repo = checkName("repo", repo);
    revision = revision == null ? DEFAULT_REVISION : revision;
    if (!REVISION.matcher(revision).matches() || isDots(revision)) {
      throw new IllegalArgumentException("an hf:// revision is [A-Za-z0-9._-]{1,128}, got '" + revision + "'");
    }
    if (file == null || file.isEmpty()) throw new IllegalArgumentException("an hf:// reference names a file after ORG/REPO");
    for (String segment : file.split("/", -1)) {
      if (segment.isEmpty()) throw new IllegalArgumentException("an hf:// file path has an empty segment: '" + file + "'");
      if (isDots(segment)) throw new IllegalArgumentException("an hf:// file path may not contain '.' or '..' segments");
      if (!FILE_SEGMENT.matcher(segment).matches()) {
        throw new IllegalArgumentException("an hf:// file path segment is [A-Za-z0-9._+=,@~()-]{1,255}, got '" + segment + "'");
      }
    }
  }

  public static boolean isHf(String s) {
    return s != null && s.startsWith(PREFIX);
  }

  /** Parses {@code hf://ORG/REPO[@REVISION]/FILE}; anything malformed is an {@link IllegalArgumentException} saying what. */
  public static HfReference parse(String s) {
    if (!isHf(s)) throw new IllegalArgumentException("an hf:// reference starts with hf://");
    String rest = s.substring(PREFIX.length());
    if (rest.indexOf('?') >= 0 || rest.indexOf('#') >= 0) throw new IllegalArgumentException("an hf:// reference has no query or fragment");
    if (rest.indexOf('\\') >= 0) throw new IllegalArgumentException("an hf:// reference uses '/', not backslashes");
    String[] parts = rest.split("/", 3);
    if (parts.length < 3) throw new IllegalArgumentException("an hf:// reference is hf://ORG/REPO[@REVISION]/FILE");
    String repo = parts[1];
    String revision = null;
    int at = repo.indexOf('@');
    if (at >= 0) {
      revision = repo.substring(at + 1);
      repo = repo.substring(0, at);
      if (revision.isEmpty()) throw new IllegalArgumentException("an hf:// reference has an empty revision after '@'");
    }
    return new HfReference(parts[0], repo, revision, parts[2]);
  }

  /** The file's download URL: {@code https://huggingface.co/ORG/REPO/resolve/REVISION/FILE}, each segment percent-encoded. */
  public URI resolve() {
    var path = new StringBuilder("https://huggingface.co/").append(encode(org)).append('/').append(encode(repo))
        .append("/resolve/").append(encode(revision));
    for (String segment : file.split("/")) path.append('/').append(encode(segment));
    return URI.create(path.toString());
  }

  @Override
  public String toString() {
    return PREFIX + org + "/" + repo + (revision.equals(DEFAULT_REVISION) ? "" : "@" + revision) + "/" + file;
  }

  private static String checkName(String what, String value) {
    if (value == null || value.isEmpty()) throw new IllegalArgumentException("an hf:// reference has an empty " + what);
    if (!NAME.matcher(value).matches() || isDots(value)) {
      throw new IllegalArgumentException("an hf:// " + what + " is [A-Za-z0-9._-]{1,96}, got '" + value + "'");
    }
    return value;
  }

  private static boolean isDots(String s) {
    return s.equals(".") || s.equals("..");
  }

  /** Percent-encodes everything but RFC 3986's unreserved characters, so no segment can change the URL's shape. */
  private static String encode(String segment) {
    var out = new StringBuilder();
    for (byte b : segment.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
        out.append((char) c);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16))).append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
      }
    }
    return out.toString();
  }
}
