package io.dalang.actors.provider;

import io.dalang.actors.secrets.SecretsClient;
import io.dalang.protocols.auth.Role;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.redaction.KnownSecrets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * The one way to a provider's connection: its spec looked up by name, checked to serve the model and to
 * still point where its key was given, and its key read from the platform's secrets
 * ({@code platform:providers/<name>} at the version the provider pins; the read is audited under the
 * caller's name) and remembered by the log redaction so that no log line shows it. Tenants' fallbacks
 * and the engines of {@code openai-upstream} pools both go through here.
 */
public final class ProviderAccess {
  /**
   * A provider, ready to be called.
   *
   * @param apiKey its bearer key; empty for a provider without one
   */
  public record Connection(String name, String baseUrl, String apiKey, boolean allowPrivate) {
    @Override
    public String toString() {
      return "Connection[" + name + ", " + baseUrl + "]"; // never the key
    }
  }

  private final SecretsClient secrets;
  private final Function<String, CompletionStage<ProviderEntity.ProviderView>> providers;

  /**
   * @param secrets where providers' keys are read; null on a node without the platform's master key (a
   *     provider with a key then cannot be used from it)
   * @param providers a provider by name ({@link ProviderEntity#lookup})
   */
  public ProviderAccess(SecretsClient secrets, Function<String, CompletionStage<ProviderEntity.ProviderView>> providers) {
    this.secrets = secrets;
    this.providers = providers;
  }

  /**
   * The connection to provider {@code name} for {@code model}. Fails with a typed
   * {@code engine_unavailable} naming {@code label} (how the caller names the provider, e.g.
   * {@code fallback endpoint p1}) when the provider is gone, does not serve the model, its key is not
   * bound to its current origin, or the key cannot be read.
   *
   * @param reader who reads the key, as the secrets audit names it
   */
  public CompletionStage<Connection> connect(String name, String model, String label, String reader) {
    return providers.apply(name).thenCompose(p -> {
      if (!p.exists()) throw unavailable(label, "there is no such provider");
      var spec = p.spec();
      if (!spec.models().contains(model)) throw unavailable(label, "it does not serve model " + model);
      if (!spec.keyBoundHere()) throw unavailable(label, "its key was given for another host");
      return key(name, spec, label, reader).thenApply(k -> new Connection(name, spec.baseUrl(), k, spec.allowPrivate()));
    });
  }

  private CompletionStage<String> key(String name, ProviderSpec spec, String label, String reader) {
    if (!spec.hasKey()) return CompletableFuture.completedFuture("");
    if (secrets == null) return CompletableFuture.failedFuture(unavailable(label, "this node reads no secrets"));
    return secrets.get(Role.PLATFORM_TENANT, ProviderEntity.SECRET_NAMESPACE, name, spec.keyVersion(), reader).handle((v, err) -> {
      if (err != null) throw unavailable(label, "its key cannot be read");
      try {
        String k = v.asString();
        KnownSecrets.GLOBAL.remember(k);
        return k;
      } finally {
        v.destroy();
      }
    });
  }

  private static RuntimeException unavailable(String label, String why) {
    return DalangError.of(ErrorCode.ENGINE_UNAVAILABLE, label + " cannot be used: " + why).toException();
  }
}
