package io.dalang.runtime.http;

import com.typesafe.config.Config;
import java.util.Locale;

/**
 * Who may read {@code GET /metrics} ({@code dalang.metrics.auth}): anyone who reaches the HTTP port
 * ({@code none}), or only a platform-admin or operator key ({@code operator}). The meters name tenants,
 * pools and models, so a node whose HTTP API is reachable beyond loopback should say {@code operator}.
 */
public enum MetricsAccess {
  NONE,
  OPERATOR;

  public static MetricsAccess from(Config c) {
    String v = c.getString("dalang.metrics.auth").strip().toUpperCase(Locale.ROOT);
    try {
      return valueOf(v);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("dalang.metrics.auth must be none or operator, not '" + c.getString("dalang.metrics.auth") + "'");
    }
  }
}
