package io.dalang.runtime.engine;

import com.typesafe.config.Config;
import io.dalang.actors.engine.EngineFactory;
import io.dalang.actors.provider.ProviderAccess;
import io.dalang.actors.slot.SlotSpec;
import io.dalang.engine.Digests;
import io.dalang.engine.Engine;
import io.dalang.engine.EngineConfig;
import io.dalang.engine.EngineException;
import io.dalang.engine.EngineIdentity;
import io.dalang.engine.GpuBinding;
import io.dalang.engine.provision.Backend;
import io.dalang.engine.sim.SimProfile;
import io.dalang.engine.sim.SimulatedEngine;
import io.dalang.engine.upstream.OpenAiUpstreamEngine;
import io.dalang.gguf.OffloadProfile;
import io.dalang.protocols.generation.RunTask;
import io.dalang.protocols.node.Device;
import io.dalang.engine.InProcessLlamaEngine;
import io.dalang.engine.LlamaServerEngine;
import io.dalang.engine.chaos.Chaos;
import io.dalang.engine.provision.EngineEntry;
import io.dalang.engine.provision.EngineProvisioner;
import io.dalang.engine.provision.EngineSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the engines slots ask for: llama.cpp in-process, or a llama-server process from the engine
 * provisioner's cache (built on first use), or from {@code dalang.engine.llama-server-binary} when an
 * operator brings their own build.
 *
 * <p>A slot of a {@code simulated} pool runs the timer-driven {@link SimulatedEngine} with its pool's profile.
 * A slot of an {@code openai-upstream} pool fronts a server Dalang does not start; its address and
 * key come from the platform's provider of that name ({@link ProviderAccess}).
 *
 * <p>A llama-server slot on a GPU device gets the build for that device's backend (Vulkan, CUDA, ROCm)
 * and is bound to the device: it sees only that device and puts the slot's {@code gpuLayers} on it
 * (every layer when placement recorded none). The in-process engine runs on the CPU only; placement never
 * gives it a GPU device, and a slot placed on one before that (or whose pool changed engine) runs on the
 * CPU with a warning.
 */
public final class RuntimeEngineFactory implements EngineFactory {
  private static final Logger log = LoggerFactory.getLogger(RuntimeEngineFactory.class);
  public static final List<String> KINDS = List.of(InProcessLlamaEngine.KIND, LlamaServerEngine.KIND, OpenAiUpstreamEngine.KIND,
      SimulatedEngine.KIND);
  /** Who reads an upstream's key, as the secrets audit names it. */
  public static final String UPSTREAM_SECRET_READER = "system:upstream";

  private final EngineProvisioner provisioner;
  private final EngineSource source;
  private final String ownBinary;
  private final Duration startTimeout;
  private final boolean nativeLog;
  private final List<String> llamaServerArgs;
  private final Chaos chaos;
  private final ProviderAccess providers;
  private final Duration upstreamTimeout;

  /**
   * The {@code dalang.engine} keys that say where engines come from and how they run.
   *
   * @param cacheDir {@code cache-dir}: the provisioner's cache of llama-server builds (blank: the default)
   * @param source {@code llama-server-source}: the llama.cpp release or checkout builds are made from
   * @param ownBinary {@code llama-server-binary}: an operator's own llama-server; blank: a provisioned build
   * @param gpuBuildAttempts {@code gpu-build-attempts}: tries at building a GPU backend before it is given up
   * @param startTimeout {@code start-timeout}: longest an engine may take to load its model
   * @param nativeLog {@code native-log}: llama.cpp's own log in the node's log
   * @param llamaServerArgs {@code llama-server-args}: extra arguments for every llama-server
   * @param upstreamTimeout {@code upstream-timeout}: how long an upstream server may be silent, before its answer and within it
   */
  public record Settings(String cacheDir, EngineSource source, String ownBinary, int gpuBuildAttempts, Duration startTimeout,
      boolean nativeLog, List<String> llamaServerArgs, Duration upstreamTimeout) {

    public static Settings from(Config config) {
      Config e = config.getConfig("dalang.engine");
      return new Settings(e.getString("cache-dir"), EngineSource.parse(e.getString("llama-server-source")), e.getString("llama-server-binary"),
          e.getInt("gpu-build-attempts"), e.getDuration("start-timeout"), e.getBoolean("native-log"), e.getStringList("llama-server-args"),
          e.getDuration("upstream-timeout"));
    }
  }

