package io.dalang.actors.fallback;

import io.dalang.actors.secrets.SecretsClient;
import io.dalang.engine.Engine;
import io.dalang.engine.RemoteOpenAiEndpoint;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.GenerationRequest;
import io.dalang.protocols.redaction.KnownSecrets;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * What a run needs to move to its tenant's next fallback target: the rule that says when it may
 * ({@link #eligible}), the way to a remote endpoint (its key read from the tenant's secrets, audited,
 * and remembered by the log redaction so that it never shows in a log line), and the
 * {@code dalang_fallbacks_total{tenant,from,to,reason}} counter.
 */
public final class Fallbacks {
  /** Who reads fallback keys, as the secrets audit names it. */
  public static final String SECRET_ACTOR = "system:fallback";

  private final SecretsClient secrets;
  private final MeterRegistry metrics;
  private final Duration remoteTimeout;

  /**
   * @param secrets where remote targets' keys are read; null when this node has no secrets (remote
   *     targets with a key then fail over to the next target)
   * @param remoteTimeout how long a remote endpoint may take to answer with its response headers
   */
  public Fallbacks(SecretsClient secrets, MeterRegistry metrics, Duration remoteTimeout) {
    this.secrets = secrets;
    this.metrics = metrics;
    this.remoteTimeout = remoteTimeout;
  }

  /** No secrets, metrics kept to itself: for runs started where fallback is not wired (benchmarks, tests). */
  public static Fallbacks none() {
    return new Fallbacks(null, new SimpleMeterRegistry(), Duration.ofSeconds(30));
  }

  /**
   * Whether a run that failed with {@code code} may move to its next target: a retriable error only,
   * and not {@code quota_exceeded} (the tenant's quota holds on every target) nor {@code timeout} (the
   * run's own time or deadline is spent). Whether nothing reached the client yet is the run's to check.
   */
  public static boolean eligible(ErrorCode code) {
    return code.retriable() && code != ErrorCode.QUOTA_EXCEEDED && code != ErrorCode.TIMEOUT;
  }

  public void counted(String tenant, String from, String to, ErrorCode reason) {
    metrics.counter("dalang_fallbacks", "tenant", tenant, "from", from, "to", to, "reason", reason.code()).increment();
  }

  /**
   * Starts {@code request} on remote target {@code t} of {@code tenant}; its events go to {@code sink}.
   * Fails (with a typed {@code engine_unavailable}) only when the key cannot be read.
   */
  public CompletionStage<Engine.Generation> startRemote(String tenant, FallbackTarget t, GenerationRequest request,
      Consumer<GenerationEvent> sink) {
    CompletionStage<String> key;
    if (!t.hasKey()) {
      key = CompletableFuture.completedFuture("");
    } else if (secrets == null) {
      key = CompletableFuture.failedFuture(unavailable(t, "this node reads no tenant secrets").toException());
    } else {
      key = secrets.get(tenant, t.secretNamespace(), t.secretName(), 0, SECRET_ACTOR).handle((v, err) -> {
        if (err != null) throw unavailable(t, "its key (secret " + t.apiKeySecret() + ") cannot be read").toException();
        try {
          String k = v.asString();
          KnownSecrets.GLOBAL.remember(k);
          return k;
        } finally {
          v.destroy();
        }
      });
    }
    return key.thenApply(k -> RemoteOpenAiEndpoint.generate(t.name(), t.baseUrl(), t.model(), k, remoteTimeout, request, sink));
  }

  private static DalangError unavailable(FallbackTarget t, String why) {
    return DalangError.of(ErrorCode.ENGINE_UNAVAILABLE, "fallback endpoint " + t.name() + " cannot be used: " + why);
  }
}
