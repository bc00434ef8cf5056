package io.dalang.actors.model;

import io.dalang.models.BlobStore;
import io.dalang.protocols.CborSerializable;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * A control node's offer of the blobs in its store to the nodes of the cluster. A node that needs a
 * model's blob asks every registered server ({@link #KEY}); the one that holds it answers where to fetch
 * it over HTTP (with ranges), a token for that one blob ({@link BlobTokens}), and the edge certificate's
 * fingerprint when the edge speaks TLS (the fetcher pins it: the edge's certificate may be self-signed).
 * Nothing is sent over the cluster transport but this small answer.
 */
public final class BlobServer {
  public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "dalang-model-blobs");

  private BlobServer() {}

  public sealed interface Command extends CborSerializable {}

  /** Where to fetch {@code sha256}; {@code requester} is the asking node's id, for the log. */
  public record Locate(String sha256, String requester, ActorRef<Location> replyTo) implements Command {}

  /**
   * @param url the blob's address; null when this server does not hold it
   * @param certSha256 the SHA-256 of the edge's certificate (DER) when {@code url} is https, else null
   */
  public record Location(boolean found, String url, String token, long size, String certSha256) implements CborSerializable {
    static Location none() {
      return new Location(false, null, null, -1, null);
    }
  }

  /**
   * @param baseUrl this node's HTTP edge as other nodes reach it ({@code http://host:port})
   * @param tokenTtl how long a fetch may take to begin and to resume after a cut
   */
  public static Behavior<Command> create(BlobStore store, BlobTokens tokens, String baseUrl, String certSha256, Duration tokenTtl) {
    return Behaviors.setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
      return Behaviors.receive(Command.class).onMessage(Locate.class, m -> {
        if (!BlobStore.isDigest(m.sha256()) || !store.contains(m.sha256())) {
          m.replyTo().tell(Location.none());
          return Behaviors.same();
        }
        long size;
        try {
          size = java.nio.file.Files.size(store.pathOf(m.sha256()));
        } catch (IOException e) {
          m.replyTo().tell(Location.none());
          return Behaviors.same();
        }
        ctx.getLog().info("blob {}… offered to node {} ({} bytes)", m.sha256().substring(0, 12), m.requester(), size);
        m.replyTo().tell(new Location(true, baseUrl + path(m.sha256()), tokens.issue(m.sha256(), tokenTtl, Instant.now()), size,
            baseUrl.startsWith("https:") ? certSha256 : null));
        return Behaviors.same();
      }).build();
    });
  }

  /** The blob's path on a control node's HTTP edge. */
  public static String path(String sha256) {
    return "/internal/v1/blobs/sha256/" + sha256;
  }
}
