package io.dalang.gguf;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Generates a tiny llama-architecture model with seeded random weights, so that Dalang and its tests
 * run a real llama.cpp engine where no weights can be downloaded. The same spec gives a byte-identical
 * file. The vocabulary is SentencePiece-style: control tokens, the 256 byte tokens, then English word
 * pieces with every prefix a merge needs; output rows of everything but whole words are zero, so the
 * random model writes readable (if meaningless) words.
 */
public final class TinyModel {

  /** Shape and seed of a generated model. */
  public record Spec(long seed, int layers, int width, int heads, int kvHeads, int feedForward, int contextLength, GgmlType type) {
    public Spec {
      if (width % heads != 0) throw new IllegalArgumentException("width must be a multiple of heads");
      if (heads % kvHeads != 0) throw new IllegalArgumentException("heads must be a multiple of kvHeads");
    }
  }

  /** The demo model: 2 layers, 64 wide, F32; about 1,000 tokens/s on one CPU core. */
  public static final Spec DEMO = new Spec(42, 2, 64, 4, 4, 128, 8192, GgmlType.F32);

  /**
   * ChatML, as before, for plain chats (every message {@code <|im_start|>role\ncontent<|im_end|>}); with tools,
   * Qwen 2.5's way of offering them in the system turn and of writing calls ({@code <tool_call>} JSON) and
   * their answers ({@code <tool_response>}), so that llama.cpp's template analysis finds how this model
   * calls tools and can force a call by grammar ({@code tool_choice: required}).
   */
  static final String CHAT_TEMPLATE =
      "{%- if tools %}{{- '<|im_start|>system\\n' }}{%- if messages[0]['role'] == 'system' %}{{- messages[0]['content"
          + "'] + '\\n\\n' }}{%- endif %}{{- '# Tools\\n\\nYou may call one or more functions to assist with the user query"
          + ".\\n\\nYou are provided with function signatures within <tools></tools> XML tags:\\n<tools>' }}{%- for tool in"
          + " tools %}{{- '\\n' }}{{- tool | tojson }}{%- endfor %}{{- '\\n</tools>\\n\\nFor each function call, return a j"
          + "son object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>{\"name\""
          + ": <function-name>, \"arguments\": <args-json-object>}</tool_call><|im_end|>\\n' }}{%- endif %}{%- for messa"
          + "ge in messages %}{%- if tools and loop.first and message['role'] == 'system' %}{%- elif message['role'] == 'as"
          + "sistant' and message.tool_calls %}{{- '<|im_start|>assistant' }}{%- if message['content'] %}{{- '\\n' + messag"
          + "e['content'] }}{%- endif %}{%- for tool_call in message.tool_calls %}{%- if tool_call.function is defined %}{%"
          + "- set tool_call = tool_call.function %}{%- endif %}{{- '\\n<tool_call>{\"name\": \"' + tool_call.name + '\""
          + ", \"arguments\": ' }}{{- tool_call.arguments | tojson }}{{- '}</tool_call>' }}{%- endfor %}{{- '<|im_end|>\\n"
          + "' }}{%- elif message['role'] == 'tool' %}{%- if loop.first or messages[loop.index0 - 1]['role'] != 'tool' %}{{"
          + "- '<|im_start|>user' }}{%- endif %}{{- '\\n<tool_response>\\n' + message['content'] + '\\n</tool_response>' }}"
          + "{%- if loop.last or messages[loop.index0 + 1]['role'] != 'tool' %}{{- '<|im_end|>\\n' }}{%- endif %}{%- else %"
          + "}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{%- endif %}{%- en"
          + "dfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

  /** The chat template's tool-call markers, the last tokens of the vocabulary. */
  static final List<String> TOOL_MARKERS = List.of("<tool_call>", "</tool_call>");

  /** The token id of {@code <tool_call>} in every tiny model: a client's {@code logit_bias} on it makes the model call a tool. */
  public static int toolCallToken() {
    return 3 + 256 + pieces().size();
  }

