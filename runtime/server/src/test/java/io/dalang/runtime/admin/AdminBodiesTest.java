package io.dalang.runtime.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dalang.actors.fallback.FallbackTarget;
import io.dalang.actors.jobs.JobLimits;
import io.dalang.actors.tenant.TenantEntity;
import io.dalang.protocols.admin.AdminResponses;
import io.dalang.runtime.http.Json;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The admin bodies keep their wire form: field names, order, nulls written, optional parts left out. */
class AdminBodiesTest {
  static final Instant T = Instant.parse("2026-12-01T00:00:00Z");
  static final TenantEntity.Quotas QUOTAS = new TenantEntity.Quotas(60, 1000, 2, 8, new JobLimits(5L, null, null));
  static final TenantEntity.TenantView TENANT = new TenantEntity.TenantView(true, "acme", "Acme", List.of("p1"), T,
      List.of(new TenantEntity.KeyInfo("k1", "h", "tenant-admin", true, T, null)), QUOTAS, List.of(), List.of("backup"));

  static String json(Object o) {
    return new String(Json.bytes(o), StandardCharsets.UTF_8);
  }

  static final String QUOTAS_JSON = "{\"requests_per_minute\":60,\"tokens_per_day\":1000,\"concurrent_jobs\":2,\"queued_jobs\":8,"
      + "\"pending_jobs\":5,\"pending_job_bytes\":null,\"job_submissions_per_minute\":null";

  @Test
  void aTenantShowsItsKeysUnlessTheCallerIsATenantUser() {
    String head = "{\"id\":\"acme\",\"display_name\":\"Acme\",\"pools\":[\"p1\"],\"created_at\":\"2026-12-01T00:00:00Z\",";
    assertEquals(head + "\"keys\":[{\"key_id\":\"k1\",\"role\":\"tenant-admin\",\"active\":true,\"issued_at\":\"2026-12-01T00:00:00Z\","
        + "\"revoked_at\":null}],\"quotas\":" + QUOTAS_JSON + "},\"providers\":[\"backup\"]}", json(Tenants.body(TENANT, true)));
    assertEquals(head + "\"quotas\":" + QUOTAS_JSON + "},\"providers\":[\"backup\"]}", json(Tenants.body(TENANT, false)));
  }

  @Test
  void quotasShowTheirUsageOnlyWhenAskedFor() {
    assertEquals(QUOTAS_JSON + "}", json(Tenants.quotas(QUOTAS)));
    var usage = new AdminResponses.QuotaUsage(3, "2026-12-01T00:01:00Z", 40, "2026-12-02T00:00:00Z", 1);
    assertEquals(QUOTAS_JSON + ",\"usage\":{\"requests_this_minute\":3,\"minute_resets_at\":\"2026-12-01T00:01:00Z\",\"tokens_today\":40,"
        + "\"day_resets_at\":\"2026-12-02T00:00:00Z\",\"in_flight\":1}}", json(Tenants.quotas(QUOTAS).withUsage(usage)));
  }

  @Test
  void aFallbackTargetShowsItsPoolOrItsProviderAndModel() {
    assertEquals("{\"tenant\":\"acme\",\"targets\":[{\"target\":\"pool:p1\",\"pool\":\"p1\"},"
        + "{\"target\":\"remote:backup\",\"provider\":\"backup\",\"model\":\"gpt-x\"}]}",
        json(FallbackTargets.body("acme", List.of(FallbackTarget.pool("p1"), FallbackTarget.provider("backup", "gpt-x")))));
  }
}
