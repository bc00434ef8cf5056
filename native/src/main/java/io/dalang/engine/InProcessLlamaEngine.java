package io.dalang.engine;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaIterator;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.Pair;
import de.kherud.llama.args.LogFormat;
import de.kherud.llama.args.PoolingType;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.ChatMessage;
import io.dalang.protocols.generation.EngineTimings;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.GenerationOptions;
import io.dalang.protocols.generation.GenerationRequest;
import io.dalang.protocols.generation.RunTask;
import io.dalang.protocols.generation.SamplerSettings;
import io.dalang.protocols.generation.Usage;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * llama.cpp inside the JVM through {@code de.kherud:llama} (JNI). The library runs llama.cpp's server
 * loop with {@code parallel} sequences; each generation blocks one of our threads while it reads the
 * token iterator, so the thread pool is exactly as large as the engine's parallelism.
 *
 * <p>The library reports no timings, so {@code internal_model_seconds} is measured around the native
 * calls ({@link EngineTimings#reportedByEngine()} false).
 */
public final class InProcessLlamaEngine implements Engine {
  private static final Logger log = LoggerFactory.getLogger(InProcessLlamaEngine.class);
  private static final Logger nativeLog = LoggerFactory.getLogger("io.dalang.engine.llama.native");
  public static final String KIND = "llama-inprocess";
  /** llama.cpp build inside de.kherud:llama 4.2.0. */
  static final String VERSION = "de.kherud:llama:4.2.0 (llama.cpp b4916)";
  private static final AtomicBoolean loggerInstalled = new AtomicBoolean();
  /** One model load or free at a time in this JVM (see {@link #start()}). */
  private static final Object NATIVE_LIFECYCLE = new Object();
  private static final AtomicInteger threadIds = new AtomicInteger();

  private final EngineConfig config;
  private final CompletableFuture<String> terminated = new CompletableFuture<>();
  private volatile LlamaModel model;
  private volatile ExecutorService workers;
  private volatile EngineIdentity identity = new EngineIdentity(KIND, VERSION, "");

  public InProcessLlamaEngine(EngineConfig config) {
    this.config = config;
  }

  @Override
  public String kind() {
    return KIND;
  }

  @Override
  public EngineIdentity identity() {
    return identity;
  }

  /**
   * An embedding engine runs one sequence: the llama.cpp build inside de.kherud:llama aborts the process
   * when a sequence id is not below the batch's token count under last-token pooling
   * ({@code GGML_ASSERT(seq_id < n_tokens)}), which a short input on a later sequence hits.
   */
  @Override
  public int parallelism() {
    return config.task() == RunTask.EMBED ? 1 : config.parallel();
  }

  @Override
  public void start() {
    installLogger();
    try {
      var params = new ModelParameters()
          .setModel(config.model().toString())
          .setCtxSize(config.totalContext())
          .setParallel(parallelism())
          .setThreads(config.threads())
          .setThreadsBatch(config.threads());
      if (config.task() == RunTask.RERANK) {
        throw new EngineException("the in-process engine does not rerank; a pool with task 'rerank' runs on llama-server");
      }
      if (config.task() == RunTask.EMBED) {
        // As llama-server's embedding engine (LlamaServerEngine.taskArgs): pooled output, one batch per input.
        params.enableEmbedding().setBatchSize(config.contextPerSequence()).setUbatchSize(config.contextPerSequence())
            .setCtxSize(config.contextPerSequence());
        if (!PooledOutput.of(config.model(), config.task()).declared()) params.setPoolingType(PoolingType.LAST);
      }
      // llama.cpp prints ~140 lines per load and several per request straight to stdout.
      if (!config.nativeLog()) params.disableLog();
      // The library's model load and free touch llama.cpp's process-wide state: two at once (a node
      // with two in-process pools, e.g. the demo's chat and embedding pools) crashed the JVM in libc.
      synchronized (NATIVE_LIFECYCLE) {
        model = new LlamaModel(params);
      }
    } catch (EngineException e) {
      throw e;
    } catch (RuntimeException | UnsatisfiedLinkError e) {
      throw new EngineException("in-process llama.cpp could not load " + config.model().getFileName() + ": " + e.getMessage(), e);
    }
    workers = Executors.newFixedThreadPool(parallelism(), r -> {
      Thread t = new Thread(r, "llama-inprocess-" + threadIds.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    identity = new EngineIdentity(KIND, VERSION, Digests.classpathLibraryDigest());
  }

  @Override
  public boolean checkHealth() {
    LlamaModel m = model;
    if (m == null) return false;
    try {
      return m.encode("ok").length > 0;
    } catch (RuntimeException e) {
      return false;
    }
  }

  @Override
  public Generation generate(GenerationRequest request, Consumer<GenerationEvent> sink) {
    var cancelled = new AtomicBoolean();
    var aborted = new java.util.concurrent.atomic.AtomicReference<String>();
    try {
      workers.execute(() -> {
        if (request.embedding() != null) embed(request, sink, cancelled);
        else run(request, sink, cancelled, aborted);
      });
    } catch (RejectedExecutionException | NullPointerException e) {
      sink.accept(new GenerationEvent.Failed(request.runId(),
          DalangError.of(ErrorCode.ENGINE_UNAVAILABLE, "the in-process engine is not running"), 0, EngineTimings.NONE));
    }
    // Only the worker touches the iterator: cancelling it while another thread waits in the native
    // receive leaves that thread blocked for good. The worker sees the flag after the next token.
    return new Generation() {
      @Override
      public void cancel() {
        cancelled.set(true);
      }

      @Override
      public void abort(String why) {
        aborted.set(why);
      }
    };
  }

  private void run(GenerationRequest req, Consumer<GenerationEvent> sink, AtomicBoolean cancelled,
      java.util.concurrent.atomic.AtomicReference<String> aborted) {
    String runId = req.runId();
    long t0 = System.nanoTime();
    long firstToken = 0;
    int tokens = 0;
    try {
      LlamaModel m = model;
      String grammar = null;
      if (req.options().responseFormat() != null) {
        try {
          grammar = grammar(req.options().responseFormat());
        } catch (RuntimeException e) {
          // llama.cpp's converter refused the schema: the request's to fix, not the engine failing.
          sink.accept(new GenerationEvent.Failed(runId, new DalangError(ErrorCode.INVALID_REQUEST,
              "the response_format schema cannot be turned into a grammar: " + e.getMessage(), "response_format", 0), 0, EngineTimings.NONE));
          return;
        }
      }
      String prompt = req.isChat() ? m.applyTemplate(chatParams(req.messages())) : req.prompt();
      int promptTokens = m.encode(prompt).length;
      sink.accept(new GenerationEvent.Started(runId, KIND, null, 0));
      var params = new InferenceParameters(prompt)
          .setNPredict(req.maxTokens())
          .setTemperature((float) req.temperature())
          .setTopP((float) req.topP())
          .setTopK(SamplerSettings.TOP_K)
          .setMinP((float) SamplerSettings.MIN_P)
          .setRepeatPenalty((float) SamplerSettings.REPEAT_PENALTY)
          .setCachePrompt(true);
      if (req.seed() != null) params.setSeed((int) (long) req.seed());
      var opt = req.options();
      if (grammar != null) params.setGrammar(grammar);
      if (opt.presencePenalty() != 0) params.setPresencePenalty((float) opt.presencePenalty());
      if (opt.frequencyPenalty() != 0) params.setFrequencyPenalty((float) opt.frequencyPenalty());
      if (!opt.logitBias().isEmpty()) {
        var bias = new java.util.HashMap<Integer, Float>();
        opt.logitBias().forEach((k, v) -> bias.put(k, v.floatValue()));
        params.setTokenIdBias(bias);
      }
      if (!req.stop().isEmpty()) params.setStopStrings(req.stop().toArray(String[]::new));
      LlamaIterator it = m.generate(params).iterator();
      while (it.hasNext()) {
        if (cancelled.get()) {
          it.cancel();
          break;
        }
        if (aborted.get() != null) {
          it.cancel();
          log.warn("in-process generation {} aborted after {} tokens: {}", runId, tokens, aborted.get());
          sink.accept(new GenerationEvent.Failed(runId, DalangError.of(ErrorCode.ENGINE_FAILED,
              "the in-process generation was aborted after " + tokens + " tokens: " + aborted.get()), tokens,
              timings(t0, firstToken, System.nanoTime(), tokens)));
          return;
        }
        LlamaOutput out = it.next();
        if (!out.text.isEmpty()) {
          if (tokens == 0) firstToken = System.nanoTime();
          tokens++;
          sink.accept(new GenerationEvent.Token(runId, out.text));
        }
      }
      long end = System.nanoTime();
      var timings = timings(t0, firstToken, end, tokens);
      if (cancelled.get()) {
        sink.accept(new GenerationEvent.Failed(runId, DalangError.of(ErrorCode.CANCELLED, "generation cancelled"), tokens, timings));
        return;
      }
      String finish = tokens >= req.maxTokens() ? "length" : "stop";
      sink.accept(new GenerationEvent.End(runId, finish, new Usage(promptTokens, tokens), timings));
    } catch (RuntimeException e) {
      log.warn("in-process generation {} failed", runId, e);
      sink.accept(new GenerationEvent.Failed(runId, DalangError.of(ErrorCode.ENGINE_FAILED,
          "the in-process engine failed: " + e.getClass().getSimpleName()), tokens,
          timings(t0, firstToken, System.nanoTime(), tokens)));
    }
  }

  /**
   * An embedding run: each input embedded in turn (llama.cpp's own embedding call), then
   * {@code Started → Embedded → End} at once. Cancelling takes effect between inputs.
   */
  private void embed(GenerationRequest req, Consumer<GenerationEvent> sink, AtomicBoolean cancelled) {
    long t0 = System.nanoTime();
    try {
      LlamaModel m = model;
      var vectors = new ArrayList<float[]>(req.embedding().texts().size());
      int promptTokens = 0;
      for (String text : req.embedding().texts()) {
        if (cancelled.get()) {
          sink.accept(new GenerationEvent.Failed(req.runId(), DalangError.of(ErrorCode.CANCELLED, "generation cancelled"), 0, EngineTimings.NONE));
          return;
        }
        promptTokens += m.encode(text).length;
        vectors.add(m.embed(text));
      }
      DalangError width = PooledOutput.widthError(req.embedding(), vectors.get(0).length, KIND);
      if (width != null) {
        sink.accept(new GenerationEvent.Failed(req.runId(), width, 0, EngineTimings.NONE));
        return;
      }
      sink.accept(new GenerationEvent.Started(req.runId(), KIND, null, 0));
      sink.accept(new GenerationEvent.Embedded(req.runId(), vectors));
      sink.accept(new GenerationEvent.End(req.runId(), "stop", new Usage(promptTokens, 0), timings(t0, 0, System.nanoTime(), 0)));
    } catch (RuntimeException e) {
      log.warn("in-process embedding {} failed", req.runId(), e);
      sink.accept(new GenerationEvent.Failed(req.runId(), DalangError.of(ErrorCode.ENGINE_FAILED,
          "the in-process engine failed: " + e.getClass().getSimpleName()), 0, EngineTimings.NONE));
    }
  }

  /**
   * A GBNF grammar for OpenAI's {@code response_format}: the {@code json_schema}'s schema, or any JSON
   * object for {@code json_object}, converted by llama.cpp's own schema converter.
   */
  static String grammar(String responseFormat) {
    try {
      var f = JSON.readTree(responseFormat);
      var schema = "json_schema".equals(f.path("type").asText()) ? f.path("json_schema").path("schema") : JSON.createObjectNode();
      var s = schema.isObject() && !schema.isEmpty() ? schema.toString() : "{\"type\": \"object\"}";
      return LlamaModel.jsonSchemaToGrammar(s);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("validated response_format did not parse", e);
    }
  }

  private static final com.fasterxml.jackson.databind.ObjectMapper JSON = EngineHttp.JSON;

  /**
   * Grammar-constrained output ({@code response_format}); tools, logprobs and {@code n > 1} need
   * llama-server. An embedding engine embeds and does nothing else.
   */
  @Override
  public java.util.Set<String> extensions() {
    return config.task() == RunTask.EMBED ? java.util.Set.of(GenerationOptions.EMBEDDINGS) : java.util.Set.of(GenerationOptions.GRAMMAR);
  }

  private static EngineTimings timings(long t0, long firstToken, long end, int tokens) {
    if (tokens == 0) return new EngineTimings((end - t0) / 1e6, 0, false);
    return new EngineTimings((firstToken - t0) / 1e6, (end - firstToken) / 1e6, false);
  }

  private static InferenceParameters chatParams(List<ChatMessage> messages) {
    String system = null;
    List<Pair<String, String>> turns = new ArrayList<>();
    for (ChatMessage msg : messages) {
      if (system == null && turns.isEmpty() && ("system".equals(msg.role()) || "developer".equals(msg.role()))) {
        system = msg.content();
      } else {
        turns.add(new Pair<>(msg.role(), msg.content()));
      }
    }
    return new InferenceParameters("").setMessages(system, turns).setUseChatTemplate(true);
  }

  @Override
  public CompletionStage<String> terminated() {
    return terminated;
  }

  @Override
  public void close() {
    ExecutorService w = workers;
    if (w != null) w.shutdownNow();
    LlamaModel m = model;
    model = null;
    if (m != null) {
      try {
        synchronized (NATIVE_LIFECYCLE) {
          m.close();
        }
      } catch (RuntimeException e) {
        log.warn("closing the in-process engine failed", e);
      }
    }
    terminated.complete("closed");
  }

  private static void installLogger() {
    if (loggerInstalled.compareAndSet(false, true)) {
      LlamaModel.setLogger(LogFormat.TEXT, (level, msg) -> {
        switch (level) {
          case ERROR -> nativeLog.error(msg.strip());
          case WARN -> nativeLog.warn(msg.strip());
          default -> nativeLog.debug(msg.strip());
        }
      });
    }
  }
}
