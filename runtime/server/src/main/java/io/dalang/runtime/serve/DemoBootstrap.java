package io.dalang.runtime.serve;

import com.typesafe.config.Config;
import io.dalang.actors.apikey.ApiKeyEntity;
import io.dalang.protocols.auth.Role;
import io.dalang.runtime.admin.KeyService;
import io.dalang.actors.executor.ExecutorEntity;
import io.dalang.actors.pool.PoolEntity;
import io.dalang.actors.pool.PoolSpec;
import io.dalang.actors.slot.SlotSpec;
import io.dalang.actors.tenant.TenantEntity;
import io.dalang.engine.Digests;
import io.dalang.engine.sim.SimProfile;
import io.dalang.gguf.TinyModel;
import io.dalang.protocols.files.PrivateFiles;
import io.dalang.protocols.generation.RunTask;
import io.dalang.protocols.redaction.KnownSecrets;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a fresh data dir useful at once: tenant {@code demo} with an API key, the tiny generated model,
 * and pool {@code demo} serving it as {@code dalang-demo} with {@code dalang.demo.replicas} replicas,
 * which the replica reconciler places on the cluster's gpu nodes (this one, by default); and pool
 * {@code demo-embed} serving the same file for embeddings as {@code dalang-demo-embed} (one replica), so
 * that {@code /v1/embeddings} answers too (its vectors are as random as the model's weights). Everything goes
 * through the same persistent entities an operator's changes would, so a second start recovers it from
 * the journal instead of creating it again. The key is printed once, on the start that created it.
 */
final class DemoBootstrap {
  private static final Logger log = LoggerFactory.getLogger(DemoBootstrap.class);
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final Path dataDir;
  private final String tenant;
  private final String pool;
  private final String modelId;
  private final Settings demo;
  private final String engine;
  private final PrintStream out;

  /**
   * {@code dalang.demo}.
   *
   * @param enabled {@code enabled}: whether a control node prepares the demo at start
   * @param tenant {@code tenant}: the demo tenant's id
   * @param pool {@code pool}: its pool
   * @param modelId {@code model-id}: the model id the pool serves
   * @param replicas {@code replicas}, {@code contextPerSequence} {@code context-per-sequence}, {@code parallel}, {@code threads}:
   *     the pool's spec when it is created
   * @param embedPool {@code embed-pool}: the embedding pool (task {@code embed}); blank: none
   * @param embedModelId {@code embed-model-id}: the model id it serves
   */
  record Settings(boolean enabled, String tenant, String pool, String modelId, int replicas, int contextPerSequence, int parallel,
      int threads, String embedPool, String embedModelId) {
    static Settings from(Config config) {
      Config d = config.getConfig("dalang.demo");
      return new Settings(d.getBoolean("enabled"), d.getString("tenant"), d.getString("pool"), d.getString("model-id"), d.getInt("replicas"),
          d.getInt("context-per-sequence"), d.getInt("parallel"), d.getInt("threads"), d.getString("embed-pool"), d.getString("embed-model-id"));
    }
  }

  DemoBootstrap(ActorSystem<?> system, Path dataDir, Settings demo, String engine, PrintStream out) {
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.dataDir = dataDir;
    this.demo = demo;
    this.tenant = demo.tenant();
    this.pool = demo.pool();
    this.modelId = demo.modelId();
    this.engine = engine;
    this.out = out;
  }

  /** Before the node agent starts: tenant, key, model file and pool spec, so the node runs the right engine at once. */
  String prepare(String demoKey) throws Exception {
    if (PoolSpec.UPSTREAM_ENGINE.equals(engine)) {
      throw new IllegalArgumentException("the demo pool cannot run engine " + engine + " (it needs a provider to front): choose llama-inprocess,"
          + " llama-server or simulated for dalang.engine.default, and create upstream pools under /admin/v1/pools (docs/engines.md)");
    }
    var t = await(sharding.entityRefFor(TenantEntity.ENTITY_KEY, tenant).<TenantEntity.TenantView>ask(TenantEntity.GetTenant::new, TIMEOUT));
    String key = demoKey;
    if (!t.exists()) {
      await(sharding.entityRefFor(TenantEntity.ENTITY_KEY, tenant)
          .<TenantEntity.TenantView>askWithStatus(r -> new TenantEntity.CreateTenant("Demo tenant", demoPools(), r), TIMEOUT));
      if (key == null) key = KeyService.newKey();
      issue(key);
      writeKeyFile(key);
      log.info("created tenant '{}' with pool '{}'", tenant, pool);
      out.println("Demo tenant '" + tenant + "' created. Its API key (shown once, also in " + keyFile() + "):");
      out.println("  " + key);
    } else {
      log.info("tenant '{}' recovered from the journal; its key is in {}", tenant, keyFile());
      if (key != null) {
        var view = await(sharding.entityRefFor(ApiKeyEntity.ENTITY_KEY, Digests.sha256(key)).<ApiKeyEntity.ApiKeyView>ask(ApiKeyEntity.ResolveKey::new, TIMEOUT));
        if (!view.active()) issue(key);
      }
    }
    // The demo key may have any shape (DALANG_DEMO_KEY): remembered, it is scrubbed from every log line.
    KnownSecrets.GLOBAL.remember(key);
    Path model = ensureModel();
    String digest = Digests.sha256Cached(model);
    var poolRef = sharding.entityRefFor(PoolEntity.ENTITY_KEY, pool);
    var view = await(poolRef.<PoolEntity.PoolView>ask(PoolEntity.GetPool::new, TIMEOUT));
    if (!view.exists()) {
      var spec = simulated()
          ? new PoolSpec(modelId, "", null, engine, demo.replicas(), demo.contextPerSequence(), SimProfile.DEFAULT.maxSequences(), 1, null, null,
              null, null, SimProfile.DEFAULT)
          : new PoolSpec(modelId, model.toAbsolutePath().toString(), digest, engine, demo.replicas(), demo.contextPerSequence(), demo.parallel(),
              demo.threads());
      await(poolRef.<PoolEntity.PoolView>askWithStatus(r -> new PoolEntity.CreatePool(spec, r), TIMEOUT));
      log.info("created pool '{}' serving model '{}' on engine {}", pool, modelId, engine);
    } else if (!view.spec().engine().equals(engine) && view.spec().loadsModelFile() != PoolSpec.loadsModelFile(engine)) {
      log.warn("pool '{}' runs engine {} and cannot move to {} (one has a model file, the other not); it keeps {}: start with another"
          + " --data-dir for a {} demo", pool, view.spec().engine(), engine, view.spec().engine(), engine);
    } else if (!view.spec().engine().equals(engine)) {
      view = await(poolRef.<PoolEntity.PoolView>askWithStatus(r -> new PoolEntity.SetEngine(engine, r), TIMEOUT));
      log.info("pool '{}' now uses engine {}", pool, engine);
      for (SlotSpec s : view.slotSpecs()) {
        await(sharding.entityRefFor(ExecutorEntity.ENTITY_KEY, s.nodeId()).<ExecutorEntity.ExecutorView>askWithStatus(r -> new ExecutorEntity.AssignSlot(s, r), TIMEOUT));
      }
    }
    ensureEmbedPool(model, digest, t.exists());
    return key;
  }

  /** Whether the demo runs on the simulated engine ({@code dalang serve --engine simulated}): pools without a model file. */
  private boolean simulated() {
    return PoolSpec.SIMULATED_ENGINE.equals(engine);
  }

  private List<String> demoPools() {
    return demo.embedPool().isBlank() ? List.of(pool) : List.of(pool, demo.embedPool());
  }

  /**
   * The embedding pool: the demo model's file, started for embeddings ({@code --embeddings}, last-token
   * pooling). A tenant made before the pool existed is granted it.
   */
  private void ensureEmbedPool(Path model, String digest, boolean tenantExisted) throws Exception {
    if (demo.embedPool().isBlank()) return;
    var ref = sharding.entityRefFor(PoolEntity.ENTITY_KEY, demo.embedPool());
    if (await(ref.<PoolEntity.PoolView>ask(PoolEntity.GetPool::new, TIMEOUT)).exists()) return;
    var spec = simulated()
        ? new PoolSpec(demo.embedModelId(), "", null, engine, 1, EMBED_CONTEXT, SimProfile.DEFAULT.maxSequences(), 1, null, RunTask.EMBED.wire(),
            null, null, SimProfile.DEFAULT)
        : new PoolSpec(demo.embedModelId(), model.toAbsolutePath().toString(), digest, engine, 1, EMBED_CONTEXT, demo.parallel(),
            demo.threads(), PoolSpec.OFFLOAD_PARTIAL, RunTask.EMBED.wire());
    await(ref.<PoolEntity.PoolView>askWithStatus(r -> new PoolEntity.CreatePool(spec, r), TIMEOUT));
    if (tenantExisted) {
      await(sharding.entityRefFor(TenantEntity.ENTITY_KEY, tenant)
          .<TenantEntity.TenantView>askWithStatus(r -> new TenantEntity.GrantPool(demo.embedPool(), r), TIMEOUT));
    }
    log.info("created pool '{}' serving model '{}' for embeddings on engine {}", demo.embedPool(), demo.embedModelId(), engine);
  }

  /** The demo model's own context: an input longer than this is refused anyway. */
  private static final int EMBED_CONTEXT = 512;

  /** The demo key administers its own tenant (it can issue the tenant's other keys). */
  private void issue(String key) throws Exception {
    var t = await(sharding.entityRefFor(TenantEntity.ENTITY_KEY, tenant).<TenantEntity.TenantView>ask(TenantEntity.GetTenant::new, TIMEOUT));
    await(new KeyService(system, TIMEOUT).issue(tenant, tenant + "-key-" + (t.keys().size() + 1), Role.TENANT_ADMIN, key));
  }

  private Path keyFile() {
    return dataDir.resolve(tenant + ".key");
  }

  private void writeKeyFile(String key) throws IOException {
    AdminBootstrap.writePrivate(keyFile(), key);
  }

  private Path ensureModel() throws IOException {
    Path model = dataDir.resolve("models").resolve(modelId + ".gguf");
    if (!Files.isRegularFile(model)) {
      PrivateFiles.createDirectories(model.getParent());
      TinyModel.write(TinyModel.DEMO, model);
      log.info("generated the demo model {} ({} KiB, seeded random weights)", model, Files.size(model) / 1024);
    }
    return model;
  }

  static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
  }
}
