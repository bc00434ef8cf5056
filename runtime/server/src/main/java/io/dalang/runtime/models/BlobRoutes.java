package io.dalang.runtime.models;

import io.dalang.actors.model.BlobTokens;
import io.dalang.models.BlobStore;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import java.time.Instant;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /internal/v1/blobs/sha256/{digest}}: a catalog blob for a node that pulls it, with HTTP
 * ranges (a cut pull resumes with {@code Range: bytes=N-}). Only with a token the {@code BlobServer} gave
 * that node over the cluster transport for this digest ({@code Authorization: Bearer}); anything else is
 * a 404 that does not say whether the blob exists.
 */
public final class BlobRoutes extends AllDirectives {
  private final BlobStore store;
  private final BlobTokens tokens;

  public BlobRoutes(BlobStore store, BlobTokens tokens) {
    this.store = store;
    this.tokens = tokens;
  }

  public Route route() {
    return pathPrefix("internal", () -> pathPrefix("v1", () -> path(
        PathMatchers.segment("blobs").slash("sha256").slash(PathMatchers.segment()), digest -> get(() ->
            optionalHeaderValueByName("Authorization", h -> {
              String token = h.filter(v -> v.startsWith("Bearer ")).map(v -> v.substring(7).strip()).orElse(null);
              if (!BlobStore.isDigest(digest) || !tokens.valid(token, digest, Instant.now()) || !store.contains(digest)) {
                throw new DalangException(ErrorCode.NOT_FOUND, "no such blob, or no valid token for it");
              }
              return getFromFile(store.pathOf(digest).toFile(), ContentTypes.APPLICATION_OCTET_STREAM);
            })))));
  }
}
