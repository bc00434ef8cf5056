package io.dalang.runtime.serve;

import io.dalang.actors.tenant.TenantEntity;
import io.dalang.protocols.auth.Role;
import io.dalang.protocols.files.PrivateFiles;
import io.dalang.protocols.redaction.KnownSecrets;
import io.dalang.runtime.admin.KeyService;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first platform-admin credential. On a fresh data dir it creates the reserved {@code platform}
 * tenant and issues its key {@code bootstrap-admin}: {@code DALANG_ADMIN_KEY} if set, else a random
 * one, printed once and written to {@code <data-dir>/admin.key} (mode 0600). Later starts find it in
 * the journal and issue nothing. Use it to create tenants and other admins, then revoke it or keep the
 * file safe.
 */
final class AdminBootstrap {
  private static final Logger log = LoggerFactory.getLogger(AdminBootstrap.class);
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  static final String KEY_ID = "bootstrap-admin";

  private AdminBootstrap() {}

  /** @return whether a bootstrap key was issued now */
  static boolean ensure(ActorSystem<?> system, Path dataDir, String envKey, PrintStream out) throws Exception {
    var ref = ClusterSharding.get(system).entityRefFor(TenantEntity.ENTITY_KEY, Role.PLATFORM_TENANT);
    var t = await(ref.<TenantEntity.TenantView>ask(TenantEntity.GetTenant::new, TIMEOUT));
    if (!t.exists()) {
      t = await(ref.<TenantEntity.TenantView>askWithStatus(r -> new TenantEntity.CreateTenant("Platform", List.of(), r), TIMEOUT));
    }
    Path file = dataDir.resolve("admin.key");
    if (Files.isRegularFile(file)) KnownSecrets.GLOBAL.remember(Files.readString(file).strip());
    if (!t.keys().isEmpty()) {
      log.info("platform admin keys recovered from the journal; the bootstrap key is in {} (if not deleted)", file);
      return false;
    }
    String key = envKey != null && !envKey.isBlank() ? envKey.strip() : KeyService.newKey();
    KnownSecrets.GLOBAL.remember(key);
    await(new KeyService(system, TIMEOUT).issue(Role.PLATFORM_TENANT, KEY_ID, Role.PLATFORM_ADMIN, key));
    writePrivate(file, key);
    log.info("issued the bootstrap platform-admin key '{}'", KEY_ID);
    out.println("Platform admin key '" + KEY_ID + "' (shown once, also in " + file + "):");
    out.println("  " + key);
    return true;
  }

  /** Writes {@code key} to a new file readable by its owner only. */
  static void writePrivate(Path f, String key) throws IOException {
    PrivateFiles.replace(f, key + "\n");
  }

  private static <T> T await(java.util.concurrent.CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
  }
}
