package io.dalang.runtime.http;

import io.dalang.protocols.error.ErrorBody;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.GenerationOptions;
import io.dalang.protocols.generation.Usage;
import io.dalang.protocols.openai.ApiUsage;
import io.dalang.protocols.openai.ChatCompletion;
import io.dalang.protocols.openai.ChatCompletionChunk;
import io.dalang.protocols.openai.Logprobs;
import io.dalang.protocols.openai.TextCompletion;
import io.dalang.protocols.openai.ToolCalls;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.apache.pekko.util.ByteString;

/**
 * Renders Dalang's canonical events in OpenAI's wire format: SSE chunks for streams, whole objects
 * otherwise. A chat stream is a role chunk per choice on Started, a chunk per token (its {@code logprobs}
 * when asked) or tool-call piece, a chunk per choice with its {@code finish_reason}, then, when the
 * request set {@code stream_options.include_usage}, a chunk with empty {@code choices} and the
 * {@code usage}, and {@code data: [DONE]}, as OpenAI streams. A failure after the stream began is sent
 * as an SSE {@code error} object, which the OpenAI clients raise as an API error.
 *
 * <p>One instance renders one response, in order (it keeps each choice's text offset for the
 * completions API's logprobs). Public for the other OpenAI-compatible servers Dalang ships
 * ({@code dalang sim engine}), which answer in exactly the same format.
 */
public final class OpenAiRendering {
  static final String FINGERPRINT = "dalang";
  static final ByteString DONE = ByteString.fromString("data: [DONE]\n\n");

  private final boolean chat;
  private final String id;
  /** Read as each chunk is rendered: a run that fell back to a substitute model says so from its first chunk. */
  private final java.util.function.Supplier<String> model;
  private final long created;
  private final GenerationOptions options;
  /** The request's {@code stream_options.include_usage}: a last chunk with empty choices carries usage. */
  private final boolean includeUsage;
  private final StreamUsage usage;
  /** Characters of each choice's text rendered so far (the completions API's {@code text_offset}). */
  private final int[] offsets;

  /**
   * When a stream carries {@code usage}: {@code ASKED} only in the chunk {@code include_usage} asks for;
   * {@code ALWAYS} also in each choice's final chunk, as Dalang did before it honoured
   * {@code stream_options} ({@code dalang.http.stream-usage = always}, for clients written against that).
   */
  public enum StreamUsage {
    ASKED, ALWAYS
  }

  OpenAiRendering(boolean chat, String runId, String model) {
    this(chat, runId, () -> model, System.currentTimeMillis() / 1000, GenerationOptions.NONE, false, StreamUsage.ASKED);
  }

  public OpenAiRendering(boolean chat, String runId, java.util.function.Supplier<String> model, GenerationOptions options, boolean includeUsage,
      StreamUsage usage) {
    this(chat, runId, model, System.currentTimeMillis() / 1000, options, includeUsage, usage);
  }

  /** @param created epoch seconds: a stored result (a job's) renders the same every time */
  OpenAiRendering(boolean chat, String runId, String model, long created) {
    this(chat, runId, () -> model, created, GenerationOptions.NONE, false, StreamUsage.ASKED);
  }

  private OpenAiRendering(boolean chat, String runId, java.util.function.Supplier<String> model, long created, GenerationOptions options, boolean includeUsage,
      StreamUsage usage) {
    this.chat = chat;
    this.id = (chat ? "chatcmpl-" : "cmpl-") + runId;
    this.model = model;
    this.created = created;
    this.options = options;
    this.includeUsage = includeUsage;
    this.usage = usage;
    this.offsets = new int[options.choices()];
  }

  /** The SSE frames for one event; the terminal one is followed by {@code [DONE]}. */
  public List<ByteString> sse(GenerationEvent e) {
    if (e instanceof GenerationEvent.Started) {
      if (!chat) return List.of();
      var out = new ArrayList<ByteString>(options.choices());
      for (int i = 0; i < options.choices(); i++) out.add(frame(chatChunk(i, new ChatCompletionChunk.Delta("assistant", ""), null, null, null)));
      return out;
    }
    if (e instanceof GenerationEvent.Token t) {
      int choice = choiceOf(t.choice());
      Object lp = null;
      if (options.logprobs() && !t.logprobs().isEmpty()) {
        lp = chat ? Logprobs.chat(t.logprobs(), options.topLogprobs()) : Logprobs.text(t.logprobs(), options.topLogprobs(), offsets[choice]);
      }
      offsets[choice] += t.text().length();
      return List.of(frame(chat
          ? chatChunk(choice, new ChatCompletionChunk.Delta(null, t.text()), lp, null, null)
          : textChunk(choice, t.text(), lp, null, null)));
    }
    if (e instanceof GenerationEvent.ToolCallDelta d) {
      if (!chat) return List.of();
      var piece = new ToolCalls.Piece(d.index(), d.id(), d.id() != null ? "function" : null, new ToolCalls.FunctionPiece(d.name(), d.arguments()));
      return List.of(frame(chatChunk(choiceOf(d.choice()), new ChatCompletionChunk.Delta(null, null, List.of(piece)), null, null, null)));
    }
    if (e instanceof GenerationEvent.End end) {
      ApiUsage u = ApiUsage.of(end.usage());
      var out = new ArrayList<ByteString>(end.finishReasons().size() + 2);
      for (int i = 0; i < end.finishReasons().size(); i++) {
        ApiUsage inFinal = usage == StreamUsage.ALWAYS && i == end.finishReasons().size() - 1 ? u : null;
        out.add(frame(chat
            ? chatChunk(i, new ChatCompletionChunk.Delta(null, null), null, end.finishReasons().get(i), inFinal)
            : textChunk(i, "", null, end.finishReasons().get(i), inFinal)));
      }
      if (includeUsage) {
        out.add(frame(chat
            ? new ChatCompletionChunk(id, "chat.completion.chunk", created, model.get(), List.of(), u, FINGERPRINT)
            : new TextCompletion(id, "text_completion", created, model.get(), List.of(), u, FINGERPRINT)));
      }
      out.add(DONE);
      return out;
    }
    var f = (GenerationEvent.Failed) e;
    return List.of(frame(ErrorBody.of(f.error())), DONE);
  }

