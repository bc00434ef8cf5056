package io.dalang.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import org.junit.jupiter.api.Test;

class HfReferenceTest {
  @Test
  void parsesAReferenceWithoutRevisionAsMain() {
    var ref = HfReference.parse("hf://Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf");
    assertEquals(new HfReference("Qwen", "Qwen2.5-0.5B-Instruct-GGUF", "main", "qwen2.5-0.5b-instruct-q4_k_m.gguf"), ref);
    assertEquals(URI.create("https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5-0.5b-instruct-q4_k_m.gguf"),
        ref.resolve());
  }

  @Test
  void parsesARevisionAndANestedPath() {
    var ref = HfReference.parse("hf://org_1/my.repo@v1.2/sub/dir/model+q8=x.gguf");
    assertEquals("org_1", ref.org());
    assertEquals("my.repo", ref.repo());
    assertEquals("v1.2", ref.revision());
    assertEquals("sub/dir/model+q8=x.gguf", ref.file());
    assertEquals("https://huggingface.co/org_1/my.repo/resolve/v1.2/sub/dir/model%2Bq8%3Dx.gguf", ref.resolve().toString());
    assertEquals(ref, HfReference.parse(ref.toString()));
  }

  @Test
  void recognisesTheScheme() {
    assertTrue(HfReference.isHf("hf://a/b/c"));
    assertFalse(HfReference.isHf("https://huggingface.co/a/b"));
    assertFalse(HfReference.isHf(null));
  }

  @Test
  void refusesMalformedReferences() {
    for (String bad : new String[] {
        "https://huggingface.co/a/b/c", "hf://", "hf://org", "hf://org/repo", "hf://org/repo/", "hf:///repo/f.gguf",
        "hf://org//f.gguf", "hf://org/repo@/f.gguf", "hf://org/repo/../x.gguf", "hf://org/repo/a/./x.gguf",
        "hf://../repo/x.gguf", "hf://org/repo/a\\b.gguf", "hf://org/repo/x.gguf?download=1", "hf://org/repo/x.gguf#frag",
        "hf://org/repo/a//b.gguf", "hf://or g/repo/x.gguf", "hf://org/repo/x y.gguf", "hf://org/repo/%2e%2e/x",
        "hf://org/repo@a/b/x.gguf".replace("@a/b", "@a b"), "hf://" + "o".repeat(97) + "/repo/x.gguf", "hf://org/rep$o/x.gguf"}) {
      var e = assertThrows(IllegalArgumentException.class, () -> HfReference.parse(bad), bad);
      assertFalse(e.getMessage().isBlank());
    }
  }
}