  /** The word pieces, in vocabulary order: the word-start mark, the letters, then every prefix of every word. */
  private static LinkedHashSet<String> pieces() {
    var pieces = new LinkedHashSet<String>();
    pieces.add("\u2581");
    for (char c = 'a'; c <= 'z'; c++) pieces.add(String.valueOf(c));
    for (String w : WORDS) {
      String piece = "\u2581" + w;
      for (int i = 2; i <= piece.length(); i++) pieces.add(piece.substring(0, i));
    }
    return pieces;
  }

  static final String[] WORDS = (
      "the of and to a in is it that for on was with he as you at be this have from or one had by "
          + "word but not what all were we when your can said there use an each which she do how their "
          + "if will up other about out many then them these so some her would make like him into time "
          + "has look two more write go see number no way could people my than first water been call who "
          + "oil its now find long down day did get come made may part over new sound take only little "
          + "work know place year live me back give most very after thing our just name good sentence man "
          + "think say great where help through much before line right too mean old any same tell boy "
          + "follow came want show also around form three small set put end does another well large must "
          + "big even such because turn here why ask went men read need land different home us move try "
          + "kind hand picture again change off play spell air away animal house point page letter mother "
          + "answer found study still learn should world high every near add food between own below country "
          + "plant last school father keep tree never start city earth eye light thought head under story "
          + "saw left few while along might close something seem next hard open example begin life always "
          + "those both paper together got group often run important until children side feet car mile night "
          + "walk white sea began grow took river four carry state once book hear stop without second later "
          + "miss idea enough eat face watch far real almost let above girl sometimes mountain cut young talk "
          + "soon list song being leave family model token engine cluster actor node slot tenant queue").split(" ");

  private TinyModel() {}

