package io.dalang.protocols.admin;

import io.dalang.protocols.auth.Role;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import java.util.List;
import java.util.regex.Pattern;

/** Field-level checks of admin definitions; each failure names its field in {@code param}. */
public final class AdminValidation {
  /** Ids of tenants, pools and keys: lower case letters, digits and dashes, 1 to 63, starting with a letter or digit. */
  public static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
  /** Model ids clients send: letters, digits and {@code . _ : / -}, 1 to 128, starting with a letter or digit. */
  public static final Pattern MODEL_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}");
  public static final long MAX_REQUESTS_PER_MINUTE = 10_000_000L;
  public static final long MAX_TOKENS_PER_DAY = 1_000_000_000_000L;
  public static final int MAX_JOBS = 1_000_000;
  public static final long MAX_JOB_BYTES = 1L << 40;

  private AdminValidation() {}

  public static String id(String field, String value) {
    required(field, value);
    if (!ID.matcher(value).matches()) {
      throw invalid(field, "'" + field + "' must be 1 to 63 lower-case letters, digits or dashes, starting with a letter or digit");
    }
    return value;
  }

  public static String modelId(String field, String value) {
    required(field, value);
    if (!MODEL_ID.matcher(value).matches()) {
      throw invalid(field, "'" + field + "' must be 1 to 128 letters, digits or . _ : / -, starting with a letter or digit");
    }
    return value;
  }

  /** {@code value}, or {@code dflt} when absent; within {@code [min, max]}. */
  public static int between(String field, Integer value, int dflt, int min, int max) {
    int v = value == null ? dflt : value;
    if (v < min || v > max) throw invalid(field, "'" + field + "' must be between " + min + " and " + max);
    return v;
  }

  public static String tenantId(String field, String value) {
    id(field, value);
    if (value.equals(Role.PLATFORM_TENANT)) throw invalid(field, "'" + field + "': '" + Role.PLATFORM_TENANT + "' is reserved for platform keys");
    return value;
  }

  public static String displayName(String field, String value) {
    required(field, value);
    if (value.isBlank() || value.length() > 200) throw invalid(field, "'" + field + "' must be 1 to 200 characters, not blank");
    return value.strip();
  }

  public static List<String> ids(String field, List<String> values) {
    if (values == null) return List.of();
    for (int i = 0; i < values.size(); i++) id(field + "[" + i + "]", values.get(i));
    if (values.stream().distinct().count() != values.size()) throw invalid(field, "'" + field + "' lists an id twice");
    return List.copyOf(values);
  }

  public static Role role(String field, String value, List<Role> allowed) {
    required(field, value);
    Role r = Role.parse(value).orElseThrow(() -> invalid(field, "'" + field + "' must be one of " + allowed.stream().map(Role::wireName).toList()));
    if (!allowed.contains(r)) throw invalid(field, "'" + field + "' must be one of " + allowed.stream().map(Role::wireName).toList());
    return r;
  }

  public static long range(String field, Long value, long max) {
    if (value == null) throw invalid(field, "'" + field + "' is required (0 means no limit)");
    if (value < 0 || value > max) throw invalid(field, "'" + field + "' must be between 0 and " + max);
    return value;
  }

  /** An optional limit: null stays null (the default holds), else as {@link #range}. */
  public static Long optionalRange(String field, Long value, long max) {
    return value == null ? null : range(field, value, max);
  }

  private static void required(String field, Object value) {
    if (value == null) throw invalid(field, "'" + field + "' is required");
  }

  public static DalangException invalid(String field, String message) {
    return new DalangException(ErrorCode.INVALID_REQUEST, message, field, 0);
  }
}
