package io.dalang.actors.fallback;

import io.dalang.actors.provider.ProviderAccess;
import io.dalang.actors.provider.ProviderEntity;
import io.dalang.actors.secrets.SecretsClient;
import io.dalang.engine.Engine;
import io.dalang.engine.RemoteOpenAiEndpoint;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.GenerationRequest;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * What a run needs to move to its tenant's next fallback target: the rule that says when it may
 * ({@link #eligible}), the way to a provider (its key read from the platform's secrets, audited, and
 * remembered by the log redaction so that it never shows in a log line), and the
 * {@code dalang_fallbacks_total{tenant,from,to,reason}} counter.
 */
public final class Fallbacks {
  /** Who reads fallback keys, as the secrets audit names it. */
  public static final String SECRET_ACTOR = "system:fallback";

  private final ProviderAccess access;
  private final MeterRegistry metrics;
  private final Duration remoteTimeout;

  /**
   * @param secrets where providers' keys are read; null when this node has no secrets (provider targets
   *     with a key then fail over to the next target)
   * @param providers a provider by name ({@link ProviderEntity#lookup})
   * @param remoteTimeout how long a provider may be silent: before its answer, and within it
   */
  public Fallbacks(SecretsClient secrets, Function<String, CompletionStage<ProviderEntity.ProviderView>> providers, MeterRegistry metrics,
      Duration remoteTimeout) {
    this.access = new ProviderAccess(secrets, providers);
    this.metrics = metrics;
    this.remoteTimeout = remoteTimeout;
  }

  /** No secrets, metrics kept to itself: for runs started where fallback is not wired (benchmarks, tests). */
  public static Fallbacks none() {
    return new Fallbacks(null, name -> CompletableFuture.completedFuture(ProviderEntity.ProviderView.absent(name)), new SimpleMeterRegistry(),
        Duration.ofSeconds(30));
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
   * Starts {@code request} on provider target {@code t}; its events go to {@code sink}. Fails (with a
   * typed {@code engine_unavailable}) when the provider is gone, no longer serves the model, its key is
   * not bound to its current origin, or the key cannot be read. The key is the platform's secret
   * {@code platform:providers/<name>} at the version the provider pins, and goes to the provider's origin only.
   */
  public CompletionStage<Engine.Generation> startRemote(String tenant, FallbackTarget t, GenerationRequest request,
      Consumer<GenerationEvent> sink) {
    if (t.isLegacyUrl()) return CompletableFuture.failedFuture(unavailable(t, "URL targets are no longer used; name a provider").toException());
    return access.connect(t.name(), t.model(), "fallback endpoint " + t.name(), SECRET_ACTOR)
        .thenApply(c -> RemoteOpenAiEndpoint.generate(t.name(), c.baseUrl(), t.model(), c.apiKey(), c.allowPrivate(), remoteTimeout, request, sink));
  }

  private static DalangError unavailable(FallbackTarget t, String why) {
    return DalangError.of(ErrorCode.ENGINE_UNAVAILABLE, "fallback endpoint " + t.name() + " cannot be used: " + why);
  }
}
