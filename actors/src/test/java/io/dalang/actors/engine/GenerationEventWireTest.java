package io.dalang.actors.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dalang.actors.testing.EntityTestKits;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.EngineTimings;
import io.dalang.protocols.generation.GenerationEvent;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** A remote engine's events reach their run with the telemetry fields intact (Dalang's CBOR serialization). */
class GenerationEventWireTest {
  static final ActorTestKit testKit = ActorTestKit.create(EntityTestKits.config());

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  static Object roundTrip(Object o) {
    var serialization = SerializationExtension.get(testKit.system().classicSystem());
    byte[] bytes = serialization.serialize(o).get();
    var serializer = serialization.findSerializerFor(o);
    return serialization.deserialize(bytes, serializer.identifier(), Serializers.manifestFor(serializer, o)).get();
  }

  @Test
  void startedAndFailedCarryTheEngineRestartCountTheDeterminismSignalsAndWhetherTheEngineWasLost() {
    for (GenerationEvent e : List.of(
        new GenerationEvent.Started("run_a", "llama-server", "demo-0", 12, 3, "v0.5.0 (de3ff81)", "9f2c", "77ab"),
        new GenerationEvent.Started("run_b", "llama-inprocess", null, 0),
        new GenerationEvent.Failed("run_a", DalangError.of(ErrorCode.ENGINE_FAILED, "died"), 4, new EngineTimings(1, 2, true), true),
        new GenerationEvent.Failed("run_b", DalangError.of(ErrorCode.TIMEOUT, "slow"), 0, EngineTimings.NONE))) {
      assertEquals(e, roundTrip(e));
    }
  }
}
