package io.dalang.protocols.openai;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dalang.protocols.generation.TokenLogprob;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Log probabilities as OpenAI returns them: per token for chat, four parallel lists for text completions. */
public final class Logprobs {
  private Logprobs() {}

  /** A chat choice's {@code logprobs}: {@code {"content": [...], "refusal": null}}. */
  public record Chat(List<Token> content, Object refusal) {}

  /** One token of a chat answer, with its most likely alternatives. */
  public record Token(String token, double logprob, List<Integer> bytes, @JsonProperty("top_logprobs") List<Top> topLogprobs) {}

  /** An alternative at a token's position. */
  public record Top(String token, double logprob, List<Integer> bytes) {}

  /** A text completion choice's {@code logprobs}. */
  public record Text(List<String> tokens, @JsonProperty("token_logprobs") List<Double> tokenLogprobs,
      @JsonProperty("top_logprobs") List<Map<String, Double>> topLogprobs, @JsonProperty("text_offset") List<Integer> textOffset) {}

  /** Chat logprobs of {@code tokens}, each with at most {@code top} alternatives. */
  public static Chat chat(List<TokenLogprob> tokens, int top) {
    var out = new ArrayList<Token>(tokens.size());
    for (TokenLogprob t : tokens) {
      var alts = new ArrayList<Top>();
      for (var a : t.top()) {
        if (alts.size() >= top) break;
        alts.add(new Top(a.token(), a.logprob(), bytes(a.token())));
      }
      out.add(new Token(t.token(), t.logprob(), bytes(t.token()), alts));
    }
    return new Chat(out, null);
  }

  /** Text-completion logprobs of {@code tokens}, the first starting at {@code offset} characters into the choice's text. */
  public static Text text(List<TokenLogprob> tokens, int top, int offset) {
    var toks = new ArrayList<String>(tokens.size());
    var lps = new ArrayList<Double>(tokens.size());
    var tops = new ArrayList<Map<String, Double>>(tokens.size());
    var offsets = new ArrayList<Integer>(tokens.size());
    int at = offset;
    for (TokenLogprob t : tokens) {
      toks.add(t.token());
      lps.add(t.logprob());
      var m = new LinkedHashMap<String, Double>();
      for (var a : t.top()) {
        if (m.size() >= top) break;
        m.putIfAbsent(a.token(), a.logprob());
      }
      tops.add(m);
      offsets.add(at);
      at += t.token().length();
    }
    return new Text(toks, lps, tops, offsets);
  }

  private static List<Integer> bytes(String token) {
    byte[] b = token.getBytes(StandardCharsets.UTF_8);
    var out = new ArrayList<Integer>(b.length);
    for (byte x : b) out.add(x & 0xff);
    return out;
  }
}
