package io.dalang.runtime.determinism;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Unusable input ends the check with exit 2 and a message naming the problem, before any node starts. */
class DeterminismCommandTest {
  @TempDir Path dir;

  DeterminismSuiteTest.Run check(String... args) {
    return DeterminismSuiteTest.check(dir, args);
  }

  @Test
  void aCorpusEntryWithoutASeedIsRejectedNamingTheEntry() throws Exception {
    Path corpus = dir.resolve("c.json");
    Files.writeString(corpus, """
        {"entries": [{"id": "a", "prompt": "hi", "seed": 1, "max_tokens": 4}, {"id": "b", "prompt": "hi", "max_tokens": 4}]}""");
    var run = check("--corpus", corpus.toString());
    assertEquals(2, run.rc());
    assertTrue(run.err().contains("entry 'b': 'seed' must be an integer"), run.err());
  }

  @Test
  void anEntryWithBothPromptAndMessagesOrADuplicateIdIsRejected() throws Exception {
    Path both = dir.resolve("both.json");
    Files.writeString(both, """
        {"entries": [{"id": "a", "prompt": "hi", "messages": [{"role": "user", "content": "hi"}], "seed": 1, "max_tokens": 4}]}""");
    assertTrue(check("--corpus", both.toString()).err().contains("entry 'a' needs exactly one of 'prompt' and 'messages'"));
    Path twice = dir.resolve("twice.json");
    Files.writeString(twice, """
        {"entries": [{"id": "a", "prompt": "hi", "seed": 1, "max_tokens": 4}, {"id": "a", "prompt": "ho", "seed": 1, "max_tokens": 4}]}""");
    var run = check("--corpus", twice.toString());
    assertEquals(2, run.rc());
    assertTrue(run.err().contains("entry id 'a' appears twice"), run.err());
  }

  @Test
  void anUnknownEngineAFileThatIsNoReportAndZeroRepeatsAreUsageErrors() throws Exception {
    var engine = check("--corpus", DeterminismSuiteTest.CORPUS.toString(), "--engine", "vllm");
    assertEquals(2, engine.rc());
    assertTrue(engine.err().contains("--engine must be in-process or llama-server, not 'vllm'"), engine.err());
    Path notJson = dir.resolve("golden.json");
    Files.writeString(notJson, "not json");
    var against = check("--corpus", DeterminismSuiteTest.CORPUS.toString(), "--against", notJson.toString());
    assertEquals(2, against.rc());
    assertTrue(against.err().contains("is not a determinism report"), against.err());
    assertEquals(2, check("--corpus", DeterminismSuiteTest.CORPUS.toString(), "--repeats", "0").rc());
  }
}
