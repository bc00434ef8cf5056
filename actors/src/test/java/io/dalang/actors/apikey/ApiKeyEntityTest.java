package io.dalang.actors.apikey;

import static io.dalang.actors.testing.Refusals.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.actors.testing.EntityTestKits;
import io.dalang.protocols.error.ErrorCode;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LogCapturingExtension.class)
class ApiKeyEntityTest {
  static final ActorTestKit testKit = ActorTestKit.create(EntityTestKits.config());
  private EventSourcedBehaviorTestKit<ApiKeyEntity.Command, ApiKeyEntity.Event, ApiKeyEntity.State> kit;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void fresh() {
    kit = EventSourcedBehaviorTestKit.create(testKit.system(), ApiKeyEntity.create("sha256-of-key"));
  }

  private ApiKeyEntity.ApiKeyView resolve() {
    return kit.<ApiKeyEntity.ApiKeyView>runCommand(ApiKeyEntity.ResolveKey::new).reply();
  }

  @Test
  void anIssuedKeyResolvesToItsTenantAcrossARestart() {
    assertFalse(resolve().active());
    var r = kit.<StatusReply<ApiKeyEntity.ApiKeyView>>runCommand(to -> new ApiKeyEntity.IssueKey("acme", "acme-key-1", "tenant-user", to));
    assertTrue(r.reply().isSuccess());
    kit.restart();
    assertEquals(new ApiKeyEntity.ApiKeyView(true, "acme", "acme-key-1", "tenant-user"), resolve());
  }

  @Test
  void aRevokedKeyNoLongerAuthenticatesAndCannotBeReissued() {
    kit.<StatusReply<ApiKeyEntity.ApiKeyView>>runCommand(to -> new ApiKeyEntity.IssueKey("acme", "k1", "tenant-user", to));
    kit.<StatusReply<ApiKeyEntity.ApiKeyView>>runCommand(ApiKeyEntity.RevokeKey::new);
    kit.restart();
    assertFalse(resolve().active());
    assertEquals("acme", resolve().tenantId());
    var again = kit.<StatusReply<ApiKeyEntity.ApiKeyView>>runCommand(to -> new ApiKeyEntity.IssueKey("other", "k2", "tenant-user", to));
    assertTrue(again.reply().isError());
    assertRefused(ErrorCode.CONFLICT, again.reply());
    assertTrue(again.events().isEmpty());
  }

  @Test
  void aKeyIsIssuedOnlyOnce() {
    kit.<StatusReply<ApiKeyEntity.ApiKeyView>>runCommand(to -> new ApiKeyEntity.IssueKey("acme", "k1", "tenant-user", to));
    var r = kit.<StatusReply<ApiKeyEntity.ApiKeyView>>runCommand(to -> new ApiKeyEntity.IssueKey("evil", "k9", "tenant-user", to));
    assertTrue(r.reply().isError());
    assertRefused(ErrorCode.CONFLICT, r.reply());
    assertEquals("acme", resolve().tenantId());
  }
}
