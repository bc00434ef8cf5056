package io.dalang.runtime.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import io.dalang.runtime.testing.ApiClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One tenant's backlog of long jobs must not dead-letter another tenant's job by timeout: runners go to
 * the waiting tenants in turn, and an attempt's timeout counts from when it got a runner.
 */
class JobFairnessEndToEndTest {
  static final String KEY = "fair-" + Long.toHexString(System.nanoTime());
  static final String CHAT = """
      {"model": "dalang-demo", "messages": [{"role": "user", "content": "Tell me about %s"}], "max_tokens": %d, "temperature": 0}""";
  static final int HOG_JOBS = 10;

  @Test
  void anotherTenantsBacklogOfLongJobsDoesNotTimeOutATenantsJob(@TempDir Path data) throws Exception {
    Path conf = data.resolve("one-runner.conf");
    Files.createDirectories(data);
    // One runner and a short attempt timeout: each of the hog's jobs holds the runner until it is cut.
    Files.writeString(conf, "dalang.jobs { max-concurrent-attempts = 1, max-attempts = 1, attempt-timeout = 2 s }\n");
    try (var node = DalangNode.start(new ServeOptions(data, 0, null, 0, conf, null, KEY), System.out)) {
      String adminKey = Files.readString(data.resolve("admin.key")).strip();
      var admin = new ApiClient(node.httpPort(), adminKey);
      admin.withKey(KEY).awaitReady(Duration.ofSeconds(90));
      var hog = tenantUser(admin, "hog");
      var small = tenantUser(admin, "small");

      for (int i = 0; i < HOG_JOBS; i++) {
        var r = hog.post("/v1/jobs", CHAT.formatted("rivers " + i, 3500));
        assertEquals(202, r.statusCode(), r.body());
      }
      long submitted = System.nanoTime();
      var mine = small.post("/v1/jobs", CHAT.formatted("lakes", 4));
      assertEquals(202, mine.statusCode(), mine.body());
      JsonNode done = JobsEndToEndTest.awaitFinished(small, ApiClient.json(mine.body()).get("id").asText());
      assertEquals("succeeded", done.get("state").asText(), "not timed out behind the other tenant's backlog: " + done);
      long waitedMs = (System.nanoTime() - submitted) / 1_000_000;
      assertTrue(waitedMs < 8_000, "at most one of the hog's attempts ran before it: " + waitedMs + " ms");
    }
  }

  static ApiClient tenantUser(ApiClient admin, String tenant) throws Exception {
    var created = admin.post("/admin/v1/tenants", "{\"id\": \"" + tenant + "\", \"display_name\": \"T\", \"pools\": [\"demo\"]}");
    assertEquals(201, created.statusCode(), created.body());
    var key = admin.post("/admin/v1/tenants/" + tenant + "/keys", "{\"key_id\": \"app\", \"role\": \"tenant-user\"}");
    assertEquals(201, key.statusCode(), key.body());
    return admin.withKey(ApiClient.json(key.body()).get("key").asText());
  }
}