  /**
   * @param chaos the node's fault-injection switchboard; every engine made gets its hooks
   * @param providers where an upstream slot finds its server's address and key; null on a node that
   *     cannot reach the providers (upstream slots then fail to start, saying so)
   */
  public RuntimeEngineFactory(Settings settings, Chaos chaos, ProviderAccess providers) {
    this.chaos = chaos;
    this.providers = providers;
    this.upstreamTimeout = settings.upstreamTimeout();
    this.provisioner = new EngineProvisioner(EngineProvisioner.cacheRoot(settings.cacheDir()), log::info, settings.gpuBuildAttempts());
    this.source = settings.source();
    this.ownBinary = settings.ownBinary();
    this.startTimeout = settings.startTimeout();
    this.nativeLog = settings.nativeLog();
    this.llamaServerArgs = settings.llamaServerArgs();
  }

  @Override
  public Engine create(SlotSpec spec, Path workDir) {
    return create(spec, new Device(spec.deviceId(), Device.CPU, 0, spec.deviceId(), 0, 0, ""), workDir);
  }

  @Override
  public Engine create(SlotSpec spec, Device device, Path workDir) {
    Backend backend = Backend.ofDeviceKind(device.kind());
    if (backend.gpu() && !LlamaServerEngine.KIND.equals(spec.engine())) {
      // Placement no longer does this; a slot placed before it knew (or whose pool changed engine) runs on the CPU.
      log.warn("slot {}: engine '{}' runs on the CPU only; it ignores {} device {} it was placed on", spec.slotId(), spec.engine(),
          backend.id(), device.id());
      backend = Backend.CPU;
    }
    var gpu = backend.gpu() ? new GpuBinding(backend, device.index(), spec.gpuLayers() > 0 ? spec.gpuLayers() : OffloadProfile.ALL_LAYERS)
        : GpuBinding.CPU;
    var cfg = new EngineConfig(Path.of(spec.modelPath()), spec.contextPerSequence(), spec.parallel(), spec.threads(), startTimeout, workDir,
        nativeLog, llamaServerArgs, gpu, RunTask.parse(spec.task()));
    Engine engine = switch (spec.engine()) {
      case InProcessLlamaEngine.KIND -> new InProcessLlamaEngine(cfg);
      case LlamaServerEngine.KIND -> llamaServer(cfg);
      case OpenAiUpstreamEngine.KIND -> upstream(spec);
      case SimulatedEngine.KIND -> new SimulatedEngine(spec.simulated() != null ? spec.simulated() : SimProfile.DEFAULT, RunTask.parse(spec.task()));
      default -> throw new EngineException("unknown engine '" + spec.engine() + "'; known: " + KINDS);
    };
    return chaos.wrap(engine, spec.slotId(), spec.poolId());
  }

  /**
   * The slot's upstream server, reached through its provider (address and key). Blocks on the lookup and
   * the key's read: this runs on the blocking dispatcher.
   */
  private Engine upstream(SlotSpec spec) {
    var endpoint = spec.upstream();
    if (endpoint == null) throw new EngineException("slot " + spec.slotId() + " of an upstream pool names no upstream server");
    if (providers == null) throw new EngineException("upstream " + endpoint.provider() + ": this node cannot read providers");
    ProviderAccess.Connection c;
    try {
      c = providers.connect(endpoint.provider(), endpoint.model(), "upstream " + endpoint.provider(), UPSTREAM_SECRET_READER)
          .toCompletableFuture().get(startTimeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new EngineException(e.getCause() != null ? e.getCause().getMessage() : e.getMessage(), e);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new EngineException("upstream " + endpoint.provider() + ": its provider could not be read within " + startTimeout.toSeconds() + " s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EngineException("interrupted while reading provider " + endpoint.provider(), e);
    }
    return new OpenAiUpstreamEngine(new OpenAiUpstreamEngine.Target(c.name(), c.baseUrl(), c.apiKey(), c.allowPrivate()), endpoint,
        upstreamTimeout, startTimeout);
  }

  private Engine llamaServer(EngineConfig cfg) {
    if (!ownBinary.isBlank()) {
      Path bin = Path.of(ownBinary);
      if (!Files.isExecutable(bin)) throw new EngineException("dalang.engine.llama-server-binary " + bin + " is not executable");
      try {
        return new LlamaServerEngine(cfg, bin, new EngineIdentity(LlamaServerEngine.KIND, "external", Digests.sha256(bin)));
      } catch (IOException ex) {
        throw new EngineException("cannot read " + bin, ex);
      }
    }
    Backend wanted = cfg.gpu().backend();
    EngineEntry entry = provisioner.ensureLlamaServer(source, wanted);
    if (entry.backendKind() != wanted) {
      log.warn("no {} build of llama-server (see the provisioner's warning): the slot runs on the CPU", wanted.id());
      cfg = new EngineConfig(cfg.model(), cfg.contextPerSequence(), cfg.parallel(), cfg.threads(), cfg.startTimeout(), cfg.workDir(),
          cfg.nativeLog(), cfg.extraArgs(), GpuBinding.CPU);
    }
    return provisioner.llamaServer(entry, cfg);
  }
}
