package io.dalang.runtime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.runtime.http.AdminClient;
import io.dalang.runtime.http.HttpClients;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * One CLI command that is an admin API call to a running node ({@code dalang dlq ...}, {@code dalang model ...}):
 * which node and key ({@code --url}, {@code --key}, {@code --data-dir}), the call, and the exit codes:
 * 0 done, 1 the node refused or failed the request, 2 a usage error or no node answered.
 */
abstract class AdminCall implements Callable<Integer> {
  static final int OK = 0;
  static final int REFUSED = 1;
  static final int UNUSABLE = 2;

  /** Which node, and the key to ask it with. */
  static final class Node {
    @Option(names = "--url", description = "The node's HTTP address (default $DALANG_URL or http://127.0.0.1:8080)")
    String url = System.getenv().getOrDefault("DALANG_URL", "http://127.0.0.1:8080");

    @Option(names = "--key", description = "Admin API key (default $DALANG_ADMIN_KEY, else <data-dir>/admin.key)")
    String key;

    @Option(names = "--data-dir", description = "Data dir whose admin.key to use (default $DALANG_DATA_DIR or ./data)")
    Path dataDir;

    String key() throws IOException {
      if (key != null) return key;
      return RunningNode.adminKey(dataDir());
    }

    Path dataDir() {
      return dataDir != null ? dataDir : Path.of(System.getenv().getOrDefault("DALANG_DATA_DIR", "data"));
    }
  }

  @Spec CommandSpec spec;

  @CommandLine.Mixin Node node = new Node();

  abstract Integer run(PrintWriter out) throws IOException, InterruptedException;

  @Override
  public Integer call() {
    String name = "dalang " + (spec.parent() != null ? spec.parent().name() + " " : "") + spec.name();
    try {
      return run(spec.commandLine().getOut());
    } catch (Usage e) {
      spec.commandLine().getErr().println(name + ": " + e.getMessage());
      return UNUSABLE;
    } catch (Refused e) {
      spec.commandLine().getErr().println(name + ": " + e.getMessage());
      return REFUSED;
    } catch (IOException e) {
      spec.commandLine().getErr().println(name + ": no node answered at " + node.url + " (" + e + "); is `dalang serve` running?");
      return UNUSABLE;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return UNUSABLE;
    }
  }

  JsonNode send(String method, String path) throws IOException, InterruptedException {
    return send(method, path, null);
  }

  /** {@code method path} with {@code body} as JSON (none when null); the answer's JSON, or {@link Refused} for anything but 2xx. */
  JsonNode send(String method, String path, Object body) throws IOException, InterruptedException {
    String key = node.key();
    if (key == null) throw new Usage("no admin key: pass --key, set DALANG_ADMIN_KEY, or point --data-dir at the node's data dir");
    try {
      return new AdminClient(node.url, key, HttpClients.toLocalNode(node.dataDir())).send(method, path, body);
    } catch (AdminClient.Refused e) {
      throw new Refused(e.getMessage());
    }
  }

  static final class Usage extends RuntimeException {
    Usage(String message) {
      super(message);
    }
  }

  static final class Refused extends RuntimeException {
    Refused(String message) {
      super(message);
    }
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