  /** Writes the model described by {@code spec} to {@code target} (atomically). */
  public static void write(Spec spec, Path target) throws IOException {
    List<String> tokens = new ArrayList<>();
    List<Integer> types = new ArrayList<>();
    List<Boolean> isWord = new ArrayList<>();
    addToken(tokens, types, isWord, "<unk>", 2, false);
    addToken(tokens, types, isWord, "<s>", 3, false);
    addToken(tokens, types, isWord, "</s>", 3, false);
    for (int b = 0; b < 256; b++) addToken(tokens, types, isWord, String.format("<0x%02X>", b), 6, false);
    var words = new LinkedHashSet<String>();
    for (String w : WORDS) words.add("\u2581" + w);
    for (String p : pieces()) addToken(tokens, types, isWord, p, 1, words.contains(p));
    int baseVocab = tokens.size();
    // The tool-call markers of the chat template as tokens of their own, as real tool-calling models have
    // them (user-defined: written and read as text). Their output rows are zero like the byte tokens', so
    // the model never picks one on its own; a request can favour one with logit_bias (TOOL_CALL_TOKEN).
    for (String marker : TOOL_MARKERS) addToken(tokens, types, isWord, marker, 4, false);
    int vocab = tokens.size();
    float[] scores = new float[vocab];
    // Longer pieces win merges: a piece's score grows with its length.
    for (int i = 259; i < vocab; i++) scores[i] = tokens.get(i).length() * 10f - i * 0.001f;
    int[] tokenTypes = types.stream().mapToInt(Integer::intValue).toArray();

    int d = spec.width();
    int headDim = d / spec.heads();
    int kv = headDim * spec.kvHeads();
    int ff = spec.feedForward();
    var rnd = new SplittableRandom(spec.seed());
    var w = new GgufWriter()
        .string("general.architecture", "llama")
        .string("general.name", "dalang-tiny-" + spec.layers() + "x" + d + "-seed" + spec.seed())
        .u32("general.file_type", spec.type() == GgmlType.F32 ? 0 : 1)
        .u32("general.alignment", GgufWriter.ALIGNMENT)
        .u32("llama.context_length", spec.contextLength())
        .u32("llama.embedding_length", d)
        .u32("llama.block_count", spec.layers())
        .u32("llama.feed_forward_length", ff)
        .u32("llama.attention.head_count", spec.heads())
        .u32("llama.attention.head_count_kv", spec.kvHeads())
        .u32("llama.rope.dimension_count", headDim)
        .f32("llama.rope.freq_base", 10000f)
        .f32("llama.attention.layer_norm_rms_epsilon", 1e-5f)
        .u32("llama.vocab_size", vocab)
        .string("tokenizer.ggml.model", "llama")
        .strings("tokenizer.ggml.tokens", tokens)
        .floats("tokenizer.ggml.scores", scores)
        .ints("tokenizer.ggml.token_type", tokenTypes)
        .u32("tokenizer.ggml.unknown_token_id", 0)
        .u32("tokenizer.ggml.bos_token_id", 1)
        .u32("tokenizer.ggml.eos_token_id", 2)
        .string("tokenizer.chat_template", CHAT_TEMPLATE);
    GgmlType t = spec.type();
    // Rows of the tokens after the base vocabulary come from a random stream of their own, so every
    // other weight is what it was before they were added (and so is every plain generation).
    float[] embd = java.util.Arrays.copyOf(random(rnd, d * baseVocab, 1.0f), d * vocab);
    float[] extra = random(new SplittableRandom(spec.seed() ^ 0x7001L), d * (vocab - baseVocab), 1.0f);
    System.arraycopy(extra, 0, embd, d * baseVocab, extra.length);
    w.tensor("token_embd.weight", t, embd, d, vocab);
    for (int l = 0; l < spec.layers(); l++) {
      String p = "blk." + l + ".";
      w.tensor(p + "attn_norm.weight", GgmlType.F32, ones(d), d);
      w.tensor(p + "attn_q.weight", t, random(rnd, d * d, scale(d)), d, d);
      w.tensor(p + "attn_k.weight", t, random(rnd, d * kv, scale(d)), d, kv);
      w.tensor(p + "attn_v.weight", t, random(rnd, d * kv, scale(d)), d, kv);
      w.tensor(p + "attn_output.weight", t, random(rnd, d * d, scale(d)), d, d);
      w.tensor(p + "ffn_norm.weight", GgmlType.F32, ones(d), d);
      w.tensor(p + "ffn_gate.weight", t, random(rnd, d * ff, scale(d)), d, ff);
      w.tensor(p + "ffn_up.weight", t, random(rnd, d * ff, scale(d)), d, ff);
      w.tensor(p + "ffn_down.weight", t, random(rnd, ff * d, scale(ff)), ff, d);
    }
    w.tensor("output_norm.weight", GgmlType.F32, ones(d), d);
    float[] output = java.util.Arrays.copyOf(random(rnd, d * baseVocab, scale(d) * 4), d * vocab);
    for (int v = 0; v < vocab; v++) {
      if (!isWord.get(v)) java.util.Arrays.fill(output, v * d, (v + 1) * d, 0f);
    }
    w.tensor("output.weight", t, output, d, vocab);
    w.write(target);
  }

  private static void addToken(List<String> tokens, List<Integer> types, List<Boolean> isWord, String text, int type, boolean word) {
    tokens.add(text);
    types.add(type);
    isWord.add(word);
  }

  private static float scale(int fanIn) {
    return (float) (1.0 / Math.sqrt(fanIn));
  }

  private static float[] ones(int n) {
    float[] a = new float[n];
    java.util.Arrays.fill(a, 1f);
    return a;
  }

  private static float[] random(SplittableRandom rnd, int n, float scale) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) a[i] = (float) (gaussian(rnd) * scale);
    return a;
  }

  private static double gaussian(SplittableRandom rnd) {
    // Box-Muller: SplittableRandom has no nextGaussian in Java 17.
    double u1 = 1.0 - rnd.nextDouble();
    double u2 = rnd.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}
