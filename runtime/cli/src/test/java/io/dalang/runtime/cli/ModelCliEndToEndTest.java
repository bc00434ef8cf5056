package io.dalang.runtime.cli;

import static io.dalang.runtime.testing.DalangCli.dalang;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.gguf.GgmlType;
import io.dalang.gguf.TinyModel;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import io.dalang.runtime.testing.ApiClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dalang model} and {@code dalang pool rollout} against a running node: add two versions, list and
 * show them, roll a pool from one to the other and wait for it, and removal refused while a pool serves a
 * version.
 */
class ModelCliEndToEndTest {
  @TempDir Path dir;

  @Test
  void addsListsRollsOutAndRemovesThroughTheCli() throws Exception {
    Path v1 = dir.resolve("v1.gguf");
    Path v2 = dir.resolve("v2.gguf");
    TinyModel.write(new TinyModel.Spec(31, 2, 64, 4, 4, 128, 4096, GgmlType.F32), v1);
    TinyModel.write(new TinyModel.Spec(32, 2, 64, 4, 4, 128, 4096, GgmlType.F16), v2);
    Path conf = Files.writeString(dir.resolve("node.conf"), """
        dalang.demo.embed-pool = ""
        dalang.demo.replicas = 0
        dalang.placement.reconcile-interval = 1 s
        """);
    try (var node = DalangNode.start(new ServeOptions(dir.resolve("d"), 0, 0, 0, conf, null, null), System.out)) {
      String url = "http://127.0.0.1:" + node.httpPort();
      String key = Files.readString(dir.resolve("d").resolve("admin.key")).strip();
      var added = dalang("model", "add", "tiny", "--from", v1.toString(), "--label", "team=search", "--url", url, "--key", key);
      assertEquals(0, added.code(), added.err());
      assertTrue(added.out().startsWith("added tiny@v1 (sha256 "), added.out());
      added = dalang("model", "add", "tiny", "--from", v2.toString(), "--parent", "F16 of tiny@v1", "--url", url, "--key", key);
      assertEquals(0, added.code(), added.err());
      var wrong = dalang("model", "add", "tiny", "--from", v1.toString(), "--sha256", "0".repeat(64), "--url", url, "--key", key);
      assertEquals(1, wrong.code());
      assertTrue(wrong.err().contains("the import failed: sha256 mismatch"), wrong.err());

      var list = dalang("model", "list", "--url", url, "--key", key);
      assertEquals(0, list.code(), list.err());
      assertTrue(list.out().contains("tiny") && list.out().contains(" v1 ") && list.out().contains(" v2 ") && list.out().contains("F16"), list.out());
      assertTrue(list.out().endsWith("1 model, 2 versions\n"), list.out());
      var show = dalang("model", "show", "tiny", "--url", url, "--key", key);
      assertTrue(show.out().contains("\"parent\" : \"F16 of tiny@v1\""), show.out());

      var admin = new ApiClient(node.httpPort(), key);
      assertEquals(201, admin.post("/admin/v1/pools", "{\"id\": \"cat\", \"model\": \"tiny@v1\", \"parallel\": 1, \"context_per_sequence\": 1024, "
          + "\"threads\": 1}").statusCode());
      var rolled = dalang("pool", "rollout", "start", "cat", "--model", "tiny@v2", "--min-runs", "0", "--wait", "--url", url, "--key", key);
      assertEquals(0, rolled.code(), rolled.out() + rolled.err());
      assertTrue(rolled.out().contains("tiny@v2  canary") && rolled.out().contains("tiny@v2  done"), rolled.out());
      var pools = dalang("pool", "list", "--url", url, "--key", key);
      assertTrue(pools.out().contains("tiny@v2") && pools.out().contains("1/1") && pools.out().contains("tiny@v2 done"), pools.out());
      var status = dalang("pool", "rollout", "status", "cat", "--url", url, "--key", key);
      assertTrue(status.out().contains("\"phase\" : \"done\""), status.out());
      var noRollout = dalang("pool", "rollout", "pause", "cat", "--url", url, "--key", key);
      assertEquals(1, noRollout.code());
      assertTrue(noRollout.err().contains("has no rollout under way"), noRollout.err());

      // An A/B split back to v1 for 30 % of the runs, then aborted.
      var split = dalang("pool", "split", "cat", "--to", "v1", "--percent", "30", "--url", url, "--key", key);
      assertEquals(0, split.code(), split.out() + split.err());
      assertTrue(split.out().startsWith("tiny@v1  split"), split.out());
      var aborted = dalang("pool", "rollout", "abort", "cat", "--url", url, "--key", key);
      assertEquals(0, aborted.code(), aborted.err());
      assertTrue(aborted.out().contains("rolling-back"), aborted.out());
      long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (!ApiClient.json(admin.get("/admin/v1/pools/cat/rollout").body()).path("phase").asText().equals("rolled-back")) {
        assertTrue(System.nanoTime() < end, "the aborted split rolled back");
        Thread.sleep(200);
      }

      var inUse = dalang("model", "rm", "tiny@v2", "--url", url, "--key", key);
      assertEquals(1, inUse.code());
      assertTrue(inUse.err().contains("served by pool(s) [cat]"), inUse.err());
      var removed = dalang("model", "rm", "tiny@v1", "--url", url, "--key", key);
      assertEquals(0, removed.code(), removed.err());
      assertEquals("removed tiny v1\n", removed.out());
      assertEquals(2, dalang("model", "rm", "no such", "--url", url, "--key", key).code(), "a usage error");
    }
  }
}
