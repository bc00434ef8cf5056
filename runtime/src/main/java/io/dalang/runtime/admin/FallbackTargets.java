package io.dalang.runtime.admin;

import io.dalang.actors.fallback.FallbackTarget;
import io.dalang.actors.secrets.SecretNames;
import io.dalang.protocols.admin.AdminRequests;
import io.dalang.protocols.admin.AdminValidation;
import io.dalang.protocols.error.DalangError;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The wire form of a tenant's fallback list ({@code PUT/GET /admin/v1/tenants/{id}/fallbacks}): strict
 * validation of what comes in, and the body that goes out (secret references, never values).
 */
final class FallbackTargets {
  /** Targets a tenant may list: the chain's length bounds how long a failing run keeps trying. */
  static final int MAX_TARGETS = 8;

  private FallbackTargets() {}

  static List<FallbackTarget> parse(AdminRequests.SetFallbacks req) {
    if (req.targets() == null) throw AdminValidation.invalid("targets", "'targets' is required (an empty list removes every fallback)");
    if (req.targets().size() > MAX_TARGETS) throw AdminValidation.invalid("targets", "'targets' may list at most " + MAX_TARGETS + " targets");
    var out = new ArrayList<FallbackTarget>();
    for (int i = 0; i < req.targets().size(); i++) {
      var t = req.targets().get(i);
      String f = "targets[" + i + "]";
      if (t == null) throw AdminValidation.invalid(f, "'" + f + "' must be an object");
      out.add(t.pool() != null ? pool(f, t) : remote(f, t));
    }
    if (out.stream().map(FallbackTarget::label).distinct().count() != out.size()) {
      throw AdminValidation.invalid("targets", "'targets' lists a target twice");
    }
    return List.copyOf(out);
  }

  private static FallbackTarget pool(String f, AdminRequests.FallbackTarget t) {
    if (t.baseUrl() != null || t.model() != null || t.apiKeySecret() != null || t.name() != null) {
      throw AdminValidation.invalid(f, "'" + f + "': a pool target has only 'pool'");
    }
    return FallbackTarget.pool(AdminValidation.id(f + ".pool", t.pool()));
  }

  private static FallbackTarget remote(String f, AdminRequests.FallbackTarget t) {
    String name = AdminValidation.id(f + ".name", t.name());
    if (t.baseUrl() == null) throw AdminValidation.invalid(f, "'" + f + "' needs 'pool', or 'name', 'base_url' and 'model'");
    URI uri;
    try {
      uri = new URI(t.baseUrl());
    } catch (java.net.URISyntaxException e) {
      throw AdminValidation.invalid(f + ".base_url", "'" + f + ".base_url' is not a URL");
    }
    if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
      throw AdminValidation.invalid(f + ".base_url", "'" + f + ".base_url' must be an http or https URL with a host");
    }
    // A key in the URL would end up where URLs go (logs, this API's answers): keys go in secrets.
    if (uri.getRawUserInfo() != null || uri.getRawQuery() != null) {
      throw AdminValidation.invalid(f + ".base_url", "'" + f + ".base_url' must not carry credentials or a query; put the key in a secret");
    }
    if (t.model() == null || t.model().isBlank() || t.model().length() > 200) {
      throw AdminValidation.invalid(f + ".model", "'" + f + ".model' must be 1 to 200 characters");
    }
    String secret = t.apiKeySecret();
    if (secret != null) {
      int slash = secret.indexOf('/');
      DalangError bad = slash < 0 ? null : SecretNames.check(secret.substring(0, slash), secret.substring(slash + 1));
      if (slash < 0 || bad != null) {
        throw AdminValidation.invalid(f + ".api_key_secret", "'" + f + ".api_key_secret' must be 'namespace/name' of a tenant secret"
            + (bad != null ? ": " + bad.message() : ""));
      }
    }
    return FallbackTarget.remote(name, t.baseUrl(), t.model(), secret);
  }

  static Map<String, Object> body(String tenant, List<FallbackTarget> targets) {
    var list = new ArrayList<Map<String, Object>>();
    for (FallbackTarget t : targets) {
      var m = new LinkedHashMap<String, Object>();
      m.put("target", t.label());
      if (t.isPool()) {
        m.put("pool", t.pool());
      } else {
        m.put("name", t.name());
        m.put("base_url", t.baseUrl());
        m.put("model", t.model());
        m.put("api_key_secret", t.apiKeySecret());
      }
      list.add(m);
    }
    var out = new LinkedHashMap<String, Object>();
    out.put("tenant", tenant);
    out.put("targets", list);
    return out;
  }
}