  private int choiceOf(int choice) {
    return choice >= 0 && choice < offsets.length ? choice : 0;
  }

  private ChatCompletionChunk chatChunk(int index, ChatCompletionChunk.Delta delta, Object logprobs, String finish, ApiUsage usage) {
    return new ChatCompletionChunk(id, "chat.completion.chunk", created, model.get(),
        List.of(new ChatCompletionChunk.Choice(index, delta, logprobs, finish)), usage, FINGERPRINT);
  }

  private TextCompletion textChunk(int index, String text, Object logprobs, String finish, ApiUsage usage) {
    return new TextCompletion(id, "text_completion", created, model.get(),
        List.of(new TextCompletion.Choice(text, index, logprobs, finish)), usage, FINGERPRINT);
  }

  private static ByteString frame(Object o) {
    return ByteString.fromString("data: ").concat(ByteString.fromArray(Json.bytes(o))).concat(ByteString.fromString("\n\n"));
  }

  /** The whole (non-streaming) answer from the collected text and the End event: one choice. */
  Object whole(String text, GenerationEvent.End end) {
    var c = new Collected(1);
    c.text[0].append(text);
    return whole(c, end);
  }

  /** Everything a run's events say about each choice, collected for a whole (non-streaming) answer. */
  public static final class Collected {
    final StringBuilder[] text;
    final List<List<io.dalang.protocols.generation.TokenLogprob>> logprobs;
    final List<TreeMap<Integer, String[]>> calls;

    Collected(int choices) {
      text = new StringBuilder[choices];
      logprobs = new ArrayList<>(choices);
      calls = new ArrayList<>(choices);
      for (int i = 0; i < choices; i++) {
        text[i] = new StringBuilder();
        logprobs.add(new ArrayList<>());
        calls.add(new TreeMap<>());
      }
    }

    /** Adds a token or tool-call piece; other events are not the answer's content. */
    public void add(GenerationEvent e) {
      if (e instanceof GenerationEvent.Token t && t.choice() >= 0 && t.choice() < text.length) {
        text[t.choice()].append(t.text());
        logprobs.get(t.choice()).addAll(t.logprobs());
      } else if (e instanceof GenerationEvent.ToolCallDelta d && d.choice() >= 0 && d.choice() < text.length) {
        String[] call = calls.get(d.choice()).computeIfAbsent(d.index(), i -> new String[] {null, null, ""});
        if (d.id() != null) call[0] = d.id();
        if (d.name() != null) call[1] = d.name();
        call[2] = call[2] + d.arguments();
      }
    }
  }

  /** A whole response with a fresh collector for this request's choices. */
  public Collected collector() {
    return new Collected(options.choices());
  }

  /** The whole (non-streaming) answer of {@code c}. */
  public Object whole(Collected c, GenerationEvent.End end) {
    Usage u = end.usage();
    int n = Math.min(c.text.length, Math.max(1, end.finishReasons().size()));
    if (chat) {
      var choices = new ArrayList<ChatCompletion.Choice>(n);
      for (int i = 0; i < n; i++) {
        var calls = new ArrayList<ToolCalls.Call>();
        int k = 0;
        for (String[] call : c.calls.get(i).values()) {
          String callId = call[0] != null ? call[0] : "call_" + i + "_" + k;
          calls.add(new ToolCalls.Call(callId, "function", new ToolCalls.Function(call[1], call[2])));
          k++;
        }
        String content = calls.isEmpty() || c.text[i].length() > 0 ? c.text[i].toString() : null;
        Object lp = options.logprobs() ? Logprobs.chat(c.logprobs.get(i), options.topLogprobs()) : null;
        choices.add(new ChatCompletion.Choice(i, new ChatCompletion.AssistantMessage("assistant", content, calls.isEmpty() ? null : calls), lp,
            finish(end, i)));
      }
      return new ChatCompletion(id, "chat.completion", created, model.get(), choices, ApiUsage.of(u), FINGERPRINT);
    }
    var choices = new ArrayList<TextCompletion.Choice>(n);
    for (int i = 0; i < n; i++) {
      Object lp = options.logprobs() ? Logprobs.text(c.logprobs.get(i), options.topLogprobs(), 0) : null;
      choices.add(new TextCompletion.Choice(c.text[i].toString(), i, lp, finish(end, i)));
    }
    return new TextCompletion(id, "text_completion", created, model.get(), choices, ApiUsage.of(u), FINGERPRINT);
  }

  private static String finish(GenerationEvent.End end, int i) {
    return i < end.finishReasons().size() ? end.finishReasons().get(i) : end.finishReason();
  }
}
