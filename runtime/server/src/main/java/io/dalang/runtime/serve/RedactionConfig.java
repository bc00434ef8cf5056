package io.dalang.runtime.serve;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.dalang.protocols.redaction.RedactionSettings;
import io.dalang.protocols.redaction.RedactionSettings.CustomPattern;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;

/**
 * Reads {@code dalang.redaction} into {@link RedactionSettings}. Lives here because {@code protocols},
 * where the redactor is, has no HOCON; the settings are installed with
 * {@link io.dalang.protocols.redaction.Redaction#install} before the actor system logs its first line.
 */
final class RedactionConfig {
  private RedactionConfig() {}

  static RedactionSettings read(Config config) {
    Config r = config.getConfig("dalang.redaction");
    var tenants = new HashMap<String, RedactionSettings.TenantOverride>();
    Config t = r.getConfig("tenants");
    for (String tenant : t.root().keySet()) {
      Config o = t.getConfig(ConfigUtil.joinPath(tenant));
      tenants.put(tenant, new RedactionSettings.TenantOverride(o.hasPath("enabled") ? o.getBoolean("enabled") : null,
          o.hasPath("patterns") ? patterns(o, "dalang.redaction.tenants." + tenant + ".patterns") : List.of()));
    }
    return new RedactionSettings(r.getBoolean("enabled"), patterns(r, "dalang.redaction.patterns"), tenants);
  }

  private static List<CustomPattern> patterns(Config c, String where) {
    var out = new ArrayList<CustomPattern>();
    List<? extends ConfigValue> list = c.getList("patterns");
    for (int i = 0; i < list.size(); i++) {
      ConfigValue v = list.get(i);
      String name = where + "[" + i + "]";
      if (v.valueType() == ConfigValueType.STRING) {
        out.add(new CustomPattern(name, (String) v.unwrapped(), null));
      } else if (v.valueType() == ConfigValueType.OBJECT) {
        Config p = ((ConfigObject) v).toConfig();
        out.add(new CustomPattern(p.hasPath("name") ? p.getString("name") : name, p.getString("regex"),
            p.hasPath("replacement") ? p.getString("replacement") : null));
      } else {
        throw new ConfigException.WrongType(v.origin(), name, "string or object", v.valueType().name());
      }
    }
    return out;
  }
}
