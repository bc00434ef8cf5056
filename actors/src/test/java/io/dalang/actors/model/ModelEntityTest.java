package io.dalang.actors.model;

import static io.dalang.actors.testing.Refusals.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.actors.testing.EntityTestKits;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.model.ModelRef;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LogCapturingExtension.class)
class ModelEntityTest {
  static final ActorTestKit testKit = ActorTestKit.create(EntityTestKits.config());
  private EventSourcedBehaviorTestKit<ModelEntity.Command, ModelEntity.Event, ModelEntity.State> kit;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void fresh() {
    kit = EventSourcedBehaviorTestKit.create(testKit.system(), ModelEntity.create("tiny"));
  }

  static ModelVersion blob(char digit, String version) {
    return new ModelVersion(version, 0, String.valueOf(digit).repeat(64), 1234, "gguf", "llama", 8192, "F16", 1000, 900,
        "/models/tiny.gguf", null, "k1", Instant.parse("2026-12-07T00:00:00Z"), Map.of("team", "search", "stage", "canary"), "pekko://dalang@127.0.0.1:2551");
  }

  private StatusReply<ModelEntity.ModelView> add(ModelVersion v) {
    return kit.<StatusReply<ModelEntity.ModelView>>runCommand(to -> new ModelEntity.AddVersion(v, to)).reply();
  }

  private StatusReply<ModelEntity.Removed> remove(String version) {
    return kit.<StatusReply<ModelEntity.Removed>>runCommand(to -> new ModelEntity.RemoveVersions(version, to)).reply();
  }

  @Test
  void numbersVersionsInOrderAndResolvesTheLatest() {
    assertTrue(add(blob('a', null)).isSuccess());
    var view = add(blob('b', null)).getValue();
    assertEquals(List.of("v1", "v2"), view.versions().stream().map(ModelVersion::version).toList());
    assertEquals("v2", view.resolve(ModelRef.parse("tiny")).orElseThrow().version());
    assertEquals("a".repeat(64), view.resolve(ModelRef.parse("tiny@v1")).orElseThrow().sha256());
    assertTrue(view.resolve(ModelRef.parse("tiny@v9")).isEmpty());
    kit.restart();
    var recovered = kit.<ModelEntity.ModelView>runCommand(ModelEntity.GetModel::new).reply();
    assertEquals(view, recovered);
    assertEquals(Map.of("stage", "canary", "team", "search"), recovered.versions().get(0).labels());
  }

  @Test
  void refusesATakenVersionNameOrTheSameBlobTwiceAndPersistsNothing() {
    assertTrue(add(blob('a', "prod")).isSuccess());
    var r = kit.<StatusReply<ModelEntity.ModelView>>runCommand(to -> new ModelEntity.AddVersion(blob('b', "prod"), to));
    assertRefused(ErrorCode.CONFLICT, r.reply());
    assertTrue(r.events().isEmpty());
    var same = kit.<StatusReply<ModelEntity.ModelView>>runCommand(to -> new ModelEntity.AddVersion(blob('a', null), to));
    assertRefused(ErrorCode.CONFLICT, same.reply());
    assertTrue(same.events().isEmpty());
    var bad = kit.<StatusReply<ModelEntity.ModelView>>runCommand(to -> new ModelEntity.AddVersion(blob('c', "no spaces"), to));
    assertRefused(ErrorCode.INVALID_REQUEST, bad.reply());
  }

  @Test
  void removesOneVersionOrAllAndNeverReusesASequenceNumber() {
    add(blob('a', null));
    add(blob('b', null));
    assertEquals(List.of("v1"), remove("v1").getValue().versions().stream().map(ModelVersion::version).toList());
    assertRefused(ErrorCode.NOT_FOUND, remove("v1"));
    assertEquals(List.of("v2"), remove(null).getValue().versions().stream().map(ModelVersion::version).toList());
    var empty = kit.<ModelEntity.ModelView>runCommand(ModelEntity.GetModel::new).reply();
    assertFalse(empty.exists());
    assertRefused(ErrorCode.NOT_FOUND, remove(null));
    kit.restart();
    // Added again after every version went: v3, not v1 (a pool or a run record that said v1 meant the old blob).
    assertEquals(List.of("v3"), add(blob('a', null)).getValue().versions().stream().map(ModelVersion::version).toList());
  }

  @Test
  void refusesAVersionWithoutADigest() {
    var noDigest = new ModelVersion(null, 0, null, 1, "gguf", "llama", 1, "F16", 1, 1, "x", null, "k", Instant.now(), null, "n");
    assertRefused(ErrorCode.INVALID_REQUEST, add(noDigest));
  }

  @Test
  void anOperatorsOwnVersionNameAheadOfTheCountIsSkippedNotAConflictForever() {
    add(blob('a', null)); // v1
    assertTrue(add(blob('b', "v3")).isSuccess());
    // The next automatic name would be v3 (sequence 3): taken, so v4.
    var view = add(blob('c', null)).getValue();
    assertEquals(List.of("v1", "v3", "v4"), view.versions().stream().map(ModelVersion::version).toList());
  }
}
