package io.dalang.runtime.models;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * {@code dalang.models}: the catalog's blob store on a control node.
 *
 * @param maxBytes {@code max-bytes}: the largest blob an import accepts
 * @param maxConcurrentImports {@code max-concurrent-imports}
 * @param keepImports {@code keep-imports}: finished imports kept to be read
 * @param advertiseUrl {@code advertise-url}: this node's HTTP edge as other nodes reach it; blank: derived
 * @param tokenTtl {@code token-ttl}: how long a node's pull token is good
 */
public record CatalogSettings(long maxBytes, int maxConcurrentImports, int keepImports, String advertiseUrl, Duration tokenTtl) {
  public static CatalogSettings from(Config c) {
    Config m = c.getConfig("dalang.models");
    return new CatalogSettings(m.getBytes("max-bytes"), m.getInt("max-concurrent-imports"), m.getInt("keep-imports"),
        m.getString("advertise-url"), m.getDuration("token-ttl"));
  }
}
