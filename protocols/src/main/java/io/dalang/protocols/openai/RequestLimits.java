package io.dalang.protocols.openai;

/**
 * The caps on a generation request, the same at every edge (HTTP, gRPC, durable jobs): {@code
 * dalang.limits} in the configuration, documented in docs/api.md ("Input limits"). A request over any
 * of them is refused with {@code 400 invalid_request} naming the field and the cap, before it is queued.
 *
 * @param stopSequences stop strings per request (OpenAI's own cap is 4; more is refused at start)
 * @param stopBytes UTF-8 bytes of one stop string
 * @param messages messages of a chat request
 * @param promptBytes UTF-8 bytes of the prompt, or of all messages' contents together
 * @param nestingDepth JSON nesting depth of a request body
 * @param bodyBytes bytes of a request body
 * @param bytesPerToken the most UTF-8 bytes one token of a served model spans: prompt bytes / this is a
 *     lower bound of its tokens, so a prompt whose bound is over every slot's context surely does not fit
 * @param choices the largest {@code n}: choices generated for one request (each is a sequence of a slot)
 * @param tools function definitions in one request's {@code tools}
 * @param embeddingInputs inputs of one {@code /v1/embeddings} request (their bytes together count
 *     against {@code promptBytes})
 * @param rerankDocuments documents of one {@code /v1/rerank} request (with the query, against {@code promptBytes})
 */
public record RequestLimits(int stopSequences, int stopBytes, int messages, long promptBytes, int nestingDepth, long bodyBytes,
    int bytesPerToken, int choices, int tools, int embeddingInputs, int rerankDocuments) {

  public static final int OPENAI_STOP_SEQUENCES = 4;

  /** The shipped defaults (config/dalang.conf). */
  public static final RequestLimits DEFAULTS = new RequestLimits(4, 1024, 2048, 4L << 20, 64, 16L << 20, 128, 8, 128, 2048, 1000);

  public RequestLimits {
    if (stopSequences < 0 || stopSequences > OPENAI_STOP_SEQUENCES) {
      throw new IllegalArgumentException("dalang.limits.stop-sequences must be between 0 and " + OPENAI_STOP_SEQUENCES);
    }
    if (stopBytes < 1 || messages < 1 || promptBytes < 1 || nestingDepth < 4 || bodyBytes < 1024 || bytesPerToken < 1 || choices < 1 || tools < 1
        || embeddingInputs < 1 || rerankDocuments < 1) {
      throw new IllegalArgumentException("dalang.limits: every cap must be positive (nesting-depth at least 4, body-bytes at least 1024)");
    }
  }

  /** Caps without the embedding ones: those take their defaults. */
  public RequestLimits(int stopSequences, int stopBytes, int messages, long promptBytes, int nestingDepth, long bodyBytes,
      int bytesPerToken, int choices, int tools) {
    this(stopSequences, stopBytes, messages, promptBytes, nestingDepth, bodyBytes, bytesPerToken, choices, tools, 2048, 1000);
  }

  /** A lower bound of the tokens {@code bytes} of text take. */
  public int tokensAtLeast(long bytes) {
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE / 2, bytes / bytesPerToken));
  }
}
