package io.dalang.engine.provision;

import java.nio.file.Path;

/**
 * Where llama.cpp's source comes from: {@code npm:PACKAGE@VERSION} (the git bundle inside
 * node-llama-cpp), {@code path:DIR} (a checkout), or {@code git:URL#REF}.
 */
public sealed interface EngineSource {

  String spec();

  record Npm(String pkg, String version) implements EngineSource {
    public String spec() {
      return "npm:" + pkg + "@" + version;
    }
  }

  record LocalPath(Path dir) implements EngineSource {
    public String spec() {
      return "path:" + dir;
    }
  }

  record Git(String url, String ref) implements EngineSource {
    public String spec() {
      return "git:" + url + "#" + ref;
    }
  }

  EngineSource DEFAULT = new Npm("node-llama-cpp", "3.22.1");

  static EngineSource parse(String spec) {
    if (spec.startsWith("npm:")) {
      String s = spec.substring(4);
      int at = s.lastIndexOf('@');
      if (at <= 0) throw new IllegalArgumentException("npm source must be npm:PACKAGE@VERSION, got " + spec);
      return new Npm(s.substring(0, at), s.substring(at + 1));
    }
    if (spec.startsWith("path:")) return new LocalPath(Path.of(spec.substring(5)).toAbsolutePath().normalize());
    if (spec.startsWith("git:")) {
      String s = spec.substring(4);
      int hash = s.lastIndexOf('#');
      if (hash <= 0) throw new IllegalArgumentException("git source must be git:URL#REF, got " + spec);
      return new Git(s.substring(0, hash), s.substring(hash + 1));
    }
    throw new IllegalArgumentException("unknown engine source '" + spec + "': use npm:PKG@VERSION, path:DIR or git:URL#REF");
  }
}
