package io.dalang.actors.provider;

import io.dalang.engine.RemoteOpenAiEndpoint;
import io.dalang.protocols.CborSerializable;
import java.util.List;

/**
 * What a provider is: a remote OpenAI-compatible endpoint the platform pays for and vouches for.
 *
 * @param baseUrl the API's base, e.g. {@code https://api.example.com/v1} ({@link RemoteOpenAiEndpoint#checkBaseUrl})
 * @param models the model names tenants may ask it for
 * @param keyVersion the version of the provider's key in the platform's secrets
 *     ({@code platform:providers/<name>}) that is sent to it; 0 for a provider without a key
 * @param keyOrigin the scheme, host and port the key was given for ({@link RemoteOpenAiEndpoint#origin}):
 *     the key is sent to that origin only, so moving the provider to another host needs a new key
 * @param inputPricePerMTokens what a million prompt tokens cost (for routing by cost; any currency, 0: unknown)
 * @param outputPricePerMTokens what a million completion tokens cost
 * @param allowPrivate whether its host may resolve to a loopback, private or link-local address (never metadata)
 */
public record ProviderSpec(String baseUrl, List<String> models, int keyVersion, String keyOrigin, double inputPricePerMTokens,
    double outputPricePerMTokens, boolean allowPrivate) implements CborSerializable {
  /** The most model names a provider may list. */
  public static final int MAX_MODELS = 64;

  public boolean hasKey() {
    return keyVersion > 0;
  }

  /** Why this spec cannot be a provider's, or null. */
  public String problem() {
    String url = RemoteOpenAiEndpoint.checkBaseUrl(baseUrl);
    if (url != null) return "base_url " + url;
    if (models == null || models.isEmpty() || models.size() > MAX_MODELS) return "models must list 1 to " + MAX_MODELS + " names";
    if (hasKey() && !RemoteOpenAiEndpoint.origin(baseUrl).equals(keyOrigin)) return "the key was given for " + keyOrigin + ", not this base_url";
    if (!(inputPricePerMTokens >= 0 && outputPricePerMTokens >= 0 && Double.isFinite(inputPricePerMTokens)
        && Double.isFinite(outputPricePerMTokens))) {
      return "prices must be finite and not negative";
    }
    return null;
  }

  /** Whether the key (if any) may be sent to where {@link #baseUrl} points now. */
  public boolean keyBoundHere() {
    return !hasKey() || (RemoteOpenAiEndpoint.checkBaseUrl(baseUrl) == null && RemoteOpenAiEndpoint.origin(baseUrl).equals(keyOrigin));
  }
}
