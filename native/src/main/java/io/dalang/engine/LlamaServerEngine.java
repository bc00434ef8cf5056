package io.dalang.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.files.PrivateFiles;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.ChatMessage;
import io.dalang.protocols.generation.EngineTimings;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.GenerationOptions;
import io.dalang.protocols.generation.TokenLogprob;
import io.dalang.protocols.generation.GenerationRequest;
import io.dalang.protocols.generation.RunTask;
import io.dalang.protocols.generation.SamplerSettings;
import io.dalang.protocols.generation.Usage;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * llama.cpp's {@code llama-server} as a child process, spoken to over its OpenAI-compatible streaming
 * endpoints on loopback. Chat requests go to {@code /v1/chat/completions} (the server applies the
 * model's chat template), text requests to {@code /v1/completions}. Timings come from the server's own
 * {@code timings} block. Cancelling a generation closes its connection, which stops the server's slot.
 */
public final class LlamaServerEngine implements Engine {
  private static final Logger log = LoggerFactory.getLogger(LlamaServerEngine.class);
  public static final String KIND = "llama-server";
  /** Child processes still running; a JVM exit (even one that skips orderly shutdown) takes them along. */
  private static final java.util.Set<Process> LIVE = java.util.concurrent.ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly), "llama-server-reaper"));
  }

  private final EngineConfig config;
  private final Path binary;
  private final EngineIdentity baseIdentity;
  private volatile Process process;
  private volatile URI base;
  private volatile Offload offload = Offload.NONE;
  private final CompletableFuture<String> terminated = new CompletableFuture<>();

  /**
   * Last on the command line, so that no {@code extra-args} undo them: loopback only, and no
   * {@code /slots} (it shows every slot's prompt). With {@link #apiKey}, another local user who finds the
   * port gets 401 from everything but {@code /health}.
   */
  static final List<String> LOCKED_DOWN = List.of("--host", "127.0.0.1", "--no-slots");
  /** llama-server reads its key from here: unlike the command line, a process's environment is private to its user. */
  static final String API_KEY_ENV = "LLAMA_API_KEY";
  /** A random key for this child alone; Dalang's requests send it. */
  private final String apiKey = newApiKey();

  /** This child's key (tests). */
  String apiKey() {
    return apiKey;
  }

  private static String newApiKey() {
    byte[] b = new byte[24];
    new java.security.SecureRandom().nextBytes(b);
    return java.util.HexFormat.of().formatHex(b);
  }

  /** @param identity version and digest of {@code binary}, from the engine provisioner */
  public LlamaServerEngine(EngineConfig config, Path binary, EngineIdentity identity) {
    this.config = config;
    this.binary = binary;
    this.baseIdentity = identity;
  }

  @Override
  public String kind() {
    return KIND;
  }

  @Override
  public EngineIdentity identity() {
    return baseIdentity;
  }

  @Override
  public int parallelism() {
    return config.parallel();
  }

  /**
   * llama-server renders tools through the model's chat template ({@code --jinja}, its default) and
   * parses the calls back, turns a response format into a grammar, returns logprobs and runs {@code n}
   * choices as sequences of its own.
   */
  @Override
  public java.util.Set<String> extensions() {
    return extensionsFor(config.task());
  }

  /** A generation engine's features; an embedding or rerank engine serves only its task. */
  static java.util.Set<String> extensionsFor(RunTask task) {
    return switch (task) {
      case GENERATE -> EXTENSIONS;
      case EMBED -> java.util.Set.of(GenerationOptions.EMBEDDINGS);
      case RERANK -> java.util.Set.of(GenerationOptions.RERANK);
    };
  }

  static final java.util.Set<String> EXTENSIONS = java.util.Set.of(GenerationOptions.TOOLS, GenerationOptions.GRAMMAR,
      GenerationOptions.LOGPROBS, GenerationOptions.CHOICES);

  @Override
  public OptionalLong processId() {
    Process p = process;
    return p == null ? OptionalLong.empty() : OptionalLong.of(p.pid());
  }

  @Override
  public String baseUrl() {
    URI b = base;
    return b == null ? "" : b.toString();
  }

  @Override
  public void start() {
    int port = freePort();
    base = URI.create("http://127.0.0.1:" + port);
    List<String> cmd = new ArrayList<>(List.of(binary.toString(), "-m", config.model().toString(),
        "--port", String.valueOf(port), "-c", String.valueOf(config.totalContext()), "-np",
        String.valueOf(config.parallel()), "-t", String.valueOf(config.threads()), "--metrics",
        "--no-webui"));
    cmd.addAll(taskArgs());
    cmd.addAll(config.gpu().llamaServerArgs());
    cmd.addAll(config.extraArgs());
    cmd.addAll(LOCKED_DOWN);
    Path logFile = config.workDir().resolve("llama-server.log");
    long logStart;
    try {
      PrivateFiles.createDirectories(config.workDir());
      PrivateFiles.createIfMissing(logFile); // appendTo would create it under the umask; the log may quote prompts
      logStart = java.nio.file.Files.size(logFile);
      var builder = new ProcessBuilder(cmd);
      builder.environment().putAll(config.gpu().environment());
      builder.environment().put(API_KEY_ENV, apiKey);
      process = builder.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile())).start();
      LIVE.add(process);
      log.info("llama-server started (pid {}, port {}{}), log {}", process.pid(), port, config.gpu().onGpu()
          ? ", " + config.gpu().backend().id() + " device " + config.gpu().deviceIndex() + ", " + config.gpu().gpuLayers() + " layers" : "", logFile);
    } catch (IOException e) {
      throw new EngineException("could not start " + binary + ": " + e.getMessage(), e);
    }
    Process p = process;
    p.onExit().thenAccept(x -> terminated.complete("llama-server (pid " + x.pid() + ") exited with code " + x.exitValue()));
    long deadline = System.nanoTime() + config.startTimeout().toNanos();
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) throw new EngineException("llama-server exited with code " + p.exitValue() + " during start; see " + config.workDir().resolve("llama-server.log"));
      if (checkHealth()) {
        offload = readOffload(logFile, logStart);
        return;
      }
      sleep(50);
    }
    close();
    throw new EngineException("llama-server was not healthy within " + config.startTimeout().toSeconds() + " s");
  }

  /**
   * An embedding or rerank engine: {@code --embeddings} or {@code --reranking}, last-token pooling for a model
   * that declares none ({@link PooledOutput}), and a batch as large as a sequence's context, since
   * llama.cpp embeds each input in one batch.
   */
  private List<String> taskArgs() {
    if (config.task() == RunTask.GENERATE) return List.of();
    var args = new ArrayList<String>();
    args.add(config.task() == RunTask.RERANK ? "--reranking" : "--embeddings");
    if (!PooledOutput.of(config.model(), config.task()).declared() && config.task() == RunTask.EMBED) {
      args.addAll(List.of("--pooling", "last"));
    }
    String batch = String.valueOf(config.contextPerSequence());
    args.addAll(List.of("-b", batch, "-ub", batch));
    return args;
  }

  /** What this start of llama-server logged about offloading (the log is appended to across restarts). */
  private Offload readOffload(Path logFile, long from) {
    try (var ch = java.nio.channels.FileChannel.open(logFile)) {
      long size = ch.size();
      int len = (int) Math.min(size - Math.min(from, size), 4 << 20);
      var buf = java.nio.ByteBuffer.allocate(len);
      ch.read(buf, size - len);
      Offload o = Offload.parse(new String(buf.array(), 0, buf.position(), java.nio.charset.StandardCharsets.UTF_8));
      if (config.gpu().onGpu() && o.layersOffloaded() < config.gpu().gpuLayers() && o.layersOffloaded() < o.layersTotal()) {
        log.warn("llama-server was asked to offload {} layers to {} but reports {}/{} ({})", config.gpu().gpuLayers(),
            config.gpu().backend().engineDeviceName(0), o.layersOffloaded(), o.layersTotal(), logFile);
      }
      return o;
    } catch (IOException | RuntimeException e) {
      log.warn("cannot read {} for the offload report: {}", logFile, e.getMessage());
      return Offload.NONE;
    }
  }

  @Override
  public Offload offload() {
    return offload;
  }

  @Override
  public boolean checkHealth() {
    URI b = base;
    Process p = process;
    if (b == null || p == null || !p.isAlive()) return false;
    try {
      var req = HttpRequest.newBuilder(b.resolve("/health")).timeout(Duration.ofSeconds(2)).GET().build();
      return EngineHttp.CLIENT.send(req, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Override
  public Generation generate(GenerationRequest request, Consumer<GenerationEvent> sink) {
    var relay = new SseRelay(SseRelay.Server.LLAMA_SERVER, request, sink, terminated);
    URI b = base;
    if (b == null) {
      relay.fail(ErrorCode.ENGINE_UNAVAILABLE, "llama-server is not running");
      return () -> {};
    }
    if (request.embedding() != null) return LlamaServerEmbedding.start(b, apiKey, request, sink);
    String path = request.isChat() ? "/v1/chat/completions" : "/v1/completions";
    var call = LoopbackSseCall.start(b, path, body(request), (int) EngineHttp.CONNECT_TIMEOUT.toMillis(), relay.responseHandler(), apiKey);
    return new Generation() {
      @Override
      public void cancel() {
        relay.cancel();
        call.close();
      }

      @Override
      public void abort(String why) {
        relay.drop(why);
        call.close();
      }
    };
  }

  /**
   * llama-server reads {@code tool_choice} only as {@code "auto"}, {@code "none"} or {@code "required"} and
   * takes any other value as {@code "auto"} (logging a warning), which would drop a named function
   * silently. Calling that function is the same as {@code "required"} over the tools narrowed to it.
   */
  static void namedChoiceAsRequired(ObjectNode body) {
    var choice = body.get("tool_choice");
    if (choice == null || !choice.isObject()) return;
    String name = choice.path("function").path("name").asText();
    var tools = body.path("tools");
    var only = body.putArray("tools");
    // validation made sure the name is one of the tools
    for (var tool : tools) {
      if (name.equals(tool.path("function").path("name").asText())) only.add(tool);
    }
    body.put("tool_choice", "required");
  }

  static byte[] body(GenerationRequest r) {
    ObjectNode o = EngineHttp.JSON.createObjectNode();
    GenerationOptions opt = r.options();
    try {
      if (r.isChat()) {
        var msgs = o.putArray("messages");
        for (ChatMessage m : r.messages()) {
          var mo = msgs.addObject().put("role", m.role()).put("content", m.content());
          if (m.toolCalls() != null) mo.set("tool_calls", EngineHttp.JSON.readTree(m.toolCalls()));
          if (m.toolCallId() != null) mo.put("tool_call_id", m.toolCallId());
          if (m.name() != null) mo.put("name", m.name());
        }
        if (opt.tools() != null) o.set("tools", EngineHttp.JSON.readTree(opt.tools()));
        if (opt.toolChoice() != null) o.set("tool_choice", EngineHttp.JSON.readTree(opt.toolChoice()));
        namedChoiceAsRequired(o);
        if (opt.parallelToolCalls() != null) o.put("parallel_tool_calls", opt.parallelToolCalls());
        if (opt.responseFormat() != null) o.set("response_format", EngineHttp.JSON.readTree(opt.responseFormat()));
        if (opt.logprobs()) o.put("logprobs", true).put("top_logprobs", opt.topLogprobs());
      } else {
        o.put("prompt", r.prompt());
        if (opt.logprobs()) o.put("logprobs", Math.max(1, opt.topLogprobs())); // llama-server reads it as n_probs
      }
    } catch (IOException e) {
      throw new IllegalStateException("validated JSON did not parse", e);
    }
    o.put("stream", true);
    o.putObject("stream_options").put("include_usage", true);
    o.put("max_tokens", r.maxTokens());
    if (opt.choices() > 1) o.put("n", opt.choices());
    o.put("temperature", r.temperature());
    o.put("top_p", r.topP());
    o.put("top_k", SamplerSettings.TOP_K);
    o.put("min_p", SamplerSettings.MIN_P);
    o.put("repeat_penalty", SamplerSettings.REPEAT_PENALTY);
    if (opt.presencePenalty() != 0) o.put("presence_penalty", opt.presencePenalty());
    if (opt.frequencyPenalty() != 0) o.put("frequency_penalty", opt.frequencyPenalty());
    if (!opt.logitBias().isEmpty()) {
      var bias = o.putArray("logit_bias");
      opt.logitBias().entrySet().stream().sorted(java.util.Map.Entry.comparingByKey())
          .forEach(e -> bias.addArray().add(e.getKey()).add(e.getValue()));
    }
    if (r.seed() != null) o.put("seed", r.seed());
    if (!r.stop().isEmpty()) {
      var stop = o.putArray("stop");
      r.stop().forEach(stop::add);
    }
    try {
      return EngineHttp.JSON.writeValueAsBytes(o);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Reads llama-server's SSE lines and emits canonical events; terminal exactly once. */
  static final class SseRelay implements Flow.Subscriber<String> {
    /** How long a lost connection waits for the server's exit to be known before it is reported. */
    static final Duration EXIT_GRACE = Duration.ofSeconds(1);
    private final GenerationRequest request;
    private final Consumer<GenerationEvent> sink;
    /** Completes when the server process exited. */
    private final CompletableFuture<String> exited;
    private final AtomicBoolean done = new AtomicBoolean();
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private final List<String> nonDataLines = new ArrayList<>();
    private volatile Flow.Subscription subscription;
    private boolean started;
    private int tokens;
    private String finishReason;
    /** Each choice's finish reason, as it arrives. */
    private final String[] finishReasons;
    private Usage usage;
    private EngineTimings timings = EngineTimings.NONE;
    private final Server server;

    /**
     * The server at the other end of the stream, as the relay's events tell of it.
     *
     * @param name how failure messages name it ("llama-server", "fallback endpoint NAME")
     * @param kind the engine kind {@code Started} reports
     * @param errorEvent the message of a run failed by an {@code error} event in the stream, from the event's own text
     */
    record Server(String name, String kind, UnaryOperator<String> errorEvent) {
      static final Server LLAMA_SERVER = new Server("llama-server", KIND, text -> "llama-server error: " + text);
    }

    SseRelay(Server server, GenerationRequest request, Consumer<GenerationEvent> sink, CompletableFuture<String> exited) {
      this.server = server;
      this.request = request;
      this.sink = sink;
      this.exited = exited;
      this.finishReasons = new String[request.options().choices()];
    }

    /**
     * Reads the response of a {@link LoopbackSseCall}: a status other than 200 fails the run with the
     * server's error text, a body that ends without {@code [DONE]} or a finish reason fails it, a lost
     * connection is the engine's failure unless the run was cancelled.
     */
    LoopbackSseCall.Handler responseHandler() {
      return new LoopbackSseCall.Handler() {
        private int status;

        @Override
        public void status(int code) {
          status = code;
        }

        @Override
        public void line(String line) {
          onNext(line);
        }

        @Override
        public void ended() {
          if (cancelled.get()) fail(ErrorCode.CANCELLED, "generation cancelled");
          // A 400 is the request's fault (n over the slot's sequences, a prompt over its context, a schema
          // llama.cpp cannot turn into a grammar): the client's to fix, and no strike against the engine.
          else if (status == 400) fail(ErrorCode.INVALID_REQUEST, server.name() + " refused the request" + errorText());
          else if (status != 200) fail(ErrorCode.ENGINE_FAILED, server.name() + " answered HTTP " + status + errorText());
          else if (!started) fail(ErrorCode.ENGINE_FAILED, server.name() + " ended the stream before its first event" + errorText());
          else finishIfOpen();
        }

        @Override
        public void failed(IOException e) {
          connectionLost(e);
        }
      };
    }

    boolean isCancelled() {
      return cancelled.get();
    }

    /** Whether a data event arrived: a remote's 200 without one is a failure, not an empty answer. */
    boolean started() {
      return started;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      if (cancelled.get()) s.cancel();
      else s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(String line) {
      if (done.get()) return;
      if (!line.startsWith("data: ")) {
        if (!line.isBlank() && nonDataLines.size() < 20) nonDataLines.add(line);
        return;
      }
      String data = line.substring(6);
      if (data.equals("[DONE]")) {
        finishIfOpen();
        return;
      }
      try {
        JsonNode chunk = EngineHttp.JSON.readTree(data);
        if (chunk.has("error")) {
          fail(ErrorCode.ENGINE_FAILED, server.errorEvent().apply(chunk.path("error").path("message").asText()));
          return;
        }
        if (!started) {
          started = true;
          sink.accept(new GenerationEvent.Started(request.runId(), server.kind(), null, 0));
        }
        for (JsonNode choice : chunk.path("choices")) choice(choice);
        JsonNode u = chunk.path("usage");
        if (u.isObject()) {
          // With n > 1 each choice's sequence reports its own usage: the prompt is the same, the completions add up.
          int completion = u.path("completion_tokens").asInt() + (usage == null ? 0 : usage.completionTokens());
          usage = new Usage(Math.max(u.path("prompt_tokens").asInt(), usage == null ? 0 : usage.promptTokens()), completion);
        }
        JsonNode t = chunk.path("timings");
        if (t.isObject()) timings = new EngineTimings(t.path("prompt_ms").asDouble(), t.path("predicted_ms").asDouble(), true);
      } catch (IOException e) {
        fail(ErrorCode.ENGINE_FAILED, server.name() + " sent an unreadable chunk");
      }
    }

    /** One entry of a chunk's {@code choices}: text, tool-call pieces, logprobs, and maybe its finish reason. */
    private void choice(JsonNode choice) {
      int index = choice.path("index").asInt(0);
      if (index < 0 || index >= finishReasons.length) return; // not a choice this request asked for
      JsonNode delta = choice.path("delta");
      JsonNode text = request.isChat() ? delta.path("content") : choice.path("text");
      List<TokenLogprob> logprobs = request.options().logprobs() ? logprobs(choice.path("logprobs")) : List.of();
      if ((text.isTextual() && !text.textValue().isEmpty()) || !logprobs.isEmpty()) {
        tokens++;
        sink.accept(new GenerationEvent.Token(request.runId(), text.isTextual() ? text.textValue() : "", index, logprobs));
      }
      for (JsonNode call : delta.path("tool_calls")) {
        JsonNode f = call.path("function");
        sink.accept(new GenerationEvent.ToolCallDelta(request.runId(), index, call.path("index").asInt(0), textOrNull(call.path("id")),
            textOrNull(f.path("name")), f.path("arguments").isTextual() ? f.get("arguments").textValue() : ""));
      }
      if (choice.path("finish_reason").isTextual()) {
        finishReasons[index] = choice.get("finish_reason").textValue();
        if (index == 0) finishReason = finishReasons[0];
      }
    }

    private static String textOrNull(JsonNode n) {
      return n.isTextual() ? n.textValue() : null;
    }

    /** llama-server's {@code logprobs.content} entries (chat and completions alike) as canonical logprobs. */
    private static List<TokenLogprob> logprobs(JsonNode lp) {
      JsonNode content = lp.path("content");
      if (!content.isArray() || content.isEmpty()) return List.of();
      var out = new ArrayList<TokenLogprob>(content.size());
      for (JsonNode t : content) {
        var top = new ArrayList<TokenLogprob.Alternative>();
        for (JsonNode a : t.path("top_logprobs")) top.add(new TokenLogprob.Alternative(a.path("token").asText(), a.path("logprob").asDouble()));
        out.add(new TokenLogprob(t.path("token").asText(), t.path("logprob").asDouble(), top));
      }
      return out;
    }

    @Override
    public void onError(Throwable t) {
      connectionLost(t);
    }

    /**
     * A killed server's connections drop before the JVM has reaped the process, so the run's failure
     * waits (at most {@link #EXIT_GRACE}) to say which it was: the engine's death, or only its
     * connection. By then {@link #terminated()} is complete if the server died.
     */
    void connectionLost(Throwable t) {
      if (cancelled.get()) {
        fail(ErrorCode.CANCELLED, "generation cancelled");
        return;
      }
      int seen = tokens;
      exited.copy().completeOnTimeout(null, EXIT_GRACE.toMillis(), TimeUnit.MILLISECONDS).whenComplete((exit, err) ->
          fail(ErrorCode.ENGINE_FAILED, exit != null ? server.name() + " died after " + seen + " tokens: " + exit
              : server.name() + " connection lost after " + seen + " tokens: " + rootMessage(t)));
    }

    @Override
    public void onComplete() {
      // The response status is checked in the send future, which completes after this.
    }

    void finishIfOpen() {
      if (cancelled.get()) {
        fail(ErrorCode.CANCELLED, "generation cancelled");
        return;
      }
      if (!started) return; // an error status is reported by the send future
      for (int i = 0; i < finishReasons.length; i++) {
        if (finishReasons[i] == null) {
          fail(ErrorCode.ENGINE_FAILED, server.name() + " ended the stream without a finish reason for choice " + i + " after " + tokens + " tokens");
          return;
        }
      }
      if (done.compareAndSet(false, true)) {
        Usage u = usage != null ? usage : new Usage(0, tokens);
        sink.accept(new GenerationEvent.End(request.runId(), finishReason, u, timings, List.of(finishReasons)));
        Flow.Subscription s = subscription;
        if (s != null) s.cancel();
      }
    }

    void fail(ErrorCode code, String message) {
      if (done.compareAndSet(false, true)) {
        sink.accept(new GenerationEvent.Failed(request.runId(), DalangError.of(code, message), tokens, timings));
      }
    }

    String errorText() {
      return nonDataLines.isEmpty() ? "" : ": " + String.join(" ", nonDataLines);
    }

    /** Closes the connection to the server mid-stream and reports it lost (fault injection). */
    void drop(String why) {
      Flow.Subscription s = subscription;
      if (s != null) s.cancel();
      fail(ErrorCode.ENGINE_FAILED, server.name() + " connection dropped after " + tokens + " tokens: " + why);
    }

    void cancel() {
      cancelled.set(true);
      Flow.Subscription s = subscription;
      if (s != null) s.cancel();
      fail(ErrorCode.CANCELLED, "generation cancelled");
    }
  }

  @Override
  public CompletionStage<String> terminated() {
    return terminated;
  }

  @Override
  public void close() {
    Process p = process;
    if (p == null) return;
    LIVE.remove(p);
    p.destroy();
    try {
      if (!p.waitFor(5, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 0, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new EngineException("no free loopback port for llama-server", e);
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EngineException("interrupted while starting llama-server");
    }
  }

  static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null) c = c.getCause();
    return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
  }
}
