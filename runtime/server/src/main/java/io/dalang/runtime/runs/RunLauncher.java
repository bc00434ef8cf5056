package io.dalang.runtime.runs;

import io.dalang.actors.admission.Priority;
import io.dalang.actors.fallback.FallbackTarget;
import io.dalang.actors.fallback.Fallbacks;
import io.dalang.actors.placement.PlacementActor;
import io.dalang.actors.run.RunActor;
import io.dalang.actors.run.RunOutput;
import io.dalang.actors.run.RunSettings;
import io.dalang.actors.run.RunSpec;
import io.dalang.actors.telemetry.TelemetryActor;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.GenerationRequest;
import io.dalang.protocols.openai.RequestValidation;
import io.dalang.protocols.redaction.Redaction;
import io.dalang.runtime.auth.Principal;
import java.security.SecureRandom;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts runs for the edges: spawns a {@link RunActor} for an accepted request and hands back its
 * canonical events as a stream. When the client stops reading before the run ended (disconnect,
 * cancelled gRPC call), the run is told, and it cancels the generation at the engine.
 */
public final class RunLauncher {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Logger log = LoggerFactory.getLogger(RunLauncher.class);
  private static final int PREVIEW_CHARS = 2000;
  private static final char[] ALPHABET = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();

  private final ActorSystem<?> system;
  private final ActorRef<PlacementActor.Command> placement;
  private final ActorRef<TelemetryActor.Command> telemetry;
  private final RunSettings settings;
  private final int streamBuffer;
  private final Fallbacks fallbacks;

  /** @param fallbacks how runs reach their tenants' fallback targets (remote keys, the fallback counter) */
  public RunLauncher(ActorSystem<?> system, ActorRef<PlacementActor.Command> placement,
      ActorRef<TelemetryActor.Command> telemetry, RunSettings settings, int streamBuffer, Fallbacks fallbacks) {
    this.fallbacks = fallbacks;
    this.system = system;
    this.placement = placement;
    this.telemetry = telemetry;
    this.settings = settings;
    this.streamBuffer = streamBuffer;
  }

  public RunSettings settings() {
    return settings;
  }

  /**
   * The prompt for a DEBUG line: redacted as the tenant's exports are (before shortening, so no half of
   * a card number survives the cut), then cut to {@link #PREVIEW_CHARS}. The log layout redacts again.
   */
  static String promptPreview(String tenant, GenerationRequest g) {
    String text = g.embedding() != null
        ? (g.embedding().query() == null ? "" : "query: " + g.embedding().query() + " | ") + String.join(" | ", g.embedding().texts())
        : g.isChat()
        ? g.messages().stream().map(m -> m.role() + ": " + m.content()).collect(Collectors.joining(" | "))
        : g.prompt();
    String redacted = Redaction.current().redactForTenant(tenant, text);
    return redacted.length() <= PREVIEW_CHARS ? redacted : redacted.substring(0, PREVIEW_CHARS) + "…";
  }

  /** A fresh run id: {@code run_} and 20 base32 characters. */
  public static String newRunId() {
    char[] c = new char[20];
    for (int i = 0; i < c.length; i++) c[i] = ALPHABET[RANDOM.nextInt(32)];
    return "run_" + new String(c);
  }

  /**
   * A started run as the edge sees it: its first event ({@code Started}, or a typed {@code Failed} if
   * it never started), then the rest as a stream to run inside the response. The stream ends with End
   * or a typed Failed; if the client stops reading before that, the run cancels at the engine.
   *
   * @param servedBy which target serves the run ({@code pool:<id>}, {@code remote:<name>}); final once
   *     {@code first} completed with {@code Started}
   * @param servedModel the model that answers the run (a fallback rule's substitute, or the one asked for);
   *     final when {@code servedBy} is, null before
   * @param clientGone cancels the run (wherever it is: quota check, queue, engine) because its client
   *     left while nothing was streaming to it yet; harmless once the run ended
   */
  public record StartedRun(CompletionStage<GenerationEvent> first, Source<GenerationEvent, NotUsed> rest, Supplier<String> servedBy,
      Runnable clientGone, Supplier<String> servedModel) {
    /** The events written to {@code output}; {@code clientGone} runs if the stream stops before its terminal event. */
    public static StartedRun of(RunOutput output, Runnable clientGone) {
      var terminalSeen = new AtomicBoolean();
      Source<GenerationEvent, NotUsed> rest = output.rest()
          .map(e -> {
            if (e.isTerminal()) terminalSeen.set(true);
            return e;
          })
          .watchTermination((mat, done) -> {
            done.whenComplete((d, err) -> {
              if (!terminalSeen.get()) clientGone.run();
            });
            return mat;
          });
      return new StartedRun(output.first(), rest, output::servedBy, clientGone, output::servedModel);
    }
  }

  /** Starts a validated request for {@code principal}. */
  public StartedRun start(Principal principal, RequestValidation.Validated v, long receivedAtNanos,
      Priority priority, long deadlineEpochMs) {
    if (!principal.models().containsKey(v.model())) {
      throw new DalangException(ErrorCode.MODEL_NOT_FOUND, "model '" + v.model() + "' does not exist or is not served to this tenant");
    }
    // A remote fallback speaks chat and completions only: an embedding run falls back to pools alone.
    var targets = v.generation().embedding() == null ? principal.fallbacks()
        : principal.fallbacks().stream().filter(FallbackTarget::isPool).toList();
    var spec = new RunSpec(principal.tenantId(), principal.pools(), principal.models().get(v.model()), v.model(), v.generation(), v.stream(),
        receivedAtNanos, settings.time().epochMillis(), priority, deadlineEpochMs, principal.quotas(), targets);
    if (log.isDebugEnabled()) {
      log.debug("run {} for tenant {} on model {}: {}", spec.runId(), spec.tenantId(), v.model(), promptPreview(principal.tenantId(), v.generation()));
    }
    var output = new RunOutput(streamBuffer);
    ActorRef<RunActor.Command> run = system.systemActorOf(
        RunActor.create(spec, output, placement, telemetry, settings, fallbacks), "run-" + spec.runId(), Props.empty());
    return StartedRun.of(output, () -> run.tell(RunActor.ClientGone.INSTANCE));
  }
}
