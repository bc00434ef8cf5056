package io.dalang.runtime.http;

import io.dalang.protocols.error.ErrorBody;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.Usage;
import io.dalang.protocols.openai.ApiUsage;
import io.dalang.protocols.openai.ChatCompletion;
import io.dalang.protocols.openai.ChatCompletionChunk;
import io.dalang.protocols.openai.TextCompletion;
import java.util.List;
import org.apache.pekko.util.ByteString;

/**
 * Renders Dalang's canonical events in OpenAI's wire format: SSE chunks for streams (a role chunk on
 * Started, a content chunk per token, a final chunk with {@code finish_reason} and {@code usage}, then
 * {@code data: [DONE]}), whole objects otherwise. A failure after the stream began is sent as an SSE
 * {@code error} object, which the OpenAI clients raise as an API error.
 */
final class OpenAiRendering {
  static final String FINGERPRINT = "dalang";
  static final ByteString DONE = ByteString.fromString("data: [DONE]\n\n");

  private final boolean chat;
  private final String id;
  private final String model;
  private final long created;

  OpenAiRendering(boolean chat, String runId, String model) {
    this(chat, runId, model, System.currentTimeMillis() / 1000);
  }

  /** @param created epoch seconds: a stored result (a job's) renders the same every time */
  OpenAiRendering(boolean chat, String runId, String model, long created) {
    this.chat = chat;
    this.id = (chat ? "chatcmpl-" : "cmpl-") + runId;
    this.model = model;
    this.created = created;
  }

  /** The SSE frames for one event; the terminal one is followed by {@code [DONE]}. */
  List<ByteString> sse(GenerationEvent e) {
    if (e instanceof GenerationEvent.Started) {
      return chat ? List.of(frame(chatChunk(new ChatCompletionChunk.Delta("assistant", ""), null, null))) : List.of();
    }
    if (e instanceof GenerationEvent.Token t) {
      return List.of(frame(chat
          ? chatChunk(new ChatCompletionChunk.Delta(null, t.text()), null, null)
          : textChunk(t.text(), null, null)));
    }
    if (e instanceof GenerationEvent.End end) {
      ApiUsage usage = ApiUsage.of(end.usage());
      return List.of(frame(chat
          ? chatChunk(new ChatCompletionChunk.Delta(null, null), end.finishReason(), usage)
          : textChunk("", end.finishReason(), usage)), DONE);
    }
    var f = (GenerationEvent.Failed) e;
    return List.of(frame(ErrorBody.of(f.error())), DONE);
  }

  private ChatCompletionChunk chatChunk(ChatCompletionChunk.Delta delta, String finish, ApiUsage usage) {
    return new ChatCompletionChunk(id, "chat.completion.chunk", created, model,
        List.of(new ChatCompletionChunk.Choice(0, delta, null, finish)), usage, FINGERPRINT);
  }

  private TextCompletion textChunk(String text, String finish, ApiUsage usage) {
    return new TextCompletion(id, "text_completion", created, model,
        List.of(new TextCompletion.Choice(text, 0, null, finish)), usage, FINGERPRINT);
  }

  private static ByteString frame(Object o) {
    return ByteString.fromString("data: ").concat(ByteString.fromArray(Json.bytes(o))).concat(ByteString.fromString("\n\n"));
  }

  /** The whole (non-streaming) answer from the collected text and the End event. */
  Object whole(String text, GenerationEvent.End end) {
    Usage u = end.usage();
    if (chat) {
      return new ChatCompletion(id, "chat.completion", created, model,
          List.of(new ChatCompletion.Choice(0, new ChatCompletion.AssistantMessage("assistant", text), null, end.finishReason())),
          ApiUsage.of(u), FINGERPRINT);
    }
    return new TextCompletion(id, "text_completion", created, model,
        List.of(new TextCompletion.Choice(text, 0, null, end.finishReason())), ApiUsage.of(u), FINGERPRINT);
  }
}
